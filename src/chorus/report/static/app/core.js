// Shared by every view: the DOM builders, the formatters, and the data (the live API, or
// the answers embedded in the report).
  const SVG = "http://www.w3.org/2000/svg";
  const dataNode = document.getElementById("chorus-data");
  const embedded = dataNode ? JSON.parse(dataNode.textContent) : null;
  const apiBase = document.body.dataset.api || "/api";
  const main = document.getElementById("main");
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "onclick") el.addEventListener("click", v);
      else if (k === "className") el.className = v;
      else if (k === "style") Object.assign(el.style, v);
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "onclick") el.addEventListener("click", v);
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) if (c) el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  }
  const link = (hash, text) => h("a", { href: "#" + hash }, text);
  const enc = encodeURIComponent;
  const day = (iso) => (iso ? String(iso).slice(0, 10) : "—");
  const num = (v, d = 2) => (v === null || v === undefined ? "—" : Number(v).toFixed(d));
  const pct = (v) => (v === null || v === undefined ? "—" : Math.round(v * 100) + "%");
  const colour = (c) => (c === null || c === undefined ? "#bbb" : PALETTE[c % PALETTE.length]);
  const plural = (n, one, many) => `${Number(n).toLocaleString()} ${n === 1 ? one : many || one + "s"}`;
  // An origin is named only when dates can support it: with no dated mention, order is unknown.
  const origin = (firstSeen, source, undated) => (!firstSeen
    ? h("span", { className: "muted", title: "no dated document: which came first is unknown" }, "unknown (undated)")
    : undated ? [link("/source/" + enc(source), source), h("span", { className: "muted", title: "an undated document may have come first" }, ` (earliest dated; ${plural(undated, "document")} undated)`)]
      : link("/source/" + enc(source), source));
  const docLink = (id) => link("/document/" + enc(id), id);
  const safeUrl = (u) => (typeof u === "string" && /^https?:\/\//i.test(u) ? u : null);

  // ---- data: the live API, or the answers embedded in the report --------------------------
  async function get(path, params) {
    const query = new URLSearchParams(params || {});
    if (!embedded) {
      const r = await fetch(apiBase + "/" + path + (query.toString() ? "?" + query : ""));
      if (r.status === 404) return null;
      if (!r.ok) throw new Error(path + ": HTTP " + r.status);
      return r.json();
    }
    return local(path, params || {});
  }
  function local(path, p) {
    const d = embedded;
    const [head, ...rest] = path.split("/");
    if (head === "points") {
      let items = d.points.slice();
      if (p.q) {
        const words = p.q.toLowerCase().split(/\s+/).filter(Boolean);
        items = items.filter((i) => words.every((w) => i.label.toLowerCase().includes(w)));
      }
      if (p.source) items = items.filter((i) => (d.point_sources[i.point_id] || []).includes(p.source));
      if (p.since) items = items.filter((i) => i.first_seen && i.first_seen.slice(0, 10) >= p.since);
      if (p.until) items = items.filter((i) => i.first_seen && i.first_seen.slice(0, 10) <= p.until);
      const keyOf = { score: (i) => [-i.score, -i.n_sources], sources: (i) => [-i.n_sources, -i.n_docs],
        documents: (i) => [-i.n_docs, -i.n_sources], first_seen: (i) => [i.first_seen || "9999"],
        label: (i) => [i.label] }[p.sort || "score"];
      items.sort((a, b) => { const x = keyOf(a), y = keyOf(b);
        for (let k = 0; k < x.length; k++) { if (x[k] < y[k]) return -1; if (x[k] > y[k]) return 1; } return 0; });
      const off = Number(p.offset || 0), lim = Number(p.limit || 50);
      return { total: items.length, offset: off, items: items.slice(off, off + lim), partial: d.partial.points };
    }
    if (head === "point") return d.point_detail[p.id] || null;
    if (head === "lineage") return null;  // the report holds the points of its run only
    if (head === "reuse") return d.reuse[p.kind] || { kind: p.kind, total: 0, items: [] };
    if (head === "cluster") return d.cluster_detail[p.id] || null;
    if (head === "document") return (d.document_detail || {})[p.id] || null;
    if (head === "edge") return d.edge_detail[p.a + "\u0000" + p.b] || d.edge_detail[p.b + "\u0000" + p.a] || null;
    if (head === "sources") {
      const off = Number(p.offset || 0), lim = Number(p.limit || 100);
      return { ...d.sources, offset: off, items: d.sources.items.slice(off, off + lim) };
    }
    if (head === "source") return d.source_detail[p.name] || null;
    if (head === "search") {
      // As chorus serve's word index: every query word begins a word of the sentence.
      const words = queryWords(p.q);
      const idx = d.search || { docs: [], doc: [], start: [], end: [], text: [], partial: true };
      const off = Number(p.offset || 0), lim = 50, hits = [];
      let total = 0;
      for (let i = 0; i < idx.text.length && words.length; i++) {
        const have = wordsOf(idx.text[i]);
        if (!words.every((w) => have.some((x) => x.startsWith(w)))) continue;
        total++;
        if (total <= off || hits.length >= lim) continue;
        const [doc_id, source, published_at] = idx.docs[idx.doc[i]];
        hits.push({ doc_id, source, published_at, start: idx.start[i], end: idx.end[i], text: idx.text[i] });
      }
      return { query: p.q, words, total, offset: off, items: hits, partial: idx.partial, index: "current" };
    }
    return d[head] === undefined ? null : d[head];
  }

