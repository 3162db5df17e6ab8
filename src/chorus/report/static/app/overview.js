// The overview: what was found first, then the heat map and the timeline.
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

