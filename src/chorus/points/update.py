"""Talking points updated with the documents added (or replaced, or removed) since the last
run, instead of found again from scratch.

A full run leaves its clustering in the store (:mod:`chorus.points.state`). An update:

1. compares the sentences that can carry a claim now with those the state holds: sentences of
   new or replaced documents are added, those of replaced or removed documents (or now inside
   boilerplate) leave;
2. files the added sentences under the units (distinct claims) they state; claims never seen
   before become new units, embedded (through the cache) and centred on the stored mean;
3. finds each new unit's nearest units across documents as a run from scratch would search
   it (exactly, or in the cells it probes: the model's reference cells,
   :mod:`chorus.points.cells`), and offers it to the old units it met there and in cells
   a little further off; an old unit takes an offer that beats its k-th and is filed under
   a cell it probes (as a run from scratch would have found it), and its hub is computed
   again. Old units are never searched again: the same cosines serve both sides;
4. dissolves every cluster whose pairs changed (a unit took or lost a neighbour, a unit or a
   sentence left) into its units, and runs average linkage again from there, with the
   clusters those units reach with a strong pair taking part whole
   (:func:`chorus.points.update_graph.recluster`): new units join existing points or form new
   ones, points may merge, and a point whose pairs no longer hold it together splits;
5. builds the points of every cluster that changed, and replaces only those in ``points`` and
   ``mentions``; they keep their ids (:mod:`chorus.points.lineage`).

Where it differs from a full run on the whole corpus: the corpus mean, the masked names and
the lexical weights stay those of the full run (the new documents are a small share of the
corpus); an old unit misses a new unit filed under a cell it probes when the new unit's
cells do not reach its own; an old unit that lost a neighbour (its document left) is not
searched again; clusters the changed pairs do not reach keep their merges. A corpus that
needs another level of cells, or was searched in cells with a model that ships none, starts
over. ``bench/update.py`` measures how far the result
is from a full run (on 6,000 news articles, 99.1% of mention pairs). ``--rebuild`` starts
from scratch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from chorus.embed.cache import cached_embed, text_key
from chorus.embed.models import load_embedder
from chorus.points.cells import REFERENCE_PROBES, ReferenceCells, file_rows, reference_cells
from chorus.points.neighbours import (
    centre_rows,
    document_frequency,
    hashed_counts,
    unit_hubs,
)
from chorus.points.pages import write_point_pages
from chorus.points.settings import PointsSettings
from chorus.points.state import (
    UPDATABLE_MODELS,
    PointsState,
    doc_group,
    read_state,
    settings_key,
    write_scalars,
)
from chorus.points.text import claim_unit, unit_digest
from chorus.points.update_counts import UpdateCounts
from chorus.points.update_graph import Lists, Units, neighbour_lists, recluster
from chorus.points.update_points import rebuild_points
from chorus.progress import ProgressFactory, no_progress
from chorus.store import Store, scalar

log = logging.getLogger(__name__)


def can_update(store: Store, settings: PointsSettings) -> PointsState | None:
    """The state an update would continue, or ``None`` when a full run is needed: no state
    (a store never analysed, analysed by Spark or loaded, or with the cascade), other
    settings, or a corpus grown by more than ``settings.restart_growth`` since the last full
    run."""
    if settings.model not in UPDATABLE_MODELS:
        return None
    state = read_state(store.con)
    if state is None or state.settings != settings_key(settings):
        return None
    n_docs = int(scalar(store.con, "SELECT count(*) FROM documents"))
    if n_docs > state.full_docs * (1 + settings.restart_growth):
        log.info(
            "points: %d documents, %d at the last full run: starting over",
            n_docs,
            state.full_docs,
        )
        return None
    return state


def update_points(
    store: Store,
    state: PointsState,
    *,
    settings: PointsSettings,
    eligible_sql: str,
    progress: ProgressFactory = no_progress,
) -> UpdateCounts | None:
    """Update ``points`` and ``mentions`` (see the module docstring); ``None`` when the
    store's state cannot be continued after all (the cache lost vectors), and a full run
    must be made."""
    con = store.con
    started = time.perf_counter()
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _upd_eligible AS
            SELECT doc_id, sent_no FROM ({eligible_sql})"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _upd_same_docs AS
           SELECT p.doc_id FROM _point_docs p JOIN documents d
             ON d.doc_id = p.doc_id AND d.text_hash = p.text_hash"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _upd_removed AS
           SELECT ps.doc_id, ps.sent_no, ps.unit_no FROM _point_sentences ps
           WHERE ps.doc_id NOT IN (SELECT doc_id FROM _upd_same_docs)
              OR NOT EXISTS (SELECT 1 FROM _upd_eligible e
                             WHERE e.doc_id = ps.doc_id AND e.sent_no = ps.sent_no)"""
    )
    added = con.sql(
        """SELECT s.doc_id, s.sent_no, s.text FROM _upd_eligible e
           JOIN sentences s USING (doc_id, sent_no)
           WHERE e.doc_id NOT IN (SELECT doc_id FROM _upd_same_docs)
              OR NOT EXISTS (SELECT 1 FROM _point_sentences ps
                             WHERE ps.doc_id = e.doc_id AND ps.sent_no = e.sent_no)
           ORDER BY s.doc_id, s.sent_no"""
    ).to_arrow_table()
    n_removed = int(scalar(con, "SELECT count(*) FROM _upd_removed"))
    log.info("points update: %d sentences added, %d removed", added.num_rows, n_removed)

    # Units of the added sentences: known claims keep their unit, others are new.
    add_docs: list[str] = added.column("doc_id").to_pylist()
    add_claims = [
        claim_unit(t, set(state.names), min_content_words=settings.min_content_words)
        for t in added.column("text").to_pylist()
    ]
    keys = [unit_digest(c) if c is not None else b"" for c in add_claims]
    con.register("_upd_keys", pa.table({"unit_key": pa.array(sorted(set(keys) - {b""}))}))
    try:
        known = dict(
            con.execute(
                "SELECT u.unit_key, u.unit_no FROM _point_units u JOIN _upd_keys k USING (unit_key)"
            ).fetchall()
        )
    finally:
        con.unregister("_upd_keys")
    next_unit = (
        int(
            scalar(
                con,
                "SELECT greatest(coalesce(max(unit_no), -1), coalesce(max(cluster), -1)) "
                "FROM _point_units",
            )
        )
        + 1
    )
    new_keys: dict[bytes, int] = {}
    new_claims: list[str] = []
    new_docs: list[str] = []
    add_units = np.full(len(keys), -1, dtype=np.int64)
    for i, (key, claim) in enumerate(zip(keys, add_claims, strict=True)):
        if claim is None:
            continue
        unit = known.get(key)
        if unit is None:
            unit = new_keys.get(key)
        if unit is None:
            unit = new_keys[key] = next_unit + len(new_claims)
            new_claims.append(claim)
            new_docs.append(add_docs[i])
        add_units[i] = unit
    n_new = len(new_claims)

    # Units whose last sentence leaves.
    con.register(
        "_upd_added_units", pa.table({"unit_no": pa.array(np.unique(add_units[add_units >= 0]))})
    )
    try:
        gone = np.asarray(
            [
                r[0]
                for r in con.execute(
                    """SELECT DISTINCT r.unit_no FROM _upd_removed r
                       WHERE r.unit_no >= 0
                         AND r.unit_no NOT IN (SELECT unit_no FROM _upd_added_units)
                         AND NOT EXISTS (
                           SELECT 1 FROM _point_sentences ps
                           WHERE ps.unit_no = r.unit_no AND NOT EXISTS (
                             SELECT 1 FROM _upd_removed x
                             WHERE x.doc_id = ps.doc_id AND x.sent_no = ps.sent_no))"""
                ).fetchall()
            ],
            dtype=np.int64,
        )
    finally:
        con.unregister("_upd_added_units")

    losing = [
        int(r[0])
        for r in con.execute(
            """SELECT DISTINCT u.cluster FROM _upd_removed r JOIN _point_units u USING (unit_no)"""
        ).fetchall()
    ]
    embedder = load_embedder("minilm", device=settings.device)
    reference = reference_cells(embedder.name)
    if reference is None and state.centroids is not None:
        # Only reference cells stay put as the corpus grows; cells trained on it do not.
        log.info("points update: %s has no reference cells; starting over", embedder.name)
        return None
    if reference is not None:
        # The search must be the one a run from scratch on this many units would make.
        n_after = int(scalar(con, "SELECT count(*) FROM _point_units")) - gone.size + n_new
        stored = state.centroids
        searched = 1 if stored is None else stored.shape[0]
        if reference.cells_for(n_after) != searched or (
            stored is not None and not np.array_equal(stored, reference.level(searched))
        ):
            log.info(
                "points update: %d units call for %d reference cells, not the stored %d; "
                "starting over",
                n_after,
                reference.cells_for(n_after),
                searched,
            )
            return None
    lap = _Laps()
    new_raw = (
        cached_embed(store, embedder, progress=progress)(new_claims)
        if n_new
        else np.zeros((0, embedder.dim), dtype=np.float16)
    )
    embedding_seconds = lap("embedding %d new claims", n_new)
    filing = _filing(state, reference)
    units = _read_units(store, embedder.name, state, gone)
    if units is None:
        return None
    lap("reading %d units", units.unit_no.size)
    stored_cluster, stored_hub = units.cluster.copy(), units.hub.copy()
    new_unit_nos = np.arange(next_unit, next_unit + n_new, dtype=np.int64)
    new_groups = np.asarray([doc_group(d) for d in new_docs], dtype=np.int64)
    new_vectors = centre_rows(new_raw, state.mean).astype(np.float16)
    n_old = units.unit_no.size
    # Old units stay where the last run filed them; only the new ones are filed.
    new_probe = filing.wide(new_raw) if filing is not None else None
    units = Units(
        unit_no=np.concatenate([units.unit_no, new_unit_nos]),
        group=np.concatenate([units.group, new_groups]),
        cluster=np.concatenate([units.cluster, new_unit_nos]),
        hub=np.concatenate([units.hub, np.zeros(n_new, dtype=np.float32)]),
        cell=np.concatenate(
            [
                units.cell,
                new_probe[:, 0] if new_probe is not None else np.full(n_new, -1, np.int32),
            ]
        ).astype(np.int32),
        vectors=np.concatenate([units.vectors, new_vectors]),
    )
    del new_raw

    lists = neighbour_lists(
        store,
        units,
        n_old,
        new_probe,
        new_claims,
        state,
        settings,
        searched=filing.searched if filing is not None else 0,
        file_old=(
            None
            if filing is None
            else lambda rows: filing.narrow(
                _raw_vectors(store, embedder.name, units.unit_no[rows], state.mean.size)
            )
        ),
    )
    changed_units = np.unique(lists.src)
    hubs = unit_hubs(
        np.searchsorted(changed_units, lists.src),
        lists.base,
        n=changed_units.size,
        hubness_k=settings.hubness_k,
    ).astype(np.float32)
    units.hub[units.row(changed_units)] = hubs
    lap("searching: %d units' lists changed", changed_units.size)

    # Link again the clusters the changed units touch, dissolving those whose pairs changed.
    linked = recluster(
        store,
        units,
        lists,
        changed_units,
        settings,
        dissolve=np.asarray(losing, dtype=np.int64),
    )
    lap("linkage")
    changed_clusters = linked.changed()
    units.cluster[linked.rows] = linked.after
    # Clusters that gained sentences (new units are clusters of their own) or lost some.
    # (A unit that gains a sentence is never gone, so every one has a row.)
    gaining = np.unique(add_units[add_units >= 0])
    changed_clusters.update(units.cluster[units.row(gaining)].tolist())
    changed_clusters |= linked.labels_after(np.asarray(losing, dtype=np.int64))

    with store.transaction():
        _write_state_changes(
            store,
            units,
            n_old,
            (units.cluster[:n_old] != stored_cluster) | (units.hub[:n_old] != stored_hub),
            lists,
            changed_units,
            gone,
            added,
            add_units,
            new_claims,
            new_unit_nos,
            new_groups,
            state,
        )
        lap("writing the state")
        rebuilt = rebuild_points(store, units, changed_clusters, settings, state)
        n_changed, n_dropped = rebuilt.n_built, rebuilt.n_removed
        lap("building %d points", n_changed)
        write_point_pages(con, changed=rebuilt.point_ids)
        lap("writing their pages")
        store.record_run(
            "points_runs",
            settings,
            stats={
                "update": 1.0,
                "n_added_sentences": float(added.num_rows),
                "n_removed_sentences": float(n_removed),
                "n_new_units": float(n_new),
                "seconds": time.perf_counter() - started,
                # What the model cost (against the rest of the update, a monitoring log).
                "embedding_seconds": embedding_seconds,
            },
        )
    for table in ("_upd_eligible", "_upd_same_docs", "_upd_removed"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return UpdateCounts(
        n_added_sentences=added.num_rows,
        n_removed_sentences=n_removed,
        n_new_units=n_new,
        n_gone_units=int(gone.size),
        n_changed_points=n_changed,
        n_removed_points=n_dropped,
    )


Filing = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class _Filed:
    """How units are filed, from their raw vectors: ``wide``, a new unit's nearest cells
    as far as it offers itself; ``searched``, how many of them a run from scratch
    searches; ``narrow``, those alone."""

    wide: Filing
    searched: int
    narrow: Filing


# A new unit offers itself to old units in this many times the cells a run from scratch
# searches: an old unit is searched in the cells it probes, and a new unit that probes
# twice as far reaches nearly every old unit whose cells hold it (bench/update.py).
OFFER_REACH = 2


class _Laps:
    """Logs how long each step of an update took (the profile a slow update needs)."""

    def __init__(self) -> None:
        self.last = time.perf_counter()

    def __call__(self, step: str, *args: object) -> float:
        """Log the step's seconds since the last; returns them."""
        now = time.perf_counter()
        seconds = now - self.last
        log.info("points update: " + step + ": %.1f s", *args, seconds)
        self.last = now
        return seconds


def _filing(state: PointsState, reference: ReferenceCells | None) -> _Filed | None:
    """How a unit is filed under the reference cells the full run searched (the caller
    checked they are the stored ones); ``None`` when it searched exactly. The wide filing
    reaches :data:`OFFER_REACH` times as far."""
    centroids = state.centroids
    if centroids is None or reference is None:
        return None
    mean = reference.mean
    return _Filed(
        lambda raw: file_rows(raw, mean, centroids, OFFER_REACH * REFERENCE_PROBES),
        REFERENCE_PROBES,
        lambda raw: file_rows(raw, mean, centroids, REFERENCE_PROBES),
    )


def _read_units(store: Store, model: str, state: PointsState, gone: np.ndarray) -> Units | None:
    """Every stored unit but ``gone`` with its vector, centred as the full run centred it,
    and the cell it filed it under; ``None`` when the cache lacks a unit's vector."""
    con = store.con
    n_units = int(scalar(con, "SELECT count(*) FROM _point_units"))
    table = con.sql(
        """SELECT u.unit_no, u.doc_group, u.cluster, u.hub, u.cell, e.vector
           FROM _point_units u JOIN _embeddings e ON e.key = u.embed_key AND e.model = ?
           ORDER BY u.unit_no""",
        params=[model],
    ).to_arrow_table()
    if table.num_rows > n_units:
        # A cache written before keys were unique may hold a text twice: keep one vector.
        _, first = np.unique(table.column("unit_no").to_numpy(), return_index=True)
        table = table.take(pa.array(first))
    if table.num_rows != n_units:
        log.info("points update: the embedding cache lacks some units' vectors; starting over")
        return None
    vectors = np.empty((table.num_rows, state.mean.size), dtype=np.float16)
    row = 0
    for block in _vector_blocks(table.column("vector"), state.mean.size):
        for lo in range(0, len(block), 100_000):
            part = block[lo : lo + 100_000]
            at = slice(row + lo, row + lo + len(part))
            vectors[at] = centre_rows(part, state.mean)
        row += len(block)
    unit_no = table.column("unit_no").to_numpy()
    keep = ~np.isin(unit_no, gone)
    units = Units(
        unit_no=unit_no[keep],
        group=table.column("doc_group").to_numpy()[keep],
        cluster=table.column("cluster").to_numpy()[keep].copy(),
        hub=table.column("hub").to_numpy()[keep].astype(np.float32),
        cell=table.column("cell").to_numpy()[keep].astype(np.int32),
        vectors=vectors[keep] if not keep.all() else vectors,
    )
    return units


def _vector_blocks(column: pa.ChunkedArray, dim: int) -> Iterator[np.ndarray]:
    """The cache's float16 vectors (a binary column), one matrix per chunk, unconverted."""
    for chunk in column.chunks:
        # Every vector has the same width, so a chunk's values are one matrix.
        values = np.frombuffer(chunk.buffers()[2], dtype=np.float16)
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)
        start = offsets[chunk.offset] // 2
        yield values[start : start + len(chunk) * dim].reshape(len(chunk), dim)


