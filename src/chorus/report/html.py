"""A self-contained HTML report of the store. Every value from the corpus is escaped: document
text, titles and source names are hostile input."""

from __future__ import annotations

import datetime as dt
import os
from html import escape
from pathlib import Path

from chorus import __version__
from chorus.stats import CorpusStats, corpus_stats
from chorus.store import Store

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}td,th{padding:.25rem .5rem;text-align:left;
border-bottom:1px solid #eee}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#666}.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;
border-radius:6px;padding:.5rem 1rem}.card b{display:block;font-size:1.4rem}
"""


def _fmt_date(value: dt.datetime | None) -> str:
    return value.date().isoformat() if value else "—"


def _overview(stats: CorpusStats) -> str:
    cards = [
        ("documents", f"{stats.n_documents:,}"),
        ("sources", f"{stats.n_sources:,}"),
        ("sentences", f"{stats.n_sentences:,}"),
        ("characters", f"{stats.n_characters:,}"),
        ("undated", f"{stats.share_undated:.0%}"),
        ("date range", f"{_fmt_date(stats.first)} – {_fmt_date(stats.last)}"),
    ]
    return (
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{escape(v)}</b>{escape(k)}</div>' for k, v in cards)
        + "</div>"
    )


def _sources_table(stats: CorpusStats, limit: int = 200) -> str:
    rows = "".join(
        f"<tr><td>{escape(s.source)}</td><td class=n>{s.n_documents:,}</td>"
        f"<td class=n>{s.n_undated:,}</td><td>{_fmt_date(s.first)}</td>"
        f"<td>{_fmt_date(s.last)}</td></tr>"
        for s in stats.by_source[:limit]
    )
    more = (
        f'<p class="muted">{len(stats.by_source) - limit:,} more sources not shown.</p>'
        if len(stats.by_source) > limit
        else ""
    )
    return (
        "<table><tr><th>source</th><th class=n>documents</th><th class=n>undated</th>"
        f"<th>first</th><th>last</th></tr>{rows}</table>{more}"
    )


def _documents_table(store: Store, limit: int = 100) -> str:
    rows = store.con.execute(
        """SELECT d.doc_id, d.source, d.title, d.published_at, d.lang, length(d.text),
                  (SELECT count(*) FROM sentences s WHERE s.doc_id = d.doc_id)
           FROM documents d ORDER BY d.published_at NULLS LAST, d.doc_id LIMIT ?""",
        [limit],
    ).fetchall()
    body = "".join(
        f"<tr><td>{escape(str(doc_id))}</td><td>{escape(str(source))}</td>"
        f"<td>{escape(str(title or ''))}</td><td>{_fmt_date(date)}</td>"
        f"<td>{escape(str(lang or ''))}</td><td class=n>{chars:,}</td><td class=n>{sents:,}</td>"
        "</tr>"
        for doc_id, source, title, date, lang, chars, sents in rows
    )
    return (
        "<table><tr><th>id</th><th>source</th><th>title</th><th>date</th><th>lang</th>"
        f"<th class=n>chars</th><th class=n>sentences</th></tr>{body}</table>"
    )


def render_report(store: Store) -> str:
    """The report as one HTML string: no scripts, no external resources."""
    stats = corpus_stats(store)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chorus report</title><style>{_STYLE}</style></head><body>
<h1>chorus report</h1>
<p class="muted">Store {escape(store.path.name)} · chorus {escape(__version__)} · {generated}</p>
<h2>Overview</h2>{_overview(stats)}
<p class="muted">Shared messaging is measured, not judged: repetition across sources is not by
itself proof of coordination or inauthenticity.</p>
<h2>Sources</h2>{_sources_table(stats)}
<h2>Documents</h2>{_documents_table(store)}
</body></html>
"""


def write_report(store: Store, path: str | os.PathLike[str]) -> Path:
    """Write the report to ``path``; returns the path written."""
    target = Path(path)
    target.write_text(render_report(store), encoding="utf-8")
    return target
