"""Average-linkage clustering on a sparse similarity graph, never a dense n x n matrix.

Two clusters merge while the mean score over their pairs that lie in *different documents* is
at least ``threshold``; a pair with no edge counts as ``floor`` (the kNN search judged it not
close). Only pairs across documents count because a talking point is a claim several documents
make; how an article's own sentences resemble each other says nothing about that. Merging
goes best-first, with ties broken by node number, so the result is deterministic.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components


def average_linkage(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    score: np.ndarray,
    groups: np.ndarray,
    *,
    threshold: float,
    floor: float,
) -> np.ndarray:
    """Cluster labels (the smallest member's number) for ``n`` nodes joined by undirected
    edges ``src``–``dst`` with ``score``; duplicate edges keep their highest score.

    A merge needs one pair at or above ``threshold``, so clusters never cross the connected
    components of the graph of such pairs: each component is clustered on its own (a
    partition the Spark engine can hand to a worker), and memory follows the largest one."""
    labels = np.arange(n, dtype=np.int64)
    lo = np.minimum(src, dst).astype(np.int64)
    hi = np.maximum(src, dst).astype(np.int64)
    keep = (lo != hi) & (groups[lo] != groups[hi])
    lo, hi, w = lo[keep], hi[keep], np.asarray(score, dtype=np.float64)[keep]
    if lo.size == 0:
        return labels
    order = np.lexsort((-w, hi, lo))
    lo, hi, w = lo[order], hi[order], w[order]
    first = np.ones(lo.size, dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, w = lo[first], hi[first], w[first]
    strong = w >= threshold
    if not strong.any():
        return labels
    graph = sparse.coo_matrix((np.ones(int(strong.sum())), (lo[strong], hi[strong])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    same = component[lo] == component[hi]
    lo, hi, w = lo[same], hi[same], w[same]
    by_component = np.argsort(component[lo], kind="stable")
    lo, hi, w = lo[by_component], hi[by_component], w[by_component]
    bounds = np.flatnonzero(np.diff(component[lo])) + 1
    for part in np.split(np.arange(lo.size), bounds):
        if not (w[part] >= threshold).any():
            continue
        for members in cluster_component(
            lo[part].tolist(), hi[part].tolist(), w[part].tolist(), groups, threshold, floor
        ):
            labels[members] = min(members)
    return labels


def cluster_component(
    lo: list[int],
    hi: list[int],
    weights: list[float],
    groups: np.ndarray | Mapping[int, int],
    threshold: float,
    floor: float,
) -> list[list[int]]:
    """Average linkage within one component of the graph of pairs at or above ``threshold``
    (its edges sorted by ``lo``, ``hi``: distinct, across documents, every edge inside it).
    ``groups[x]`` is node x's document. Returns the clusters of more than one node."""
    nodes = sorted(set(lo) | set(hi))
    adjacency: dict[int, dict[int, float]] = {x: {} for x in nodes}
    for a, b, w in zip(lo, hi, weights, strict=True):
        adjacency[a][b] = w - floor
        adjacency[b][a] = w - floor
    size = dict.fromkeys(nodes, 1)
    docs = {x: Counter([int(groups[x])]) for x in nodes}
    members = {x: [x] for x in nodes}
    heap = [(-w, a, b, 0, 0) for a, b, w in zip(lo, hi, weights, strict=True) if w >= threshold]
    _agglomerate(adjacency, size, docs, members, heap, threshold, floor)
    return [group for group in members.values() if len(group) > 1]


def continue_clusters(
    clusters: Mapping[int, list[int]],
    lo: list[int],
    hi: list[int],
    weights: list[float],
    groups: np.ndarray | Mapping[int, int],
    *,
    threshold: float,
    floor: float,
) -> dict[int, list[int]]:
    """Average linkage resumed from ``clusters`` (label: member nodes, each label its
    smallest member) with the edges ``lo``–``hi`` among their members (distinct, across
    documents): what an update does when new sentences join a clustered corpus. Clusters
    merge exactly as they would have had the run gone on from this partition; the result
    maps each label to its members (a merged cluster takes the smaller label)."""
    label = {x: c for c, xs in clusters.items() for x in xs}
    adjacency: dict[int, dict[int, float]] = {c: {} for c in clusters}
    for a, b, w in zip(lo, hi, weights, strict=True):
        ca, cb = label[a], label[b]
        if ca == cb:
            continue
        adjacency[ca][cb] = adjacency[ca].get(cb, 0.0) + (w - floor)
        adjacency[cb][ca] = adjacency[ca][cb]
    size = {c: len(xs) for c, xs in clusters.items()}
    docs = {c: Counter(int(groups[x]) for x in xs) for c, xs in clusters.items()}
    members = {c: list(xs) for c, xs in clusters.items()}
    heap: list[tuple[float, int, int, int, int]] = []
    for a in sorted(adjacency):
        for b, w in adjacency[a].items():
            if a < b:
                pairs = _cross_pairs(size, docs, a, b)
                if pairs > 0 and floor + w / pairs >= threshold:
                    heap.append((-(floor + w / pairs), a, b, 0, 0))
    heapq.heapify(heap)
    _agglomerate(adjacency, size, docs, members, heap, threshold, floor)
    return members


def _cross_pairs(size: Mapping[int, int], docs: Mapping[int, Counter[int]], a: int, b: int) -> int:
    """How many pairs of members of ``a`` and ``b`` lie in different documents."""
    small, large = (docs[a], docs[b]) if len(docs[a]) < len(docs[b]) else (docs[b], docs[a])
    same = sum(count * large.get(doc, 0) for doc, count in small.items())
    return size[a] * size[b] - same


def _agglomerate(
    adjacency: dict[int, dict[int, float]],
    size: dict[int, int],
    docs: dict[int, Counter[int]],
    members: dict[int, list[int]],
    heap: list[tuple[float, int, int, int, int]],
    threshold: float,
    floor: float,
) -> None:
    """Merge best-first while a pair's mean reaches ``threshold``; ``adjacency`` holds each
    pair's summed (score - floor), ``heap`` the candidate merges. Updates in place."""
    version = dict.fromkeys(members, 0)
    heapq.heapify(heap)
    while heap:
        _, a, b, va, vb = heapq.heappop(heap)
        if a not in members or b not in members or version[a] != va or version[b] != vb:
            continue
        keep_id, gone = (a, b) if a < b else (b, a)
        for c, w in adjacency.pop(gone).items():
            if c == keep_id:
                continue
            adjacency[keep_id][c] = adjacency[keep_id].get(c, 0.0) + w
            adjacency[c][keep_id] = adjacency[keep_id][c]
            del adjacency[c][gone]
        adjacency[keep_id].pop(gone, None)
        size[keep_id] += size.pop(gone)
        docs[keep_id].update(docs.pop(gone))
        members[keep_id].extend(members.pop(gone))
        version[keep_id] += 1
        for c, w in adjacency[keep_id].items():
            pairs = _cross_pairs(size, docs, keep_id, c)
            if pairs <= 0:
                continue
            mean = floor + w / pairs
            if mean >= threshold:
                x, y = (keep_id, c) if keep_id < c else (c, keep_id)
                heapq.heappush(heap, (-mean, x, y, version[x], version[y]))
