"""Talking points updated with the documents added (or replaced, or removed) since the last
run, instead of found again from scratch.

A full run leaves its clustering in the store (:mod:`chorus.points.state`). An update:

1. compares the sentences that can carry a claim now with those the state holds: sentences of
   new or replaced documents are added, those of replaced or removed documents (or now inside
   boilerplate) leave;
2. files the added sentences under the units (distinct claims) they state; claims never seen
   before become new units, embedded (through the cache) and centred on the stored mean;
3. finds each new unit's nearest units across documents in the stored inverted file (or
   exactly, for a corpus searched exactly), and offers each new unit to the old units it came
   close to: an old unit whose nearest neighbours it now is takes it into its list, and its hub
   is computed again;
4. resumes average linkage from the stored clusters over the clusters the changed units
   touch (:func:`chorus.points.cluster.continue_clusters`): new units join existing points or
   form new ones, and points may merge, exactly as the full run's merging would have gone on;
5. builds the points of every cluster that changed, and replaces only those in ``points`` and
   ``mentions``; they keep their ids (:mod:`chorus.points.lineage`).

Where it differs from a full run on the whole corpus: the corpus mean, the inverted file's
centroids, the masked names and the lexical weights stay those of the full run (the new
documents are a small share of the corpus); an old unit's neighbours are offered only new
units that found it among their closest; a cluster is never split again. ``bench/update.py``
measures how far the result is from a full run. ``--rebuild`` starts from scratch.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from chorus.embed.cache import cached_embed, text_key
from chorus.embed.models import load_embedder
from chorus.points.cluster import continue_clusters
from chorus.points.keyphrases import claim_terms, keyphrases
from chorus.points.lineage import carry_ids
from chorus.points.neighbours import (
    PROBES,
    centre_rows,
    document_frequency,
    floor_weak_pairs,
    hashed_counts,
    ivf_probes,
    lexical_idf,
    merge_best,
    pair_cosines,
    relative_to_hubs,
    search_cell,
    tfidf_rows,
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
from chorus.progress import ProgressFactory, no_progress
from chorus.store import Store, scalar

log = logging.getLogger(__name__)

# How many nearest units a new unit collects: its own neighbours are the best
# ``settings.neighbours``; the rest are the old units it is offered to.
_OFFER = 4


@dataclass
class _Units:
    """Every unit of the store after the update, in ``unit_no`` order, with its centred
    vector; ``row`` maps a unit number to its row."""

    unit_no: np.ndarray
    group: np.ndarray
    cluster: np.ndarray
    hub: np.ndarray
    cell: np.ndarray
    vectors: np.ndarray

    def row(self, unit_nos: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.searchsorted(self.unit_no, unit_nos)
        return out


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
    new_raw = (
        cached_embed(store, embedder, progress=progress)(new_claims)
        if n_new
        else np.zeros((0, embedder.dim), dtype=np.float16)
    )
    units = _read_units(store, embedder.name, state, gone)
    if units is None:
        return None
    stored_cluster, stored_hub = units.cluster.copy(), units.hub.copy()
    new_unit_nos = np.arange(next_unit, next_unit + n_new, dtype=np.int64)
    new_groups = np.asarray([doc_group(d) for d in new_docs], dtype=np.int64)
    new_vectors = centre_rows(new_raw, state.mean).astype(np.float16)
    n_old = units.unit_no.size
    new_cells = (
        ivf_probes(new_vectors, state.centroids, PROBES)
        if state.centroids is not None and n_new
        else np.zeros((n_new, 0), dtype=np.int64)
    )
    units = _Units(
        unit_no=np.concatenate([units.unit_no, new_unit_nos]),
        group=np.concatenate([units.group, new_groups]),
        cluster=np.concatenate([units.cluster, new_unit_nos]),
        hub=np.concatenate([units.hub, np.zeros(n_new, dtype=np.float32)]),
        cell=np.concatenate(
            [units.cell, new_cells[:, 0] if new_cells.shape[1] else np.full(n_new, -1, np.int32)]
        ).astype(np.int32),
        vectors=np.concatenate([units.vectors, new_vectors]),
    )
    del new_raw

    lists = _neighbour_lists(store, units, n_old, new_cells, new_claims, state, settings)
    changed_units = np.unique(lists.src)
    hubs = unit_hubs(
        np.searchsorted(changed_units, lists.src),
        lists.base,
        n=changed_units.size,
        hubness_k=settings.hubness_k,
    ).astype(np.float32)
    units.hub[units.row(changed_units)] = hubs

    # Resume the clustering over the clusters the changed units touch.
    before, after, relabel = _recluster(store, units, lists, changed_units, settings)
    changed_clusters = {
        label
        for label, members in after.items()
        if label not in before or sorted(members) != sorted(before[label])
    }
    # Clusters that gained sentences (new units are clusters of their own) or lost some.
    gaining = np.unique(add_units[add_units >= 0])
    # (A unit that gains a sentence is never gone, so every one has a row.)
    for c in units.cluster[units.row(gaining)].tolist():
        changed_clusters.add(relabel.get(int(c), int(c)))
    for c in losing:
        changed_clusters.add(relabel.get(c, c))
    for label, members in after.items():
        units.cluster[units.row(np.asarray(members, dtype=np.int64))] = label

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
        n_changed, n_dropped = _rebuild_points(store, units, changed_clusters, settings, state)
        write_point_pages(con)
        store.record_run(
            "points_runs",
            settings,
            stats={
                "update": 1.0,
                "n_added_sentences": float(added.num_rows),
                "n_removed_sentences": float(n_removed),
                "n_new_units": float(n_new),
                "seconds": time.perf_counter() - started,
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


def _read_units(store: Store, model: str, state: PointsState, gone: np.ndarray) -> _Units | None:
    """Every stored unit but ``gone`` with its vector, centred as the full run centred it;
    ``None`` when the cache lacks a unit's vector."""
    con = store.con
    n_units = int(scalar(con, "SELECT count(*) FROM _point_units"))
    table = con.sql(
        """SELECT u.unit_no, u.doc_group, u.cluster, u.hub, u.cell, e.vector
           FROM _point_units u JOIN _embeddings e ON e.key = u.embed_key AND e.model = ?
           ORDER BY u.unit_no""",
        params=[model],
    ).to_arrow_table()
    if table.num_rows != n_units:
        log.info("points update: the embedding cache lacks some units' vectors; starting over")
        return None
    dim = state.mean.size
    vectors = np.empty((table.num_rows, dim), dtype=np.float16)
    row = 0
    for chunk in table.column("vector").chunks:
        # Every vector has the same width, so a chunk's values are one matrix.
        values = np.frombuffer(chunk.buffers()[2], dtype=np.float16)
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)
        start = offsets[chunk.offset] // 2
        block = values[start : start + len(chunk) * dim].reshape(len(chunk), dim)
        for lo in range(0, len(chunk), 100_000):
            part = block[lo : lo + 100_000]
            vectors[row + lo : row + lo + len(part)] = centre_rows(part, state.mean)
        row += len(chunk)
    keep = ~np.isin(table.column("unit_no").to_numpy(), gone)
    return _Units(
        unit_no=table.column("unit_no").to_numpy()[keep],
        group=table.column("doc_group").to_numpy()[keep],
        cluster=table.column("cluster").to_numpy()[keep].copy(),
        hub=table.column("hub").to_numpy()[keep].astype(np.float32),
        cell=table.column("cell").to_numpy()[keep].astype(np.int32),
        vectors=vectors[keep] if not keep.all() else vectors,
    )


