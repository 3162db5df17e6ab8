"""Every table of two stores, row for row: the before/after check of a refactor.

    python bench/same_tables.py BEFORE.duckdb AFTER.duckdb

Make the two stores with the same commands from two commits (a git worktree of each), then
compare. Columns that record when or how long (ingested_at, finished_at, started_at,
seconds) are left out, and so are the seconds inside a run's ``stats``; a table only one
store has is listed as such. Each table's rows are sorted and hashed: equal hashes, equal
tables. Exits 1 when a table differs.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

import duckdb

SKIP_COLUMNS = {"ingested_at", "finished_at", "started_at", "seconds", "null_seconds"}
SKIP_TABLES = {"chorus_meta"}


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute(
        "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND NOT internal GROUP BY table_name"
    ).fetchall()
    return {name: [c for c in columns if c not in SKIP_COLUMNS] for name, columns in rows}


def _untimed(value: str) -> str:
    """A run's ``stats`` JSON without the seconds it took."""
    stats = json.loads(value)
    return json.dumps({k: v for k, v in stats.items() if "seconds" not in k}, sort_keys=True)


def digest(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> tuple[int, str]:
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows: list[tuple[Any, ...]] = con.execute(f'SELECT {quoted} FROM "{table}"').fetchall()
    if "stats" in columns:
        at = columns.index("stats")
        rows = [(*r[:at], _untimed(r[at]), *r[at + 1 :]) for r in rows]
    text = "\n".join(sorted(repr(r) for r in rows))
    return len(rows), hashlib.sha256(text.encode()).hexdigest()[:12]


def main() -> int:
    before, after = (duckdb.connect(p, read_only=True) for p in sys.argv[1:3])
    tb, ta = tables(before), tables(after)
    print(f"{'table':28s} {'rows':>9s}  {'before':12s}  {'after':12s}  same")
    differ = 0
    for name in sorted(set(tb) | set(ta)):
        if name in SKIP_TABLES:
            continue
        if name not in tb or name not in ta:
            print(f"{name:28s} {'':>9s}  only in {'after' if name in ta else 'before'}")
            continue
        columns = [c for c in tb[name] if c in ta[name]]
        nb, hb = digest(before, name, columns)
        na, ha = digest(after, name, columns)
        same = (nb, hb) == (na, ha)
        differ += not same
        extra = sorted(set(ta[name]) ^ set(tb[name]))
        note = f"  (columns in one only: {', '.join(extra)})" if extra else ""
        print(f"{name:28s} {na:>9,}  {hb:12s}  {ha:12s}  {'yes' if same else 'NO'}{note}")
    print(f"{differ} table(s) differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
