// One document's whole text with its findings marked.
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

