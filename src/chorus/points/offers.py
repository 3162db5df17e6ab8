"""One pass over a block of an update's cosines, compiled: the new units' best ``k`` and the
offers old units take (:func:`chorus.points.update_graph._search_new`).

The update compares each new unit with every unit filed under its cells, about two thousand
million cosines for a thousand articles on a store of the news corpus. Done with numpy, each
block was read four times more (negated for ``argpartition``, copied for the old members'
columns, compared, searched for nonzeros), which cost twice the matrix product itself.
Here each cosine is read once, right after the product wrote it.

The best ``k`` are exact, ties broken by the smaller unit number: the order
:func:`chorus.points.neighbours.best_of_block` sorts by, which leaves a tie across the
k-th place to ``argpartition`` (``tests/test_update.py`` checks both against a sort).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from chorus.points.merging import _compiled

# Room for offers a block starts with; a block with more is scanned again with room for all.
_MIN_ROOM = 1024
_ROOM_PER_ROW = 4


class BlockOffers(NamedTuple):
    """Offers found in one block: (query row in the block, member row in the block, cosine)
    for each pair at least as close as the member's k-th stored cosine."""

    query: np.ndarray
    member: np.ndarray
    cosine: np.ndarray


@_compiled
def _scan_block(
    sims: np.ndarray,
    query_groups: np.ndarray,
    member_groups: np.ndarray,
    listing: np.ndarray,
    best: np.ndarray,
    best_score: np.ndarray,
    ids: np.ndarray,
    member_kth: np.ndarray,
    offer_query: np.ndarray,
    offer_member: np.ndarray,
    offer_cosine: np.ndarray,
) -> int:
    """Insert each listing row's cosines into its best (kept sorted by score, then id) and
    write the offers into the ``offer_*`` arrays while they have room; returns how many
    offers there are (more than their room: call again with room for all)."""
    nq, nm = sims.shape
    k = best.shape[1]
    room = offer_query.size
    n_offers = 0
    for q in range(nq):
        row = sims[q]
        group = query_groups[q]
        listed = listing[q]
        worst = best_score[q, k - 1]
        worst_id = best[q, k - 1]
        for m in range(nm):
            s = row[m]
            if s == -np.inf or member_groups[m] == group:
                continue
            if s >= member_kth[m]:
                if n_offers < room:
                    offer_query[n_offers] = q
                    offer_member[n_offers] = m
                    offer_cosine[n_offers] = s
                n_offers += 1
            if listed and (s > worst or (s == worst and ids[m] < worst_id)):
                i = k - 1
                member = ids[m]
                while i > 0 and (
                    best_score[q, i - 1] < s
                    or (best_score[q, i - 1] == s and best[q, i - 1] > member)
                ):
                    best_score[q, i] = best_score[q, i - 1]
                    best[q, i] = best[q, i - 1]
                    i -= 1
                best_score[q, i] = s
                best[q, i] = member
                worst = best_score[q, k - 1]
                worst_id = best[q, k - 1]
    return n_offers


def scan_block(
    sims: np.ndarray,
    query_groups: np.ndarray,
    member_groups: np.ndarray,
    listing: np.ndarray,
    best: np.ndarray,
    best_score: np.ndarray,
    ids: np.ndarray,
    member_kth: np.ndarray,
) -> BlockOffers:
    """Update ``best`` and ``best_score`` (sorted by cosine, then unit number; -1 and -inf
    pad) in place with the cosines ``sims`` of rows where ``listing`` holds to members
    ``ids``; return the offers: each pair with a finite cosine at least ``member_kth`` of its
    member (``+inf`` for a member that takes none). Pairs within one group (a query's and a
    member's ``*_groups``, their documents) are skipped, as if their cosine were -inf."""
    sims = np.ascontiguousarray(sims, dtype=np.float32)
    room = max(_MIN_ROOM, sims.shape[0] * _ROOM_PER_ROW)
    for _ in range(2):
        query = np.empty(room, dtype=np.int64)
        member = np.empty(room, dtype=np.int64)
        cosine = np.empty(room, dtype=np.float32)
        saved = (best.copy(), best_score.copy())
        n = _scan_block(
            sims,
            np.ascontiguousarray(query_groups, dtype=np.int64),
            np.ascontiguousarray(member_groups, dtype=np.int64),
            np.ascontiguousarray(listing, dtype=np.bool_),
            best,
            best_score,
            np.ascontiguousarray(ids, dtype=np.int64),
            np.ascontiguousarray(member_kth, dtype=np.float32),
            query,
            member,
            cosine,
        )
        if n <= room:
            return BlockOffers(query[:n], member[:n], cosine[:n])
        # Too many offers for the room: start the block over with room for all.
        best[...], best_score[...] = saved
        room = n
    raise AssertionError("the second pass had room for every offer")
