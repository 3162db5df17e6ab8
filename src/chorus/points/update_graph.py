"""The graph side of an update (:mod:`chorus.points.update`): the new units' nearest
neighbours in the stored inverted file, the offers old units take, the lexical term, and
average linkage resumed over the clusters the changed units touch."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from chorus.points.cluster import resume_linkage
from chorus.points.neighbours import (
    cell_similarities,
    document_frequency,
    floor_weak_pairs,
    hashed_counts,
    lexical_idf,
    pair_cosines,
    probed_cells,
    relative_to_hubs,
    tfidf_rows,
)
from chorus.points.offers import scan_block
from chorus.points.settings import PointsSettings
from chorus.points.state import PointsState
from chorus.store import Store

log = logging.getLogger(__name__)


@dataclass
class Units:
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


@dataclass(frozen=True)
class Lists:
    """The new neighbour lists (``src`` → ``dst``, unit numbers, best first per ``src``) of
    every unit whose list changed: the new units' and the old units' that took a new unit;
    ``dropped``: the units that left an old unit's list to make room."""

    src: np.ndarray
    dst: np.ndarray
    cosine: np.ndarray
    base: np.ndarray
    dropped: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _stored_edges(store: Store, where: str, **unit_sets: np.ndarray) -> Lists:
    """The stored kNN edges ``e`` that ``where`` selects; it may read each of ``unit_sets``
    as a table of unit numbers (``unit_no``) by its name."""
    con = store.con
    for name, units in unit_sets.items():
        con.register(name, pa.table({"unit_no": pa.array(units)}))
    try:
        rows = con.sql(
            f"SELECT e.src, e.dst, e.cosine, e.base FROM _point_edges e WHERE {where}"
        ).to_arrow_table()
    finally:
        for name in unit_sets:
            con.unregister(name)
    return Lists(
        rows.column("src").to_numpy(),
        rows.column("dst").to_numpy(),
        rows.column("cosine").to_numpy().astype(np.float32),
        rows.column("base").to_numpy().astype(np.float32),
    )


