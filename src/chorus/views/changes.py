"""The "new since" view: what the last analysis (or every analysis since one) changed, as
``chorus changes`` lists it (:mod:`chorus.changes`)."""

from __future__ import annotations

from typing import cast

from chorus.changes import read_changes, records
from chorus.changes.read import KINDS
from chorus.store import Store
from chorus.views.records import ChangesView


def changes(store: Store, *, since_run: int | None = None, limit: int = 200) -> ChangesView:
    """What changed after analysis ``since_run`` (default: what the last analysis changed),
    at most ``limit`` rows of each kind, and a quarter of that more for the regrouped
    points (a store from before analyses were numbered has none)."""
    found = read_changes(store, since=since_run) if "analysis_runs" in store.table_names() else None
    lists = found.kinds() if found is not None else {name: [] for name in KINDS}
    # Regrouped points come last; they get rows of their own so that a day with many new
    # points still shows some of them (and how many there are).
    regrouped = [p for p in lists["points"] if p.change == "regrouped"]
    news = [p for p in lists["points"] if p.change != "regrouped"]
    runs = (
        [
            {"run_no": r[0], "finished_at": r[1].isoformat(timespec="seconds"), "n_documents": r[2]}
            for r in store.con.execute(
                "SELECT run_no, finished_at, n_documents FROM analysis_runs ORDER BY run_no"
            ).fetchall()
        ]
        if found is not None
        else []
    )
    # Counting from the start (before the first analysis) has no date to show.
    since = found.since if found is not None and found.since.year > 1 else None
    return cast(
        ChangesView,
        {
            "since": since.isoformat(timespec="seconds") if since else None,
            "since_run": found.since_run if found is not None else None,
            "runs": runs,
            "limit": limit,
            "totals": {
                **{name: len(rows) for name, rows in lists.items()},
                "regrouped": len(regrouped),
            },
            **{name: records(rows[:limit]) for name, rows in lists.items()},
            "points": records(news[:limit] + regrouped[: max(1, limit // 4)]),
        },
    )