@dataclass(frozen=True)
class _Lists:
    """The new neighbour lists (``src`` → ``dst``, unit numbers, best first per ``src``) of
    every unit whose list changed: the new units' and the old units' that took a new unit."""

    src: np.ndarray
    dst: np.ndarray
    cosine: np.ndarray
    base: np.ndarray


def _neighbour_lists(
    store: Store,
    units: _Units,
    n_old: int,
    new_cells: np.ndarray,
    new_claims: list[str],
    state: PointsState,
    settings: PointsSettings,
) -> _Lists:
    k = settings.neighbours
    n_new = units.unit_no.size - n_old
    empty = _Lists(*(np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.float32, np.float32)))
    if n_new == 0:
        return empty
    wide = k * _OFFER
    queries = np.arange(n_old, units.unit_no.size)
    if state.centroids is None:
        found, found_score = search_cell(
            units.vectors[queries],
            units.group[queries],
            units.vectors,
            np.arange(units.unit_no.size),
            units.group,
            wide,
        )
    else:
        found = np.full((n_new, wide), -1, dtype=np.int64)
        found_score = np.full((n_new, wide), -np.inf, dtype=np.float32)
        home = units.cell
        by_home = np.argsort(home, kind="stable")
        cells = state.centroids.shape[0]
        bounds = np.searchsorted(home[by_home], np.arange(cells + 1))
        flat = new_cells.ravel()
        by_probe = np.argsort(flat, kind="stable")
        probe_bounds = np.searchsorted(flat[by_probe], np.arange(cells + 1))
        for cell in np.unique(flat).tolist():
            members = by_home[bounds[cell] : bounds[cell + 1]]
            asking = by_probe[probe_bounds[cell] : probe_bounds[cell + 1]] // new_cells.shape[1]
            if members.size == 0 or asking.size == 0:
                continue
            rows = queries[asking]
            ids, scores = search_cell(
                units.vectors[rows],
                units.group[rows],
                units.vectors[members],
                members,
                units.group[members],
                wide,
            )
            found[asking], found_score[asking] = merge_best(
                found[asking], found_score[asking], ids, scores, wide
            )
    # The new units' own lists: their best k.
    src_rows = np.repeat(queries, k)
    dst_rows = found[:, :k].ravel()
    cos = found_score[:, :k].ravel()
    ok = dst_rows >= 0
    src_rows, dst_rows, cos = src_rows[ok], dst_rows[ok], cos[ok]
    # Offers: an old unit among a new unit's closest takes it if it beats its own k-th.
    offer_old = found.ravel()
    offer_new = np.repeat(queries, wide)
    offer_cos = found_score.ravel()
    valid = (offer_old >= 0) & (offer_old < n_old)
    offer_old, offer_new, offer_cos = offer_old[valid], offer_new[valid], offer_cos[valid]
    taken_src, taken_dst, taken_cos, kept = _offers(
        store, units, offer_old, offer_new, offer_cos, k
    )
    src_rows = np.concatenate([src_rows, taken_src])
    dst_rows = np.concatenate([dst_rows, taken_dst])
    cos = np.concatenate([cos, taken_cos])
    base = cos.astype(np.float32)
    if settings.lexical_weight:
        lexical = _lexical(store, units, n_old, src_rows, dst_rows, new_claims, state)
        base = (base + settings.lexical_weight * lexical).astype(np.float32)
    src = units.unit_no[src_rows]
    dst = units.unit_no[dst_rows]
    # Edges an old unit keeps from its stored list carry their stored base.
    src = np.concatenate([src, kept.src])
    dst = np.concatenate([dst, kept.dst])
    cos = np.concatenate([cos, kept.cosine])
    base = np.concatenate([base, kept.base])
    order = np.lexsort((dst, -cos, src))
    return _Lists(src[order], dst[order], cos[order].astype(np.float32), base[order])


