"""The coordination stage: sharing events from the store → source-pair edges with evidence
and significance → communities → per-source originator and amplifier scores."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from chorus.coord.core import (
    Edges,
    Events,
    co_action_edges,
    group_nanmedian,
    with_significance,
)
from chorus.coord.evidence import write_evidence_text
from chorus.coord.objects import sharing_events, write_credits
from chorus.coord.settings import CoordSettings
from chorus.progress import ProgressFactory, no_progress
from chorus.store import Store, scalar

log = logging.getLogger(__name__)

MIN_WINDOW, MAX_WINDOW = 1.0, 24.0 * 7


@dataclass(frozen=True)
class CoordSummary:
    n_sources: int
    n_objects: int
    n_edges: int
    n_significant: int
    n_communities: int
    window_hours: float | None
    tested: bool
    communities_from: str
    seconds: float
    null_seconds: float
    # Documents that are an agency's copy (their whole text credited): they share nothing.
    n_wire_docs: int = 0


def find_coordination(
    store: Store,
    *,
    settings: CoordSettings | None = None,
    progress: ProgressFactory = no_progress,
) -> CoordSummary:
    """Rebuild ``source_edges``, ``edge_evidence``, ``sources`` and ``communities``."""
    settings = settings or CoordSettings()
    started = time.perf_counter()
    sources = sorted(
        r[0] for r in store.con.execute("SELECT DISTINCT source FROM documents").fetchall()
    )
    write_credits(store, progress=progress)
    n_wire_docs = int(scalar(store.con, "SELECT count(DISTINCT doc_id) FROM credits WHERE whole"))
    rows, events, n_objects = _events(store, sharing_events(store, settings.kinds), sources)
    window = settings.window_hours if settings.window_hours else _window_from_data(events)
    if not np.isfinite(events.time).any():
        window = None
    edges = co_action_edges(
        events, n_sources=len(sources), window=window, min_objects=settings.min_objects
    )
    null_started = time.perf_counter()
    edges = with_significance(
        events,
        edges,
        n_sources=len(sources),
        window=window,
        null=settings.null,
        permutations=settings.permutations,
        seed=settings.seed,
    )
    null_seconds = time.perf_counter() - null_started
    tested = bool(np.isfinite(edges.p_value).any())
    significant = edges.q_value <= settings.fdr
    # With no edge that stands out (a corpus too small for evidence, or no test), the
    # communities are drawn from every edge, and the summary says so.
    communities_from = "significant edges" if significant.any() else "all edges"
    if not significant.any():
        significant = np.ones(edges.weight.size, dtype=bool)
    community = communities(edges, significant, len(sources), settings)
    _write(store, sources, n_objects, rows, events, edges, community, window, settings)
    return CoordSummary(
        n_sources=len(sources),
        n_objects=n_objects,
        n_edges=int(edges.weight.size),
        n_significant=int((edges.q_value <= settings.fdr).sum()),
        n_communities=len({c for c in community if c >= 0}),
        window_hours=window,
        tested=tested,
        communities_from=communities_from,
        seconds=time.perf_counter() - started,
        null_seconds=null_seconds,
        n_wire_docs=n_wire_docs,
    )


def _events(store: Store, table: pa.Table, sources: list[str]) -> tuple[pa.Table, Events, int]:
    """The events sorted (source, kind, object, date, document), so that the numbering and
    everything downstream is the same from run to run, and numbered: sources by their place
    in ``sources``, objects by (kind, id), documents by id. Done in DuckDB: millions of rows."""
    con = store.con
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


def _window_from_data(events: Events) -> float | None:
    """The median time an object takes to reach its second source, within 1 h and 7 days;
    ``None`` (no window) when no object reached two dated sources."""
    dated = np.isfinite(events.time)
    if not dated.any():
        return None
    # Each source's first time on each object, then per object the gap from first to second.
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
    if not second.any():  # no object reached two dated sources: no speed to learn from
        return None
    spread = times[second] - times[np.flatnonzero(second) - 1]
    return float(np.clip(np.median(spread), MIN_WINDOW, MAX_WINDOW))


def communities(
    edges: Edges, significant: np.ndarray, n_sources: int, settings: CoordSettings
) -> list[int]:
    """Leiden communities (constant Potts model, seeded) over the significant edges; -1 for a source
    with none. Numbered by size, largest first, ties by lowest source number."""
    import igraph as ig
    import leidenalg

    keep = significant & (edges.weight > 0)
    if not keep.any():
        return [-1] * n_sources
    graph = ig.Graph(
        n=n_sources,
        edges=list(zip(edges.source_a[keep].tolist(), edges.source_b[keep].tolist(), strict=True)),
    )
    graph.es["weight"] = edges.weight[keep].tolist()
    # Constant Potts model: a community is a group whose sources are joined, on average, by
    # at least ``resolution`` times the typical (median) edge weight. Unlike modularity, it
    # does not split a group where every source is tied to every other.
    partition = leidenalg.find_partition(
        graph,
        leidenalg.CPMVertexPartition,
        weights="weight",
        resolution_parameter=settings.resolution * float(np.median(edges.weight[keep])),
        seed=settings.seed,
    )
    linked = set(edges.source_a[keep].tolist()) | set(edges.source_b[keep].tolist())
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


def _write(
    store: Store,
    sources: list[str],
    n_objects: int,
    rows: pa.Table,
    events: Events,
    edges: Edges,
    community: list[int],
    window: float | None,
    settings: CoordSettings,
) -> None:
    name = np.array(sources, dtype=object)
    edge_table = pa.table(
        {
            "source_a": pa.array(name[edges.source_a].tolist(), pa.string()),
            "source_b": pa.array(name[edges.source_b].tolist(), pa.string()),
            "weight": pa.array(np.round(edges.weight, 4), pa.float64()),
            "n_objects": pa.array(edges.n_objects, pa.int32()),
            "median_lag_hours": pa.array(_nan_to_none(edges.median_lag), pa.float64()),
            "p_value": pa.array(_nan_to_none(edges.p_value), pa.float64()),
            "q_value": pa.array(_nan_to_none(edges.q_value), pa.float64()),
        }
    )
    a = pa.array(edges.evidence_a, pa.int64())
    b = pa.array(edges.evidence_b, pa.int64())
    evidence = pa.table(
        {
            "source_a": rows.column("source").take(a),
            "source_b": rows.column("source").take(b),
            "object_kind": rows.column("kind").take(a),
            "object_id": rows.column("object_id").take(a),
            "doc_a": rows.column("doc_id").take(a),
            "doc_b": rows.column("doc_id").take(b),
            "time_a": rows.column("time").take(a).cast(pa.timestamp("us")),
            "time_b": rows.column("time").take(b).cast(pa.timestamp("us")),
        }
    )
    source_table = _source_table(store, sources, events, edges, community)
    groups: dict[int, list[str]] = {}
    for s, c in zip(sources, community, strict=True):
        if c >= 0:
            groups.setdefault(c, []).append(s)
    communities = pa.table(
        {
            "community": pa.array(sorted(groups), pa.int32()),
            "n_sources": pa.array([len(groups[c]) for c in sorted(groups)], pa.int32()),
            "sources": pa.array([groups[c] for c in sorted(groups)], pa.list_(pa.string())),
        }
    )
    with store.transaction() as con:
        for table in ("edge_evidence", "source_edges", "sources", "communities", "coord_runs"):
            con.execute(f"DELETE FROM {table}")
        store.insert_arrow("source_edges", edge_table)
        store.insert_arrow("edge_evidence", evidence)
        store.insert_arrow("sources", source_table)
        store.insert_arrow("communities", communities)
        write_evidence_text(con)
        store.record_run("coord_runs", settings, window_hours=window, n_objects=n_objects)


def _source_table(
    store: Store, sources: list[str], events: Events, edges: Edges, community: list[int]
) -> pa.Table:
    """Per source: documents, objects shared, community, and from its co-actions with dates:
    how often it was first (originator) or followed (amplifier), and its median lag when
    following."""
    n_docs = dict(
        store.con.execute("SELECT source, count(*) FROM documents GROUP BY source").fetchall()
    )
    shared = np.bincount(events.source, minlength=len(sources))
    a, b = edges.evidence_a, edges.evidence_b
    ta, tb = events.time[a], events.time[b]
    dated = np.isfinite(ta) & np.isfinite(tb)
    sa, sb = events.source[a][dated], events.source[b][dated]
    lead_a = ta[dated] < tb[dated]
    lead_b = tb[dated] < ta[dated]
    n = len(sources)
    total = np.bincount(sa, minlength=n) + np.bincount(sb, minlength=n)
    first = np.bincount(sa[lead_a], minlength=n) + np.bincount(sb[lead_b], minlength=n)
    follow = np.bincount(sa[lead_b], minlength=n) + np.bincount(sb[lead_a], minlength=n)
    lags = np.abs(ta[dated] - tb[dated])
    followers = np.concatenate([sa[lead_b], sb[lead_a]])
    follow_lags = np.concatenate([lags[lead_b], lags[lead_a]])
    median_follow = group_nanmedian(follow_lags, followers, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        originator = np.where(total > 0, first / np.maximum(total, 1), np.nan)
        amplifier = np.where(total > 0, follow / np.maximum(total, 1), np.nan)
    return pa.table(
        {
            "source": pa.array(sources, pa.string()),
            "n_docs": pa.array([int(n_docs.get(s, 0)) for s in sources], pa.int32()),
            "n_objects": pa.array(shared, pa.int32()),
            "community": pa.array([c if c >= 0 else None for c in community], pa.int32()),
            "originator": pa.array(_nan_to_none(np.round(originator, 4)), pa.float64()),
            "amplifier": pa.array(_nan_to_none(np.round(amplifier, 4)), pa.float64()),
            "median_follow_hours": pa.array(_nan_to_none(median_follow), pa.float64()),
        }
    )


def _nan_to_none(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]
