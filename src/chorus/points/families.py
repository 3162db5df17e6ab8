"""Claim families: talking points that restate one claim, grouped for coordination.

Points are cut tightly (``chorus.points.core``): a claim restated fifteen times in other words
often comes out as two to four points (a trimmed version, a reworded one), because each
sentence's kNN search reaches only its closest few and the corpus-relative score marks down
a sentence that has many near copies. Two sites restating the same claim then share
different points, and coordination, which counts shared objects, sees less than there is.

A family joins points whose mentions are, on average, as alike as restatements of one claim
are: average linkage over points, where the similarity of two groups is the mean cosine over
every pair of their mentions (the points stage's centred vectors: what every sentence of the
corpus shares does not count). That mean is exact and cheap from each group's sum of unit
vectors (``S_a · S_b / (n_a n_b)``), so no pair is guessed and no chain forms: a family's
members are close to each other on average, not merely linked through neighbours.

Calibrated on coordination generator B (``bench/coord_quality.py --generator B``): on centred
vectors, the mentions of one planted claim have a median pairwise cosine of 0.94 (10th
percentile 0.62); mentions of different claims stay below 0.43 in 99.9% of pairs. The
threshold sits between the two, and the benchmark is flat around it (pairwise F1 0.926 at
0.45, 0.928 at 0.5 and at 0.55; 0.898 at 0.6, where restatements stay apart, and 0.887 at
0.4, where claims merge). No family mixes two planted claims at 0.5.
"""

from __future__ import annotations

import heapq

import numpy as np

from chorus.points.neighbours import nearest_neighbours

# Mean pairwise cosine (centred vectors) at or above which two groups are one claim.
FAMILY_THRESHOLD = 0.5
# Each point's nearest points by centroid: the candidate merges.
FAMILY_NEIGHBOURS = 10
_PAIR_BLOCK = 50_000


def claim_families(
    sums: np.ndarray,
    counts: np.ndarray,
    *,
    threshold: float = FAMILY_THRESHOLD,
    neighbours: int = FAMILY_NEIGHBOURS,
    seed: int = 0,
) -> np.ndarray:
    """The family of each point (the smallest member's row), from ``sums[i]`` (the sum of
    point i's mention vectors, each of unit length) and ``counts[i]`` (its mentions).

    Best-first average linkage: two families merge while the mean cosine over all pairs of
    their mentions is at least ``threshold``; candidates are each point's ``neighbours``
    nearest by centroid, and the neighbours of a merged family are its members' together.
    Ties break by row number, so the result is deterministic."""
    n = int(sums.shape[0])
    labels = np.arange(n, dtype=np.int64)
    if n < 2:
        return labels
    totals = np.asarray(sums, dtype=np.float64)
    sizes = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    norms = np.maximum(np.linalg.norm(totals, axis=1, keepdims=True), 1e-12)
    centroids = (totals / norms).astype(np.float32)
    edges = nearest_neighbours(centroids, np.arange(n, dtype=np.int64), k=neighbours, seed=seed)
    lo = np.minimum(edges.src, edges.dst)
    hi = np.maximum(edges.src, edges.dst)
    keep = lo != hi
    pairs = np.unique(np.c_[lo[keep], hi[keep]], axis=0)
    if pairs.size == 0:
        return labels
    means = _pair_means(totals, sizes, pairs)
    adjacency: dict[int, set[int]] = {}
    for a, b in pairs.tolist():
        adjacency.setdefault(a, set()).add(b)
        adjacency.setdefault(b, set()).add(a)
    vectors = {x: totals[x].copy() for x in adjacency}
    size = {x: float(sizes[x]) for x in adjacency}
    members = {x: [x] for x in adjacency}
    version = dict.fromkeys(adjacency, 0)
    heap = [
        (-float(m), int(a), int(b), 0, 0)
        for (a, b), m in zip(pairs.tolist(), means.tolist(), strict=True)
        if m >= threshold
    ]
    heapq.heapify(heap)
    while heap:
        _, a, b, va, vb = heapq.heappop(heap)
        if a not in members or b not in members or version[a] != va or version[b] != vb:
            continue
        keep_id, gone = (a, b) if a < b else (b, a)
        vectors[keep_id] += vectors.pop(gone)
        size[keep_id] += size.pop(gone)
        members[keep_id].extend(members.pop(gone))
        version[keep_id] += 1
        linked = adjacency.pop(gone) | adjacency[keep_id]
        linked -= {keep_id, gone}
        adjacency[keep_id] = linked
        for c in sorted(linked):
            others = adjacency[c]
            others.discard(gone)
            others.add(keep_id)
            mean = float(vectors[keep_id] @ vectors[c]) / (size[keep_id] * size[c])
            if mean >= threshold:
                x, y = (keep_id, c) if keep_id < c else (c, keep_id)
                heapq.heappush(heap, (-mean, x, y, version[x], version[y]))
    for root, group in members.items():
        labels[group] = root
    return labels


def _pair_means(totals: np.ndarray, sizes: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Each pair's mean cosine over all pairs of their mentions, a block of pairs at a time:
    gathering both rows of ten candidate pairs per point at once (float64, 384 wide) took
    33 GB on the news corpus's 540,000 points. Each row's sum is its own, so the blocks give
    the same values to the last bit."""
    out = np.empty(pairs.shape[0], dtype=np.float64)
    for lo in range(0, pairs.shape[0], _PAIR_BLOCK):
        a, b = pairs[lo : lo + _PAIR_BLOCK, 0], pairs[lo : lo + _PAIR_BLOCK, 1]
        out[lo : lo + a.size] = np.einsum("ij,ij->i", totals[a], totals[b]) / (sizes[a] * sizes[b])
    return out


def family_ids(
    point_ids: list[str],
    n_mentions: list[int],
    sums: list[np.ndarray | None],
    counts: list[int],
    *,
    threshold: float = FAMILY_THRESHOLD,
) -> list[str]:
    """Each point's family, named by its largest member (most mentions, then the smallest
    id), so that a family's id is a point a reader can open. A point without vectors (a
    sentence repeated word for word that the screen never embedded) is its own family.
    Points are taken in id order whatever order they come in: both engines agree."""
    order = sorted(range(len(point_ids)), key=lambda i: point_ids[i])
    with_vectors = [i for i in order if sums[i] is not None and counts[i] > 0]
    out = list(point_ids)
    if len(with_vectors) < 2:
        return out
    matrix = np.stack([np.asarray(sums[i], dtype=np.float64) for i in with_vectors])
    labels = claim_families(
        matrix, np.asarray([counts[i] for i in with_vectors], dtype=np.float64), threshold=threshold
    )
    members: dict[int, list[int]] = {}
    for row, label in enumerate(labels.tolist()):
        members.setdefault(label, []).append(with_vectors[row])
    for group in members.values():
        name = point_ids[min(group, key=lambda i: (-n_mentions[i], point_ids[i]))]
        for i in group:
            out[i] = name
    return out
