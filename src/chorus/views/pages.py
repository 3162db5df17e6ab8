"""What the report and the web app show, as JSON-ready records read from the store (their
shapes: :mod:`chorus.views.records`).

Each function answers one view (the overview, a page of talking points, one point, the
network, one edge's evidence, one source...). The web app serves them as its JSON API; the
report embeds the answers to a bounded set of them. Values are plain (str, int, float, None,
lists and dicts): dates are ISO strings, and a URL is kept only when it is http(s), so no view
ever hands the page a ``javascript:`` link.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import threading
from typing import Any, cast

from chorus.points.pages import (
    FIRST_MENTIONS,
    POINT_SORTS,
    point_months,
    point_pages_ready,
)
from chorus.points.pages import (
    first_mentions as page_first_mentions,
)
from chorus.store import Store
from chorus.views.records import (
    DiffRun,
    DocumentDetail,
    EdgeDetail,
    FirstMention,
    Heatmap,
    LineageStep,
    Network,
    Overview,
    PointDetail,
    PointHistory,
    PointsPage,
    ReuseDetail,
    ReusePage,
    SearchPage,
    SourceDetail,
    SourcesPage,
    Timeline,
    Watchlists,
)

Record = dict[str, Any]

_LAYOUT_LOCK = threading.Lock()
_CONTEXT = 160  # characters of context either side of a highlighted sentence
_SAFE_URL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)


def safe_url(url: object) -> str | None:
    """The URL if it is a plain http(s) address, else ``None`` (never made a link)."""
    return url if isinstance(url, str) and _SAFE_URL.match(url) else None


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def _records(store: Store, sql: str, params: list[Any] | None = None) -> list[Record]:
    rows = store.con.sql(sql, params=params or []).to_arrow_table().to_pylist()
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


def _has(store: Store, table: str) -> bool:
    """Whether ``table`` exists and holds a row."""
    return bool(
        store.known(
            f"has:{table}", lambda: table in store.table_names() and bool(store.count(table))
        )
    )


def _pages_ready(store: Store) -> bool:
    return bool(store.known("point_pages_ready", lambda: point_pages_ready(store.con)))


def overview(store: Store) -> Overview:
    """Corpus size, date range, what each stage found, and the settings it ran with."""
    (n_docs, n_sources, first, last, n_undated) = store.con.execute(
        "SELECT count(*), count(DISTINCT source), min(published_at), max(published_at), "
        "count(*) - count(published_at) FROM documents"
    ).fetchall()[0]
    counts = {
        "documents": n_docs,
        "undated_documents": n_undated,
        "sources": n_sources,
        "sentences": store.count("sentences"),
        "talking_points": store.count("points") if "points" in store.table_names() else 0,
        "reuse_clusters": store.count("reuse_clusters"),
        "communities": store.count("communities") if "communities" in store.table_names() else 0,
        "source_edges": store.count("source_edges") if "source_edges" in store.table_names() else 0,
    }
    settings: Record = {}
    for stage, table in (
        ("reuse", "reuse_runs"),
        ("points", "points_runs"),
        ("coord", "coord_runs"),
    ):
        if table in store.table_names():
            row = store.con.execute(
                f"SELECT settings FROM {table} ORDER BY finished_at DESC LIMIT 1"
            ).fetchall()
            if row and row[0][0]:
                settings[stage] = json.loads(row[0][0])
    return cast(
        Overview,
        {
            "counts": counts,
            "first": _plain(first),
            "last": _plain(last),
            "settings": settings,
            "coord_window_hours": _coord_window(store),
        },
    )


def _coord_window(store: Store) -> float | None:
    if "coord_runs" not in store.table_names():
        return None
    row = store.con.execute(
        "SELECT window_hours FROM coord_runs ORDER BY finished_at DESC LIMIT 1"
    ).fetchall()
    return row[0][0] if row else None


def points_page(
    store: Store,
    *,
    offset: int = 0,
    limit: int = 50,
    sort: str = "score",
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
    query: str | None = None,
) -> PointsPage:
    """A page of talking points, each with a monthly count of its mentions (the sparkline).
    ``source`` keeps points that source mentions; ``since``/``until`` (ISO dates) keep points
    first seen in that range; ``query`` keeps labels containing every word. The items carry
    no keyphrases (:func:`point_detail` has them): a list column read row by row costs a
    whole vector's decoding each."""
    if not _has(store, "points"):
        return {"total": 0, "offset": offset, "items": []}
    items: list[Record]
    order = POINT_SORTS.get(sort, POINT_SORTS["score"])
    pages = _pages_ready(store)
    if pages and source and not (since or until or query) and sort != "label":
        # One source's points, counted and ordered from its own rows of _source_points.
        total = int(
            store.con.execute(
                "SELECT count(*) FROM _source_points WHERE source = ?", [source]
            ).fetchall()[0][0]
        )
        ids = [
            r[0]
            for r in store.con.execute(
                f"SELECT point_id FROM _source_points WHERE source = ? ORDER BY {order} "
                "LIMIT ? OFFSET ?",
                [source, limit, offset],
            ).fetchall()
        ]
        items = _points_by_id(store, ids)
    elif pages and not (source or since or until or query):
        # Every point, one order: a range of its ranks, not a sort of every point.
        total = store.count("points")
        rank = f"by_{sort if sort in POINT_SORTS else 'score'}"
        ids = [
            r[0]
            for r in store.con.execute(
                f"SELECT point_id FROM _point_pages WHERE {rank} >= ? AND {rank} < ? "
                f"ORDER BY {rank}",
                [offset, offset + limit],
            ).fetchall()
        ]
        items = _points_by_id(store, ids)
    else:
        where, params = _point_filters(pages, source, since, until, query)
        clause = " AND ".join(where)
        total = int(
            store.con.execute(f"SELECT count(*) FROM points WHERE {clause}", params).fetchall()[0][
                0
            ]
        )
        items = _records(
            store,
            f"SELECT {_POINT_ROW} FROM points WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
    if pages:
        _add_point_pages(store, items)
    else:
        _add_sparklines(store, items)
        _add_undated(store, items)
    return cast(PointsPage, {"total": total, "offset": offset, "items": items})


_POINT_ROW = """point_id, label, n_mentions, n_docs, n_sources, first_seen, last_seen,
    origin_doc_id, origin_source, score, cohesion"""


def _point_filters(
    pages: bool, source: str | None, since: str | None, until: str | None, query: str | None
) -> tuple[list[str], list[Any]]:
    where, params = ["TRUE"], []
    if source:
        where.append(
            "point_id IN (SELECT point_id FROM _source_points WHERE source = ?)"
            if pages
            else "point_id IN (SELECT m.point_id FROM mentions m JOIN documents d "
            "USING (doc_id) WHERE d.source = ?)"
        )
        params.append(source)
    if since:
        where.append("first_seen >= CAST(? AS TIMESTAMP)")
        params.append(since)
    if until:
        where.append("first_seen < CAST(? AS TIMESTAMP) + INTERVAL 1 DAY")
        params.append(until)
    for word in (query or "").split()[:8]:
        where.append("label ILIKE ?")
        params.append(f"%{word}%")
    return where, params


def _points_by_id(store: Store, ids: list[str]) -> list[Record]:
    """The points' rows, in the order of ``ids``."""
    rows = _records(
        store, f"SELECT {_POINT_ROW} FROM points WHERE point_id IN (SELECT unnest(?))", [ids]
    )
    by_id = {r["point_id"]: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def _add_point_pages(store: Store, items: list[Record]) -> None:
    """Each point's months and undated documents, as written with the points."""
    ids = [i["point_id"] for i in items]
    if not ids:
        return
    rows = store.con.execute(
        """SELECT point_id, months, n_undated_docs FROM _point_pages
           WHERE point_id IN (SELECT unnest(?))""",
        [ids],
    ).fetchall()
    found = {r[0]: (r[1], r[2]) for r in rows}
    for item in items:
        months, undated = found.get(item["point_id"], ("{}", 0))
        item["months"] = _month_series(point_months(months))
        item["n_undated_docs"] = int(undated)


def _add_undated(store: Store, items: list[Record]) -> None:
    """Per point, how many of its documents are undated: its origin is only the earliest
    *dated* one, and any undated document may have come first."""
    ids = [i["point_id"] for i in items]
    if not ids:
        return
    if _pages_ready(store):
        rows = store.con.execute(
            "SELECT point_id, n_undated_docs FROM _point_pages "
            "WHERE point_id IN (SELECT unnest(?))",
            [ids],
        ).fetchall()
        undated = dict(rows)
        for item in items:
            item["n_undated_docs"] = int(undated.get(item["point_id"], 0))
        return
    counts = dict(
        store.con.execute(
            """SELECT m.point_id, count(DISTINCT m.doc_id) FILTER (d.published_at IS NULL)
               FROM mentions m JOIN documents d USING (doc_id)
               WHERE m.point_id IN (SELECT unnest(?)) GROUP BY 1""",
            [ids],
        ).fetchall()
    )
    for item in items:
        item["n_undated_docs"] = int(counts.get(item["point_id"], 0))


def _add_sparklines(store: Store, items: list[Record]) -> None:
    """Per point, its mentions per month from its first to its last (gaps as zeros)."""
    ids = [i["point_id"] for i in items]
    if not ids:
        return
    rows = store.con.execute(
        """SELECT m.point_id, strftime(d.published_at, '%Y-%m') AS month, count(*)
           FROM mentions m JOIN documents d USING (doc_id)
           WHERE m.point_id IN (SELECT unnest(?)) AND d.published_at IS NOT NULL
           GROUP BY ALL ORDER BY 1, 2""",
        [ids],
    ).fetchall()
    by_point: dict[str, dict[str, int]] = {}
    for point, month, n in rows:
        by_point.setdefault(point, {})[month] = n
    for item in items:
        months = by_point.get(item["point_id"], {})
        item["months"] = _month_series(months)


def _month_series(counts: dict[str, int], cap: int = 120) -> list[Record]:
    if not counts:
        return []
    first, last = min(counts), max(counts)
    year, month = int(first[:4]), int(first[5:])
    out: list[Record] = []
    while len(out) < cap:
        key = f"{year:04d}-{month:02d}"
        out.append({"month": key, "n": counts.get(key, 0)})
        if key >= last:
            break
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def point_detail(
    store: Store, point_id: str, *, offset: int = 0, limit: int = 200
) -> PointDetail | None:
    """A talking point and a page of its mentions (earliest first): the sentence with
    context either side, the document, source, date, link and offsets."""
    head = _records(store, "SELECT * FROM points WHERE point_id = ?", [point_id])
    if not head:
        return None
    # The page first, without the documents' text; then the text around each of its
    # mentions: sorting every mention of a large point with its document's text attached
    # read thousands of texts to show a hundred.
    mentions = _records(
        store,
        """SELECT m.doc_id, d.source, d.title, d.url, d.published_at, d.lang, m.start,
                  m."end", m.similarity
           FROM mentions m
           JOIN (SELECT doc_id, source, title, url, published_at, lang FROM documents) d
             USING (doc_id)
           WHERE m.point_id = ?
           ORDER BY d.published_at NULLS LAST, m.doc_id, m.start LIMIT ? OFFSET ?""",
        [point_id, limit, offset],
    )
    _add_context(store, mentions)
    for m in mentions:
        m["url"] = safe_url(m["url"])
    _add_undated(store, head)
    return cast(PointDetail, {**head[0], "offset": offset, "mentions": mentions})


# Lineage records followed at most this far (a chain of merges across many analyses).
_MAX_STEPS = 50


def point_history(store: Store, point_id: str) -> PointHistory | None:
    """Where ``point_id``, a talking point that no point holds now, went: its latest
    ``point_lineage`` record, and the next one's while the record leads to another id
    that no point holds (merged into a point that merged later). ``None`` when the id
    names a point, or nothing recorded it."""
    if not _has(store, "point_lineage") or _records(
        store, "SELECT 1 FROM points WHERE point_id = ?", [point_id]
    ):
        return None
    steps: list[LineageStep] = []
    current: str | None = point_id
    live: Record | None = None
    kind: str | None = None
    while current is not None and len(steps) < _MAX_STEPS:
        row = _records(
            store,
            """SELECT point_id, event, other_id, recorded_at FROM point_lineage
               WHERE point_id = ? AND event <> 'split'
               ORDER BY recorded_at DESC LIMIT 1""",
            [current],
        )
        if not row:
            break
        steps.append(cast(LineageStep, row[0]))
        other, event = row[0]["other_id"], row[0]["event"]
        if other is None or any(s["point_id"] == other for s in steps):
            break
        if event == "boilerplate":
            found = _records(
                store,
                "SELECT cluster_id AS id, representative AS label FROM reuse_clusters "
                "WHERE cluster_id = ?",
                [other],
            )
            live, kind = (found[0], "cluster") if found else (None, None)
            break
        found = _records(
            store, "SELECT point_id AS id, label FROM points WHERE point_id = ?", [other]
        )
        if found:
            live, kind = found[0], "point"
            break
        current = other
    if not steps:
        return None
    return PointHistory(
        point_id=point_id,
        steps=steps,
        live_kind=kind,
        live_id=None if live is None else live["id"],
        live_label=None if live is None else live["label"],
    )


def _add_context(store: Store, spans: list[Record]) -> None:
    """Each span's sentence and the text either side of it (``before``, ``sentence``,
    ``after``), read from its document, and the document's language (``lang``)."""
    if not spans:
        return
    rows = store.con.execute(
        f"""WITH k AS (SELECT unnest(?) AS i, unnest(?) AS doc_id, unnest(?) AS start,
                              unnest(?) AS "end")
            SELECT k.i,
                   substr(d.text, greatest(k.start - {_CONTEXT}, 0) + 1,
                          k.start - greatest(k.start - {_CONTEXT}, 0)),
                   substr(d.text, k.start + 1, k."end" - k.start),
                   substr(d.text, k."end" + 1, {_CONTEXT}),
                   d.lang
            FROM k JOIN documents d USING (doc_id)""",
        [
            list(range(len(spans))),
            [m["doc_id"] for m in spans],
            [m["start"] for m in spans],
            [m["end"] for m in spans],
        ],
    ).fetchall()
    for i, before, sentence, after, lang in rows:
        spans[i].update({"before": before, "sentence": sentence, "after": after, "lang": lang})


def first_mentions(
    store: Store, point_ids: list[str], *, per_point: int = 3
) -> dict[str, list[FirstMention]]:
    """The earliest ``per_point`` mentions of each point, ranked without their text (a large
    point has thousands), then the sentences of those read."""
    if not point_ids:
        return {}
    if per_point <= FIRST_MENTIONS and _pages_ready(store):
        found = store.con.execute(
            "SELECT point_id, first_mentions FROM _point_pages "
            "WHERE point_id IN (SELECT unnest(?))",
            [point_ids],
        ).fetchall()
        rows = [
            {"point_id": point_id, **m}
            for point_id, text in sorted(found)
            for m in page_first_mentions(text)[:per_point]
        ]
    else:
        rows = _records(
            store,
            """SELECT * EXCLUDE (rank) FROM (
                   SELECT m.point_id, m.doc_id, d.source, d.published_at, m.start, m."end",
                          row_number() OVER (PARTITION BY m.point_id ORDER BY
                                             d.published_at NULLS LAST, m.doc_id, m.start)
                              AS rank
                   FROM mentions m
                   JOIN (SELECT doc_id, source, published_at FROM documents) d USING (doc_id)
                   WHERE m.point_id IN (SELECT unnest(?)))
               WHERE rank <= ? ORDER BY point_id, published_at NULLS LAST, doc_id, start""",
            [point_ids, per_point],
        )
    _add_context(store, rows)
    out: dict[str, list[FirstMention]] = {}
    for row in rows:
        row.pop("before")
        row.pop("after")
        out.setdefault(row.pop("point_id"), []).append(cast(FirstMention, row))
    return out


def reuse_page(store: Store, *, kind: str = "reuse", offset: int = 0, limit: int = 50) -> ReusePage:
    """A page of reuse clusters of one kind (``reuse``, ``syndication``, ``boilerplate``)."""
    total = store.con.execute(
        "SELECT count(*) FROM reuse_clusters WHERE kind = ?", [kind]
    ).fetchall()[0][0]
    items = _records(
        store,
        """SELECT cluster_id, kind, n_passages, n_docs, n_sources, n_words, first_seen,
                  origin_doc_id, origin_source, left(representative, 400) AS representative
           FROM reuse_clusters WHERE kind = ?
           ORDER BY n_sources DESC, n_docs DESC, cluster_id LIMIT ? OFFSET ?""",
        [kind, limit, offset],
    )
    return cast(ReusePage, {"kind": kind, "total": total, "offset": offset, "items": items})


def document_detail(store: Store, doc_id: str) -> DocumentDetail | None:
    """One document's whole text with what chorus found in it, so a reader can check a
    finding in its context: ``spans`` are the sentences that belong to a talking point and
    the passages copied elsewhere (character offsets into ``text``, with the point's label or
    the cluster's kind), sorted by where they start."""
    head = _records(
        store,
        """SELECT doc_id, source, title, url, published_at, lang, text FROM documents
           WHERE doc_id = ?""",
        [doc_id],
    )
    if not head:
        return None
    doc = head[0]
    doc["url"] = safe_url(doc["url"])
    spans: list[Record] = []
    if _has(store, "mentions"):
        spans += _records(
            store,
            """SELECT 'point' AS kind, m.point_id AS id, m.start, m."end", p.label,
                      p.n_sources
               FROM mentions m JOIN points p USING (point_id) WHERE m.doc_id = ?""",
            [doc_id],
        )
    if _has(store, "passages"):
        spans += _records(
            store,
            """SELECT c.kind, p.cluster_id AS id, p.start, p."end", c.representative AS label,
                      c.n_sources
               FROM passages p JOIN reuse_clusters c USING (cluster_id) WHERE p.doc_id = ?""",
            [doc_id],
        )
    spans.sort(key=lambda r: (r["start"], -r["end"], r["kind"], r["id"]))
    return cast(DocumentDetail, {**doc, "spans": spans})


def reuse_detail(store: Store, cluster_id: str, *, limit: int = 30) -> ReuseDetail | None:
    """A reuse cluster with its copies side by side: each copy's words marked against the
    origin's (``same``, ``added``; what a copy dropped is marked ``removed``)."""
    head = _records(store, "SELECT * FROM reuse_clusters WHERE cluster_id = ?", [cluster_id])
    if not head:
        return None
    copies = _records(
        store,
        """SELECT p.doc_id, d.source, d.url, d.published_at, p.start, p."end", p.text
           FROM passages p JOIN documents d USING (doc_id) WHERE p.cluster_id = ?
           ORDER BY (p.doc_id = ?) DESC, d.published_at NULLS LAST, p.doc_id, p.start LIMIT ?""",
        [cluster_id, head[0]["origin_doc_id"], limit],
    )
    origin = copies[0]["text"] if copies else ""
    for copy in copies:
        copy["url"] = safe_url(copy["url"])
        copy["diff"] = word_diff(origin, copy["text"])
    return cast(ReuseDetail, {**head[0], "copies": copies})


def word_diff(origin: str, copy: str) -> list[DiffRun]:
    """The copy as runs of words: ``same`` as the origin, ``added``, or ``removed`` (in the
    origin, not the copy)."""
    a, b = origin.split(), copy.split()
    out: list[DiffRun] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append({"op": "same", "text": " ".join(b[j1:j2])})
            continue
        if i2 > i1:
            out.append({"op": "removed", "text": " ".join(a[i1:i2])})
        if j2 > j1:
            out.append({"op": "added", "text": " ".join(b[j1:j2])})
    return out


def network(store: Store, *, max_edges: int = 2000) -> Network:
    """The source graph: nodes (sources on an edge, with community and roles, laid out) and
    edges (strongest evidence first, at most ``max_edges``)."""
    if not _has(store, "source_edges"):
        return {"nodes": [], "edges": [], "window_hours": _coord_window(store), "fdr": 0.05}
    fdr = _fdr(store)
    edges = _records(
        store,
        """SELECT source_a, source_b, weight, n_objects, median_lag_hours, p_value, q_value,
                  coalesce(q_value <= ?, FALSE) AS significant
           FROM source_edges ORDER BY q_value NULLS LAST, weight DESC, source_a, source_b
           LIMIT ?""",
        [fdr, max_edges],
    )
    names = sorted({e["source_a"] for e in edges} | {e["source_b"] for e in edges})
    nodes = _records(
        store,
        """SELECT source, n_docs, n_objects, community, originator, amplifier,
                  median_follow_hours
           FROM sources WHERE source IN (SELECT unnest(?)) ORDER BY source""",
        [names],
    )
    _layout(nodes, edges)
    return cast(
        Network,
        {"nodes": nodes, "edges": edges, "window_hours": _coord_window(store), "fdr": fdr},
    )


def _fdr(store: Store) -> float:
    row = store.con.execute(
        "SELECT settings FROM coord_runs ORDER BY finished_at DESC LIMIT 1"
    ).fetchall()
    return float(json.loads(row[0][0]).get("fdr", 0.05)) if row and row[0][0] else 0.05


def _layout(nodes: list[Record], edges: list[Record]) -> None:
    """Positions in [0, 1]², seeded (the same graph draws the same way every time)."""
    import random

    import igraph as ig

    if not nodes:
        return
    index = {n["source"]: i for i, n in enumerate(nodes)}
    graph = ig.Graph(
        n=len(nodes), edges=[(index[e["source_a"]], index[e["source_b"]]) for e in edges]
    )
    rng = random.Random(0)
    seed = [[rng.random(), rng.random()] for _ in nodes]
    # igraph draws from one process-wide generator (Python's random module by default),
    # which any other thread may draw from mid-layout: the app's worker threads drew the
    # same graph mirrored. Its own seeded generator, one layout at a time.
    with _LAYOUT_LOCK:
        ig.set_random_number_generator(random.Random(0))
        try:
            coords = graph.layout_fruchterman_reingold(
                weights=[max(e["weight"], 0.01) for e in edges] if edges else None,
                seed=seed,
                niter=500,
            ).coords
        finally:
            ig.set_random_number_generator(random)
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    wx, wy = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    for node, (x, y) in zip(nodes, coords, strict=True):
        node["x"] = round((x - min(xs)) / wx, 4)
        node["y"] = round((y - min(ys)) / wy, 4)


def edge_detail(
    store: Store, source_a: str, source_b: str, *, limit: int = 100
) -> EdgeDetail | None:
    """One edge and its evidence: per object, the passage in each of the two documents."""
    from chorus.coord import read_edge_evidence

    a, b = sorted((source_a, source_b))
    head = _records(store, "SELECT * FROM source_edges WHERE source_a = ? AND source_b = ?", [a, b])
    if not head:
        return None
    evidence = read_edge_evidence(store, a, b, limit=limit).to_pylist()
    return cast(
        EdgeDetail,
        {**head[0], "evidence": [{k: _plain(v) for k, v in e.items()} for e in evidence]},
    )


def sources_page(store: Store, *, offset: int = 0, limit: int = 100) -> SourcesPage:
    """Sources by activity, with their community and roles when coordination ran."""
    total = store.con.execute("SELECT count(DISTINCT source) FROM documents").fetchall()[0][0]
    has_roles = _has(store, "sources")
    roles = (
        "s.community, s.n_objects, s.originator, s.amplifier, s.median_follow_hours"
        if has_roles
        else "NULL AS community, NULL AS n_objects, NULL AS originator, NULL AS amplifier, "
        "NULL AS median_follow_hours"
    )
    join = "LEFT JOIN sources s USING (source)" if has_roles else ""
    items = _records(
        store,
        f"""SELECT d.source, count(*) AS n_docs, min(d.published_at) AS first,
                   max(d.published_at) AS last, {roles}
            FROM documents d {join}
            GROUP BY ALL ORDER BY n_docs DESC, d.source LIMIT ? OFFSET ?""",
        [limit, offset],
    )
    return cast(SourcesPage, {"total": total, "offset": offset, "items": items})


def source_detail(store: Store, source: str, *, limit: int = 50) -> SourceDetail | None:
    """A source: its talking points, who it follows (sources first on what it shared after
    them) and who follows it, from the coordination evidence."""
    head = _records(
        store,
        """SELECT source, count(*) AS n_docs, min(published_at) AS first,
                  max(published_at) AS last
           FROM documents WHERE source = ? GROUP BY source""",
        [source],
    )
    if not head:
        return None
    out: Record = {**head[0], "community": None, "originator": None, "amplifier": None}
    if _has(store, "sources"):
        roles = _records(store, "SELECT * FROM sources WHERE source = ?", [source])
        if roles:
            out.update({k: roles[0][k] for k in ("community", "originator", "amplifier")})
    # With no dated mention, nobody can be said to be first.
    first_here = "CASE WHEN p.first_seen IS NULL THEN NULL ELSE p.origin_source = ? END"
    if not _has(store, "points"):
        out["points"] = []
    elif _pages_ready(store):
        # The source's own rows give the order; only the page's points are read.
        top = _records(
            store,
            """SELECT point_id, n_mentions AS n_mentions_here FROM _source_points
               WHERE source = ? ORDER BY n_sources DESC, n_mentions DESC, point_id LIMIT ?""",
            [source, limit],
        )
        ids = [t["point_id"] for t in top]
        rows = _records(
            store,
            f"""SELECT p.point_id, p.label, p.n_sources, p.n_docs, p.first_seen,
                       {first_here} AS originated_here
                FROM points p WHERE p.point_id IN (SELECT unnest(?))""",
            [source, ids],
        )
        by_id = {r["point_id"]: r for r in rows}
        out["points"] = [
            {
                **{k: v for k, v in by_id[t["point_id"]].items() if k != "originated_here"},
                "n_mentions_here": t["n_mentions_here"],
                "originated_here": by_id[t["point_id"]]["originated_here"],
            }
            for t in top
            if t["point_id"] in by_id
        ]
    else:
        out["points"] = _records(
            store,
            f"""SELECT p.point_id, p.label, p.n_sources, p.n_docs, p.first_seen,
                       count(*) AS n_mentions_here, {first_here} AS originated_here
                FROM mentions m JOIN documents d USING (doc_id) JOIN points p USING (point_id)
                WHERE d.source = ?
                GROUP BY ALL ORDER BY p.n_sources DESC, n_mentions_here DESC, p.point_id
                LIMIT ?""",
            [source, source, limit],
        )
    out["follows"], out["followed_by"] = _following(store, source, limit)
    return cast(SourceDetail, out)


def _following(store: Store, source: str, limit: int) -> tuple[list[Record], list[Record]]:
    """From the edge evidence: the sources this one shared objects after (it follows them),
    and those that shared after it; with how many objects and the median lag."""
    if not _has(store, "edge_evidence"):
        return [], []
    # One pass over the source's evidence for both directions (the table is read once).
    rows = _records(
        store,
        """WITH mine AS (
               SELECT CASE WHEN source_a = $1 THEN source_b ELSE source_a END AS other,
                      CASE WHEN source_a = $1 THEN time_a ELSE time_b END AS mine,
                      CASE WHEN source_a = $1 THEN time_b ELSE time_a END AS theirs
               FROM edge_evidence WHERE (source_a = $1 OR source_b = $1)
                 AND time_a IS NOT NULL AND time_b IS NOT NULL AND time_a <> time_b),
           pairs AS (
               SELECT other AS source, mine > theirs AS follows, count(*) AS n_objects,
                      round(median(abs(epoch(mine) - epoch(theirs))) / 3600, 2)
                          AS median_lag_hours
               FROM mine GROUP BY ALL)
           SELECT * FROM pairs
           QUALIFY row_number() OVER (PARTITION BY follows
                                      ORDER BY n_objects DESC, source) <= $2
           ORDER BY n_objects DESC, source""",
        [source, limit],
    )
    follows = [
        {k: r[k] for k in ("source", "n_objects", "median_lag_hours")} for r in rows if r["follows"]
    ]
    followed = [
        {k: r[k] for k in ("source", "n_objects", "median_lag_hours")}
        for r in rows
        if not r["follows"]
    ]
    return follows, followed


def heatmap(store: Store, *, n_sources: int = 30, n_points: int = 30) -> Heatmap:
    """Sources x talking points: how many documents of each source mention each point, for
    the points most sources share and the sources that mention them most."""
    if not _has(store, "points"):
        return {"sources": [], "points": [], "cells": []}
    points = _records(
        store,
        """SELECT point_id, left(label, 120) AS label, n_sources FROM points
           ORDER BY score DESC, n_sources DESC, point_id LIMIT ?""",
        [n_points],
    )
    ids = [p["point_id"] for p in points]
    cells = _records(
        store,
        """SELECT d.source, m.point_id, count(DISTINCT m.doc_id) AS n
           FROM mentions m JOIN documents d USING (doc_id)
           WHERE m.point_id IN (SELECT unnest(?)) GROUP BY ALL ORDER BY d.source, m.point_id""",
        [ids],
    )
    totals: dict[str, int] = {}
    for c in cells:
        totals[c["source"]] = totals.get(c["source"], 0) + 1
    sources = sorted(totals, key=lambda s: (-totals[s], s))[:n_sources]
    keep = set(sources)
    return cast(
        Heatmap,
        {"sources": sources, "points": points, "cells": [c for c in cells if c["source"] in keep]},
    )


def timeline(store: Store, *, n_points: int = 12, per_point: int = 200) -> Timeline:
    """How the points most sources share spread: each one's first mention per source, with
    the source's community."""
    if not _has(store, "points"):
        return {"points": []}
    points = _records(
        store,
        """SELECT point_id, left(label, 120) AS label, n_sources FROM points
           WHERE first_seen IS NOT NULL
           ORDER BY score DESC, n_sources DESC, point_id LIMIT ?""",
        [n_points],
    )
    has_roles = _has(store, "sources")
    community = "s.community" if has_roles else "NULL"
    join = "LEFT JOIN sources s ON s.source = d.source" if has_roles else ""
    for point in points:
        point["arrivals"] = _records(
            store,
            f"""SELECT d.source, min(d.published_at) AS arrived, any_value({community}) AS community
                FROM mentions m JOIN documents d USING (doc_id) {join}
                WHERE m.point_id = ? AND d.published_at IS NOT NULL
                GROUP BY d.source ORDER BY arrived, d.source LIMIT ?""",
            [point["point_id"], per_point],
        )
    return cast(Timeline, {"points": points})


def watchlists(store: Store, *, limit: int = 100) -> Watchlists:
    """Per stored watchlist that has been matched: hits per item and per source."""
    if "watchlists" not in store.table_names():
        return {"watchlists": []}
    from chorus.match import watch_item_hits, watch_source_shares, watchlist_names

    out = []
    for name in watchlist_names(store):
        ran = store.con.execute(
            "SELECT count(*) FROM watch_runs WHERE watchlist = ?", [name]
        ).fetchall()[0][0]
        items = watch_item_hits(store, name).slice(0, limit).to_pylist() if ran else []
        shares = watch_source_shares(store, name).to_pylist() if ran else []
        out.append(
            {
                "name": name,
                "matched": bool(ran),
                "items": [{k: _plain(v) for k, v in r.items()} for r in items],
                "sources": [
                    {k: _plain(v) for k, v in r.items()} for r in shares if r["n_docs_pushing"]
                ][:limit],
            }
        )
    return cast(Watchlists, {"watchlists": out})


def search_sentences(store: Store, query: str, *, limit: int = 50, offset: int = 0) -> SearchPage:
    """Sentences in which every word of ``query`` begins a word (case aside), earliest first,
    with their document; ``total`` counts them all. ``index`` says whether the word index
    answered (``current``) or every sentence was scanned (``stale``, ``missing``)."""
    from chorus.search import search_sentences as search

    found = search(store, query, limit=limit, offset=offset)
    items = [
        {
            "doc_id": hit.doc_id,
            "source": hit.source,
            "published_at": _plain(hit.published_at),
            "sent_no": hit.sent_no,
            "start": hit.start,
            "end": hit.end,
            "text": hit.text,
        }
        for hit in found.hits
    ]
    return cast(
        SearchPage,
        {
            "query": query,
            "words": list(found.words),
            "total": found.total,
            "offset": found.offset,
            "index": found.index,
            "items": items,
        },
    )
