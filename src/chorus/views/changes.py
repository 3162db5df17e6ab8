"""The "new since" view: what the last analysis (or every analysis since one) changed, as
``chorus changes`` lists it (:mod:`chorus.changes`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, cast

from chorus.changes import read_changes
from chorus.store import Store
from chorus.views.records import ChangesView


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, float):
        return round(value, 4)
    return value


def changes(store: Store, *, since_run: int | None = None, limit: int = 200) -> ChangesView:
    """What changed after analysis ``since_run`` (default: what the last analysis changed),
    at most ``limit`` rows of each kind."""
    if "analysis_runs" not in store.table_names():
        found = None
    else:
        found = read_changes(store, since=since_run)
    runs = (
        [
            {"run_no": r[0], "finished_at": _plain(r[1]), "n_documents": r[2]}
            for r in store.con.execute(
                "SELECT run_no, finished_at, n_documents FROM analysis_runs ORDER BY run_no"
            ).fetchall()
        ]
        if found is not None
        else []
    )

    def rows(items: list[Any]) -> list[dict[str, Any]]:
        return [
            {k: _plain(v) for k, v in dataclasses.asdict(item).items()} for item in items[:limit]
        ]

    if found is None:
        return cast(
            ChangesView,
            {
                "since": None,
                "since_run": None,
                "runs": [],
                "limit": limit,
                "totals": {"points": 0, "passages": 0, "edges": 0, "hits": 0},
                "points": [],
                "passages": [],
                "edges": [],
                "hits": [],
            },
        )
    return cast(
        ChangesView,
        {
            "since": None if found.since.year == 1 else _plain(found.since),
            "since_run": found.since_run,
            "runs": runs,
            "limit": limit,
            "totals": {
                "points": len(found.points),
                "passages": len(found.passages),
                "edges": len(found.edges),
                "hits": len(found.hits),
            },
            "points": rows(found.points),
            "passages": rows(found.passages),
            "edges": rows(found.edges),
            "hits": rows(found.hits),
        },
    )
