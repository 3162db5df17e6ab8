"""What every page of talking points shows beside each point, written with the points.

The report and the app list points fifty at a time, each with its mentions per month, how
many of its documents are undated, and (filtered by source) which points a source mentions.
Read from ``mentions`` joined to ``documents``, each page would scan every mention; written
once here, in the transaction that writes the points (so never older than them), sorted by
their key, a page reads only the row groups that hold its points or its source.
"""

from __future__ import annotations

import json

import duckdb

POINT_PAGE_TABLES = ("_point_months", "_source_points")


def write_point_pages(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild ``_point_months`` and ``_source_points`` from ``mentions``, ``points`` and
    ``documents`` (inside the caller's transaction)."""
    for table in POINT_PAGE_TABLES:
        con.execute(f"DELETE FROM {table}")
    con.execute(
        """INSERT INTO _point_months
           WITH md AS (
               SELECT m.point_id, m.doc_id, d.published_at
               FROM mentions m JOIN documents d USING (doc_id)),
           months AS (
               SELECT point_id, strftime(published_at, '%Y-%m') AS month, count(*) AS n
               FROM md WHERE published_at IS NOT NULL GROUP BY ALL),
           undated AS (
               SELECT point_id,
                      count(DISTINCT doc_id) FILTER (published_at IS NULL) AS n_undated_docs
               FROM md GROUP BY point_id)
           SELECT u.point_id,
                  '{' || coalesce(string_agg('"' || s.month || '":' || s.n, ','
                                           ORDER BY s.month) FILTER (s.month IS NOT NULL),
                                '') || '}',
                  u.n_undated_docs
           FROM undated u LEFT JOIN months s USING (point_id)
           GROUP BY u.point_id, u.n_undated_docs ORDER BY u.point_id"""
    )
    con.execute(
        """INSERT INTO _source_points
           SELECT d.source, m.point_id, count(*), any_value(p.score), any_value(p.n_sources),
                  any_value(p.n_docs), any_value(p.first_seen)
           FROM mentions m JOIN documents d USING (doc_id) JOIN points p USING (point_id)
           GROUP BY d.source, m.point_id ORDER BY 1, 2"""
    )


def point_months(text: str) -> dict[str, int]:
    """A ``_point_months.months`` value as {"YYYY-MM": mentions}."""
    return {str(k): int(v) for k, v in json.loads(text).items()}


def point_pages_ready(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the tables exist and cover the points (a store from before them has none)."""
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name IN (SELECT unnest(?))",
            [list(POINT_PAGE_TABLES)],
        ).fetchall()
    }
    if tables != set(POINT_PAGE_TABLES):
        return False
    counts = con.execute(
        "SELECT (SELECT count(*) FROM _point_months), (SELECT count(*) FROM points)"
    ).fetchall()[0]
    return bool(counts[0] == counts[1])
