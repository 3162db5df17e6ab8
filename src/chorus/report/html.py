"""The report: one self-contained HTML file (no CDN, no network, opens from disk), and the
page shell the web app serves.

Both run the same script (``static/app/``, joined by :func:`app_script`) over the same
views (:mod:`chorus.views`): the web app fetches them from its JSON API, the report carries
the answers to a bounded set of them as a JSON block. Corpus text reaches the page only as
data, never as markup, and the Content-Security-Policy lets no script run but the app's own
(by hash, in the report).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from chorus import __version__, views
from chorus.progress import ProgressFactory, no_progress
from chorus.store import Store

log = logging.getLogger(__name__)

_NAV = (
    ("#/", "overview"),
    ("#/points", "talking points"),
    ("#/reuse", "copied passages"),
    ("#/network", "network"),
    ("#/sources", "sources"),
    ("#/search", "search"),
    ("#/watchlists", "watchlists"),
    ("#/changes", "new since"),
)


def static_text(name: str) -> str:
    """The app's style sheet (or another file), as shipped in the package."""
    return (resources.files("chorus.report") / "static" / name).read_text(encoding="utf-8")


# The script's parts, in the order they run: one file per area, sharing one scope.
SCRIPT_PARTS = (
    "core.js",
    "pieces.js",
    "overview.js",
    "points.js",
    "network.js",
    "search.js",
    "documents.js",
    "changes.js",
    "routing.js",
)


def app_script() -> str:
    """The one script the report inlines and the app serves: its parts (``static/app/``)
    joined inside one function, so they share helpers without a bundler or a global name.
    Text from the corpus is hostile: it only ever reaches the page through textContent and
    attribute setters, never as HTML."""
    folder = resources.files("chorus.report") / "static" / "app"
    body = "".join((folder / name).read_text(encoding="utf-8") for name in SCRIPT_PARTS)
    return (
        "// chorus: the report and the web app share this script. Text from the corpus is "
        "hostile:\n// it only ever reaches the page through textContent and attribute setters, "
        'never as HTML.\n"use strict";\n(function () {\n' + body + "})();\n"
    )


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def page_shell(*, head: str, body_attrs: str, tail: str, subtitle: str) -> str:
    nav = "".join(f'<a href="{href}">{escape(text)}</a>' for href, text in _NAV)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">
<title>chorus</title>{head}</head>
<body {body_attrs}><header><h1>chorus</h1><nav>{nav}</nav>
<span class="muted">{escape(subtitle)}</span></header>
<main id="main"><p>Loading…</p><noscript>This page needs JavaScript (its own script only;
nothing is fetched from the network).</noscript></main>
{tail}</body></html>
"""


def data_block(data: Any) -> str:
    """JSON that cannot end its script element or open a comment, whatever the text holds."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


@dataclass(frozen=True)
class ReportLimits:
    """How much of the store the report carries; the web app shows the rest."""

    points: int = 300
    mentions: int = 30
    clusters: int = 50
    copies: int = 10
    edges: int = 300
    evidence: int = 20
    sources: int = 500
    source_details: int = 200
    documents: int = 300
    sentences: int = 50_000


def _search_sentences(store: Store, quoted: list[str], *, limit: int) -> dict[str, Any]:
    """What the report's search reads: every sentence when the store has at most ``limit``,
    else the sentences of the documents the report quotes (and it says so). Columns, not
    records: ``doc`` indexes ``docs`` ([doc_id, source, published_at])."""
    total = store.count("sentences")
    partial = total > limit
    where = "WHERE s.doc_id IN (SELECT unnest(?))" if partial else ""
    rows = store.con.execute(
        f"""SELECT s.doc_id, d.source, d.published_at, s.start, s."end", s.text
            FROM sentences s JOIN documents d USING (doc_id) {where}
            ORDER BY d.published_at NULLS LAST, s.doc_id, s.start LIMIT ?""",
        [quoted, limit] if partial else [limit],
    ).fetchall()
    docs: dict[str, int] = {}
    meta: list[list[Any]] = []
    out: dict[str, list[Any]] = {"doc": [], "start": [], "end": [], "text": []}
    for doc_id, source, published, start, end, text in rows:
        if doc_id not in docs:
            docs[doc_id] = len(meta)
            meta.append([doc_id, source, published.isoformat() if published else None])
        out["doc"].append(docs[doc_id])
        out["start"].append(start)
        out["end"].append(end)
        out["text"].append(text)
    return {"docs": meta, **out, "partial": partial, "total": total}


