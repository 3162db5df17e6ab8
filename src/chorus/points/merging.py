"""The merge loop of average linkage, compiled: best-first merges over a sparse graph of
clusters, while a pair's mean score across documents reaches the threshold.

Clusters are numbered ``0 .. n-1`` in the order of their labels, so that "the smaller
number" breaks ties as the labels do. Each pair's summed (score - floor) lives in one hash
table keyed by the pair, and each cluster's neighbours and documents in growable blocks of
one array: per cluster, a handful of small arrays instead of Python dicts. The arithmetic
is the same as the plain-Python loop's, operation for operation (each sum is one addition
of two numbers; a mean is ``floor + summed / pairs``), so the merges and the labels are
identical to it: ``tests/test_merging.py`` keeps that loop as the oracle, and
``tests/test_points.py`` checks linkage against a brute-force one.

With ``NUMBA_DISABLE_JIT=1`` the same code runs as plain Python (slowly), for debugging.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from numba import njit, types
from numba.typed import Dict

_KEY = types.int64
_SUM = types.float64
_COUNT = types.int64

_F = TypeVar("_F", bound=Callable[..., Any])


def _compiled(function: _F) -> _F:
    """``function`` compiled to machine code on first call, and cached on disk beside
    this module (numba's cache), so that later processes load it instead."""
    return cast(_F, njit(cache=True)(function))


@_compiled
def _append(
    pool: np.ndarray,
    used: np.ndarray,
    start: np.ndarray,
    length: np.ndarray,
    cap: np.ndarray,
    x: int,
    value: int,
) -> np.ndarray:
    """Append ``value`` to block ``x`` of ``pool``, whose first ``used[0]`` slots are taken;
    returns the pool (a new array when it had to grow). A full block moves to the end with
    twice the room, so appends cost constant time on average."""
    if length[x] == cap[x]:
        new_cap = max(4, 2 * cap[x])
        end = used[0]
        if end + new_cap > pool.size:
            grown = np.empty(max(end + new_cap, 2 * pool.size), dtype=pool.dtype)
            grown[:end] = pool[:end]
            pool = grown
        pool[end : end + length[x]] = pool[start[x] : start[x] + length[x]]
        start[x] = end
        cap[x] = new_cap
        used[0] = end + new_cap
    pool[start[x] + length[x]] = value
    length[x] += 1
    return pool


@_compiled
def _cross_pairs(
    size: np.ndarray,
    doc_pool: np.ndarray,
    doc_start: np.ndarray,
    doc_length: np.ndarray,
    docs: Any,
    n_docs: int,
    a: int,
    b: int,
) -> int:
    """How many pairs of members of ``a`` and ``b`` lie in different documents."""
    small, large = (a, b) if doc_length[a] < doc_length[b] else (b, a)
    same = 0
    for k in range(doc_start[small], doc_start[small] + doc_length[small]):
        d = doc_pool[k]
        same += docs[small * n_docs + d] * docs.get(large * n_docs + d, 0)
    pairs: int = size[a] * size[b] - same
    return pairs


@_compiled
def _may_reach(
    summed: float,
    size: np.ndarray,
    most: np.ndarray,
    a: int,
    b: int,
    threshold: float,
    floor: float,
) -> bool:
    """Whether the pair's mean could reach ``threshold``, from a bound that needs no
    document counts: at most ``most[x]`` of a cluster's members share one document, so
    at least ``size[a]*size[b] - min(size[a]*most[b], size[b]*most[a])`` pairs lie across
    documents, and the mean over more pairs is no higher. (Division and addition round
    monotonically, so a pair this rules out is one the exact mean rules out.)"""
    if summed <= 0.0:
        return False  # the mean is at most the floor
    fewest = size[a] * size[b] - min(size[a] * most[b], size[b] * most[a])
    reach: bool = fewest <= 0 or floor + summed / fewest >= threshold
    return reach


@_compiled
def merge_clusters(
    n: int,
    size: np.ndarray,
    doc_cluster: np.ndarray,
    doc_id: np.ndarray,
    doc_count: np.ndarray,
    edge_a: np.ndarray,
    edge_b: np.ndarray,
    edge_score: np.ndarray,
    threshold: float,
    floor: float,
    first_by_score: bool,
) -> np.ndarray:
    """Average linkage from ``n`` clusters of ``size`` members (whose documents are
    ``doc_id`` with ``doc_count`` members each, rows of ``doc_cluster``, cluster-sorted),
    joined by the edges ``edge_a``–``edge_b`` with ``edge_score`` (summed per pair in
    their order). ``first_by_score``: the first candidates are the edges at or above the
    threshold, keyed by their own score (clusters of one node, each pair once, with
    ``edge_a < edge_b``); otherwise every pair whose mean reaches it. Returns each
    cluster's final cluster (the smallest number merged into it); ``size`` is updated in
    place."""
    n_docs = 1
    for k in range(doc_id.size):
        n_docs = max(n_docs, doc_id[k] + 1)
    # Documents: count per (cluster, document), and each cluster's documents in a block.
    docs = Dict.empty(_KEY, _COUNT)
    doc_start = np.zeros(n, dtype=np.int64)
    doc_length = np.zeros(n, dtype=np.int64)
    doc_cap = np.zeros(n, dtype=np.int64)
    most = np.zeros(n, dtype=np.int64)
    doc_pool = np.empty(max(16, 2 * doc_id.size), dtype=np.int64)
    doc_used = np.zeros(1, dtype=np.int64)
    for k in range(doc_id.size):
        c = doc_cluster[k]
        docs[c * n_docs + doc_id[k]] = doc_count[k]
        most[c] = max(most[c], doc_count[k])
        doc_pool = _append(doc_pool, doc_used, doc_start, doc_length, doc_cap, c, doc_id[k])
    # Pairs: summed (score - floor) per pair, and each cluster's neighbours in a block.
    sums = Dict.empty(_KEY, _SUM)
    nb_start = np.zeros(n, dtype=np.int64)
    nb_length = np.zeros(n, dtype=np.int64)
    nb_cap = np.zeros(n, dtype=np.int64)
    nb_pool = np.empty(max(16, 4 * edge_a.size), dtype=np.int64)
    nb_used = np.zeros(1, dtype=np.int64)
    for k in range(edge_a.size):
        a, b = edge_a[k], edge_b[k]
        if a == b:
            continue
        lo, hi = (a, b) if a < b else (b, a)
        key = lo * n + hi
        if key not in sums:
            sums[key] = 0.0 + (edge_score[k] - floor)
            nb_pool = _append(nb_pool, nb_used, nb_start, nb_length, nb_cap, lo, hi)
            nb_pool = _append(nb_pool, nb_used, nb_start, nb_length, nb_cap, hi, lo)
        else:
            sums[key] = sums[key] + (edge_score[k] - floor)
    heap = [(0.0, 0, 0, 0, 0)]
    heap.pop()
    if first_by_score:
        for k in range(edge_a.size):
            if edge_score[k] >= threshold:
                heap.append((-edge_score[k], edge_a[k], edge_b[k], 0, 0))
    else:
        for key, summed in sums.items():
            a, b = key // n, key % n
            if not _may_reach(summed, size, most, a, b, threshold, floor):
                continue
            pairs = _cross_pairs(size, doc_pool, doc_start, doc_length, docs, n_docs, a, b)
            if pairs > 0:
                mean = floor + summed / pairs
                if mean >= threshold:
                    heap.append((-mean, a, b, 0, 0))
    heapq.heapify(heap)
    alive = np.ones(n, dtype=np.bool_)
    version = np.zeros(n, dtype=np.int64)
    parent = np.arange(n)
    while len(heap) > 0:
        _, a, b, va, vb = heapq.heappop(heap)
        if not alive[a] or not alive[b] or version[a] != va or version[b] != vb:
            continue
        keep, gone = (a, b) if a < b else (b, a)
        # The gone cluster's pairs move to the kept one.
        for k in range(nb_start[gone], nb_start[gone] + nb_length[gone]):
            c = nb_pool[k]
            if c == keep:
                continue
            gone_key = (gone * n + c) if gone < c else (c * n + gone)
            if gone_key not in sums:
                continue  # c merged elsewhere since: its pair moved with it
            moved = sums.pop(gone_key)
            keep_key = (keep * n + c) if keep < c else (c * n + keep)
            if keep_key in sums:
                sums[keep_key] = sums[keep_key] + moved
            else:
                sums[keep_key] = 0.0 + moved
                nb_pool = _append(nb_pool, nb_used, nb_start, nb_length, nb_cap, keep, c)
                nb_pool = _append(nb_pool, nb_used, nb_start, nb_length, nb_cap, c, keep)
        sums.pop(keep * n + gone, 0.0)
        nb_length[gone] = 0
        # Its documents too.
        for k in range(doc_start[gone], doc_start[gone] + doc_length[gone]):
            d = doc_pool[k]
            count = docs.pop(gone * n_docs + d)
            keep_doc = keep * n_docs + d
            if keep_doc in docs:
                count += docs[keep_doc]
                docs[keep_doc] = count
            else:
                docs[keep_doc] = count
                doc_pool = _append(doc_pool, doc_used, doc_start, doc_length, doc_cap, keep, d)
            most[keep] = max(most[keep], count)
        doc_length[gone] = 0
        alive[gone] = False
        parent[gone] = keep
        size[keep] += size[gone]
        version[keep] += 1
        # Every pair of the kept cluster has a new mean; the block drops merged neighbours.
        write = nb_start[keep]
        for k in range(nb_start[keep], nb_start[keep] + nb_length[keep]):
            c = nb_pool[k]
            if not alive[c] or c == keep:
                continue
            nb_pool[write] = c
            write += 1
            summed = sums[(keep * n + c) if keep < c else (c * n + keep)]
            if not _may_reach(summed, size, most, keep, c, threshold, floor):
                continue
            pairs = _cross_pairs(size, doc_pool, doc_start, doc_length, docs, n_docs, keep, c)
            if pairs <= 0:
                continue
            mean = floor + summed / pairs
            if mean >= threshold:
                x, y = (keep, c) if keep < c else (c, keep)
                heapq.heappush(heap, (-mean, x, y, version[x], version[y]))
        nb_length[keep] = write - nb_start[keep]
    for i in range(n):
        root = i
        while parent[root] != root:
            root = parent[root]
        parent[i] = root
    return parent
