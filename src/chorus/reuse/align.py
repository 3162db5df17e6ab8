"""Matches of one document pair chained into aligned passages, then extended word by word.

Chaining: matches on the same diagonal (pos_b - pos_a) with small gaps form islands
(vectorised); islands whose diagonals differ by a few words (an added or dropped word shifts
the diagonal) and that follow each other closely are merged. A run needs enough matches, and
few words left uncovered by matching n-grams (about one per edit), so a few stock phrases in a
row are not a passage.
Extension: from each end of a run, a small alignment walks outwards over equal tokens and
single substituted, added or dropped words, as long as the next words agree again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from chorus.reuse.candidates import Matches
from chorus.reuse.settings import ReuseSettings

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]


@dataclass(frozen=True)
class Run:
    """An aligned passage: tokens [a_start, a_end) of doc_a match [b_start, b_end) of doc_b."""

    doc_a: int
    a_start: int
    a_end: int
    doc_b: int
    b_start: int
    b_end: int
    matches: int
    # Character offsets of the same bounds, once known (see chorus.reuse.finish).
    a_start_char: int = -1
    a_end_char: int = -1
    b_start_char: int = -1
    b_end_char: int = -1


def chain(matches: Matches, settings: ReuseSettings) -> list[Run]:
    """Runs of matches per document pair that pass the length and coverage tests."""
    if len(matches) == 0:
        return []
    n = settings.ngram
    gap = settings.max_gap
    da = matches.doc_a.astype(np.int64)
    db = matches.doc_b.astype(np.int64)
    pa = matches.pos_a.astype(np.int64)
    pb = matches.pos_b.astype(np.int64)
    diag = pb - pa
    order = np.lexsort((pa, diag, db, da))
    da, db, pa, pb, diag = da[order], db[order], pa[order], pb[order], diag[order]
    same_pair = np.zeros(len(da), dtype=np.bool_)
    same_pair[1:] = (da[1:] == da[:-1]) & (db[1:] == db[:-1])
    new = np.ones(len(da), dtype=np.bool_)
    new[1:] = ~same_pair[1:] | (diag[1:] != diag[:-1]) | (pa[1:] - pa[:-1] > gap)
    starts = np.flatnonzero(new)
    last = np.append(starts[1:], len(da)) - 1
    count = last - starts + 1
    # Words covered by each island's n-grams: each match covers n words, less its overlap
    # with the next match of the island.
    step = np.empty(len(pa), dtype=np.int64)
    step[:-1] = np.minimum(pa[1:] - pa[:-1], n)
    step[last] = n
    covered = np.add.reduceat(step, starts)
    # A document pair whose islands together cover fewer words than the shortest passage
    # could (after the tolerated edits) holds no passage: most pairs share one stock phrase.
    pair_first = ~same_pair[starts]
    pair_of_island = np.cumsum(pair_first) - 1
    pair_covered = np.add.reduceat(covered, np.flatnonzero(pair_first))
    pair_count = np.add.reduceat(count, np.flatnonzero(pair_first))
    need = settings.min_span * (1.0 - settings.max_unmatched_share)
    viable = (pair_covered >= need) & (pair_count >= settings.min_matches)
    keep = viable[pair_of_island]
    starts, last, count, covered = starts[keep], last[keep], count[keep], covered[keep]
    if len(starts) == 0:
        return []
    i_da, i_db = da[starts], db[starts]
    i_a0 = pa[starts]
    i_a1 = pa[last] + n
    i_b0 = pb[starts]
    i_b1 = pb[last] + n
    # Islands sorted by pair, then by position in doc_a, merged greedily.
    order = np.lexsort((i_b0, i_a0, i_db, i_da))
    runs: list[Run] = []
    limits = _Limits.of(settings)
    cur: list[int] | None = None
    for k in order.tolist():
        a0, a1, b0, b1 = int(i_a0[k]), int(i_a1[k]), int(i_b0[k]), int(i_b1[k])
        c, cov = int(count[k]), int(covered[k])
        pair_a, pair_b = int(i_da[k]), int(i_db[k])
        if (
            cur is not None
            and cur[0] == pair_a
            and cur[3] == pair_b
            and 0 <= a0 - cur[2] + n <= gap + n
            and -n <= b0 - cur[5] <= gap
            and abs((b0 - a0) - (cur[4] - cur[1])) <= gap
        ):
            cur[2] = max(cur[2], a1)
            cur[5] = max(cur[5], b1)
            cur[6] += c
            cur[7] += cov
            continue
        if cur is not None:
            _emit(cur, limits, runs)
        cur = [pair_a, a0, a1, pair_b, b0, b1, c, cov]
    if cur is not None:
        _emit(cur, limits, runs)
    return runs


@dataclass(frozen=True)
class _Limits:
    min_matches: int
    min_span: int
    max_unmatched: float

    @staticmethod
    def of(settings: ReuseSettings) -> _Limits:
        return _Limits(settings.min_matches, settings.min_span, settings.max_unmatched_share)


def _emit(cur: list[int], limits: _Limits, out: list[Run]) -> None:
    doc_a, a0, a1, doc_b, b0, b1, count, covered = cur
    span_a, span_b = a1 - a0, b1 - b0
    if count < limits.min_matches:
        return
    if span_a < limits.min_span or span_b < limits.min_span:
        return
    if span_a - min(covered, span_a) > limits.max_unmatched * span_a:
        return
    if doc_a == doc_b and b0 < a1:
        return  # overlapping copies of one stretch of a document
    out.append(Run(doc_a, a0, a1, doc_b, b0, b1, count))


class Window(Protocol):
    """Token hashes of one document around one end of a run, by token index."""

    def hash_at(self, i: int) -> int | None: ...


def _step(
    a: Window, b: Window, i: int, j: int, di: int, look: int, edits: bool
) -> tuple[int, int] | None:
    """The next aligned position from (i, j) moving by di (+1 or -1), or None to stop."""

    def ok(x: int, y: int) -> bool:
        ha = a.hash_at(x)
        return ha is not None and ha == b.hash_at(y)

    if ok(i, j):
        return i, j
    if not edits:
        return None
    # substitution, a word added in b, a word added in a — each confirmed by `look` more words
    for si, sj in ((di, di), (0, di), (di, 0)):
        x, y = i + si, j + sj
        if all(ok(x + di * t, y + di * t) for t in range(look)):
            return x, y
    return None


def extend(
    run: Run,
    left: tuple[Window, Window],
    right: tuple[Window, Window],
    settings: ReuseSettings,
) -> Run:
    """Widen a run outwards over matching words (see the module docstring). ``left`` and
    ``right`` hold the token hashes of doc_a and doc_b around each end; extension stops at a
    window's edge."""
    look = 2
    edits = settings.edit_tolerance > 0
    a0, b0, a1, b1 = run.a_start, run.b_start, run.a_end, run.b_end
    same_doc = run.doc_a == run.doc_b
    # rightwards: next positions a1, b1 (in one document, copy a must stay before copy b)
    while True:
        nxt = _step(right[0], right[1], a1, b1, +1, look, edits)
        if nxt is None or (same_doc and nxt[0] >= b0):
            break
        a1, b1 = nxt[0] + 1, nxt[1] + 1
    # leftwards: previous positions a0 - 1, b0 - 1
    while True:
        nxt = _step(left[0], left[1], a0 - 1, b0 - 1, -1, look, edits)
        if nxt is None or (same_doc and nxt[1] < a1):
            break
        a0, b0 = nxt
    return Run(run.doc_a, a0, a1, run.doc_b, b0, b1, run.matches)


