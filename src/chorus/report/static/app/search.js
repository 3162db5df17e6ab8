// Word search over every sentence, and the stored watchlists.
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
          (i.mentions || []).map((m) => h("div", { className: "small" }, h("b", {}, m.source), ` · ${day(m.published_at)} · ${m.doc_id}${m.lang && m.lang !== "und" ? " · " + m.lang : ""} · characters ${m.start}–${m.end}`,
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
      w.matched ? [h("h4", {}, "Items, and where they are found"), table(["id", "talking point", "documents", "sources", "languages", "first", "last"],
        w.items.map((i) => [i.item_id, i.text, i.n_docs, i.n_sources, (i.languages || []).join(", "), day(i.first_seen), day(i.last_seen)]), [false, false, true, true, false, false, false]),
      h("h4", {}, "Sources whose documents match an item"), table(["source", "share of its documents", "documents", "items"], w.sources.map((r) => [r.source, pct(r.share), `${r.n_docs_pushing} of ${r.n_docs}`, r.n_items]), [false, true, true, true])]
        : h("p", { className: "muted" }, "Not matched yet.")])];
  }

