"""The compiled merge loop against the plain-Python loop it replaced, merge for merge."""

from __future__ import annotations

import heapq
from collections import Counter

import numpy as np
import pytest

from chorus.points.cluster import average_linkage, cluster_component, continue_clusters


def _reference(
    clusters: dict[int, list[int]],
    lo: list[int],
    hi: list[int],
    weights: list[float],
    groups: np.ndarray,
    threshold: float,
    floor: float,
    *,
    by_score: bool = False,
) -> list[list[int]]:
    """Average linkage resumed from ``clusters`` with dicts and a heap: chorus's loop before
    it was compiled (a merge takes the smaller label; ties go to the smaller labels).
    ``by_score``: the first candidates are the pairs at or above ``threshold``, keyed by
    their score, as linkage from scratch starts (``floor + (w - floor)`` may differ from
    ``w`` in the last bit, and on a tie that picks another merge)."""
    label = {x: c for c, xs in clusters.items() for x in xs}
    adjacency: dict[int, dict[int, float]] = {c: {} for c in clusters}
    for a, b, w in zip(lo, hi, weights, strict=True):
        ca, cb = label[a], label[b]
        if ca != cb:
            adjacency[ca][cb] = adjacency[ca].get(cb, 0.0) + (w - floor)
            adjacency[cb][ca] = adjacency[ca][cb]
    size = {c: len(xs) for c, xs in clusters.items()}
    docs = {c: Counter(int(groups[x]) for x in xs) for c, xs in clusters.items()}
    members = {c: list(xs) for c, xs in clusters.items()}

    def cross(a: int, b: int) -> int:
        return size[a] * size[b] - sum(n * docs[b].get(d, 0) for d, n in docs[a].items())

    heap = []
    for a in [] if by_score else adjacency:
        for b, w in adjacency[a].items():
            if a < b and cross(a, b) > 0 and floor + w / cross(a, b) >= threshold:
                heap.append((-(floor + w / cross(a, b)), a, b, 0, 0))
    if by_score:
        heap = [(-w, a, b, 0, 0) for a, b, w in zip(lo, hi, weights, strict=True) if w >= threshold]
    heapq.heapify(heap)
    version = dict.fromkeys(members, 0)
    while heap:
        _, a, b, va, vb = heapq.heappop(heap)
        if a not in members or b not in members or (version[a], version[b]) != (va, vb):
            continue
        keep, gone = min(a, b), max(a, b)
        for c, w in adjacency.pop(gone).items():
            if c != keep:
                adjacency[keep][c] = adjacency[keep].get(c, 0.0) + w
                adjacency[c][keep] = adjacency[keep][c]
                del adjacency[c][gone]
        adjacency[keep].pop(gone, None)
        size[keep] += size.pop(gone)
        docs[keep].update(docs.pop(gone))
        members[keep].extend(members.pop(gone))
        version[keep] += 1
        for c, w in adjacency[keep].items():
            pairs = cross(keep, c)
            if pairs > 0 and floor + w / pairs >= threshold:
                x, y = min(keep, c), max(keep, c)
                heapq.heappush(heap, (-(floor + w / pairs), x, y, version[x], version[y]))
    return sorted(sorted(xs) for xs in members.values())


def _graph(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A sparse graph with hubs, documents of several nodes, and scores on a coarse grid
    (so that means tie and the tie-break is exercised)."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n // 4, n)
    hub = rng.random(n) < 0.05
    src = rng.integers(0, n, 6 * n)
    dst = np.where(
        rng.random(6 * n) < 0.3, rng.choice(np.flatnonzero(hub), 6 * n), rng.integers(0, n, 6 * n)
    )
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    keep = (lo != hi) & (groups[lo] != groups[hi])
    pairs = np.unique(np.stack([lo[keep], hi[keep]], axis=1), axis=0)
    w = np.round(rng.uniform(-0.7, 0.6, len(pairs)) * 10) / 10
    return pairs[:, 0], pairs[:, 1], w, groups


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("threshold", "floor"), [(-0.14, -0.4), (0.2, -1.0), (0.0, -0.1)])
def test_linkage_from_singletons_matches_the_python_loop(
    seed: int, threshold: float, floor: float
) -> None:
    lo, hi, w, groups = _graph(seed, 300)
    n = groups.size
    singletons = {i: [i] for i in range(n)}
    args = (lo.tolist(), hi.tolist(), w.tolist(), groups, threshold, floor)
    labels = average_linkage(n, lo, hi, w, groups, threshold=threshold, floor=floor)
    got = sorted(np.flatnonzero(labels == c).tolist() for c in np.unique(labels))
    assert got == _reference(singletons, *args, by_score=True)
    want = _reference(singletons, *args)
    resumed = continue_clusters(
        {i: [i] for i in range(n)}, lo, hi, w, groups, threshold=threshold, floor=floor
    )
    assert sorted(resumed.values()) == want
    assert all(label == members[0] for label, members in resumed.items())


@pytest.mark.parametrize("seed", range(6))
def test_linkage_resumed_from_a_partition_matches_the_python_loop(seed: int) -> None:
    lo, hi, w, groups = _graph(seed, 400)
    n = groups.size
    rng = np.random.default_rng(seed + 100)
    # A starting partition whose clusters have several members, often in one document
    # (what bounds the number of pairs across documents).
    joined = rng.random(n) < 0.4
    start_of = np.where(joined, n + groups // 2, np.arange(n))
    clusters: dict[int, list[int]] = {}
    for x, c in enumerate(start_of.tolist()):
        clusters.setdefault(c, []).append(x)
    clusters = {min(xs): xs for xs in clusters.values()}
    want = _reference(clusters, lo.tolist(), hi.tolist(), w.tolist(), groups, -0.14, -0.4)
    got = continue_clusters(clusters, lo, hi, w, groups, threshold=-0.14, floor=-0.4)
    assert sorted(got.values()) == want
    assert all(label == min(members) for label, members in got.items())


def test_a_component_clusters_as_lists_or_arrays_with_a_mapping_of_documents() -> None:
    lo, hi, w, groups = _graph(3, 120)
    order = np.lexsort((hi, lo))
    as_arrays = cluster_component(lo[order], hi[order], w[order], groups, -0.14, -0.4)
    as_lists = cluster_component(
        lo[order].tolist(),
        hi[order].tolist(),
        w[order].tolist(),
        dict(enumerate(groups.tolist())),
        -0.14,
        -0.4,
    )
    assert as_arrays == as_lists
    assert as_arrays and all(len(c) > 1 and c == sorted(c) for c in as_arrays)
    assert cluster_component([], [], [], groups, -0.14, -0.4) == []
