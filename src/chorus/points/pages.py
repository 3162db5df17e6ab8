"""What the pages of talking points show beside each point, written with the points.

The report and the app list points fifty at a time in one of five orders, each with its
mentions per month and how many of its documents are undated; "like this" search shows each
point's first mentions; a source's page lists the points it mentions. Read from ``mentions``
joined to ``documents`` and sorted on every request, a deep page sorted every point and a
short list scanned every mention; written once here, in the transaction that writes the
points (so never older than them), a page reads a range of ranks or one source's rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

POINT_PAGE_TABLES = ("_point_pages", "_source_points")

# The orders a list of points can be read in (the SQL over ``points`` columns); each has
# its rank column in ``_point_pages``.
POINT_SORTS = {
    "score": "score DESC, n_sources DESC, point_id",
    "sources": "n_sources DESC, n_docs DESC, point_id",
    "documents": "n_docs DESC, n_sources DESC, point_id",
    "first_seen": "first_seen NULLS LAST, point_id",
    "label": "label, point_id",
}
FIRST_MENTIONS = 3


def write_point_pages(
    con: duckdb.DuckDBPyConnection, *, changed: Sequence[str] | None = None
) -> None:
    """Rebuild ``_point_pages`` and ``_source_points`` from ``points``, ``mentions`` and
    ``documents`` (inside the caller's transaction). With ``changed``, the points an update
    wrote again or removed, only their rows (and those of any point without one) are
    written again, and every point's ranks set anew: an update's new mentions change only
    their points' months and first mentions, and rewriting every row cost more than the
    rest of the update's writes."""
    if changed is None:
        for table in POINT_PAGE_TABLES:
            con.execute(f"DELETE FROM {table}")
        _insert_pages(con, "SELECT point_id FROM points")
        return
    con.register("_pages_changed", pa.table({"point_id": pa.array(sorted(set(changed)))}))
    try:
        for table in POINT_PAGE_TABLES:
            con.execute(
                f"""DELETE FROM {table} WHERE point_id IN (SELECT point_id FROM _pages_changed)
                    OR point_id NOT IN (SELECT point_id FROM points)"""
            )
    finally:
        con.unregister("_pages_changed")
    # The points changed, and any other without a row.
    _insert_pages(
        con, "SELECT point_id FROM points WHERE point_id NOT IN (SELECT point_id FROM _point_pages)"
    )
    ranks = ", ".join(f"by_{name} = r.by_{name}" for name in POINT_SORTS)
    moved = " OR ".join(f"_point_pages.by_{name} <> r.by_{name}" for name in POINT_SORTS)
    con.execute(
        f"""UPDATE _point_pages SET {ranks}
            FROM (SELECT point_id, {_ranks()} FROM points) r
            WHERE _point_pages.point_id = r.point_id AND ({moved})"""
    )


def _ranks() -> str:
    return ",\n".join(
        f"(row_number() OVER (ORDER BY {order}) - 1)::INTEGER AS by_{name}"
        for name, order in POINT_SORTS.items()
    )


def _insert_pages(con: duckdb.DuckDBPyConnection, which: str) -> None:
    """Insert the rows of the points the query ``which`` selects into both tables; ranks
    are over every point."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _pages_which AS {which}")
    con.execute("DELETE FROM _source_points WHERE point_id IN (SELECT point_id FROM _pages_which)")
    con.execute(
        f"""INSERT INTO _point_pages
            WITH md AS (
                SELECT m.point_id, m.doc_id, m.start, m."end", d.source, d.published_at
                FROM mentions m JOIN (SELECT doc_id, source, published_at FROM documents) d
                  USING (doc_id)
                WHERE m.point_id IN (SELECT point_id FROM _pages_which)),
            months AS (
                SELECT point_id,
                       '{{' || string_agg('"' || month || '":' || n, ',' ORDER BY month)
                       || '}}' AS months
                FROM (SELECT point_id, strftime(published_at, '%Y-%m') AS month, count(*) AS n
                      FROM md WHERE published_at IS NOT NULL GROUP BY ALL)
                GROUP BY point_id),
            undated AS (
                SELECT point_id,
                       count(DISTINCT doc_id) FILTER (published_at IS NULL) AS n_undated_docs
                FROM md GROUP BY point_id),
            first AS (
                SELECT point_id,
                       to_json(list([doc_id, source, published_at::VARCHAR, start::VARCHAR,
                                     "end"::VARCHAR]
                                    ORDER BY published_at NULLS LAST, doc_id, start))::VARCHAR
                           AS first_mentions
                FROM (SELECT *, row_number() OVER (
                                    PARTITION BY point_id
                                    ORDER BY published_at NULLS LAST, doc_id, start) AS rank
                      FROM md)
                WHERE rank <= {FIRST_MENTIONS} GROUP BY point_id),
            ranked AS (SELECT point_id, {_ranks()} FROM points)
            SELECT r.*, coalesce(s.months, '{{}}'), coalesce(u.n_undated_docs, 0),
                   coalesce(f.first_mentions, '[]')
            FROM ranked r LEFT JOIN months s USING (point_id) LEFT JOIN undated u USING (point_id)
                 LEFT JOIN first f USING (point_id)
            WHERE r.point_id IN (SELECT point_id FROM _pages_which)
            ORDER BY r.by_score"""
    )
    con.execute(
        """INSERT INTO _source_points
           SELECT d.source, m.point_id, count(*), any_value(p.score), any_value(p.n_sources),
                  any_value(p.n_docs), any_value(p.first_seen)
           FROM mentions m JOIN documents d USING (doc_id) JOIN points p USING (point_id)
           WHERE m.point_id IN (SELECT point_id FROM _pages_which)
           GROUP BY d.source, m.point_id ORDER BY 1, 2"""
    )
    con.execute("DROP TABLE _pages_which")


def point_months(text: str) -> dict[str, int]:
    """A ``_point_pages.months`` value as {"YYYY-MM": mentions}."""
    return {str(k): int(v) for k, v in json.loads(text).items()}


def first_mentions(text: str) -> list[dict[str, Any]]:
    """A ``_point_pages.first_mentions`` value as records (doc_id, source, published_at as
    ISO text or None, start, end), earliest first."""
    out = []
    for doc_id, source, published, start, end in json.loads(text):
        out.append(
            {
                "doc_id": doc_id,
                "source": source,
                "published_at": published.replace(" ", "T") if published else None,
                "start": int(start),
                "end": int(end),
            }
        )
    return out


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
        "SELECT (SELECT count(*) FROM _point_pages), (SELECT count(*) FROM points)"
    ).fetchall()[0]
    return bool(counts[0] == counts[1])
