"""The coordination stage: sharing events from the store → source-pair edges with evidence
and significance → communities → per-source originator and amplifier scores."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from chorus.changes.record import record_edge_changes, snapshot_edges
from chorus.coord.core import Edges, Events, co_action_edges, with_significance
from chorus.coord.evidence import write_evidence_text
from chorus.coord.kernels import (
    CarriedCommunities,
    carry_communities,
    communities,
    community_edges,
    community_table,
    edge_table,
    none_for_nan,
    number_events,
    object_spreads,
    role_rows,
    role_scores,
    window_from_spreads,
)
from chorus.coord.objects import sharing_events
from chorus.coord.settings import CoordSettings
from chorus.points.lineage import record_lineage
from chorus.progress import ProgressFactory, no_progress
from chorus.reuse.credits_table import write_credits
from chorus.store import Store, scalar

log = logging.getLogger(__name__)


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
    rebuild: bool = False,
    progress: ProgressFactory = no_progress,
) -> CoordSummary:
    """Rebuild ``source_edges``, ``edge_evidence``, ``sources`` and ``communities`` (the wire
    credits they read are updated with the documents changed since, or all read again with
    ``rebuild``)."""
    settings = settings or CoordSettings()
    started = time.perf_counter()
    sources = sorted(
        r[0] for r in store.con.execute("SELECT DISTINCT source FROM documents").fetchall()
    )
    write_credits(store, rebuild=rebuild, progress=progress)
    n_wire_docs = int(scalar(store.con, "SELECT count(DISTINCT doc_id) FROM credits WHERE whole"))
    rows, events, n_objects = number_events(
        store.con, sharing_events(store, settings.kinds), sources
    )
    window = settings.window_hours or window_from_spreads(object_spreads(events))
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
    keep, communities_from = community_edges(edges.q_value, settings.fdr)
    community = communities(
        edges.source_a, edges.source_b, edges.weight, keep, len(sources), settings
    )
    # A community that continues one from the last run keeps its number.
    earlier = dict(store.con.execute("SELECT source, community FROM sources").fetchall())
    carried = carry_communities(
        {s: int(c) for s, c in earlier.items() if c is not None}, sources, community
    )
    community = carried.numbers
    _write(store, sources, n_objects, rows, events, edges, carried, window, settings)
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


def _write(
    store: Store,
    sources: list[str],
    n_objects: int,
    rows: pa.Table,
    events: Events,
    edges: Edges,
    carried: CarriedCommunities,
    window: float | None,
    settings: CoordSettings,
) -> None:
    community = carried.numbers
    name = np.array(sources, dtype=object)
    edges_out = edge_table(
        name[edges.source_a].tolist(),
        name[edges.source_b].tolist(),
        edges.weight,
        edges.n_objects,
        edges.median_lag,
        edges.p_value,
        edges.q_value,
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
    with store.transaction() as con:
        snapshot_edges(con)
        for table in ("edge_evidence", "source_edges", "sources", "communities", "coord_runs"):
            con.execute(f"DELETE FROM {table}")
        store.insert_arrow("source_edges", edges_out)
        record_edge_changes(con)
        store.insert_arrow("edge_evidence", evidence)
        store.insert_arrow("sources", source_table)
        store.insert_arrow("communities", community_table(sources, community))
        record_lineage(con, "community_lineage", carried.lineage)
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
    roles = role_scores(
        role_rows(events.source[a], events.source[b], events.time[a], events.time[b]),
        len(sources),
    )
    return pa.table(
        {
            "source": pa.array(sources, pa.string()),
            "n_docs": pa.array([int(n_docs.get(s, 0)) for s in sources], pa.int32()),
            "n_objects": pa.array(shared, pa.int32()),
            "community": pa.array([c if c >= 0 else None for c in community], pa.int32()),
            "originator": pa.array(none_for_nan(roles.originator), pa.float64()),
            "amplifier": pa.array(none_for_nan(roles.amplifier), pa.float64()),
            "median_follow_hours": pa.array(none_for_nan(roles.median_follow), pa.float64()),
        }
    )