def _offers(
    store: Store,
    units: _Units,
    old_rows: np.ndarray,
    new_rows: np.ndarray,
    cos: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, _Lists]:
    """The offers old units take (rows: old, new, cosine) and, for each old unit that takes
    one, the stored edges it keeps (unit numbers, with their stored base)."""
    empty_i = np.zeros(0, dtype=np.int64)
    empty_f = np.zeros(0, dtype=np.float32)
    none = _Lists(empty_i, empty_i, empty_f, empty_f)
    if old_rows.size == 0:
        return empty_i, empty_i, empty_f, none
    con = store.con
    asked = np.unique(units.unit_no[old_rows])
    con.register("_upd_asked", pa.table({"src": pa.array(asked)}))
    try:
        stored = con.sql(
            """SELECT e.src, e.dst, e.cosine, e.base FROM _point_edges e
               JOIN _upd_asked a USING (src)"""
        ).to_arrow_table()
    finally:
        con.unregister("_upd_asked")
    s_src = stored.column("src").to_numpy()
    s_dst = stored.column("dst").to_numpy()
    s_cos = stored.column("cosine").to_numpy().astype(np.float32)
    s_base = stored.column("base").to_numpy().astype(np.float32)
    # Per old unit: its stored list and its offers, best k by cosine (ties by unit number).
    o_src = units.unit_no[old_rows]
    o_dst = units.unit_no[new_rows]
    all_src = np.concatenate([s_src, o_src])
    all_dst = np.concatenate([s_dst, o_dst])
    all_cos = np.concatenate([s_cos, cos.astype(np.float32)])
    is_offer = np.concatenate([np.zeros(s_src.size, bool), np.ones(o_src.size, bool)])
    order = np.lexsort((all_dst, -all_cos, all_src))
    all_src, all_dst, all_cos, is_offer = (
        all_src[order],
        all_dst[order],
        all_cos[order],
        is_offer[order],
    )
    first = np.searchsorted(all_src, all_src)
    rank = np.arange(all_src.size) - first
    top = rank < k
    # Units whose top k now holds an offer change their list; others keep theirs.
    changed = np.unique(all_src[top & is_offer])
    in_changed = np.isin(all_src, changed) & top
    take = in_changed & is_offer
    keep = in_changed & ~is_offer
    kept_base = np.zeros(int(keep.sum()), dtype=np.float32)
    if keep.any():
        lookup = {
            (int(a), int(b)): float(w)
            for a, b, w in zip(s_src.tolist(), s_dst.tolist(), s_base.tolist(), strict=True)
        }
        kept_base = np.asarray(
            [
                lookup[(int(a), int(b))]
                for a, b in zip(all_src[keep].tolist(), all_dst[keep].tolist(), strict=True)
            ],
            dtype=np.float32,
        )
    kept = _Lists(all_src[keep], all_dst[keep], all_cos[keep], kept_base)
    return units.row(all_src[take]), units.row(all_dst[take]), all_cos[take], kept


