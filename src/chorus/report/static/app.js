// chorus: the report and the web app share this script. Text from the corpus is hostile:
// it only ever reaches the page through textContent and attribute setters, never as HTML.
"use strict";
(function () {
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

  // ---- pieces ---------------------------------------------------------------------------
  function table(headers, rows, numeric) {
    return h("table", {}, h("tr", {}, headers.map((t, i) => h("th", { className: numeric && numeric[i] ? "n" : null }, t))),
      rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { className: numeric && numeric[i] ? "n" : null }, c)))));
  }
  function sparkline(months) {
    const w = 120, ht = 22;
    if (!months || !months.length) return h("span", { className: "muted" }, "undated");
    const max = Math.max(...months.map((m) => m.n), 1);
    if (months.length === 1) return s("svg", { width: w, height: ht, class: "spark", role: "img" },
      s("title", {}, `${months[0].month}: ${months[0].n}`), s("circle", { cx: 3, cy: ht / 2, r: 2.5, fill: "#1f77b4" }));
    const step = months.length > 1 ? w / (months.length - 1) : 0;
    const pts = months.map((m, i) => `${(i * step).toFixed(1)},${(ht - 2 - (m.n / max) * (ht - 4)).toFixed(1)}`).join(" ");
    return s("svg", { width: w, height: ht, class: "spark", role: "img" },
      s("title", {}, `${months[0].month} to ${months[months.length - 1].month}, peak ${max} a month`),
      s("polyline", { points: pts, fill: "none", stroke: "#1f77b4", "stroke-width": 1.5 }));
  }
  function pager(total, offset, limit, go) {
    if (total <= limit) return null;
    return h("p", { className: "pager" },
      offset > 0 ? h("button", { onclick: () => go(Math.max(0, offset - limit)) }, "← previous") : null,
      ` ${offset + 1}–${Math.min(offset + limit, total)} of ${total.toLocaleString()} `,
      offset + limit < total ? h("button", { onclick: () => go(offset + limit) }, "next →") : null);
  }
  function inContext(m) {
    return h("blockquote", {}, h("span", { className: "muted" }, m.before ? "…" + m.before : ""),
      h("mark", {}, m.sentence), h("span", { className: "muted" }, m.after ? m.after + "…" : ""));
  }
  const partialNote = (on, what) => (on ? h("p", { className: "muted" },
    `The report holds the top ${what} only; chorus serve shows everything.`) : null);

  // ---- views ----------------------------------------------------------------------------
  // The date range card says how much of the corpus it covers: an archive of undated pages
  // has a range of one day that means little.
  function dateRange(o) {
    if (!o.first) return "no dates";
    return o.first.slice(0, 10) === (o.last || "").slice(0, 10) ? day(o.first) : `${day(o.first)} – ${day(o.last)}`;
  }
  function dateNote(c) {
    const undated = c.undated_documents || 0;
    if (!undated) return "date range";
    if (undated === c.documents) return "every document undated";
    return `date range of ${plural(c.documents - undated, "dated document")}; ${plural(undated, "document")} undated (${pct(undated / c.documents)})`;
  }
  async function viewOverview() {
    const [o, heat, line, top, copies, net] = await Promise.all([get("overview"), get("heatmap"), get("timeline"),
      get("points", { sort: "sources", limit: 5 }), get("reuse", { kind: "reuse", limit: 50 }), get("network")]);
    const c = o.counts;
    const cards = [["documents", c.documents], ["sources", c.sources], ["sentences", c.sentences],
      ["talking points", c.talking_points], ["reuse clusters", c.reuse_clusters],
      ["communities", c.communities], [dateNote(c), dateRange(o)]];
    const window = o.coord_window_hours;
    return [h("h2", {}, "What was found"), found(top, copies, net),
      h("h2", {}, "Overview"),
      h("div", { className: "cards" }, cards.map(([k, v]) => h("div", { className: "card" }, h("b", {}, typeof v === "number" ? v.toLocaleString() : v), k))),
      c.source_edges ? h("p", {}, window === null || window === undefined
        ? "Coordination: no time window (too few dates); sources co-act on anything they both shared, whenever."
        : `Coordination: sources co-act on an object when both share it within ${window} hours.`) : null,
      h("details", {}, h("summary", {}, "Settings used"), h("pre", {}, JSON.stringify(o.settings, null, 2))),
      heatmap(heat), timelineView(line, numbering(heat))];
  }
  // The first screen answers the user's question: which talking points these sources share,
  // who started them, what they copied, who moves together; each one click from its evidence.
  function found(top, copies, net) {
    const points = (top && top.items) || [];
    // Copied between sources: a passage one site repeats in its own pages is not shared.
    const passages = ((copies && copies.items) || []).filter((c) => c.n_sources > 1).slice(0, 5);
    const edges = (net && net.edges) || [];
    const significant = edges.filter((e) => e.significant);
    const groups = {};
    for (const n of (net && net.nodes) || []) if (n.community !== null && n.community !== undefined) (groups[n.community] = groups[n.community] || []).push(n.source);
    const communities = Object.entries(groups).sort((a, b) => b[1].length - a[1].length || a[0] - b[0]);
    return [
      h("h3", {}, "Talking points most sources share"),
      points.length ? table(["talking point", "sources", "documents", "first seen", "earliest in"], points.map((i) => [
        link("/point/" + enc(i.point_id), i.label), i.n_sources, i.n_docs, day(i.first_seen), origin(i.first_seen, i.origin_source, i.n_undated_docs)]), [false, true, true, false, false])
        : h("p", { className: "muted" }, "No claim recurs across documents."),
      points.length ? h("p", { className: "small" }, link("/points", "all talking points →")) : null,
      h("h3", {}, "Passages copied between sources"),
      passages.length ? table(["passage", "sources", "documents", "first seen"], passages.map((c) => [
        link("/cluster/" + enc(c.cluster_id), c.representative), c.n_sources, c.n_docs, day(c.first_seen)]), [false, true, true, false])
        : h("p", { className: "muted" }, "No passage is copied between documents (apart from wire copy and templates, listed under copied passages)."),
      h("h3", {}, "Sources that move together"),
      !edges.length ? h("p", { className: "muted" }, "No two sources share talking points or passages.")
        : h("p", {}, significant.length
          ? `${plural(significant.length, "pair")} of sources share more than chance would give sources this active, in ${plural(communities.length, "community", "communities")}. `
          : `${plural(edges.length, "pair")} of sources share talking points or passages, none more than chance would give sources this active. `,
          link("/network", "the network and its evidence →")),
      communities.length ? h("ul", {}, communities.slice(0, 5).map(([c, members]) => h("li", {},
        h("span", { style: { color: colour(Number(c)) } }, "● "), `community ${Number(c) + 1}: `,
        members.slice(0, 8).map((m, i) => [i ? ", " : "", link("/source/" + enc(m), m)]), members.length > 8 ? ` and ${members.length - 8} more` : ""))) : null,
      h("p", { className: "muted" }, "Shared messaging is measured, not judged: repetition across sources is not by itself proof of coordination or inauthenticity.")];
  }
  function heatmap(d) {
    if (!d || !d.points.length) return null;
    const cell = {};
    let max = 1;
    for (const c of d.cells) { cell[c.source + "\u0000" + c.point_id] = c.n; max = Math.max(max, c.n); }
    return [h("h3", {}, "Sources × talking points"),
      h("p", { className: "muted" }, "Documents of each source mentioning each of the points most sources share."),
      h("div", { className: "scroll" }, h("table", { className: "heat" },
        h("tr", {}, h("th", {}, "source"), d.points.map((p, i) => h("th", { title: p.label }, link("/point/" + enc(p.point_id), String(i + 1))))),
        d.sources.map((src) => h("tr", {}, h("td", {}, link("/source/" + enc(src), src)),
          d.points.map((p) => { const n = cell[src + "\u0000" + p.point_id] || 0;
            return h("td", { className: "n", title: `${src}: ${n}`, style: { background: n ? `rgba(31,119,180,${0.15 + 0.85 * n / max})` : "" } }, n || ""); })))))];
  }
  // One number per point across the charts: the heat map's order (the timeline leaves out
  // points with no dated mention, so its own positions would disagree).
  function numbering(heat) {
    const out = {};
    ((heat && heat.points) || []).forEach((p, i) => { out[p.point_id] = i + 1; });
    return out;
  }
  function timelineView(d, numbers) {
    if (!d || !d.points.length) return [h("h3", {}, "How the most shared points spread"),
      h("p", { className: "muted" }, "No talking point has a dated mention: when they spread cannot be shown.")];
    const label = (p, i) => String(numbers[p.point_id] || "·" + (i + 1));
    const all = d.points.flatMap((p) => p.arrivals.map((a) => Date.parse(a.arrived)));
    if (!all.length) return null;
    const t0 = Math.min(...all), t1 = Math.max(...all), span = Math.max(t1 - t0, 1);
    const w = 760, row = 22, left = 30;
    const svg = s("svg", { width: w + left + 10, height: d.points.length * row + 24, class: "timeline", role: "img" });
    d.points.forEach((p, i) => {
      svg.appendChild(s("text", { x: 0, y: i * row + 15, class: "lab" }, label(p, i)));
      svg.appendChild(s("line", { x1: left, x2: left + w, y1: i * row + 11, y2: i * row + 11, stroke: "#eee" }));
      for (const a of p.arrivals) {
        const x = left + ((Date.parse(a.arrived) - t0) / span) * w;
        svg.appendChild(s("circle", { cx: x.toFixed(1), cy: i * row + 11, r: 4, fill: colour(a.community), "fill-opacity": 0.75 },
          s("title", {}, `${a.source}, ${day(a.arrived)}: ${p.label}`)));
      }
    });
    svg.appendChild(s("text", { x: left, y: d.points.length * row + 18, class: "lab" }, day(new Date(t0).toISOString())));
    svg.appendChild(s("text", { x: left + w - 70, y: d.points.length * row + 18, class: "lab" }, day(new Date(t1).toISOString())));
    const oneDay = day(new Date(t0).toISOString()) === day(new Date(t1).toISOString());
    return [h("h3", {}, "How the most shared points spread"),
      h("p", { className: "muted" }, "Each dot: a source's first dated mention of the point, coloured by its community; undated documents cannot be placed and are left out.",
        oneDay ? ` Every dated mention of these points falls on ${day(new Date(t0).toISOString())}: there is no spread over time to draw.` : ""),
      oneDay ? null : h("div", { className: "scroll" }, svg),
      h("ul", { className: "small" }, d.points.map((p, i) => h("li", {}, `${label(p, i)}. `, link("/point/" + enc(p.point_id), p.label))))];
  }

  async function viewPoints(params) {
    const p = { sort: "score", offset: 0, limit: 50, ...params };
    const page = await get("points", p);
    const go = (change) => route("/points", { ...p, ...change });
    const sortHead = (key, text) => h("a", { href: "#", className: p.sort === key ? "sorted" : null,
      onclick: (e) => { e.preventDefault(); go({ sort: key, offset: 0 }); } }, text);
    const form = h("form", { className: "filters" },
      h("input", { name: "q", placeholder: "words in the label", value: p.q || "" }),
      h("input", { name: "source", placeholder: "source", value: p.source || "" }),
      h("input", { name: "since", type: "date", value: p.since || "" }),
      h("input", { name: "until", type: "date", value: p.until || "" }),
      h("button", { type: "submit" }, "filter"));
    form.addEventListener("submit", (e) => { e.preventDefault(); const f = new FormData(form);
      go({ q: f.get("q"), source: f.get("source"), since: f.get("since"), until: f.get("until"), offset: 0 }); });
    return [h("h2", {}, `Talking points (${page.total.toLocaleString()})`),
      h("p", { className: "muted" }, "The same claim, in the same or other words, in several documents."), form,
      partialNote(page.partial, "talking points"),
      h("table", { className: "points" }, h("tr", {}, h("th", {}, sortHead("label", "talking point")),
        h("th", { className: "n", title: "tightness × log2(sources) × (1 + log10(1 + days in use)); 0 for a loose point (its least alike sentences below cosine 0.8)" }, sortHead("score", "score")),
        h("th", { className: "n" }, sortHead("sources", "sources")), h("th", { className: "n" }, sortHead("documents", "documents")),
        h("th", {}, sortHead("first_seen", "first seen")), h("th", {}, "earliest in"), h("th", {}, "mentions over time")),
      page.items.map((i) => h("tr", {}, h("td", {}, link("/point/" + enc(i.point_id), i.label)),
        h("td", { className: "n", title: `cohesion ${(i.cohesion ?? 0).toFixed(2)}`, "data-label": "score" }, i.score > 0 ? i.score.toFixed(2) : "loose"),
        h("td", { className: "n", "data-label": "sources" }, i.n_sources), h("td", { className: "n", "data-label": "documents" }, i.n_docs),
        h("td", { className: "date", "data-label": "first seen" }, day(i.first_seen)),
        h("td", { "data-label": "earliest in" }, origin(i.first_seen, i.origin_source, i.n_undated_docs)), h("td", { className: "spark" }, sparkline(i.months))))),
      pager(page.total, page.offset, p.limit, (offset) => go({ offset }))];
  }

  async function viewPoint(id, params) {
    const offset = Number((params || {}).offset || 0), limit = 100;
    const p = await get("point", { id, offset, limit });
    if (!p) return notFound("talking point", id);
    const shown = p.mentions.length;
    return [h("h2", {}, "Talking point"), h("blockquote", { className: "label" }, p.label),
      h("p", {}, `${plural(p.n_docs, "document")}, ${plural(p.n_sources, "source")}; `,
        p.first_seen ? [`first seen ${day(p.first_seen)} in `, link("/source/" + enc(p.origin_source), p.origin_source), " (", docLink(p.origin_doc_id), ")",
          p.n_undated_docs ? `; that is the earliest dated document, and ${plural(p.n_undated_docs, "undated document")} may have come before it.` : "."]
          : "no mention is dated, so which document came first is unknown."),
      h("p", { className: "muted" }, p.score > 0
        ? `score ${p.score.toFixed(2)}; its two least alike sentences have cosine ${(p.cohesion ?? 0).toFixed(2)}.`
        : `A loose point (score 0): its two least alike sentences have cosine ${(p.cohesion ?? 0).toFixed(2)}, below 0.8; read its mentions before relying on it.`),
      (p.keyphrases || []).length ? h("p", { className: "muted" }, "Words its sentences share: " + p.keyphrases.join(", ")) : null,
      p.mentions.map((m) => h("div", { className: "mention" },
        h("div", {}, h("b", {}, link("/source/" + enc(m.source), m.source)), ` · ${day(m.published_at)} · `, docLink(m.doc_id), ` · characters ${m.start}–${m.end} `,
          safeUrl(m.url) ? h("a", { href: safeUrl(m.url), rel: "noopener noreferrer nofollow", target: "_blank" }, "open") : null),
        m.title ? h("div", { className: "muted" }, m.title) : null, inContext(m))),
      embedded && shown < p.n_mentions ? h("p", { className: "muted" }, `The report holds ${shown} of its ${p.n_mentions} mentions; chorus serve shows every one.`)
        : pager(p.n_mentions, offset, limit, (o) => route("/point/" + enc(id), { offset: o }))];
  }

  async function viewReuse(kind, params) {
    const p = { offset: 0, limit: 50, ...params };
    const page = await get("reuse", { ...p, kind });
    const note = { reuse: "Copied passages: the material for talking points and coordination.",
      syndication: "Credited wire copy: shared honestly, not evidence of coordination.",
      boilerplate: "Templates and page furniture, kept apart." }[kind];
    return [h("h2", {}, "Copied passages"),
      h("p", {}, ["reuse", "syndication", "boilerplate"].map((k) => [k === kind ? h("b", {}, k) : link("/reuse/" + k, k), " "])),
      h("p", { className: "muted" }, note), partialNote(page.partial, "clusters"),
      table(["passage", "documents", "sources", "first seen", "origin"], page.items.map((c) => [
        link("/cluster/" + enc(c.cluster_id), c.representative), c.n_docs, c.n_sources, day(c.first_seen), origin(c.first_seen, c.origin_source)]),
      [false, true, true, false, false]),
      pager(page.total, page.offset, p.limit, (offset) => route("/reuse/" + kind, { offset }))];
  }

  async function viewCluster(id) {
    const c = await get("cluster", { id });
    if (!c) return notFound("cluster", id);
    return [h("h2", {}, `Copied passage (${c.kind})`),
      h("p", {}, `${plural(c.n_docs, "document")}, ${plural(c.n_sources, "source")}; `,
        c.first_seen ? `first seen ${day(c.first_seen)} in ${c.origin_source}. ` : "no copy is dated, so which came first is unknown. ",
        "Differences from the first copy: ",
        h("ins", {}, "added"), " ", h("del", {}, "dropped"), "."),
      h("div", { className: "copies" }, c.copies.map((p) => h("div", { className: "copy" },
        h("div", {}, h("b", {}, link("/source/" + enc(p.source), p.source)), ` · ${day(p.published_at)} · `, docLink(p.doc_id), ` · characters ${p.start}–${p.end}`),
        h("p", {}, p.diff.map((r) => [r.op === "same" ? r.text : h(r.op === "added" ? "ins" : "del", {}, r.text), " "])))))];
  }

  async function viewNetwork() {
    const net = await get("network");
    if (!net || !net.nodes.length) return [h("h2", {}, "Coordination network"), h("p", {}, "No coordination has been computed, or no two sources co-act.")];
    const w = 900, ht = 580, pad = 30, labelRoom = 170;
    const pos = {};
    for (const n of net.nodes) pos[n.source] = [pad + n.x * (w - pad - labelRoom), pad + n.y * (ht - 2 * pad)];
    const maxW = Math.max(...net.edges.map((e) => e.weight), 1);
    const panel = h("div", { id: "evidence" }, h("p", { className: "muted" }, "Click an edge to see its evidence; click a source to open it."));
    const svg = s("svg", { width: w, height: ht, class: "graph", role: "img", viewBox: `0 0 ${w} ${ht}` });
    for (const e of net.edges) {
      const [x1, y1] = pos[e.source_a], [x2, y2] = pos[e.source_b];
      const width = 1 + 5 * e.weight / maxW;
      const g = s("g", { class: "edge", "data-a": e.source_a, "data-b": e.source_b, onclick: () => showEdge(e, panel) },
        s("line", { x1, y1, x2, y2, stroke: e.significant ? "#555" : "#bbb", "stroke-width": width, "stroke-dasharray": e.significant ? "" : "4 3" }),
        s("line", { x1, y1, x2, y2, stroke: "transparent", "stroke-width": Math.max(width, 12), class: "hit" }),
        s("title", {}, `${e.source_a} — ${e.source_b}: ${e.n_objects} objects, weight ${num(e.weight)}, q ${num(e.q_value, 3)}`));
      svg.appendChild(g);
    }
    for (const n of net.nodes) {
      const [x, y] = pos[n.source];
      svg.appendChild(s("g", { class: "node", onclick: () => route("/source/" + enc(n.source)) },
        s("circle", { cx: x, cy: y, r: 5 + Math.min(10, Math.sqrt(n.n_objects || 1) / 2), fill: colour(n.community) }),
        s("text", { x: x + 8, y: y + 4 }, n.source),
        s("title", {}, `${n.source}: community ${n.community === null ? "none" : n.community + 1}, originator ${pct(n.originator)}, amplifier ${pct(n.amplifier)}`)));
    }
    const window = net.window_hours;
    const significant = net.edges.filter((e) => e.significant).length;
    return [h("h2", {}, "Coordination network"),
      h("p", {}, window === null || window === undefined
        ? "No time window: too few dates, so sources co-act on anything they both shared, whenever they shared it. "
        : `Two sources co-act on an object when both share it within ${window} hours. `,
        `Solid edges are significant (q ≤ ${net.fdr}); dashed ones are not.`),
      h("p", { className: significant ? "muted" : null }, significant
        ? `${plural(significant, "edge")} of ${net.edges.length} share more than chance would give sources this active: shared messaging, not proof of coordination or inauthenticity. Credited wire copy and one site's own templates never make an edge.`
        : `No edge is significant: these ${plural(net.edges.length, "pair")} of sources share objects, but no more than chance would give sources this active. Credited wire copy and one site's own templates never make an edge.`),
      h("div", { className: "scroll" }, svg), panel];
  }

  async function showEdge(e, panel) {
    panel.replaceChildren(h("p", { className: "muted" }, "loading…"));
    const d = await get("edge", { a: e.source_a, b: e.source_b });
    if (!d) { panel.replaceChildren(h("p", {}, "This edge's evidence is not in the report; chorus serve shows it.")); return; }
    panel.replaceChildren(h("h3", { className: "edge-title" }, `${d.source_a} — ${d.source_b}`),
      h("p", {}, `${plural(d.n_objects, "shared object")}, weight ${num(d.weight)}, median lag ${num(d.median_lag_hours, 1)} h, p ${num(d.p_value, 4)}, q ${num(d.q_value, 4)}`),
      table(["object", d.source_a, d.source_b], d.evidence.map((v) => [evidenceObject(v),
        [h("div", { className: "muted" }, docLink(v.doc_a), ` · ${day(v.time_a)} · ${v.start_a === null ? "characters unknown" : `characters ${v.start_a}–${v.end_a}`}`), h("blockquote", {}, v.text_a)],
        [h("div", { className: "muted" }, docLink(v.doc_b), ` · ${day(v.time_b)} · ${v.start_b === null ? "characters unknown" : `characters ${v.start_b}–${v.end_b}`}`), h("blockquote", {}, v.text_b)]])));
  }

  function evidenceObject(v) {
    const label = String(v.label || v.object_id);
    const short = label.length > 90 ? label.slice(0, 90) + "…" : label;
    const kind = { point: "talking point", reuse: "copied passage", template: "shared template", link: "link" }[v.object_kind] || v.object_kind;
    const target = v.object_kind === "point" ? "/point/" + enc(v.object_id)
      : v.object_kind === "reuse" || v.object_kind === "template" ? "/cluster/" + enc(v.object_id) : null;
    return [h("div", { className: "muted" }, kind), target ? link(target, short) : short];
  }

  async function viewSources(params) {
    const p = { offset: 0, limit: 100, ...params };
    const page = await get("sources", p);
    return [h("h2", {}, `Sources (${page.total.toLocaleString()})`),
      table(["source", "documents", "first", "last", "community", "originator", "amplifier"],
        page.items.map((r) => [link("/source/" + enc(r.source), r.source), r.n_docs, day(r.first), day(r.last),
          r.community === null ? "—" : r.community + 1, pct(r.originator), pct(r.amplifier)]),
        [false, true, false, false, true, true, true]),
      pager(page.total, page.offset, p.limit, (offset) => route("/sources", { offset }))];
  }

  async function viewSource(name) {
    const d = await get("source", { name });
    if (!d) return notFound("source", name);
    const rel = (rows, verb) => rows.length ? table(["source", "objects", "median lag, hours"],
      rows.map((r) => [link("/source/" + enc(r.source), r.source), r.n_objects, num(r.median_lag_hours, 1)]), [false, true, true])
      : h("p", { className: "muted" }, `No source ${verb}.`);
    return [h("h2", {}, d.source),
      h("p", {}, `${plural(d.n_docs, "document")}, ${day(d.first)} – ${day(d.last)}; community ${d.community === null ? "none" : d.community + 1}; first on ${pct(d.originator)} of its co-actions (originator), following on ${pct(d.amplifier)} (amplifier).`),
      h("h3", {}, "Its talking points"),
      d.points.length ? table(["talking point", "sources", "its mentions", "first seen", "first here?"],
        d.points.map((p) => [link("/point/" + enc(p.point_id), p.label), p.n_sources, p.n_mentions_here, day(p.first_seen),
          p.originated_here === null || p.originated_here === undefined ? h("span", { className: "muted" }, "unknown (undated)") : p.originated_here ? "yes" : ""]),
      [false, true, true, false, false]) : h("p", { className: "muted" }, "None."),
      h("h3", {}, "Who it follows (they were first on what it shared)"), rel(d.follows, "it follows"),
      h("h3", {}, "Who follows it"), rel(d.followed_by, "follows it")];
  }

  // The words of a query marked where they occur in a sentence (case aside).
  // A word: a run of letters, marks and digits, lower-cased (as the word index splits them).
  const WORD = /[\p{L}\p{M}\p{N}]+/gu;
  function wordsOf(text) { return String(text || "").toLowerCase().match(WORD) || []; }
  function queryWords(query) {
    const found = wordsOf(query).map((w) => Array.from(w).slice(0, 64).join(""));
    const kept = [];
    for (const w of [...new Set(found)].sort((a, b) => b.length - a.length || (a < b ? -1 : 1)))
      if (!kept.some((k) => k.startsWith(w))) kept.push(w);
    return kept.sort((a, b) => found.indexOf(a) - found.indexOf(b)).slice(0, 8);
  }
  // Marks where a query word begins a word of the text.
  function marked(text, query) {
    const words = queryWords(query);
    if (!words.length) return text;
    const alts = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
    const pattern = new RegExp("(?<![\\p{L}\\p{M}\\p{N}])(" + alts + ")", "giu");
    return String(text).split(pattern).map((part, i) => (i % 2 ? h("mark", {}, part) : part));
  }

  async function viewSearch(params) {
    const form = h("form", { className: "filters" },
      h("input", { name: "q", placeholder: "words or a sentence", value: params.q || "", size: 60 }),
      h("select", { name: "mode" }, h("option", { value: "text", selected: params.mode !== "like" }, "sentences containing these words"),
        embedded ? null : h("option", { value: "like", selected: params.mode === "like" }, "sentences and talking points like this one")),
      h("button", { type: "submit" }, "search"));
    form.addEventListener("submit", (e) => { e.preventDefault(); const f = new FormData(form); route("/search", { q: f.get("q"), mode: f.get("mode") }); });
    const out = [h("h2", {}, "Search"), form];
    if (!params.q) return out;
    if (params.mode === "like") {
      const r = await get("similar", { q: params.q });
      out.push(h("p", { className: "muted results" }, `${r.items.length} talking points like it, most alike first`),
        r.items.map((i) => h("div", { className: "mention similar" },
          h("div", {}, link("/point/" + enc(i.point_id), i.label)),
          h("div", { className: "muted" }, `similarity ${num(i.score)} · ${plural(i.n_sources, "source")} · ${plural(i.n_docs, "document")}`),
          (i.mentions || []).map((m) => h("div", { className: "small" }, h("b", {}, m.source), ` · ${day(m.published_at)} · ${m.doc_id} · characters ${m.start}–${m.end}`,
            h("blockquote", {}, m.sentence))))));
      return out;
    }
    const offset = Number(params.offset || 0);
    const r = await get("search", { q: params.q, offset });
    const words = (r.words || []).join(", ");
    out.push(h("p", { className: "muted results" },
        (r.total ? `${plural(r.total, "sentence")} with a word beginning ${words}, earliest first` : `No sentence has a word beginning ${words || "with these letters"}.`)
        + (r.partial ? " (in the sentences the report holds: the store is too large to embed every one; chorus serve searches them all)" : "")
        + (r.index === "stale" ? " (the documents changed since the word index was built, so every sentence was read: chorus analyze rebuilds it)" : "")
        + (r.index === "missing" ? " (the store has no word index, so every sentence was read: chorus analyze builds one)" : "")),
      r.items.map((m) => h("div", { className: "mention" }, h("b", {}, link("/source/" + enc(m.source), m.source)), ` · ${day(m.published_at)} · `, docLink(m.doc_id), ` · characters ${m.start}–${m.end}`,
        h("blockquote", {}, marked(m.sentence || m.text, params.q)))),
      pager(r.total, offset, 50, (o) => route("/search", { q: params.q, mode: params.mode, offset: o })));
    return out;
  }

  async function viewWatchlists() {
    const d = await get("watchlists");
    if (!d || !d.watchlists.length) return [h("h2", {}, "Watchlists"), h("p", {}, "No watchlist stored.")];
    return [h("h2", {}, "Watchlists"), d.watchlists.map((w) => [h("h3", {}, w.name),
      w.matched ? [table(["id", "talking point", "documents", "sources", "first", "last"],
        w.items.map((i) => [i.item_id, i.text, i.n_docs, i.n_sources, day(i.first_seen), day(i.last_seen)]), [false, false, true, true, false, false]),
      table(["source", "share of its documents", "documents", "items"], w.sources.map((r) => [r.source, pct(r.share), `${r.n_docs_pushing} of ${r.n_docs}`, r.n_items]), [false, true, true, true])]
        : h("p", { className: "muted" }, "Not matched yet.")])];
  }

  // A document's whole text, every sentence of a talking point and every copied passage
  // marked and linked. Offsets count code points (Python's), so the text is split into code
  // points, not UTF-16 units.
  async function viewDocument(id) {
    const d = await get("document", { id });
    if (!d) return embedded ? [h("h2", {}, "Document"), h("p", {}, id),
      h("p", { className: "muted" }, "The report holds the documents its talking points quote; chorus serve shows every one.")] : notFound("document", id);
    const chars = Array.from(d.text || "");
    const cuts = new Set([0, chars.length]);
    for (const sp of d.spans) { cuts.add(Math.max(0, Math.min(sp.start, chars.length))); cuts.add(Math.max(0, Math.min(sp.end, chars.length))); }
    const bounds = [...cuts].sort((a, b) => a - b);
    const body = h("div", { className: "doctext" });
    for (let i = 0; i + 1 < bounds.length; i++) {
      const [a, b] = [bounds[i], bounds[i + 1]];
      const text = chars.slice(a, b).join("");
      const over = d.spans.filter((sp) => sp.start <= a && sp.end >= b);
      if (!over.length) { body.appendChild(document.createTextNode(text)); continue; }
      const point = over.find((sp) => sp.kind === "point");
      const first = point || over[0];
      const target = first.kind === "point" ? "/point/" + enc(first.id) : "/cluster/" + enc(first.id);
      const title = over.map((sp) => `${spanKind(sp.kind)}: ${String(sp.label || "").slice(0, 120)}`).join("\n");
      body.appendChild(h("a", { href: "#" + target, className: "span " + (point ? "pt" : "cp-" + first.kind) + (point && over.length > 1 ? " both" : ""), title }, text));
    }
    return [h("h2", {}, d.title || "Document"),
      h("p", {}, h("b", {}, link("/source/" + enc(d.source), d.source)), ` · ${d.published_at ? day(d.published_at) : "undated"} · ${d.doc_id}${d.lang && d.lang !== "und" ? " · " + d.lang : ""} `,
        safeUrl(d.url) ? h("a", { href: safeUrl(d.url), rel: "noopener noreferrer nofollow", target: "_blank" }, "open the original") : null),
      h("p", { className: "muted small" }, h("span", { className: "span pt" }, "talking point"), " ", h("span", { className: "span cp-reuse" }, "copied passage"), " ",
        h("span", { className: "span cp-syndication" }, "wire copy"), " ", h("span", { className: "span cp-boilerplate" }, "template"), " — click a marked sentence to open what it belongs to."),
      body,
      h("h3", {}, d.spans.length ? `In this document: ${plural(d.spans.length, "finding")}` : "Nothing in this document is shared with another."),
      d.spans.length ? table(["what", "characters", ""], d.spans.map((sp) => [spanKind(sp.kind),
        `${sp.start}–${sp.end}`, link((sp.kind === "point" ? "/point/" : "/cluster/") + enc(sp.id), String(sp.label || sp.id).slice(0, 160))])) : null];
  }
  const spanKind = (k) => ({ point: "talking point", reuse: "copied passage", syndication: "wire copy", boilerplate: "template" }[k] || k);

  const notFound = (what, id) => [h("h2", {}, `No such ${what}`), h("p", {}, id)];

  // ---- routing --------------------------------------------------------------------------
  function route(path, params) {
    const q = new URLSearchParams(Object.entries(params || {}).filter(([, v]) => v !== "" && v !== null && v !== undefined));
    location.hash = path + (q.toString() ? "?" + q : "");
  }
  async function render() {
    const [path, query] = (location.hash.slice(1) || "/").split("?");
    const params = Object.fromEntries(new URLSearchParams(query || ""));
    const parts = path.split("/").filter(Boolean);
    const arg = parts.slice(1).map(decodeURIComponent).join("/");
    let view;
    try {
      switch (parts[0]) {
        case undefined: view = await viewOverview(); break;
        case "points": view = await viewPoints(params); break;
        case "point": view = await viewPoint(arg, params); break;
        case "reuse": view = await viewReuse(arg || "reuse", params); break;
        case "cluster": view = await viewCluster(arg); break;
        case "document": view = await viewDocument(arg); break;
        case "network": view = await viewNetwork(); break;
        case "sources": view = await viewSources(params); break;
        case "source": view = await viewSource(arg); break;
        case "search": view = await viewSearch(params); break;
        case "watchlists": view = await viewWatchlists(); break;
        default: view = notFound("page", path);
      }
    } catch (err) {
      view = [h("h2", {}, "Something went wrong"), h("p", {}, String(err))];
    }
    main.replaceChildren(...[view].flat(3).filter(Boolean));
    document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("here", a.getAttribute("href") === "#/" + (parts[0] || "")));
    main.dataset.ready = "true";
  }
  window.addEventListener("hashchange", render);
  render();
})();