def merge_adjacent(runs: list[Run], settings: ReuseSettings) -> list[Run]:
    """Join runs of one document pair that, once extended, follow each other within
    ``max_gap`` words on both sides: one passage with a rougher stretch, not two."""
    gap = settings.max_gap
    out: list[Run] = []
    for r in sorted(runs, key=lambda r: (r.doc_a, r.doc_b, r.a_start, r.b_start)):
        if out:
            p = out[-1]
            if (
                p.doc_a == r.doc_a
                and p.doc_b == r.doc_b
                and -gap <= r.a_start - p.a_end <= gap
                and -gap <= r.b_start - p.b_end <= gap
                and r.a_start >= p.a_start
                and r.b_start >= p.b_start
                and (r.doc_a != r.doc_b or max(p.a_end, r.a_end) <= p.b_start)
            ):
                a_last = p if p.a_end >= r.a_end else r
                b_last = p if p.b_end >= r.b_end else r
                out[-1] = Run(
                    p.doc_a,
                    p.a_start,
                    a_last.a_end,
                    p.doc_b,
                    p.b_start,
                    b_last.b_end,
                    p.matches + r.matches,
                    p.a_start_char,
                    a_last.a_end_char,
                    p.b_start_char,
                    b_last.b_end_char,
                )
                continue
        out.append(r)
    return out