def _lexical(
    store: Store,
    units: _Units,
    n_old: int,
    src_rows: np.ndarray,
    dst_rows: np.ndarray,
    new_claims: list[str],
    state: PointsState,
) -> np.ndarray:
    """The lexical term of each pair, with the stored document frequencies plus the new
    units'."""
    rows = np.unique(np.concatenate([src_rows, dst_rows]))
    old = rows[rows < n_old]
    con = store.con
    con.register("_upd_claims", pa.table({"unit_no": pa.array(units.unit_no[old])}))
    try:
        claim_of = dict(
            con.execute(
                "SELECT unit_no, claim FROM _point_units JOIN _upd_claims USING (unit_no)"
            ).fetchall()
        )
    finally:
        con.unregister("_upd_claims")
    texts = [
        claim_of[int(units.unit_no[r])] if r < n_old else new_claims[r - n_old]
        for r in rows.tolist()
    ]
    new_counts = hashed_counts(new_claims)
    df = document_frequency(new_counts)
    if state.df is not None:
        df = df + state.df
    idf = lexical_idf(df, state.n_texts + len(new_claims))
    matrix = tfidf_rows(hashed_counts(texts), idf)
    out: np.ndarray = pair_cosines(
        matrix, np.searchsorted(rows, src_rows), np.searchsorted(rows, dst_rows)
    )
    return out


