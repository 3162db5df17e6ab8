// Talking points and copied passages: their lists and each one with its evidence.
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

  // An id that names no point now: what the lineage recorded, step by step, and where it
  // leads. "dissolved" names the nearest point, which is not the same claim.
  const LINEAGE = {
    merged: "merged into",
    dissolved: "dissolved: none of its sentences is in a talking point any more; the nearest current point is",
    boilerplate: "left the talking points: its sentences are now boilerplate, in the copied passages of",
    gone: "gone: its documents left the store",
  };
  function pointHistory(m) {
    const target = (step) => (!step.other_id ? null
      : step.event === "boilerplate" ? link("/cluster/" + enc(step.other_id), step.other_id)
        : link("/point/" + enc(step.other_id), step.other_id));
    const last = m.steps[m.steps.length - 1].event;
    const lead = m.live_kind === "cluster" ? "Its sentences are now in the copied passage "
      : last === "dissolved" ? "The nearest current talking point (near, not the same claim): "
        : "It is now part of the talking point ";
    const live = m.live_id === null ? h("p", {}, "Nothing it leads to exists now.")
      : h("p", {}, lead, link((m.live_kind === "cluster" ? "/cluster/" : "/point/") + enc(m.live_id), m.live_id),
        h("blockquote", { className: "label" }, m.live_label || ""));
    return [h("h2", {}, "Talking point no longer in the store"),
      h("p", {}, `No talking point has the id ${m.point_id} now. Its history (point_lineage):`),
      h("ol", {}, m.steps.map((s) => h("li", {}, `${day(s.recorded_at)}: ${s.point_id} ${LINEAGE[s.event] || s.event} `, target(s)))),
      live];
  }

  async function viewPoint(id, params) {
    const offset = Number((params || {}).offset || 0), limit = 100;
    const p = await get("point", { id, offset, limit });
    if (!p) {
      const history = await get("lineage", { id });
      return history ? pointHistory(history) : notFound("talking point", id);
    }
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
        h("div", {}, h("b", {}, link("/source/" + enc(m.source), m.source)), ` · ${day(m.published_at)} · `, docLink(m.doc_id), `${m.lang && m.lang !== "und" ? " · " + m.lang : ""} · characters ${m.start}–${m.end} `,
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

