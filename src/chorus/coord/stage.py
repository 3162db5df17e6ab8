"""The coordination stage: sharing events from the store → source-pair edges with evidence
and significance → communities → per-source originator and amplifier scores."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from chorus.coord.core import (
    Edges,
    Events,
    co_action_edges,
    group_nanmedian,
    with_significance,
)
from chorus.coord.objects import sharing_events
from chorus.coord.settings import CoordSettings
from chorus.progress import ProgressFactory, no_progress
from chorus.store import Store

log = logging.getLogger(__name__)

_MIN_WINDOW, _MAX_WINDOW = 1.0, 24.0 * 7


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


def find_coordination(
    store: Store,
    *,
    settings: CoordSettings | None = None,
    progress: ProgressFactory = no_progress,
) -> CoordSummary:
    """Rebuild ``source_edges``, ``edge_evidence``, ``sources`` and ``communities``."""
    settings = settings or CoordSettings()
    started = time.perf_counter()
    table = sharing_events(store, settings.kinds)
    sources = sorted(
        r[0] for r in store.con.execute("SELECT DISTINCT source FROM documents").fetchall()
    )
    source_no = {s: i for i, s in enumerate(sources)}
    rows = _events_table(table)
    objects = sorted({(k, o) for k, o in zip(rows["kind"], rows["object_id"], strict=True)})
    object_no = {key: i for i, key in enumerate(objects)}
    events = Events(
        source=np.array([source_no[s] for s in rows["source"]], dtype=np.int64),
        obj=np.array(
            [object_no[(k, o)] for k, o in zip(rows["kind"], rows["object_id"], strict=True)],
            dtype=np.int64,
        ),
        time=np.array(
            [t.timestamp() / 3600 if t else np.nan for t in rows["time"]], dtype=np.float64
        ),
        doc=np.unique(np.array(rows["doc_id"], dtype=object), return_inverse=True)[1].astype(
            np.int64
        )
        if rows["doc_id"]
        else np.zeros(0, dtype=np.int64),
    )
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
    community = _communities(edges, significant, len(sources), settings)
    _write(store, sources, objects, rows, events, edges, community, window, settings)
    return CoordSummary(
        n_sources=len(sources),
        n_objects=len(objects),
        n_edges=int(edges.weight.size),
        n_significant=int((edges.q_value <= settings.fdr).sum()),
        n_communities=len({c for c in community if c >= 0}),
        window_hours=window,
        tested=tested,
        communities_from=communities_from,
        seconds=time.perf_counter() - started,
        null_seconds=null_seconds,
    )


def _events_table(table: pa.Table) -> dict[str, list[Any]]:
    """The events as columns, sorted (source, kind, object, date, document) so that the
    numbering, and everything downstream, is the same from run to run."""
    rows = sorted(
        zip(
            table.column("source").to_pylist(),
            table.column("kind").to_pylist(),
            table.column("object_id").to_pylist(),
            table.column("published_at").to_pylist(),
            table.column("doc_id").to_pylist(),
            strict=True,
        ),
        key=lambda r: (r[0], r[1], r[2], r[3] is None, r[3] or dt.datetime.min, r[4]),
    )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 5
    return {
        "source": list(columns[0]),
        "kind": list(columns[1]),
        "object_id": list(columns[2]),
        "time": list(columns[3]),
        "doc_id": list(columns[4]),
    }


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
    return float(np.clip(np.median(spread), _MIN_WINDOW, _MAX_WINDOW))


def _communities(
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
    objects: list[tuple[str, str]],
    rows: dict[str, list[Any]],
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
    a, b = edges.evidence_a, edges.evidence_b
    obj_kind = [objects[o][0] for o in events.obj[a].tolist()]
    obj_id = [objects[o][1] for o in events.obj[a].tolist()]
    evidence = pa.table(
        {
            "source_a": pa.array(name[events.source[a]].tolist(), pa.string()),
            "source_b": pa.array(name[events.source[b]].tolist(), pa.string()),
            "object_kind": pa.array(obj_kind, pa.string()),
            "object_id": pa.array(obj_id, pa.string()),
            "doc_a": pa.array([rows["doc_id"][i] for i in a.tolist()], pa.string()),
            "doc_b": pa.array([rows["doc_id"][i] for i in b.tolist()], pa.string()),
            "time_a": pa.array([rows["time"][i] for i in a.tolist()], pa.timestamp("us")),
            "time_b": pa.array([rows["time"][i] for i in b.tolist()], pa.timestamp("us")),
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
        con.execute(
            "INSERT INTO coord_runs VALUES (?, ?, ?, ?)",
            [
                json.dumps(asdict(settings)),
                window,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                len(objects),
            ],
        )


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
