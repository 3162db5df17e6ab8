"""A self-contained HTML report of the store. Every value from the corpus is escaped: document
text, titles and source names are hostile input."""

from __future__ import annotations

import datetime as dt
import json
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
.muted{color:#666}blockquote{margin:.3rem 0 .3rem 1rem;white-space:pre-wrap;color:#333}
details{margin:.4rem 0;border-left:3px solid #ddd;padding-left:.5rem}summary{cursor:pointer}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;
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


_KIND_NOTE = {
    "reuse": "Copied passages: the material for talking points and coordination.",
    "syndication": "Credited wire copy: shared honestly, not evidence of coordination.",
    "boilerplate": "Templates and page furniture: shown apart.",
}


def _reuse_section(store: Store, limit: int = 50) -> str:
    if "reuse_clusters" not in store.table_names():
        return ""
    parts: list[str] = []
    for kind, note in _KIND_NOTE.items():
        clusters = store.con.execute(
            """SELECT cluster_id, n_docs, n_sources, first_seen, origin_doc_id, origin_source,
                      representative
               FROM reuse_clusters WHERE kind = ?
               ORDER BY n_sources DESC, n_docs DESC, cluster_id LIMIT ?""",
            [kind, limit],
        ).fetchall()
        total = store.con.execute(
            "SELECT count(*) FROM reuse_clusters WHERE kind = ?", [kind]
        ).fetchall()[0][0]
        if not total:
            continue
        items = []
        for cluster_id, n_docs, n_sources, first_seen, origin, origin_source, text in clusters:
            copies = store.con.execute(
                """SELECT p.doc_id, d.source, d.published_at, p.start, p."end"
                   FROM passages p JOIN documents d USING (doc_id)
                   WHERE p.cluster_id = ? ORDER BY d.published_at NULLS LAST, p.doc_id, p.start
                   LIMIT 20""",
                [cluster_id],
            ).fetchall()
            rows = "".join(
                f"<tr><td>{escape(str(doc))}</td><td>{escape(str(src))}</td>"
                f"<td>{_fmt_date(date)}</td><td class=n>{start:,}–{end:,}</td></tr>"
                for doc, src, date, start, end in copies
            )
            items.append(
                f"<details><summary><b>{n_docs}</b> documents, <b>{n_sources}</b> sources, "
                f"first {_fmt_date(first_seen)} in {escape(str(origin_source))} "
                f"({escape(str(origin))})<blockquote>{escape(text)}</blockquote></summary>"
                "<table><tr><th>document</th><th>source</th><th>date</th>"
                f"<th class=n>characters</th></tr>{rows}</table></details>"
            )
        more = f'<p class="muted">{total - limit:,} more.</p>' if total > limit else ""
        parts.append(
            f"<h3>{escape(kind)} ({total:,})</h3><p class='muted'>{escape(note)}</p>"
            + "".join(items)
            + more
        )
    if not parts:
        return "<h2>Copied passages</h2><p>None found.</p>"
    return "<h2>Copied passages</h2>" + "".join(parts)


def _points_section(store: Store, limit: int = 50) -> str:
    if "points" not in store.table_names() or not store.count("points"):
        return ""
    total = store.count("points")
    points = store.con.execute(
        """SELECT point_id, label, keyphrases, n_docs, n_sources, first_seen, origin_doc_id,
                  origin_source
           FROM points ORDER BY n_sources DESC, n_docs DESC, point_id LIMIT ?""",
        [limit],
    ).fetchall()
    items = []
    for point_id, label, phrases, n_docs, n_sources, first_seen, origin, source in points:
        mentions = store.con.execute(
            """SELECT m.doc_id, d.source, d.published_at, m.start, m."end", m.text
               FROM mentions m JOIN documents d USING (doc_id)
               WHERE m.point_id = ? ORDER BY d.published_at NULLS LAST, m.doc_id, m.sent_no
               LIMIT 30""",
            [point_id],
        ).fetchall()
        rows = "".join(
            f"<tr><td>{escape(str(doc))}</td><td>{escape(str(src))}</td>"
            f"<td>{_fmt_date(date)}</td><td class=n>{start:,}–{end:,}</td>"
            f"<td>{escape(text)}</td></tr>"
            for doc, src, date, start, end, text in mentions
        )
        items.append(
            f"<details><summary><b>{n_docs}</b> documents, <b>{n_sources}</b> sources, "
            f"first {_fmt_date(first_seen)} in {escape(str(source))} ({escape(str(origin))})"
            f"<blockquote>{escape(label)}</blockquote>"
            f"<span class=muted>{escape(', '.join(phrases))}</span></summary>"
            "<table><tr><th>document</th><th>source</th><th>date</th>"
            f"<th class=n>characters</th><th>sentence</th></tr>{rows}</table></details>"
        )
    more = f'<p class="muted">{total - limit:,} more.</p>' if total > limit else ""
    return (
        f"<h2>Talking points ({total:,})</h2><p class=muted>The same claim, in the same or "
        "other words, in several documents.</p>" + "".join(items) + more
    )


def _watch_section(store: Store, limit: int = 50) -> str:
    if "watchlists" not in store.table_names():
        return ""
    from chorus.match import watch_item_hits, watch_source_shares, watchlist_names

    parts = []
    for name in watchlist_names(store):
        ran = store.con.execute(
            "SELECT count(*) FROM watch_runs WHERE watchlist = ?", [name]
        ).fetchall()[0][0]
        if not ran:
            parts.append(
                f"<h3>{escape(name)}</h3><p class=muted>Not matched yet: "
                f"<code>chorus watch hits {escape(name)}</code>.</p>"
            )
            continue
        items = watch_item_hits(store, name).slice(0, limit).to_pylist()
        item_rows = "".join(
            f"<tr><td>{escape(str(r['item_id']))}</td><td>{escape(str(r['text']))}</td>"
            f"<td class=n>{r['n_docs']:,}</td><td class=n>{r['n_sources']:,}</td>"
            f"<td>{_fmt_date(r['first_seen'])}</td><td>{_fmt_date(r['last_seen'])}</td></tr>"
            for r in items
        )
        sources = [r for r in watch_source_shares(store, name).to_pylist() if r["n_docs_pushing"]][
            :limit
        ]
        source_rows = "".join(
            f"<tr><td>{escape(str(r['source']))}</td><td class=n>{r['share']:.1%}</td>"
            f"<td class=n>{r['n_docs_pushing']:,} of {r['n_docs']:,}</td>"
            f"<td class=n>{r['n_items']:,}</td></tr>"
            for r in sources
        )
        parts.append(
            f"<h3>{escape(name)}</h3><table><tr><th>id</th><th>talking point</th>"
            "<th class=n>documents</th><th class=n>sources</th><th>first</th><th>last</th></tr>"
            f"{item_rows}</table><p>Sources pushing the list (share of their documents):</p>"
            "<table><tr><th>source</th><th class=n>share</th><th class=n>documents</th>"
            f"<th class=n>items</th></tr>{source_rows}</table>"
        )
    if not parts:
        return ""
    return "<h2>Watchlists</h2>" + "".join(parts)


def _num(value: float | None, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def _coord_section(store: Store, *, edge_limit: int = 50, evidence_limit: int = 20) -> str:
    if "coord_runs" not in store.table_names():
        return ""
    runs = store.con.execute(
        "SELECT settings, window_hours FROM coord_runs ORDER BY finished_at DESC LIMIT 1"
    ).fetchall()
    if not runs:
        return ""
    from chorus.coord import read_edge_evidence

    settings = json.loads(runs[0][0])
    window = runs[0][1]
    fdr = float(settings.get("fdr", 0.05))
    n_edges, n_significant = store.con.execute(
        "SELECT count(*), count(*) FILTER (q_value <= ?) FROM source_edges", [fdr]
    ).fetchall()[0]
    if window is None:
        timing = (
            "<b>No time window</b>: too few documents have dates to tell how fast objects "
            "spread, so two sources co-act on anything they both shared, whenever they "
            "shared it; who came first is unknown."
        )
    else:
        how = "set by the user" if settings.get("window_hours") else "chosen from the data"
        timing = (
            f"Two sources co-act on an object when both share it within {window:g} hours "
            f"({how}: the median time an object takes to reach its second source)."
        )
    parts = [
        f"<h2>Coordination network</h2><p>{n_edges:,} pairs of sources co-act on at least "
        f"{int(settings.get('min_objects', 2))} shared objects (talking points, copied passages, "
        f"links, shared page templates); {n_significant:,} share more than their activity "
        f"predicts (q ≤ {fdr:g}). {timing}</p><p class=muted>An edge means two sources shared "
        "the same uncommon messaging at about the same time, more than chance given how much "
        "each publishes. It is not proof of coordination, common ownership or inauthenticity: "
        "outlets also quote the same statement or cover the same event. Credited wire copy "
        "and a single site's own templates never make an edge.</p>"
    ]
    communities = store.con.execute(
        "SELECT community, n_sources FROM communities ORDER BY community"
    ).fetchall()
    if communities and not n_significant:
        parts.append(
            "<p class=muted>No edge is significant, so the communities below are drawn from "
            "every edge: read them as who shares with whom, not as evidence.</p>"
        )
    for community, size in communities[:20]:
        members = store.con.execute(
            """SELECT source, n_docs, n_objects, originator, amplifier, median_follow_hours
               FROM sources WHERE community = ?
               ORDER BY originator DESC NULLS LAST, source""",
            [community],
        ).fetchall()
        rows = "".join(
            f"<tr><td>{escape(str(src))}</td><td class=n>{docs:,}</td><td class=n>{objs:,}</td>"
            f"<td class=n>{_num(orig, '.0%')}</td><td class=n>{_num(amp, '.0%')}</td>"
            f"<td class=n>{_num(lag, '.1f')}</td></tr>"
            for src, docs, objs, orig, amp, lag in members
        )
        parts.append(
            f"<h3>Community {community + 1} ({size:,} sources)</h3><table><tr><th>source</th>"
            "<th class=n>documents</th><th class=n>objects shared</th><th class=n>first "
            "(originator)</th><th class=n>following (amplifier)</th><th class=n>median "
            f"follow, hours</th></tr>{rows}</table>"
        )
    edges = store.con.execute(
        """SELECT source_a, source_b, weight, n_objects, median_lag_hours, q_value
           FROM source_edges ORDER BY q_value NULLS LAST, weight DESC, source_a, source_b
           LIMIT ?""",
        [edge_limit],
    ).fetchall()
    items = []
    for a, b, weight, n_objects, lag, q in edges:
        evidence = read_edge_evidence(store, a, b, limit=evidence_limit).to_pylist()
        rows = "".join(
            f"<tr><td>{escape(e['object_kind'])}</td>"
            f"<td>{escape(str(e['doc_a']))}<br><span class=muted>{_fmt_date(e['time_a'])} · "
            f"{_span(e['start_a'], e['end_a'])}</span><blockquote>{escape(e['text_a'])}"
            f"</blockquote></td><td>{escape(str(e['doc_b']))}<br><span class=muted>"
            f"{_fmt_date(e['time_b'])} · {_span(e['start_b'], e['end_b'])}</span><blockquote>"
            f"{escape(e['text_b'])}</blockquote></td></tr>"
            for e in evidence
        )
        more = (
            f'<p class="muted">{n_objects - evidence_limit:,} more objects.</p>'
            if n_objects > evidence_limit
            else ""
        )
        items.append(
            f"<details><summary><b>{escape(str(a))}</b> — <b>{escape(str(b))}</b>: "
            f"{n_objects:,} objects, weight {weight:.2f}, median lag {_num(lag, '.1f')} h, "
            f"q {_num(q, '.3g')}</summary><table><tr><th>object</th><th>{escape(str(a))}</th>"
            f"<th>{escape(str(b))}</th></tr>{rows}</table>{more}</details>"
        )
    more = (
        f'<p class="muted">{n_edges - edge_limit:,} more edges: <code>chorus export '
        "source_edges</code>.</p>"
        if n_edges > edge_limit
        else ""
    )
    parts.append("<h3>Edges, strongest evidence first</h3>" + "".join(items) + more)
    return "".join(parts)


def _span(start: int | None, end: int | None) -> str:
    return "characters unknown" if start is None or end is None else f"characters {start:,}–{end:,}"


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
{_points_section(store)}
{_reuse_section(store)}
{_coord_section(store)}
{_watch_section(store)}
<h2>Sources</h2>{_sources_table(stats)}
<h2>Documents</h2>{_documents_table(store)}
</body></html>
"""


def write_report(store: Store, path: str | os.PathLike[str]) -> Path:
    """Write the report to ``path``; returns the path written."""
    target = Path(path)
    target.write_text(render_report(store), encoding="utf-8")
    return target