def _relative(
    base: np.ndarray, hub_a: np.ndarray, hub_b: np.ndarray, settings: PointsSettings
) -> np.ndarray:
    return floor_weak_pairs(
        base,
        relative_to_hubs(base, hub_a, hub_b),
        min_similarity=settings.min_similarity,
        floor=settings.floor,
    )


def _recluster(
    store: Store,
    units: _Units,
    lists: _Lists,
    changed_units: np.ndarray,
    settings: PointsSettings,
) -> tuple[dict[int, list[int]], dict[int, list[int]], dict[int, int]]:
    """Average linkage resumed over the clusters the changed units are in or reach with a
    strong pair. Returns the clusters before, after, and each old label's new label."""
    con = store.con
    con.register("_upd_changed", pa.table({"unit_no": pa.array(changed_units)}))
    try:
        # Stored edges into the changed units: their scores move with the hubs.
        into = con.sql(
            """SELECT e.src, e.dst, e.base FROM _point_edges e
               WHERE e.dst IN (SELECT unit_no FROM _upd_changed)
                 AND e.src NOT IN (SELECT unit_no FROM _upd_changed)"""
        ).to_arrow_table()
    finally:
        con.unregister("_upd_changed")
    src = np.concatenate([lists.src, into.column("src").to_numpy()])
    dst = np.concatenate([lists.dst, into.column("dst").to_numpy()])
    base = np.concatenate([lists.base, into.column("base").to_numpy().astype(np.float32)])
    alive = np.isin(dst, units.unit_no) & np.isin(src, units.unit_no)
    src, dst, base = src[alive], dst[alive], base[alive]
    rs, rd = units.row(src), units.row(dst)
    score = _relative(base, units.hub[rs], units.hub[rd], settings)
    strong = (score >= settings.threshold) & (units.group[rs] != units.group[rd])
    touched = set(units.cluster[units.row(changed_units)].tolist())
    touched |= set(units.cluster[rs[strong]].tolist()) | set(units.cluster[rd[strong]].tolist())
    if not touched:
        return {}, {}, {}
    in_touched = np.isin(units.cluster, np.asarray(sorted(touched), dtype=np.int64))
    members_rows = np.flatnonzero(in_touched)
    member_units = units.unit_no[members_rows]
    con.register("_upd_members", pa.table({"unit_no": pa.array(member_units)}))
    try:
        stored = con.sql(
            """SELECT e.src, e.dst, e.base FROM _point_edges e
               JOIN _upd_members a ON a.unit_no = e.src
               JOIN _upd_members b ON b.unit_no = e.dst"""
        ).to_arrow_table()
    finally:
        con.unregister("_upd_members")
    s_src = stored.column("src").to_numpy()
    s_dst = stored.column("dst").to_numpy()
    s_base = stored.column("base").to_numpy().astype(np.float32)
    # The changed units' lists replace what is stored for them.
    replaced = np.isin(s_src, changed_units)
    s_src, s_dst, s_base = s_src[~replaced], s_dst[~replaced], s_base[~replaced]
    inside = np.isin(lists.src, member_units) & np.isin(lists.dst, member_units)
    e_src = np.concatenate([s_src, lists.src[inside]])
    e_dst = np.concatenate([s_dst, lists.dst[inside]])
    e_base = np.concatenate([s_base, lists.base[inside]])
    ra, rb = units.row(e_src), units.row(e_dst)
    w = _relative(e_base, units.hub[ra], units.hub[rb], settings).astype(np.float64)
    lo, hi = np.minimum(e_src, e_dst), np.maximum(e_src, e_dst)
    keep = (lo != hi) & (units.group[ra] != units.group[rb])
    lo, hi, w = lo[keep], hi[keep], w[keep]
    order = np.lexsort((-w, hi, lo))
    lo, hi, w = lo[order], hi[order], w[order]
    first = np.ones(lo.size, dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, w = lo[first], hi[first], w[first]
    before: dict[int, list[int]] = defaultdict(list)
    for unit, label in zip(
        member_units.tolist(), units.cluster[members_rows].tolist(), strict=True
    ):
        before[int(label)].append(int(unit))
    group_of = dict(zip(member_units.tolist(), units.group[members_rows].tolist(), strict=True))
    after = continue_clusters(
        before,
        lo.tolist(),
        hi.tolist(),
        w.tolist(),
        group_of,
        threshold=settings.threshold,
        floor=settings.floor,
    )
    label_of = {x: c for c, xs in before.items() for x in xs}
    relabel = {label_of[x]: new for new, xs in after.items() for x in xs}
    return dict(before), after, relabel


def _write_state_changes(
    store: Store,
    units: _Units,
    n_old: int,
    moved: np.ndarray,
    lists: _Lists,
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


def _rebuild_points(
    store: Store,
    units: _Units,
    changed_clusters: set[int],
    settings: PointsSettings,
    state: PointsState,
) -> tuple[int, int]:
    """Build the points of ``changed_clusters`` again and put them in place of the points
    their sentences were in. Returns (points built, earlier points that left)."""
    from chorus.points.stage import (
        POINT_SCHEMA,
        DocInfo,
        PointSentences,
        build_point,
        mentions_table,
    )

    con = store.con
    clusters = np.asarray(sorted(changed_clusters), dtype=np.int64)
    con.register("_upd_clusters", pa.table({"cluster": pa.array(clusters)}))
    try:
        rows = con.sql(
            """SELECT u.cluster, ps.doc_id, ps.sent_no, s.start, s."end", s.text, ps.unit_no,
                      u.claim
               FROM _point_sentences ps JOIN _point_units u USING (unit_no)
               JOIN sentences s USING (doc_id, sent_no)
               WHERE u.cluster IN (SELECT cluster FROM _upd_clusters)
               ORDER BY u.cluster, ps.doc_id, ps.sent_no"""
        ).to_arrow_table()
    finally:
        con.unregister("_upd_clusters")
    doc_ids = sorted(set(rows.column("doc_id").to_pylist()))
    con.register("_upd_docs", pa.table({"doc_id": pa.array(doc_ids, pa.string())}))
    try:
        docs = {
            d: DocInfo(s, p)
            for d, s, p in con.execute(
                "SELECT doc_id, source, published_at FROM documents JOIN _upd_docs USING (doc_id)"
            ).fetchall()
        }
    finally:
        con.unregister("_upd_docs")
    cluster_col = rows.column("cluster").to_numpy()
    bounds = np.flatnonzero(np.diff(cluster_col)) + 1
    starts = np.concatenate([[0], bounds]).tolist()
    ends = np.concatenate([bounds, [len(cluster_col)]]).tolist()
    cols = {name: rows.column(name).to_pylist() for name in rows.column_names}
    built = []
    for lo, hi in zip(starts, ends, strict=True):
        if lo == hi:
            continue
        unit_list = cols["unit_no"][lo:hi]
        distinct = sorted(set(unit_list))
        vectors = units.vectors[units.row(np.asarray(distinct, dtype=np.int64))]
        point = build_point(
            PointSentences(
                doc_ids=cols["doc_id"][lo:hi],
                sent_nos=cols["sent_no"][lo:hi],
                starts=cols["start"][lo:hi],
                ends=cols["end"][lo:hi],
                texts=cols["text"][lo:hi],
                units=unit_list,
            ),
            unit_texts={u: c for u, c in zip(unit_list, cols["claim"][lo:hi], strict=True)},
            unit_vectors={u: vectors[i].astype(np.float32) for i, u in enumerate(distinct)},
            docs=docs,
            settings=settings,
        )
        if point is not None:
            built.append(point)

    # The earlier points these sentences were in, or that lost sentences.
    sentence_keys = pa.table(
        {
            "doc_id": pa.array(cols["doc_id"], pa.string()),
            "sent_no": pa.array(cols["sent_no"], pa.int32()),
        }
    )
    con.register("_upd_sentences", sentence_keys)
    try:
        old_ids = [
            r[0]
            for r in con.execute(
                """SELECT DISTINCT m.point_id FROM mentions m
                   WHERE EXISTS (SELECT 1 FROM _upd_sentences k
                                 WHERE k.doc_id = m.doc_id AND k.sent_no = m.sent_no)
                      OR EXISTS (SELECT 1 FROM _upd_removed r
                                 WHERE r.doc_id = m.doc_id AND r.sent_no = m.sent_no)
                   ORDER BY 1"""
            ).fetchall()
        ]
    finally:
        con.unregister("_upd_sentences")

    totals = Counter(
        dict(
            con.execute(
                "SELECT term, n FROM _point_terms WHERE term IN (SELECT unnest(?))",
                [sorted({t for p in built for t in claim_terms(p.claims)})],
            ).fetchall()
        )
    )
    for p in built:
        totals.update(claim_terms(p.claims))
    phrases = keyphrases([p.claims for p in built], totals=totals, average=state.average_claims)
    point_rows = [{**p.row, "keyphrases": ph} for p, ph in zip(built, phrases, strict=True)]
    mention_rows = [m for p in built for m in p.mentions]
    new_mentions = mentions_table(mention_rows)

    con.register("_upd_old_ids", pa.table({"point_id": pa.array(old_ids, pa.string())}))
    con.register(
        "_upd_new_mentions", new_mentions.select(["point_id", "doc_id", "sent_no", "text"])
    )
    try:
        shared = con.execute(
            """SELECT o.point_id, n.point_id, count(*)
               FROM mentions o JOIN _upd_new_mentions n
                 ON o.doc_id = n.doc_id AND o.sent_no = n.sent_no AND o.text = n.text
               WHERE o.point_id IN (SELECT point_id FROM _upd_old_ids)
               GROUP BY ALL"""
        ).fetchall()
        families = dict(
            con.execute(
                "SELECT point_id, family_id FROM points JOIN _upd_old_ids USING (point_id)"
            ).fetchall()
        )
    finally:
        con.unregister("_upd_new_mentions")
    carried = carry_ids(shared, old_ids, [str(r["point_id"]) for r in point_rows])
    for r in point_rows:
        r["point_id"] = carried.ids[str(r["point_id"])]
        # A point that continues an earlier one stays in its family; a new one starts its own.
        r["family_id"] = families.get(str(r["point_id"])) or r["point_id"]
    renamed = [(carried.ids[str(m[0])], *m[1:]) for m in mention_rows]
    points = pa.Table.from_pylist(point_rows, schema=POINT_SCHEMA)
    mentions = mentions_table(renamed).sort_by(
        [("point_id", "ascending"), ("doc_id", "ascending"), ("sent_no", "ascending")]
    )
    try:
        con.execute("DELETE FROM mentions WHERE point_id IN (SELECT point_id FROM _upd_old_ids)")
        con.execute("DELETE FROM points WHERE point_id IN (SELECT point_id FROM _upd_old_ids)")
    finally:
        con.unregister("_upd_old_ids")
    store.insert_arrow("points", points)
    store.insert_arrow("mentions", mentions)
    if carried.lineage:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        con.executemany(
            "INSERT INTO point_lineage VALUES (?, ?, ?, ?)",
            [(now, point_id, event, other) for point_id, event, other in carried.lineage],
        )
    # The keyphrase counts grow with what the changed points hold.
    con.register(
        "_upd_terms",
        pa.table(
            {
                "term": pa.array(list(totals), pa.string()),
                "n": pa.array(list(totals.values()), pa.int32()),
            }
        ),
    )
    try:
        con.execute("DELETE FROM _point_terms WHERE term IN (SELECT term FROM _upd_terms)")
        con.execute("INSERT INTO _point_terms SELECT term, n FROM _upd_terms")
    finally:
        con.unregister("_upd_terms")
    removed = len(set(old_ids) - set(carried.ids.values()))
    return len(built), removed