def report_data(
    store: Store,
    *,
    limits: ReportLimits | None = None,
    progress: ProgressFactory = no_progress,
) -> dict[str, Any]:
    """The views the report embeds, bounded by ``limits``."""
    lim = limits or ReportLimits()
    overview = views.overview(store)
    points = views.points_page(store, limit=lim.points)
    point_ids = [p["point_id"] for p in points["items"]]
    network = views.network(store, max_edges=lim.edges)
    sources = views.sources_page(store, limit=lim.sources)
    detail_sources = sorted(
        {n["source"] for n in network["nodes"]}
        | {s["source"] for s in sources["items"][: lim.source_details]}
    )
    bar = progress(
        desc="report",
        total=len(point_ids) + len(network["edges"]) + len(detail_sources) + 3 * lim.clusters,
        unit="view",
    )
    try:
        point_detail = {}
        for pid in point_ids:
            point_detail[pid] = views.point_detail(store, pid, limit=lim.mentions)
            bar.update(1)
        reuse, cluster_detail = {}, {}
        for kind in ("reuse", "syndication", "boilerplate"):
            reuse[kind] = views.reuse_page(store, kind=kind, limit=lim.clusters)
            reuse[kind]["partial"] = reuse[kind]["total"] > lim.clusters
            for c in reuse[kind]["items"]:
                cluster_detail[c["cluster_id"]] = views.reuse_detail(
                    store, c["cluster_id"], limit=lim.copies
                )
                bar.update(1)
        edge_detail = {}
        for e in network["edges"]:
            key = f"{e['source_a']}\u0000{e['source_b']}"
            edge_detail[key] = views.edge_detail(
                store, e["source_a"], e["source_b"], limit=lim.evidence
            )
            bar.update(1)
        source_detail = {}
        for name in detail_sources:
            source_detail[name] = views.source_detail(store, name, limit=30)
            bar.update(1)
        # The documents the embedded points quote, earliest first: each one's whole text.
        quoted: list[str] = []
        for detail in point_detail.values():
            for m in detail["mentions"] if detail else []:
                if m["doc_id"] not in quoted:
                    quoted.append(m["doc_id"])
        document_detail = {
            doc_id: views.document_detail(store, doc_id) for doc_id in quoted[: lim.documents]
        }
    finally:
        bar.close()
    search = _search_sentences(store, quoted, limit=lim.sentences)
    point_sources: dict[str, list[str]] = {}
    if point_ids:
        for pid, source in store.con.execute(
            """SELECT DISTINCT m.point_id, d.source FROM mentions m JOIN documents d
               USING (doc_id) WHERE m.point_id IN (SELECT unnest(?)) ORDER BY 1, 2""",
            [point_ids],
        ).fetchall():
            point_sources.setdefault(pid, []).append(source)
    return {
        "overview": overview,
        "points": points["items"],
        "point_sources": point_sources,
        "point_detail": point_detail,
        "reuse": reuse,
        "cluster_detail": cluster_detail,
        "network": network,
        "edge_detail": edge_detail,
        "sources": sources,
        "source_detail": source_detail,
        "document_detail": document_detail,
        "search": search,
        "heatmap": views.heatmap(store),
        "timeline": views.timeline(store),
        "watchlists": views.watchlists(store),
        "changes": views.changes(store),
        "partial": {
            "points": points["total"] > lim.points,
            "sources": sources["total"] > lim.sources,
            "documents": len(quoted) > lim.documents,
            "sentences": search["partial"],
        },
    }


def render_report(
    store: Store,
    *,
    limits: ReportLimits | None = None,
    progress: ProgressFactory = no_progress,
) -> str:
    """The report as one HTML string: its own script and styles inline (allowed by hash),
    its data as JSON, nothing fetched."""
    script, style = app_script(), static_text("app.css")
    csp = (
        f"default-src 'none'; script-src '{_sha256(script)}'; style-src '{_sha256(style)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    data = data_block(report_data(store, limits=limits, progress=progress))
    return page_shell(
        head=f'<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">'
        f"<style>{style}</style>",
        body_attrs='data-mode="report"',
        tail=f'<script type="application/json" id="chorus-data">{data}</script>'
        f"<script>{script}</script>",
        subtitle=f"report · {store.path.name} · chorus {__version__} · {generated}",
    )


def write_report(
    store: Store,
    path: str | os.PathLike[str],
    *,
    limits: ReportLimits | None = None,
    progress: ProgressFactory = no_progress,
) -> Path:
    """Write the report to ``path``; returns the path written."""
    target = Path(path)
    target.write_text(render_report(store, limits=limits, progress=progress), encoding="utf-8")
    log.info("report: %s, %.1f MB", target, target.stat().st_size / 1e6)
    return target
