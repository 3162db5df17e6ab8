"""The coordination stage's steps that both engines run as they are: the window learnt from
the data, an edge's sums from its co-actions, the significant edges and their communities,
each source's roles, and the rows of the result tables. One machine calls each over every
object, edge or source at once; Spark calls it on one partition's group and collects. Equal
results rest on the same arithmetic in the same order, not on two copies kept in step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import duckdb
import numpy as np
import pyarrow as pa

from chorus.coord.core import Events, group_nanmedian
from chorus.coord.settings import CoordSettings

MIN_WINDOW, MAX_WINDOW = 1.0, 24.0 * 7


def object_spreads(events: Events) -> np.ndarray:
    """Per object that reached two dated sources: the hours from its first source to its
    second (each source counted at its first time on the object)."""
    dated = np.isfinite(events.time)
    if not dated.any():
        return np.zeros(0)
    order = np.lexsort((events.time[dated], events.source[dated], events.obj[dated]))
    obj = events.obj[dated][order]
    src = events.source[dated][order]
    times = events.time[dated][order]
    lead = np.ones(obj.size, dtype=bool)
    lead[1:] = (obj[1:] != obj[:-1]) | (src[1:] != src[:-1])
    obj, times = obj[lead], times[lead]
    order = np.lexsort((times, obj))
    obj, times = obj[order], times[order]
    first = np.ones(obj.size, dtype=bool)
    first[1:] = obj[1:] != obj[:-1]
    second = np.zeros(obj.size, dtype=bool)
    second[1:] = ~first[1:] & first[:-1]
    out: np.ndarray = times[second] - times[np.flatnonzero(second) - 1]
    return out


def window_from_spreads(spreads: np.ndarray) -> float | None:
    """The co-action window: the median spread, within 1 hour and 7 days; ``None`` (no
    window) when no object reached two dated sources. Spark passes the middle one or two
    spreads of its distributed sort: their median is the median of all."""
    if spreads.size == 0:
        return None
    return float(np.clip(np.median(spreads), MIN_WINDOW, MAX_WINDOW))


def community_edges(q_value: np.ndarray, fdr: float) -> tuple[np.ndarray, str]:
    """Which edges the communities are drawn from: the significant ones, or every edge when
    none is (a corpus too small for evidence, or no test), and which it was."""
    significant = q_value <= fdr
    if significant.any():
        return significant, "significant edges"
    return np.ones(q_value.size, dtype=bool), "all edges"


def communities(
    source_a: np.ndarray,
    source_b: np.ndarray,
    weight: np.ndarray,
    keep: np.ndarray,
    n_sources: int,
    settings: CoordSettings,
) -> list[int]:
    """Leiden communities (constant Potts model, seeded) over the ``keep`` edges; -1 for a
    source with none. Numbered by size, largest first, ties by lowest source number."""
    import igraph as ig
    import leidenalg

    keep = keep & (weight > 0)
    if not keep.any():
        return [-1] * n_sources
    graph = ig.Graph(
        n=n_sources, edges=list(zip(source_a[keep].tolist(), source_b[keep].tolist(), strict=True))
    )
    graph.es["weight"] = weight[keep].tolist()
    # Constant Potts model: a community is a group whose sources are joined, on average, by
    # at least ``resolution`` times the typical (median) edge weight. Unlike modularity, it
    # does not split a group where every source is tied to every other.
    partition = leidenalg.find_partition(
        graph,
        leidenalg.CPMVertexPartition,
        weights="weight",
        resolution_parameter=settings.resolution * float(np.median(weight[keep])),
        seed=settings.seed,
    )
    linked = set(source_a[keep].tolist()) | set(source_b[keep].tolist())
    groups: dict[int, list[int]] = {}
    for node, label in enumerate(partition.membership):
        if node in linked:
            groups.setdefault(label, []).append(node)
    ranked = sorted(groups.values(), key=lambda g: (-len(g), min(g)))
    out = [-1] * n_sources
    for number, members in enumerate(ranked):
        for node in members:
            out[node] = number
    return out


@dataclass(frozen=True)
class RoleRows:
    """Each dated co-action seen from each of its two sources: whether that source went
    first, whether it followed, and the lag."""

    source: np.ndarray
    first: np.ndarray
    follow: np.ndarray
    lag: np.ndarray


def role_rows(
    source_a: np.ndarray, source_b: np.ndarray, time_a: np.ndarray, time_b: np.ndarray
) -> RoleRows:
    dated = np.isfinite(time_a) & np.isfinite(time_b)
    sa, sb, ta, tb = source_a[dated], source_b[dated], time_a[dated], time_b[dated]
    lag = np.abs(ta - tb)
    return RoleRows(
        source=np.concatenate([sa, sb]),
        first=np.concatenate([ta < tb, tb < ta]),
        follow=np.concatenate([tb < ta, ta < tb]),
        lag=np.concatenate([lag, lag]),
    )


@dataclass(frozen=True)
class Roles:
    """Per source: the share of its dated co-actions where it went first (originator) or
    followed (amplifier), rounded to 4 places, and its median lag when following (NaN when
    it has none)."""

    originator: np.ndarray
    amplifier: np.ndarray
    median_follow: np.ndarray


def role_scores(rows: RoleRows, n_sources: int) -> Roles:
    """``rows.source`` numbers the sources from 0 to ``n_sources - 1``."""
    total = np.bincount(rows.source, minlength=n_sources)
    first = np.bincount(rows.source[rows.first], minlength=n_sources)
    follow = np.bincount(rows.source[rows.follow], minlength=n_sources)
    with np.errstate(invalid="ignore", divide="ignore"):
        originator = np.where(total > 0, first / np.maximum(total, 1), np.nan)
        amplifier = np.where(total > 0, follow / np.maximum(total, 1), np.nan)
    return Roles(
        originator=np.round(originator, 4),
        amplifier=np.round(amplifier, 4),
        median_follow=group_nanmedian(rows.lag[rows.follow], rows.source[rows.follow], n_sources),
    )


def none_for_nan(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def edge_table(
    source_a: Sequence[str],
    source_b: Sequence[str],
    weight: np.ndarray,
    n_objects: np.ndarray,
    median_lag: np.ndarray,
    p_value: np.ndarray,
    q_value: np.ndarray,
) -> pa.Table:
    """The ``source_edges`` rows."""
    return pa.table(
        {
            "source_a": pa.array(list(source_a), pa.string()),
            "source_b": pa.array(list(source_b), pa.string()),
            "weight": pa.array(np.round(weight, 4), pa.float64()),
            "n_objects": pa.array(n_objects, pa.int32()),
            "median_lag_hours": pa.array(none_for_nan(median_lag), pa.float64()),
            "p_value": pa.array(none_for_nan(p_value), pa.float64()),
            "q_value": pa.array(none_for_nan(q_value), pa.float64()),
        }
    )


def community_table(sources: Sequence[str], community: Sequence[int]) -> pa.Table:
    """The ``communities`` rows: each community's sources, by number."""
    groups: dict[int, list[str]] = {}
    for s, c in zip(sources, community, strict=True):
        if c >= 0:
            groups.setdefault(c, []).append(s)
    return pa.table(
        {
            "community": pa.array(sorted(groups), pa.int32()),
            "n_sources": pa.array([len(groups[c]) for c in sorted(groups)], pa.int32()),
            "sources": pa.array([groups[c] for c in sorted(groups)], pa.list_(pa.string())),
        }
    )