def neighbour_lists(
    store: Store,
    units: Units,
    n_old: int,
    new_probe: np.ndarray | None,
    new_claims: list[str],
    state: PointsState,
    settings: PointsSettings,
    *,
    searched: int = 0,
    file_old: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Lists:
    """The new units' lists, and the lists of old units that now have a new unit among
    their nearest. ``new_probe``: the new units' nearest cells, home first (``None`` for
    an exact search; an old unit's home is ``units.cell``), of which a run from scratch
    searches the first ``searched``; ``file_old`` gives old units' (rows) first
    ``searched`` cells.

    A new unit is searched as a run from scratch searches it, in the first ``searched``
    cells it probes. An old unit is offered the new units that reached it in any of their
    cells and beat its stored k-th: the same cosines read the other way, so old units are
    never searched again. Exact without cells. With cells, a run from scratch searches an
    old unit in the cells *it* probes, so it takes only offers filed there; a near new unit
    probes the old unit's cell in return, and ``new_probe`` reaches wider than the search
    so that one a little further off does too. What is missed: a new unit in an old
    unit's cells that does not reach the old unit's own cell (``bench/update.py``
    measures it)."""
    k = settings.neighbours
    n_new = units.unit_no.size - n_old
    empty = Lists(*(np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.float32, np.float32)))
    if n_new == 0:
        return empty
    kth = _kth_cosines(store, units.unit_no[:n_old], k)
    found = _search_new(units, n_old, new_probe, searched, k, kth)
    if file_old is not None:
        found = _in_searched_cells(found, units, file_old)
    # The new units' own lists: their best k.
    src_rows = np.repeat(np.arange(n_old, units.unit_no.size), k)
    dst_rows = found.best.ravel()
    cos = found.best_score.ravel()
    ok = dst_rows >= 0
    src_rows, dst_rows, cos = src_rows[ok], dst_rows[ok], cos[ok]
    taken_src, taken_dst, taken_cos, kept = _offers(
        store, units, found.offer_old, found.offer_new, found.offer_cos, k
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
    return Lists(src[order], dst[order], cos[order].astype(np.float32), base[order], kept.dropped)


def _kth_cosines(store: Store, old_units: np.ndarray, k: int) -> np.ndarray:
    """Each old unit's k-th stored cosine: a new unit must reach it to enter the unit's
    list (-inf for a list shorter than ``k``, which takes any)."""
    rows = store.con.sql(
        "SELECT src, min(cosine) AS kth FROM _point_edges GROUP BY src HAVING count(*) >= ?",
        params=[k],
    ).to_arrow_table()
    kth = np.full(old_units.size, -np.inf, dtype=np.float32)
    src = rows.column("src").to_numpy()
    at = np.searchsorted(old_units, src)
    known = at < old_units.size
    known[known] = old_units[at[known]] == src[known]
    kth[at[known]] = rows.column("kth").to_numpy()[known]
    return kth


@dataclass(frozen=True)
class _Found:
    """The new units' best ``k`` (rows, cosines; -1 and -inf pad) and the offers to old
    units: (old row, new row, cosine) for every new unit at least as close as the old
    unit's k-th."""

    best: np.ndarray
    best_score: np.ndarray
    offer_old: np.ndarray
    offer_new: np.ndarray
    offer_cos: np.ndarray


def _search_new(
    units: Units,
    n_old: int,
    new_probe: np.ndarray | None,
    searched: int,
    k: int,
    kth: np.ndarray,
) -> _Found:
    """Each new unit against every unit filed under one of its first ``searched`` cells
    (every unit when ``new_probe`` is ``None``), as in a run from scratch; the offers to
    old units come from the cosines in all its cells."""
    n = units.unit_no.size
    new_rows = np.arange(n_old, n)
    best = np.full((n - n_old, k), -1, dtype=np.int64)
    best_score = np.full((n - n_old, k), -np.inf, dtype=np.float32)
    offers: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if new_probe is None:
        cells = [(np.arange(n), new_rows, np.ones(new_rows.size, dtype=bool))]
    else:
        cells = _cells_asked(units.cell, new_probe, new_rows, searched)
    for members, queries, listing in cells:
        at = queries - n_old
        # An old member takes a new unit at least as close as its k-th; a new one takes none.
        is_old = members < n_old
        member_kth = np.full(members.size, np.inf, dtype=np.float32)
        member_kth[is_old] = kth[members[is_old]]
        query_groups, member_groups = units.group[queries], units.group[members]
        for qs, ms, sims in cell_similarities(
            units.vectors[queries],
            query_groups,
            units.vectors[members],
            member_groups,
            mask_groups=False,
        ):
            rows = at[qs]
            block_best, block_score = best[rows], best_score[rows]
            got = scan_block(
                sims,
                query_groups[qs],
                member_groups[ms],
                listing[qs],
                block_best,
                block_score,
                members[ms],
                member_kth[ms],
            )
            best[rows], best_score[rows] = block_best, block_score
            if got.query.size:
                offers.append((members[ms][got.member], queries[qs][got.query], got.cosine))
    if offers:
        offer_old, offer_new, offer_cos = (np.concatenate(x) for x in zip(*offers, strict=True))
    else:
        offer_old = offer_new = np.zeros(0, dtype=np.int64)
        offer_cos = np.zeros(0, dtype=np.float32)
    return _Found(best, best_score, offer_old, offer_new, offer_cos.astype(np.float32))


def _in_searched_cells(
    found: _Found, units: Units, file_old: Callable[[np.ndarray], np.ndarray]
) -> _Found:
    """The offers filed under a cell the old unit is searched in."""
    asked, at = np.unique(found.offer_old, return_inverse=True)
    if asked.size == 0:
        return found
    searched = file_old(asked)
    home = units.cell[found.offer_new]
    inside = (searched[at] == home[:, None]).any(axis=1)
    return _Found(
        found.best,
        found.best_score,
        found.offer_old[inside],
        found.offer_new[inside],
        found.offer_cos[inside],
    )


def _cells_asked(
    home: np.ndarray, query_probe: np.ndarray, queries: np.ndarray, searched: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per cell some query probes: (its member rows, the query rows that probe it, whether
    it is among the first ``searched`` each probes)."""
    width = query_probe.shape[1]
    return [
        (members, queries[asked // width], asked % width < searched)
        for members, asked in probed_cells(home, query_probe)
    ]


def _offers(
    store: Store,
    units: Units,
    old_rows: np.ndarray,
    new_rows: np.ndarray,
    cos: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Lists]:
    """The offers old units take (rows: old, new, cosine) and, for each old unit that takes
    one, the stored edges it keeps (unit numbers, with their stored base)."""
    empty_i = np.zeros(0, dtype=np.int64)
    empty_f = np.zeros(0, dtype=np.float32)
    none = Lists(empty_i, empty_i, empty_f, empty_f)
    if old_rows.size == 0:
        return empty_i, empty_i, empty_f, none
    stored = _stored_edges(
        store, "e.src IN (SELECT unit_no FROM _asked)", _asked=np.unique(units.unit_no[old_rows])
    )
    s_src, s_dst, s_cos, s_base = stored.src, stored.dst, stored.cosine, stored.base
    # An edge to a unit whose last sentence left is no neighbour any more.
    alive = np.isin(s_dst, units.unit_no)
    s_src, s_dst, s_cos, s_base = s_src[alive], s_dst[alive], s_cos[alive], s_base[alive]
    # Per old unit: its stored list and its offers, best k by cosine (ties by unit number).
    o_src = units.unit_no[old_rows]
    o_dst = units.unit_no[new_rows]
    all_src = np.concatenate([s_src, o_src])
    all_dst = np.concatenate([s_dst, o_dst])
    all_cos = np.concatenate([s_cos, cos.astype(np.float32)])
    all_base = np.concatenate([s_base, np.zeros(o_src.size, dtype=np.float32)])
    is_offer = np.concatenate([np.zeros(s_src.size, bool), np.ones(o_src.size, bool)])
    order = np.lexsort((all_dst, -all_cos, all_src))
    all_src, all_dst, all_cos, all_base, is_offer = (
        all_src[order],
        all_dst[order],
        all_cos[order],
        all_base[order],
        is_offer[order],
    )
    first = np.searchsorted(all_src, all_src)
    rank = np.arange(all_src.size) - first
    top = rank < k
    # Units whose top k now holds an offer change their list; others keep theirs.
    changed = np.unique(all_src[top & is_offer])
    in_changed = np.isin(all_src, changed)
    take = in_changed & top & is_offer
    keep = in_changed & top & ~is_offer
    kept = Lists(
        all_src[keep],
        all_dst[keep],
        all_cos[keep],
        all_base[keep],
        dropped=np.unique(all_dst[in_changed & ~top & ~is_offer]),
    )
    return units.row(all_src[take]), units.row(all_dst[take]), all_cos[take], kept


def _lexical(
    store: Store,
    units: Units,
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


@dataclass(frozen=True)
class Reclustered:
    """What linkage did over the clusters an update touched: their member ``units``
    (sorted) at ``rows`` of :class:`Units`, each unit's label ``before`` and ``after``."""

    units: np.ndarray
    rows: np.ndarray
    before: np.ndarray
    after: np.ndarray

    @classmethod
    def nothing(cls) -> Reclustered:
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, empty, empty, empty)

    def changed(self) -> set[int]:
        """The labels after whose members differ from the cluster of that label before."""
        labels, n_after = np.unique(self.after, return_counts=True)
        n_kept = np.bincount(
            np.searchsorted(labels, self.after[self.before == self.after]), minlength=labels.size
        )
        had, n_had = np.unique(self.before, return_counts=True)
        at = np.searchsorted(had, labels).clip(max=max(had.size - 1, 0))
        n_before = np.where((had.size > 0) & (had[at] == labels), n_had[at], 0)
        same = (n_kept == n_after) & (n_before == n_after)
        return set(labels[~same].tolist())

    def labels_after(self, before: np.ndarray) -> set[int]:
        """The labels after of the units that were in clusters ``before``; a cluster no
        unit of which took part keeps its label."""
        took_part = np.isin(before, self.before)
        return set(self.after[np.isin(self.before, before)].tolist()) | set(
            before[~took_part].tolist()
        )


def recluster(
    store: Store,
    units: Units,
    lists: Lists,
    changed_units: np.ndarray,
    settings: PointsSettings,
    *,
    dissolve: np.ndarray,
) -> Reclustered:
    """Average linkage again over the clusters the update touched.

    A cluster whose pairs changed is dissolved into its units: a unit that took a new
    neighbour, a unit that left such a list (``lists.dropped``), and ``dissolve`` (labels
    of clusters that lost a unit or a sentence). A run from scratch would not have formed
    such a cluster from the same merges, and merely resuming from it keeps pairs that no
    longer hold it together. The clusters their units reach with a strong pair take part
    whole; linkage then goes on from that partition
    (:func:`chorus.points.cluster.continue_clusters`)."""
    # A unit that left a changed list ends a pair that changed too.
    broken = set(units.cluster[units.row(changed_units)].tolist())
    broken |= set(units.cluster[units.row(lists.dropped)].tolist())
    broken |= set(dissolve.tolist())
    broken_rows = np.flatnonzero(np.isin(units.cluster, np.asarray(sorted(broken), np.int64)))
    broken_units = units.unit_no[broken_rows]
    # Every edge at a broken unit (its scores move with the hubs): the clusters it reaches
    # with a strong pair join the linkage whole.
    reach = _stored_edges(
        store,
        "e.src IN (SELECT unit_no FROM _broken) OR e.dst IN (SELECT unit_no FROM _broken)",
        _broken=broken_units,
    )
    src = np.concatenate([lists.src, reach.src])
    dst = np.concatenate([lists.dst, reach.dst])
    base = np.concatenate([lists.base, reach.base])
    replaced = np.isin(src, changed_units) & (np.arange(src.size) >= lists.src.size)
    alive = np.isin(dst, units.unit_no) & np.isin(src, units.unit_no) & ~replaced
    src, dst, base = src[alive], dst[alive], base[alive]
    rs, rd = units.row(src), units.row(dst)
    score = _relative(base, units.hub[rs], units.hub[rd], settings)
    strong = (score >= settings.threshold) & (units.group[rs] != units.group[rd])
    touched = set(broken)
    touched |= set(units.cluster[rs[strong]].tolist()) | set(units.cluster[rd[strong]].tolist())
    if not touched:
        return Reclustered.nothing()
    in_touched = np.isin(units.cluster, np.asarray(sorted(touched), dtype=np.int64))
    members_rows = np.flatnonzero(in_touched)
    member_units = units.unit_no[members_rows]
    stored = _stored_edges(
        store,
        """e.src IN (SELECT unit_no FROM _members)
           AND e.dst IN (SELECT unit_no FROM _members)""",
        _members=member_units,
    )
    s_src, s_dst, s_base = stored.src, stored.dst, stored.base
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
    before = units.cluster[members_rows]
    # A dissolved cluster's units start on their own; the others start whole.
    dissolved = np.isin(before, np.asarray(sorted(broken), dtype=np.int64))
    after = resume_linkage(
        member_units,
        np.where(dissolved, member_units, before),
        lo,
        hi,
        w,
        units.group[members_rows],
        threshold=settings.threshold,
        floor=settings.floor,
    )
    log.info(
        "points update: %d clusters dissolved (%d units), linkage over %d units",
        int((np.unique(before[dissolved], return_counts=True)[1] > 1).sum()),
        broken_units.size,
        member_units.size,
    )
    return Reclustered(member_units, members_rows, before.copy(), after)
