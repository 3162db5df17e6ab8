// Pieces several views draw: tables, sparklines, pagers, a sentence in its context.
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
    // dir auto: a Persian or Arabic sentence reads right to left.
    return h("blockquote", { dir: "auto" }, h("span", { className: "muted" }, m.before ? "…" + m.before : ""),
      h("mark", {}, m.sentence), h("span", { className: "muted" }, m.after ? m.after + "…" : ""));
  }
  const partialNote = (on, what) => (on ? h("p", { className: "muted" },
    `The report holds the top ${what} only; chorus serve shows everything.`) : null);

