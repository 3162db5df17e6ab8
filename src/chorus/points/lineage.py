"""Talking points keep their ids when the store is analysed again.

A point's id is a digest of its label, so a rebuild of the same data gives the same ids. When
new documents arrive, a point that gains sentences may get another label, and so another
digest: the links, notes and exports a user keeps would break. So the new points inherit the
ids of the points they continue. Each earlier point's successor is the new point holding most
of its sentences; a new point that succeeds earlier points takes the id of the one it shares
most sentences with. What no new point keeps is recorded (``point_lineage``): an earlier point
``merged`` into another, a new point ``split`` from an earlier one whose successor is another
point. An earlier point none of whose sentences is in a point any more merged into nothing:
it is recorded ``dissolved`` with the live point nearest it, or ``boilerplate`` with the reuse
cluster that now holds its sentences (:mod:`chorus.points.nearest_live`,
:func:`settle_gone`), and ``gone`` when there is neither: its sentences left the store with
their documents.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import duckdb

LineageRow = tuple[str, str, str | None]


@dataclass(frozen=True)
class CarriedIds:
    """``ids``: each new point's id as stored (its own digest when it continues no earlier
    point); ``lineage``: (point_id, event, other_id) rows for what changed."""

    ids: dict[str, str]
    lineage: list[LineageRow]


def carry_ids(
    shared: Iterable[tuple[str, str, int]],
    old_ids: Iterable[str],
    new_ids: Iterable[str],
    *,
    reserved: Iterable[str] = (),
) -> CarriedIds:
    """``shared``: (earlier point, new point, sentences they share) for every pair that
    shares any; ``old_ids`` and ``new_ids``: every point before and after. Ties go to the
    smaller id, so the same inputs give the same ids. ``reserved``: ids held by points
    outside this carry (an update rewrites some points and leaves the rest), which no new
    point may take."""
    overlap: dict[str, dict[str, int]] = defaultdict(dict)
    # The same counts by new point: a split's parent is found without scanning every
    # earlier point (half a million on the news corpus) for each new one.
    parents: dict[str, dict[str, int]] = defaultdict(dict)
    for old, new, count in shared:
        overlap[old][new] = parents[new][old] = int(count)
    successor = {o: min(c, key=lambda p: (-c[p], p)) for o, c in overlap.items()}
    heirs: dict[str, list[str]] = defaultdict(list)
    for o, n in successor.items():
        heirs[n].append(o)
    ordered = sorted(set(new_ids))
    ids: dict[str, str] = {}
    lineage: list[LineageRow] = []
    for n in ordered:
        if n in heirs:
            keep = min(heirs[n], key=lambda o: (-overlap[o][n], o))
            ids[n] = keep
            lineage.extend((o, "merged", keep) for o in sorted(heirs[n]) if o != keep)
    taken = set(ids.values()) | set(reserved)
    for n in ordered:
        if n in ids:
            continue
        fresh, k = n, 1
        while fresh in taken:  # its digest is an id an earlier point keeps
            k += 1
            fresh = f"{n}-{k}"
        ids[n] = fresh
        taken.add(fresh)
        if n in parents:
            within = parents[n]
            lineage.append((fresh, "split", min(within, key=lambda o: (-within[o], o))))
    lineage.extend((o, "gone", None) for o in sorted(set(old_ids) - set(successor)))
    return CarriedIds(ids, lineage)


def gone_ids(lineage: Iterable[LineageRow]) -> list[str]:
    """The earlier points ``lineage`` records as ``gone``."""
    return [point_id for point_id, event, _ in lineage if event == "gone"]


def settle_gone(
    lineage: Iterable[LineageRow], where: Mapping[str, tuple[str, str]]
) -> list[LineageRow]:
    """``lineage`` with each ``gone`` point that ``where`` places recorded with its event
    and other id instead (``dissolved`` with the live point nearest it, ``boilerplate`` with
    the reuse cluster holding its sentences: :func:`chorus.points.nearest_live.where_gone`)."""
    return [
        (point_id, *where[point_id])
        if event == "gone" and point_id in where
        else (point_id, event, other)
        for point_id, event, other in lineage
    ]


def record_lineage(
    con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[tuple[object, str, object]]
) -> None:
    """Append (id, event, other id) rows to a lineage table (``point_lineage``,
    ``reuse_lineage``, ``community_lineage``), stamped with this moment in UTC: each analysis
    appends, inside the caller's transaction."""
    stamped = [(dt.datetime.now(dt.UTC).replace(tzinfo=None), *row) for row in rows]
    if stamped:
        con.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", stamped)
