"""Average-linkage clustering on a sparse similarity graph, never a dense n x n matrix.

Two clusters merge while the mean score over their pairs that lie in *different documents* is
at least ``threshold``; a pair with no edge counts as ``floor`` (the kNN search judged it not
close). Only pairs across documents count because a talking point is a claim several documents
make; how an article's own sentences resemble each other says nothing about that. Merging
goes best-first, with ties broken by node number, so the result is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from chorus.points.merging import merge_clusters


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
    components of the graph of such pairs: the Spark engine hands each component to a
    worker (:func:`cluster_component`), and here the edges of components without such a
    pair are dropped before linkage."""
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
    # Only components with a strong pair can merge; they never interact, so one call of
    # the kernel clusters them all at once.
    has_strong = np.zeros(int(component.max()) + 1, dtype=bool)
    has_strong[component[lo[strong]]] = True
    inside = (component[lo] == component[hi]) & has_strong[component[lo]]
    for members in cluster_component(lo[inside], hi[inside], w[inside], groups, threshold, floor):
        labels[members] = members[0]
    return labels


def cluster_component(
    lo: Sequence[int] | np.ndarray,
    hi: Sequence[int] | np.ndarray,
    weights: Sequence[float] | np.ndarray,
    groups: np.ndarray | Mapping[int, int],
    threshold: float,
    floor: float,
) -> list[list[int]]:
    """Average linkage within one component of the graph of pairs at or above ``threshold``
    (its edges sorted by ``lo``, ``hi``: distinct, across documents, every edge inside it).
    ``groups[x]`` is node x's document. Returns the clusters of more than one node, each
    sorted."""
    lo_a, hi_a = np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64)
    if lo_a.size == 0:
        return []
    nodes = np.unique(np.concatenate([lo_a, hi_a]))
    _, doc = np.unique(_groups_of(groups, nodes), return_inverse=True)
    single = np.arange(nodes.size, dtype=np.int64)
    parent = merge_clusters(
        nodes.size,
        np.ones(nodes.size, dtype=np.int64),
        single,
        doc.astype(np.int64),
        np.ones(nodes.size, dtype=np.int64),
        np.searchsorted(nodes, lo_a),
        np.searchsorted(nodes, hi_a),
        np.asarray(weights, dtype=np.float64),
        threshold,
        floor,
        True,
    )
    return [group for group in _members(nodes, parent) if len(group) > 1]


def continue_clusters(
    clusters: Mapping[int, Sequence[int]],
    lo: Sequence[int] | np.ndarray,
    hi: Sequence[int] | np.ndarray,
    weights: Sequence[float] | np.ndarray,
    groups: np.ndarray | Mapping[int, int],
    *,
    threshold: float,
    floor: float,
) -> dict[int, list[int]]:
    """Average linkage resumed from ``clusters`` (label: member nodes, each label its
    smallest member) with the edges ``lo``–``hi`` among their members (distinct, across
    documents): what an update does when new sentences join a clustered corpus. Clusters
    merge exactly as they would have had the run gone on from this partition; the result
    maps each label to its members, sorted (a merged cluster takes the smaller label).
    :func:`resume_linkage` is the same on arrays."""
    labels = sorted(clusters)
    if not labels:
        return {}
    node = np.concatenate([np.asarray(clusters[c], dtype=np.int64) for c in labels])
    start = np.repeat(np.asarray(labels, dtype=np.int64), [len(clusters[c]) for c in labels])
    by_node = np.argsort(node, kind="stable")
    node, start = node[by_node], start[by_node]
    final = resume_linkage(
        node,
        start,
        lo,
        hi,
        weights,
        _groups_of(groups, node),
        threshold=threshold,
        floor=floor,
    )
    return {members[0]: members for members in _members(node, final)}


def resume_linkage(
    nodes: np.ndarray,
    start: np.ndarray,
    lo: Sequence[int] | np.ndarray,
    hi: Sequence[int] | np.ndarray,
    weights: Sequence[float] | np.ndarray,
    node_groups: np.ndarray,
    *,
    threshold: float,
    floor: float,
) -> np.ndarray:
    """Average linkage resumed from a partition, on arrays: ``nodes`` (sorted, distinct)
    start in the cluster labelled ``start`` (its smallest node), ``node_groups`` are their
    documents, and the edges ``lo``–``hi`` join them. Returns each node's cluster after,
    labelled by its smallest node."""
    labels, owner = np.unique(np.asarray(start, dtype=np.int64), return_inverse=True)
    if labels.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Each cluster's documents, as (cluster, document, members there) rows.
    _, doc = np.unique(node_groups, return_inverse=True)
    n_docs = int(doc.max()) + 1
    cell, per_cell = np.unique(owner * n_docs + doc, return_counts=True)
    parent = merge_clusters(
        labels.size,
        np.bincount(owner, minlength=labels.size).astype(np.int64),
        cell // n_docs,
        cell % n_docs,
        per_cell.astype(np.int64),
        owner[np.searchsorted(nodes, np.asarray(lo, dtype=np.int64))],
        owner[np.searchsorted(nodes, np.asarray(hi, dtype=np.int64))],
        np.asarray(weights, dtype=np.float64),
        threshold,
        floor,
        False,
    )
    return _smallest_of(nodes, parent[owner])


def _smallest_of(nodes: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Per node, the smallest node of its ``cluster`` (``nodes`` sorted: a cluster's first)."""
    _, first, at = np.unique(cluster, return_index=True, return_inverse=True)
    out: np.ndarray = nodes[first][at]
    return out


def _groups_of(groups: np.ndarray | Mapping[int, int], nodes: np.ndarray) -> np.ndarray:
    if isinstance(groups, np.ndarray):
        of_nodes: np.ndarray = groups[nodes].astype(np.int64)
        return of_nodes
    return np.fromiter((groups[x] for x in nodes.tolist()), dtype=np.int64, count=nodes.size)


def _members(nodes: np.ndarray, cluster: np.ndarray) -> list[list[int]]:
    """Each cluster's nodes, sorted (``nodes`` sorted, each in ``cluster``)."""
    order = np.lexsort((nodes, cluster))
    cluster, nodes = cluster[order], nodes[order]
    return [part.tolist() for part in np.split(nodes, np.flatnonzero(np.diff(cluster)) + 1)]
