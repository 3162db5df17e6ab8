"""Recording what each analysis changed, in the transaction that writes the stage's tables.

The points and coordination stages take a snapshot of what they are about to replace and,
once the new rows are in, append to ``point_changes`` the points that are new or reach more
sources or documents, and to ``edge_changes`` the source pairs whose edge is newly significant
or significantly stronger. ``analysis_runs`` numbers the analyses, so ``chorus changes
--since RUN`` has something to count from.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from chorus.store import Store, scalar

# A significant edge counts as stronger when its weight grew by this share.
STRONGER = 0.10
SIGNIFICANT_Q = 0.05


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def snapshot_points(con: duckdb.DuckDBPyConnection, point_ids: list[str] | None = None) -> None:
    """Keep the points about to be replaced (``None``: all of them)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _points_before AS "
        "SELECT point_id, n_sources, n_docs FROM points"
        + (" WHERE point_id IN (SELECT unnest(?))" if point_ids is not None else ""),
        [point_ids] if point_ids is not None else [],
    )


def record_point_changes(con: duckdb.DuckDBPyConnection, point_ids: list[str] | None = None) -> int:
    """Append the points (of ``point_ids``; ``None``: all) that are new since the snapshot
    or reach more sources or documents. Returns how many."""
    recorded = now()
    where = " AND n.point_id IN (SELECT unnest(?))" if point_ids is not None else ""
    con.execute(
        f"""INSERT INTO point_changes
            SELECT ?, n.point_id, CASE WHEN b.point_id IS NULL THEN 'new' ELSE 'grew' END,
                   b.n_sources, n.n_sources, b.n_docs, n.n_docs
            FROM points n LEFT JOIN _points_before b USING (point_id)
            WHERE (b.point_id IS NULL OR n.n_sources > b.n_sources OR n.n_docs > b.n_docs)
            {where}""",
        [recorded, point_ids] if point_ids is not None else [recorded],
    )
    n = int(scalar(con, "SELECT count(*) FROM point_changes WHERE recorded_at = ?", [recorded]))
    con.execute("DROP TABLE IF EXISTS _points_before")
    return n


def snapshot_edges(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _edges_before AS "
        "SELECT source_a, source_b, weight, q_value FROM source_edges"
    )


def record_edge_changes(con: duckdb.DuckDBPyConnection) -> None:
    """Append the edges that are significant now and were not before (``new``), or whose
    weight grew by ``STRONGER`` or more (``stronger``). An edge with no test (no null model)
    counts as significant."""
    con.execute(
        f"""INSERT INTO edge_changes
            SELECT ?, n.source_a, n.source_b,
                   CASE WHEN b.source_a IS NULL
                          OR coalesce(b.q_value, 0) > {SIGNIFICANT_Q} THEN 'new'
                        ELSE 'stronger' END,
                   b.weight, n.weight, b.q_value, n.q_value
            FROM source_edges n LEFT JOIN _edges_before b USING (source_a, source_b)
            WHERE coalesce(n.q_value, 0) <= {SIGNIFICANT_Q}
              AND (b.source_a IS NULL OR coalesce(b.q_value, 0) > {SIGNIFICANT_Q}
                   OR n.weight >= b.weight * {1 + STRONGER})""",
        [now()],
    )
    con.execute("DROP TABLE IF EXISTS _edges_before")


def record_analysis(store: Store, *, started_at: dt.datetime) -> int:
    """Number an analysis that ran from ``started_at`` until now; returns its number."""
    con = store.con
    run_no = int(scalar(con, "SELECT coalesce(max(run_no), 0) + 1 FROM analysis_runs"))
    n_docs = int(scalar(con, "SELECT count(*) FROM documents"))
    con.execute(
        "INSERT INTO analysis_runs VALUES (?, ?, ?, ?)", [run_no, started_at, now(), n_docs]
    )
    return run_no
