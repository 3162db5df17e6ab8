"""What changed since an analysis or a date: the rows ``chorus changes``, the report and the
app show.

``since`` is an analysis number (``analysis_runs``: what later analyses changed), a date or
time (what was recorded after it), or ``None``: what the last analysis changed. Talking points
and edges are listed as they are now (a point that was new and has merged into another since
is listed under the one it merged into, if that one is new or grew); passages are those in
documents ingested since, outside boilerplate; hits are those of watchlist runs since.

A talking point is new or grew only through documents ingested since. An update links again
the points new sentences touch, and a point can split or merge there with nothing new in it
(the sentences it holds were all analysed before): such a point is listed as ``regrouped``,
after the others, so that "new" never names old content.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chorus.errors import ChorusError
from chorus.store import Store

_EPOCH = dt.datetime(1, 1, 1)


@dataclass(frozen=True)
class PointChange:
    """A talking point that is new (``change`` 'new') or reaches more sources or documents
    ('grew'; the counts before are those before the first analysis since that grew it), with
    ``n_new_docs`` of its documents ingested since; or one whose id is new or whose reach grew
    with no document ingested since ('regrouped': the analysis split or merged sentences it
    had; ``split_from`` names the point it split from, when one did)."""

    point_id: str
    change: str
    label: str
    n_sources: int
    n_sources_before: int | None
    n_docs: int
    n_docs_before: int | None
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    n_new_docs: int
    split_from: str | None


@dataclass(frozen=True)
class PassageChange:
    """A copied passage in a document ingested since, with the cluster it belongs to."""

    passage_id: str
    cluster_id: str
    cluster_kind: str
    doc_id: str
    source: str
    start: int
    end: int
    text: str
    n_sources: int
    origin_doc_id: str


@dataclass(frozen=True)
class EdgeChange:
    """A pair of sources whose edge became significant ('new') or grew stronger."""

    source_a: str
    source_b: str
    change: str
    weight: float
    weight_before: float | None
    n_objects: int
    q_value: float | None


@dataclass(frozen=True)
class HitChange:
    """A watchlist hit found by a run since."""

    watchlist: str
    item_id: str
    doc_id: str
    source: str
    score: float
    sentence: str
    run_no: int


@dataclass(frozen=True)
class Changes:
    """Everything that changed after ``since`` (``since_run``: the analysis it counts from,
    when given or implied)."""

    since: dt.datetime
    since_run: int | None
    points: list[PointChange]
    passages: list[PassageChange]
    edges: list[EdgeChange]
    hits: list[HitChange]

    def kinds(self) -> dict[str, list[Any]]:
        """The four lists by name (``points``, ``passages``, ``edges``, ``hits``)."""
        return {name: getattr(self, name) for name in KINDS}


KINDS = ("points", "passages", "edges", "hits")


def records(items: Sequence[Any]) -> list[dict[str, Any]]:
    """Change rows as plain JSON values: times in ISO 8601 to the second, scores to four
    decimals."""

    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat(timespec="seconds")
        if isinstance(value, float):
            return round(value, 4)
        return value

    return [{k: plain(v) for k, v in dataclasses.asdict(item).items()} for item in items]


def resolve_since(
    store: Store, since: int | dt.datetime | dt.date | None
) -> tuple[dt.datetime, int | None]:
    """The time changes are counted from, and the analysis it is the end of (if any)."""
    con = store.con
    if isinstance(since, bool):
        raise ChorusError("--since takes an analysis number or a date")
    if isinstance(since, int):
        row = con.execute(
            "SELECT finished_at FROM analysis_runs WHERE run_no = ?", [since]
        ).fetchall()
        if not row:
            known = [
                r[0] for r in con.execute("SELECT run_no FROM analysis_runs ORDER BY 1").fetchall()
            ]
            listed = f"analyses {known[0]} to {known[-1]}" if known else "no analysis yet"
            raise ChorusError(f"--since {since}: no such analysis (the store has {listed})")
        return row[0][0], since
    if isinstance(since, dt.datetime):
        return since.replace(tzinfo=None) if since.tzinfo is None else since.astimezone(
            dt.UTC
        ).replace(tzinfo=None), None
    if isinstance(since, dt.date):
        return dt.datetime.combine(since, dt.time()), None
    runs = con.execute(
        "SELECT run_no, finished_at FROM analysis_runs ORDER BY run_no DESC LIMIT 2"
    ).fetchall()
    if len(runs) < 2:
        return _EPOCH, None
    return runs[1][1], int(runs[1][0])


def read_changes(
    store: Store,
    *,
    since: int | dt.datetime | dt.date | None = None,
    include_boilerplate: bool = False,
) -> Changes:
    """What changed after ``since`` (see the module docstring), each list most important
    first: points by sources gained (regrouped points last), passages by cluster reach, edges
    by weight, hits by score."""
    at, run_no = resolve_since(store, since)
    con = store.con
    points = [
        PointChange(*row)
        for row in con.execute(
            """WITH c AS (
                 SELECT point_id,
                        bool_or(change = 'new') AS is_new,
                        arg_min(n_sources_before, recorded_at) AS n_sources_before,
                        arg_min(n_docs_before, recorded_at) AS n_docs_before
                 FROM point_changes WHERE recorded_at > ? GROUP BY point_id),
               fresh AS (
                 SELECT m.point_id, count(DISTINCT m.doc_id) AS n_new_docs
                 FROM mentions m JOIN documents d USING (doc_id)
                 WHERE d.ingested_at > ? AND m.point_id IN (SELECT point_id FROM c)
                 GROUP BY m.point_id),
               split AS (
                 SELECT point_id, arg_max(other_id, recorded_at) AS split_from
                 FROM point_lineage WHERE event = 'split' AND recorded_at > ?
                 GROUP BY point_id),
               changed AS (
                 SELECT p.point_id,
                        CASE WHEN coalesce(f.n_new_docs, 0) = 0 THEN 'regrouped'
                             WHEN c.is_new THEN 'new' ELSE 'grew' END AS change,
                        p.label, p.n_sources,
                        CASE WHEN c.is_new THEN NULL ELSE c.n_sources_before END
                          AS n_sources_before,
                        p.n_docs, CASE WHEN c.is_new THEN NULL ELSE c.n_docs_before END
                          AS n_docs_before,
                        p.first_seen, p.last_seen, coalesce(f.n_new_docs, 0) AS n_new_docs,
                        s.split_from
                 FROM c JOIN points p USING (point_id)
                 LEFT JOIN fresh f USING (point_id) LEFT JOIN split s USING (point_id)
                 WHERE c.is_new OR p.n_sources > c.n_sources_before
                       OR p.n_docs > c.n_docs_before)
               SELECT * FROM changed
               ORDER BY change = 'regrouped',
                        n_sources - coalesce(n_sources_before, 0) DESC, n_sources DESC,
                        point_id""",
            [at, at, at],
        ).fetchall()
    ]
    kinds = "" if include_boilerplate else "AND c.kind <> 'boilerplate'"
    passages = [
        PassageChange(*row)
        for row in con.execute(
            f"""SELECT p.passage_id, p.cluster_id, c.kind, p.doc_id, d.source, p.start,
                       p."end", p.text, c.n_sources, c.origin_doc_id
                FROM passages p JOIN reuse_clusters c USING (cluster_id)
                JOIN documents d USING (doc_id)
                WHERE d.ingested_at > ? {kinds}
                ORDER BY c.n_sources DESC, p.cluster_id, p.doc_id, p.start""",
            [at],
        ).fetchall()
    ]
    edges = [
        EdgeChange(*row)
        for row in con.execute(
            """WITH c AS (
                 SELECT source_a, source_b, bool_or(change = 'new') AS is_new,
                        arg_min(weight_before, recorded_at) AS weight_before
                 FROM edge_changes WHERE recorded_at > ? GROUP BY ALL)
               SELECT e.source_a, e.source_b, CASE WHEN c.is_new THEN 'new' ELSE 'stronger' END,
                      e.weight, CASE WHEN c.is_new THEN NULL ELSE c.weight_before END,
                      e.n_objects, e.q_value
               FROM c JOIN source_edges e USING (source_a, source_b)
               ORDER BY e.weight DESC, e.source_a, e.source_b""",
            [at],
        ).fetchall()
    ]
    hits = [
        HitChange(*row)
        for row in con.execute(
            """SELECT h.watchlist, h.item_id, h.doc_id, d.source, h.score, h.sentence, h.run_no
               FROM watch_hits h
               JOIN watch_runs r ON r.watchlist = h.watchlist AND r.run_no = h.run_no
               JOIN documents d USING (doc_id)
               WHERE r.finished_at > ?
               ORDER BY h.score DESC, h.watchlist, h.item_id, h.doc_id""",
            [at],
        ).fetchall()
    ]
    return Changes(at, run_no, points, passages, edges, hits)
