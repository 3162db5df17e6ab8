"""An edge's evidence resolved to text: for each object two sources co-acted on, what the
object is and where each of the two documents carries it (character offsets, the passage)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from chorus.store import Store

# Where each kind of object sits in the edge's documents. A link has no span table: its text
# is the canonical URL and its offsets are unknown (the raw link in the text may carry
# tracking parameters the canonical form dropped). A talking-point object is a claim family
# (``chorus.points.families``), named by its largest point: a document's span is its mention
# of any point of the family. Each part is narrowed to the edge's objects and documents
# before it is joined: an edge has tens of objects, the store millions of mentions.
_SPANS = """
    SELECT 'point' AS kind, f.object_id, m.doc_id, m.start, m."end", m.text
    FROM mentions m
    JOIN (SELECT point_id, coalesce(family_id, point_id) AS object_id FROM points
          WHERE coalesce(family_id, point_id) IN (SELECT object_id FROM ev
                                                  WHERE object_kind = 'point')) f
      USING (point_id)
    WHERE m.doc_id IN (SELECT doc_id FROM docs)
    UNION ALL
    SELECT CASE c.kind WHEN 'reuse' THEN 'reuse' ELSE 'template' END, p.cluster_id, p.doc_id,
           p.start, p."end", p.text
    FROM passages p JOIN reuse_clusters c USING (cluster_id)
    WHERE c.kind IN ('reuse', 'boilerplate')
      AND p.cluster_id IN (SELECT object_id FROM ev WHERE object_kind IN ('reuse', 'template'))
      AND p.doc_id IN (SELECT doc_id FROM docs)
"""
_LABELS = """
    SELECT 'point' AS kind, point_id AS object_id, label FROM points
    WHERE point_id IN (SELECT object_id FROM ev WHERE object_kind = 'point')
    UNION ALL
    SELECT CASE kind WHEN 'reuse' THEN 'reuse' ELSE 'template' END, cluster_id, representative
    FROM reuse_clusters
    WHERE kind IN ('reuse', 'boilerplate')
      AND cluster_id IN (SELECT object_id FROM ev WHERE object_kind IN ('reuse', 'template'))
"""


_RESOLVED = f"""
    WITH ev AS (SELECT * FROM edge_evidence WHERE {{where}}),
    docs AS (SELECT doc_a AS doc_id FROM ev UNION SELECT doc_b FROM ev),
    spans AS (
        SELECT kind, object_id, doc_id, min(start) AS start,
               arg_min("end", start) AS "end", arg_min(text, start) AS text
        FROM ({_SPANS}) GROUP BY ALL),
    labels AS ({_LABELS})
    SELECT e.object_kind, e.object_id, coalesce(l.label, e.object_id) AS label,
           e.source_a, e.doc_a, e.time_a, sa.start AS start_a, sa."end" AS end_a,
           coalesce(sa.text, e.object_id) AS text_a,
           e.source_b, e.doc_b, e.time_b, sb.start AS start_b, sb."end" AS end_b,
           coalesce(sb.text, e.object_id) AS text_b
    FROM ev e
    LEFT JOIN labels l ON l.kind = e.object_kind AND l.object_id = e.object_id
    LEFT JOIN spans sa
        ON sa.kind = e.object_kind AND sa.object_id = e.object_id AND sa.doc_id = e.doc_a
    LEFT JOIN spans sb
        ON sb.kind = e.object_kind AND sb.object_id = e.object_id AND sb.doc_id = e.doc_b
"""
_ORDER = "least(time_a, time_b) NULLS LAST, object_kind, object_id"


def write_evidence_text(con: duckdb.DuckDBPyConnection) -> None:
    """Resolve every edge's evidence to text once (``_edge_evidence_text``, sorted by edge),
    inside the transaction that writes the evidence: an edge's page then reads its own rows
    instead of matching its objects against every mention in the store."""
    con.execute("DELETE FROM _edge_evidence_text")
    con.execute(
        "INSERT INTO _edge_evidence_text "
        + _RESOLVED.format(where="TRUE")
        + f" ORDER BY source_a, source_b, {_ORDER}"
    )


def _evidence_text_ready(store: Store) -> bool:
    found = store.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_edge_evidence_text'"
    ).fetchall()[0][0]
    if not found:
        return False
    counts = store.con.execute(
        "SELECT (SELECT count(*) FROM _edge_evidence_text), (SELECT count(*) FROM edge_evidence)"
    ).fetchall()[0]
    return bool(counts[0] == counts[1])


def read_edge_evidence(
    store: Store, source_a: str, source_b: str, *, limit: int | None = None
) -> pa.Table:
    """The evidence for the edge between two sources (either order), earliest first.

    Columns: ``object_kind``, ``object_id``, ``label`` (the point's label, the passage's
    representative text, or the URL), and for each side (``_a``, ``_b``): ``source``,
    ``doc``, ``time``, ``start``, ``end`` and ``text`` (the first span of that document
    carrying the object; offsets ``NULL`` for links). Read from ``_edge_evidence_text`` when
    it covers the evidence (a store from before it is resolved here, with the same rows)."""
    a, b = sorted((source_a, source_b))
    limit_sql = "" if limit is None else f"LIMIT {int(limit)}"
    if _evidence_text_ready(store):
        sql = (
            "SELECT * FROM _edge_evidence_text WHERE source_a = ? AND source_b = ? "
            f"ORDER BY {_ORDER} {limit_sql}"
        )
    else:
        sql = (
            _RESOLVED.format(where="source_a = ? AND source_b = ?")
            + f" ORDER BY {_ORDER} {limit_sql}"
        )
    return store.con.sql(sql, params=[a, b]).to_arrow_table()