def number_events(
    con: duckdb.DuckDBPyConnection, table: pa.Table, sources: list[str]
) -> tuple[pa.Table, Events, int]:
    """The events sorted (source, kind, object, date, document), so that the numbering and
    everything downstream is the same from run to run, and numbered: sources by their place
    in ``sources``, objects by (kind, id), documents by id. Done in DuckDB (``con``: the
    store's, or an in-memory one on Spark's driver): millions of rows."""
    con.register("_coord_events", table)
    con.register("_coord_sources", pa.table({"source": pa.array(sources, pa.string())}))
    try:
        rows = con.sql(
            """WITH numbered AS (
                   SELECT source, (row_number() OVER (ORDER BY source)) - 1 AS source_no
                   FROM _coord_sources)
               SELECT e.source, e.kind, e.object_id, e.doc_id, e.published_at AS time,
                      n.source_no,
                      (dense_rank() OVER (ORDER BY e.kind, e.object_id)) - 1 AS obj,
                      (dense_rank() OVER (ORDER BY e.doc_id)) - 1 AS doc,
                      epoch_us(e.published_at) / 3600e6 AS hours
               FROM _coord_events e JOIN numbered n USING (source)
               ORDER BY e.source, e.kind, e.object_id, e.published_at NULLS LAST, e.doc_id"""
        ).to_arrow_table()
    finally:
        con.unregister("_coord_events")
        con.unregister("_coord_sources")

    def ints(name: str) -> np.ndarray:
        return np.asarray(rows.column(name).to_numpy(), dtype=np.int64)

    events = Events(
        source=ints("source_no"),
        obj=ints("obj"),
        time=np.asarray(rows.column("hours").to_numpy(zero_copy_only=False), dtype=np.float64),
        doc=ints("doc"),
    )
    n_objects = int(events.obj.max()) + 1 if events.obj.size else 0
    return rows, events, n_objects


class CarriedCommunities(NamedTuple):
    """``numbers``: one per source, as stored (-1 for none); ``lineage``: (community, event,
    other community) rows for the numbers no community keeps (merged, gone) and the
    communities split from an earlier one, for ``community_lineage``."""

    numbers: list[int]
    lineage: list[tuple[int, str, int | None]]


def carry_communities(
    earlier: Mapping[str, int], sources: Sequence[str], community: Sequence[int]
) -> CarriedCommunities:
    """``community`` (one number per source, -1 for none) renumbered so that a community
    that continues an earlier one (holds most of its sources; ``earlier``: source to its
    earlier community) keeps that one's number, as talking points keep their ids
    (:func:`chorus.points.lineage.carry_ids`); the others take numbers no kept community
    has."""
    from chorus.points.lineage import carry_ids

    shared: dict[tuple[int, int], int] = {}
    for source, c in zip(sources, community, strict=True):
        before = earlier.get(source, -1)
        if c >= 0 and before >= 0:
            shared[(before, c)] = shared.get((before, c), 0) + 1
    current = sorted({c for c in community if c >= 0})
    carried = carry_ids(
        [(str(o), str(n), k) for (o, n), k in shared.items()],
        [str(o) for o in set(earlier.values()) if o >= 0],
        [str(c) for c in current],
    )
    number = {c: int(v) for c in current if (v := carried.ids[str(c)]).isdigit()}
    free = max([*number.values(), *earlier.values(), -1]) + 1
    for c in current:
        if c not in number:  # its own number is one a kept community has
            number[c], free = free, free + 1
    # A split names the new community by the id carry_ids gave it: its number now.
    stored = {carried.ids[str(c)]: number[c] for c in current}
    lineage = [
        (stored[i] if event == "split" else int(i), event, None if other is None else int(other))
        for i, event, other in carried.lineage
    ]
    return CarriedCommunities([number[c] if c >= 0 else c for c in community], lineage)
