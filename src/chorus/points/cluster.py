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

import numpy as np


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
    edges ``src``–``dst`` with ``score``; duplicate edges keep their highest score."""
    labels = np.arange(n, dtype=np.int64)
    if src.size == 0:
        return labels
    lo = np.minimum(src, dst)
    hi = np.maximum(src, dst)
    keep = lo != hi
    weights: dict[tuple[int, int], float] = {}
    for a, b, w in zip(lo[keep].tolist(), hi[keep].tolist(), score[keep].tolist(), strict=True):
        if w > weights.get((a, b), -np.inf):
            weights[(a, b)] = w
    # A merge needs one pair at or above the threshold, so only such nodes can leave their
    # singleton; everything else is dropped before the Python loop.
    active = {x for (a, b), w in weights.items() if w >= threshold for x in (a, b)}
    adjacency: dict[int, dict[int, float]] = {x: {} for x in active}
    for (a, b), w in weights.items():
        if a in active and b in active and groups[a] != groups[b]:
            adjacency[a][b] = w - floor
            adjacency[b][a] = w - floor
    size = dict.fromkeys(active, 1)
    docs = {x: Counter([int(groups[x])]) for x in active}
    members = {x: [x] for x in active}
    version = dict.fromkeys(active, 0)

    def cross_pairs(a: int, b: int) -> int:
        small, large = (docs[a], docs[b]) if len(docs[a]) < len(docs[b]) else (docs[b], docs[a])
        same = sum(count * large.get(doc, 0) for doc, count in small.items())
        return size[a] * size[b] - same

    heap = [
        (-(w - floor) - floor, a, b, 0, 0)
        for (a, b), w in weights.items()
        if w >= threshold and groups[a] != groups[b]
    ]
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
            pairs = cross_pairs(keep_id, c)
            if pairs <= 0:
                continue
            mean = floor + w / pairs
            if mean >= threshold:
                x, y = (keep_id, c) if keep_id < c else (c, keep_id)
                heapq.heappush(heap, (-mean, x, y, version[x], version[y]))
    for root, group in members.items():
        labels[group] = min(group) if group else root
    return labels
