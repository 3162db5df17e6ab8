"""Where a talking point that no new point continues has gone.

A point no new point continues (none of its sentences is in a point after an analysis) did
not merge into anything: its pairs fell below the threshold as the corpus grew, its sentences
lost their second source, or the reuse stage now finds them in boilerplate (which the talking
points leave out). A link a user kept to it should still lead somewhere, and say honestly
where, so the lineage records (:func:`where_gone`):

- ``dissolved``, with the live point nearest it (:func:`nearest_live_points`): its sentences
  are still in the store, and so are their claims' nearest claims (the kNN edges of the
  points state). The nearest point is a pointer, not a successor: on the news corpus its
  nearest claim is about as close as the looser pairs inside a point (cosine 0.51 at the
  median), so it is often another talking point on the same subject, not the same claim;
- ``boilerplate``, with the boilerplate reuse cluster that now holds its sentences
  (:func:`boilerplate_holding`);
- ``gone`` for the points whose sentences left the store with their documents (replaced or
  deleted), or when the store keeps no points state (a model whose vectors it does not
  cache).

The search walks the kNN graph out from the point's claims: first their own neighbours, then
the neighbours' neighbours, up to ``hops`` steps, on from the ``width`` nearest claims each
step reached. A path's weight is the product of its edges' cosines, a claim's is its best
path's, and each live point scores the sum over its claims reached at the first step that
reaches any; the best score wins, ties to the smaller id, so the same store gives the same
answer.
"""

from __future__ import annotations

import logging
import time

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from chorus.points.lineage import LineageRow, record_lineage, settle_gone
from chorus.store import scalar

log = logging.getLogger(__name__)

# Far enough that a point's claims meet a live point (the points state keeps the kNN lists
# of every claim); past it the neighbourhood is no longer the point's own.
HOPS = 4
# Claims each point walks on from at each step (its nearest): the walk stays as wide as a
# kNN list, not a power of it.
WIDTH = 64


def gone_sentences(con: duckdb.DuckDBPyConnection, gone: list[str]) -> pa.Table:
    """The stored mentions (``point_id``, ``doc_id``, ``sent_no``) of the points ``gone``:
    read before the mentions are replaced."""
    con.register("_gone_ids", pa.table({"point_id": pa.array(sorted(gone), pa.string())}))
    try:
        return con.sql(
            """SELECT point_id, doc_id, sent_no FROM mentions
               WHERE point_id IN (SELECT point_id FROM _gone_ids)"""
        ).to_arrow_table()
    finally:
        con.unregister("_gone_ids")


def record_point_lineage(
    con: duckdb.DuckDBPyConnection, lineage: list[LineageRow], left: pa.Table
) -> None:
    """Append ``lineage`` to ``point_lineage`` with each ``gone`` point placed where it went
    (:func:`where_gone`; ``left``: their sentences, read with :func:`gone_sentences` before
    the mentions were replaced). Call it once the new points, their mentions and the points
    state are written: the walk reads them."""
    record_lineage(con, "point_lineage", settle_gone(lineage, where_gone(con, left)))


def where_gone(con: duckdb.DuckDBPyConnection, sentences: pa.Table) -> dict[str, tuple[str, str]]:
    """Each point of ``sentences`` (from :func:`gone_sentences`) mapped to the lineage event
    and other id that say where it went: (``dissolved``, the live point nearest it) or
    (``boilerplate``, the reuse cluster holding its sentences). A point with neither (its
    sentences left the store) is left out."""
    started = time.perf_counter()
    found = {p: ("dissolved", n) for p, n in nearest_live_points(con, sentences).items()}
    rest = sentences.filter(
        pc.invert(pc.is_in(sentences["point_id"], value_set=pa.array(sorted(found), pa.string())))
    )
    found.update({p: ("boilerplate", c) for p, c in boilerplate_holding(con, rest).items()})
    if sentences.num_rows:
        log.info(
            "points: %d of %d points no new point continues recorded with where they went, "
            "in %.1f s",
            len(found),
            len(set(sentences.column("point_id").to_pylist())),
            time.perf_counter() - started,
        )
    return found


