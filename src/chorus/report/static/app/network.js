// The coordination network, an edge's evidence, and the sources.
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