def _raw_vectors(store: Store, model: str, unit_nos: np.ndarray, dim: int) -> np.ndarray:
    """The cached (uncentred) vectors of these units, in their order: what the last run
    filed them by."""
    con = store.con
    con.register("_upd_raw", pa.table({"unit_no": pa.array(unit_nos)}))
    try:
        table = con.sql(
            """SELECT u.unit_no, any_value(e.vector) AS vector FROM _point_units u
               JOIN _upd_raw USING (unit_no)
               JOIN _embeddings e ON e.key = u.embed_key AND e.model = ?
               GROUP BY u.unit_no ORDER BY u.unit_no""",
            params=[model],
        ).to_arrow_table()
    finally:
        con.unregister("_upd_raw")
    found = table.column("unit_no").to_numpy()
    blocks = list(_vector_blocks(table.column("vector"), dim))
    out = np.concatenate(blocks) if blocks else np.zeros((0, dim), dtype=np.float16)
    return out[np.searchsorted(found, unit_nos)]


def _write_state_changes(
    store: Store,
    units: Units,
    n_old: int,
    moved: np.ndarray,
    lists: Lists,
    changed_units: np.ndarray,
    gone: np.ndarray,
    added: pa.Table,
    add_units: np.ndarray,
    new_claims: list[str],
    new_unit_nos: np.ndarray,
    new_groups: np.ndarray,
    state: PointsState,
) -> None:
    con = store.con
    con.execute(
        """DELETE FROM _point_sentences ps USING _upd_removed r
           WHERE ps.doc_id = r.doc_id AND ps.sent_no = r.sent_no"""
    )
    rows = pa.table(
        {
            "doc_id": added.column("doc_id"),
            "sent_no": added.column("sent_no"),
            "unit_no": pa.array(add_units),
        }
    )
    _insert(store, "_point_sentences", rows)
    gone_table = pa.table({"unit_no": pa.array(gone)})
    con.register("_upd_gone", gone_table)
    try:
        con.execute("DELETE FROM _point_units WHERE unit_no IN (SELECT unit_no FROM _upd_gone)")
        con.execute(
            """DELETE FROM _point_edges WHERE src IN (SELECT unit_no FROM _upd_gone)
                  OR dst IN (SELECT unit_no FROM _upd_gone)"""
        )
    finally:
        con.unregister("_upd_gone")
    n_new = len(new_claims)
    if n_new:
        _insert(
            store,
            "_point_units",
            pa.table(
                {
                    "unit_no": pa.array(new_unit_nos),
                    "unit_key": pa.array([unit_digest(c) for c in new_claims], pa.binary()),
                    "claim": pa.array(new_claims, pa.string()),
                    "embed_key": pa.array([text_key(c) for c in new_claims], pa.string()),
                    "doc_group": pa.array(new_groups),
                    "cluster": pa.array(units.cluster[n_old:]),
                    "hub": pa.array(units.hub[n_old:]),
                    "cell": pa.array(units.cell[n_old:]),
                }
            ),
        )
    # Old units: their clusters and hubs as they now are.
    old = pa.table(
        {
            "unit_no": pa.array(units.unit_no[:n_old][moved]),
            "cluster": pa.array(units.cluster[:n_old][moved]),
            "hub": pa.array(units.hub[:n_old][moved]),
        }
    )
    con.register("_upd_old", old)
    try:
        con.execute(
            """UPDATE _point_units u SET cluster = o.cluster, hub = o.hub FROM _upd_old o
               WHERE u.unit_no = o.unit_no"""
        )
    finally:
        con.unregister("_upd_old")
    con.register("_upd_changed", pa.table({"unit_no": pa.array(changed_units)}))
    try:
        con.execute("DELETE FROM _point_edges WHERE src IN (SELECT unit_no FROM _upd_changed)")
    finally:
        con.unregister("_upd_changed")
    _insert(
        store,
        "_point_edges",
        pa.table(
            {
                "src": pa.array(lists.src),
                "dst": pa.array(lists.dst),
                "cosine": pa.array(lists.cosine.astype(np.float32)),
                "base": pa.array(lists.base.astype(np.float32)),
            }
        ),
    )
    con.execute("DELETE FROM _point_docs")
    con.execute("INSERT INTO _point_docs SELECT doc_id, text_hash FROM documents")
    df = state.df
    if df is not None and n_new:
        df = df + document_frequency(hashed_counts(new_claims))
    write_scalars(
        con,
        PointsState(
            settings=state.settings,
            mean=state.mean,
            centroids=state.centroids,
            names=state.names,
            df=df,
            n_texts=state.n_texts + n_new,
            average_claims=state.average_claims,
            full_docs=state.full_docs,
        ),
    )


def _insert(store: Store, table: str, rows: pa.Table) -> None:
    con = store.con
    con.register("_upd_rows", rows)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _upd_rows")
    finally:
        con.unregister("_upd_rows")