def boilerplate_holding(con: duckdb.DuckDBPyConnection, sentences: pa.Table) -> dict[str, str]:
    """Each point of ``sentences`` mapped to the boilerplate reuse cluster whose passages hold
    most of its sentences (ties to the smaller id): a point whose sentences the reuse stage
    now finds in boilerplate (a column's footer more outlets came to carry) leaves the
    talking points, whose input is the text outside boilerplate, and its link leads there."""
    if not sentences.num_rows or not scalar(
        con,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'reuse_clusters'",
    ):
        return {}
    con.register("_gone_sentences", sentences)
    try:
        rows = con.execute(
            """SELECT g.point_id, p.cluster_id, count(DISTINCT (g.doc_id, g.sent_no)) AS n
               FROM _gone_sentences g JOIN sentences s USING (doc_id, sent_no)
               JOIN passages p ON p.doc_id = s.doc_id AND p.start < s."end" AND p."end" > s.start
               JOIN reuse_clusters c USING (cluster_id)
               WHERE c.kind = 'boilerplate'
               GROUP BY ALL
               ORDER BY g.point_id, n DESC, p.cluster_id"""
        ).fetchall()
    finally:
        con.unregister("_gone_sentences")
    found: dict[str, str] = {}
    for point_id, cluster_id, _ in rows:
        found.setdefault(point_id, cluster_id)  # ordered best first
    if found:
        log.info("points: %d points no new point continues are now boilerplate", len(found))
    return found


def nearest_live_points(
    con: duckdb.DuckDBPyConnection, sentences: pa.Table, *, hops: int = HOPS, width: int = WIDTH
) -> dict[str, str]:
    """Each point of ``sentences`` (from :func:`gone_sentences`) mapped to the live point
    nearest it, read from the store's ``mentions`` (written: the points after the analysis)
    and the points state's sentences and kNN edges; a point none of whose sentences the
    state knows, or whose claims reach no point in ``hops`` steps, is left out."""
    if not sentences.num_rows:
        return {}
    con.register("_gone_sentences", sentences)
    try:
        front = con.sql(
            """SELECT DISTINCT g.point_id AS old, ps.unit_no, 1.0::DOUBLE AS weight
               FROM _gone_sentences g JOIN _point_sentences ps USING (doc_id, sent_no)
               WHERE ps.unit_no >= 0"""
        ).to_arrow_table()
    finally:
        con.unregister("_gone_sentences")
    found: dict[str, str] = {}
    seen = front.select(["old", "unit_no"])
    for step in range(1, hops + 1):
        if not front.num_rows:
            break
        con.register("_front", front)
        con.register("_seen", seen)
        try:
            reached = con.sql(
                f"""WITH step AS (
                       SELECT f.old, e.dst AS unit_no, f.weight * greatest(e.cosine, 1e-6) AS w
                       FROM _front f JOIN _point_edges e ON e.src = f.unit_no
                       UNION ALL
                       SELECT f.old, e.src, f.weight * greatest(e.cosine, 1e-6)
                       FROM _front f JOIN _point_edges e ON e.dst = f.unit_no)
                   SELECT old, unit_no, max(w)::DOUBLE AS weight FROM step
                   WHERE NOT EXISTS (SELECT 1 FROM _seen s
                                     WHERE s.old = step.old AND s.unit_no = step.unit_no)
                   GROUP BY old, unit_no
                   QUALIFY row_number() OVER (PARTITION BY old ORDER BY weight DESC, unit_no)
                           <= {int(width)}""",
            ).to_arrow_table()
            con.register("_reached", reached)
            try:
                scores = con.execute(
                    """WITH held AS (
                           SELECT DISTINCT ps.unit_no, m.point_id
                           FROM _point_sentences ps JOIN mentions m USING (doc_id, sent_no)
                           WHERE ps.unit_no IN (SELECT DISTINCT unit_no FROM _reached))
                       SELECT r.old, h.point_id, sum(r.weight) AS score
                       FROM _reached r JOIN held h USING (unit_no)
                       GROUP BY ALL
                       ORDER BY r.old, score DESC, h.point_id"""
                ).fetchall()
            finally:
                con.unregister("_reached")
        finally:
            con.unregister("_front")
            con.unregister("_seen")
        for old, point_id, _ in scores:
            found.setdefault(old, point_id)  # ordered best first
        before = len(seen)
        front = reached.filter(
            pc.invert(pc.is_in(reached["old"], value_set=pa.array(sorted(found), pa.string())))
        )
        seen = pa.concat_tables([seen, front.select(["old", "unit_no"])])
        log.info(
            "points: step %d of the kNN walk reached a live point for %d of the points no "
            "new point continues (%d claims reached)",
            step,
            len(found),
            len(seen) - before,
        )
    return found
