// What changed: the talking points, copied passages, edges and watchlist hits that the last
// analysis (or every analysis since an earlier one, in the app) brought.
  function sinceWhat(d) {
    if (d.since_run !== null && d.since_run !== undefined) {
      const run = d.runs.find((r) => r.run_no === d.since_run);
      return `analysis ${d.since_run}` + (run ? ` (${day(run.finished_at)}, ${plural(run.n_documents, "document")})` : "");
    }
    return d.since ? day(d.since) : "the first analysis";
  }
  function shownOf(d, kind, what) {
    const total = d.totals[kind];
    return h("p", { className: "small muted" }, total > d.limit ? `the ${d.limit} most important of ${plural(total, what)}` : plural(total, what));
  }
  const grown = (before, now) => (before === null || before === undefined ? String(now) : `${before} → ${now}`);
  async function viewChanges(params) {
    const d = await get("changes", params.since ? { since: params.since } : {});
    if (!d || !d.runs.length) return [h("h2", {}, "New since the last analysis"),
      h("p", { className: "muted" }, "No analysis is recorded in this store yet: run chorus analyze.")];
    const last = d.runs[d.runs.length - 1];
    const out = [h("h2", {}, `New since ${sinceWhat(d)}`),
      h("p", {}, `What analysis ${last.run_no} (${day(last.finished_at)}, ${plural(last.n_documents, "document")})`
        + (d.since_run !== null && d.since_run !== undefined && d.since_run < last.run_no - 1 ? ` and the analyses before it back to ${d.since_run + 1}` : "")
        + " changed. New documents can make new talking points, widen old ones, copy passages and tie sources together; none of it says who is right.")];
    if (!embedded && d.runs.length > 1) out.push(h("p", { className: "small" }, "Count from: ",
      d.runs.slice(0, -1).reverse().slice(0, 12).map((r) => [link("/changes?since=" + r.run_no, `analysis ${r.run_no} (${day(r.finished_at)})`), " "])));
    const fresh = d.points.filter((p) => p.change === "new"), grew = d.points.filter((p) => p.change === "grew");
    out.push(h("h3", {}, "New talking points"), fresh.length
      ? table(["talking point", "sources", "documents", "first seen"], fresh.map((p) => [link("/point/" + enc(p.point_id), p.label), p.n_sources, p.n_docs, day(p.first_seen)]), [false, true, true, false])
      : h("p", { className: "muted" }, "No new talking point."));
    out.push(h("h3", {}, "Talking points reaching more sources or documents"), grew.length
      ? table(["talking point", "sources", "documents", "last seen"], grew.map((p) => [link("/point/" + enc(p.point_id), p.label), grown(p.n_sources_before, p.n_sources), grown(p.n_docs_before, p.n_docs), day(p.last_seen)]), [false, true, true, false])
      : h("p", { className: "muted" }, "No talking point grew."));
    const nNews = d.totals.points - (d.totals.regrouped || 0), shown = fresh.length + grew.length;
    out.push(h("p", { className: "small muted" }, nNews > shown ? `the ${shown} most important of ${plural(nNews, "new or grown talking point")}` : plural(nNews, "new or grown talking point")));
    // Not news: an update split or merged sentences it had analysed before.
    const regrouped = d.points.filter((p) => p.change === "regrouped");
    if (regrouped.length) out.push(h("h3", {}, "Regrouped, with no new document"),
      h("p", { className: "small muted" }, `${plural(d.totals.regrouped, "talking point")} whose id is new or whose reach grew only because the analysis split or merged sentences it had analysed before: not news`
        + (d.totals.regrouped > regrouped.length ? ` (the first ${regrouped.length} shown).` : ".")),
      table(["talking point", "sources", "documents", "split from"], regrouped.map((p) => [link("/point/" + enc(p.point_id), p.label), grown(p.n_sources_before, p.n_sources), grown(p.n_docs_before, p.n_docs), p.split_from ? link("/point/" + enc(p.split_from), p.split_from) : "—"]), [false, true, true, false]));
    out.push(h("h3", {}, "Passages copied in the new documents"), d.passages.length
      ? table(["passage", "kind", "document", "source", "sources sharing it"], d.passages.map((c) => [link("/cluster/" + enc(c.cluster_id), c.text.length > 160 ? c.text.slice(0, 157) + "…" : c.text), c.cluster_kind, docLink(c.doc_id), link("/source/" + enc(c.source), c.source), c.n_sources]), [false, false, false, false, true])
      : h("p", { className: "muted" }, "No copied passage in the new documents (boilerplate aside)."), shownOf(d, "passages", "passage"));
    out.push(h("h3", {}, "Sources newly tied, or tied more strongly"), d.edges.length
      ? table(["sources", "change", "weight", "q"], d.edges.map((e) => [[link("/source/" + enc(e.source_a), e.source_a), " — ", link("/source/" + enc(e.source_b), e.source_b)], e.change === "new" ? "newly significant" : "stronger", e.weight_before === null ? num(e.weight) : `${num(e.weight_before)} → ${num(e.weight)}`, e.q_value === null ? "—" : num(e.q_value, 3)]), [false, false, true, true])
      : h("p", { className: "muted" }, "No edge became significant or stronger."));
    out.push(h("h3", {}, "New watchlist hits"), d.hits.length
      ? table(["watchlist item", "score", "document", "source", "sentence"], d.hits.map((x) => [`${x.watchlist} / ${x.item_id}`, num(x.score, 3), docLink(x.doc_id), x.source, x.sentence]), [false, true, false, false, false])
      : h("p", { className: "muted" }, "No new watchlist hit."));
    return out;
  }
