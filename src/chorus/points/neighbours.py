"""Nearest neighbours across documents, and the corpus-relative score of a pair.

Model-free: these functions take vectors and texts, never a model. Small inputs are searched
exactly in blocks; large ones through a usearch HNSW index, so cost grows as n log n, never n².
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

log = logging.getLogger(__name__)

EXACT_LIMIT = 30_000
_BLOCK = 2048


@dataclass(frozen=True)
class Edges:
    """Directed kNN edges: ``src[i]`` → ``dst[i]`` with ``score[i]``, row-major by ``src``."""

    src: np.ndarray
    dst: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return int(self.src.size)


def centre(vectors: np.ndarray) -> np.ndarray:
    """Subtract the corpus mean and renormalise: what every sentence of a one-topic corpus
    shares stops counting as similarity."""
    x = vectors - vectors.mean(axis=0, keepdims=True)
    out: np.ndarray = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return out.astype(np.float32)


def nearest_neighbours(
    vectors: np.ndarray, groups: np.ndarray, *, k: int, seed: int = 0, threads: int = 2
) -> Edges:
    """The ``k`` most similar rows (inner product) to each row, among rows of another group
    (document). Exact below ``EXACT_LIMIT`` rows; approximate (usearch, seeded) above."""
    n = vectors.shape[0]
    k = max(0, min(k, n - 1))
    if n == 0 or k == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Edges(empty, empty, np.zeros(0, dtype=np.float32))
    if n <= EXACT_LIMIT:
        return _exact(vectors, groups, k)
    return _approximate(vectors, groups, k, seed=seed, threads=threads)


def _exact(vectors: np.ndarray, groups: np.ndarray, k: int) -> Edges:
    n = vectors.shape[0]
    src_parts, dst_parts, score_parts = [], [], []
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        sims = vectors[lo:hi] @ vectors.T
        sims[groups[lo:hi, None] == groups[None, :]] = -np.inf
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        part_scores = np.take_along_axis(sims, part, axis=1)
        # Ties broken by index so the result does not depend on argpartition's internals.
        order = np.lexsort((part, -part_scores), axis=1)
        part = np.take_along_axis(part, order, axis=1)
        part_scores = np.take_along_axis(part_scores, order, axis=1)
        rows = np.repeat(np.arange(lo, hi), k)
        keep = np.isfinite(part_scores.ravel())
        src_parts.append(rows[keep])
        dst_parts.append(part.ravel()[keep])
        score_parts.append(part_scores.ravel()[keep])
    return Edges(
        np.concatenate(src_parts).astype(np.int64),
        np.concatenate(dst_parts).astype(np.int64),
        np.concatenate(score_parts).astype(np.float32),
    )


def _approximate(
    vectors: np.ndarray, groups: np.ndarray, k: int, *, seed: int, threads: int
) -> Edges:
    from usearch.index import Index

    n, dim = vectors.shape
    index = Index(ndim=dim, metric="ip", dtype="f16", connectivity=16, expansion_add=64)
    keys = np.arange(n, dtype=np.uint64)
    # One thread while adding keeps the graph, and so the results, the same from run to run.
    index.add(keys, vectors, threads=1)
    fetch = k + 8
    found = index.search(vectors, fetch, threads=threads, exact=False)
    dst = found.keys.astype(np.int64)
    # usearch reports a distance (1 - ip); missing hits carry a sentinel key.
    sims = (1.0 - found.distances).astype(np.float32)
    valid = dst < n
    dst = np.where(valid, dst, 0)
    same = groups[dst] == groups[:, None]
    sims[same | ~valid] = -np.inf
    order = np.lexsort((dst, -sims), axis=1)[:, :k]
    dst = np.take_along_axis(dst, order, axis=1)
    sims = np.take_along_axis(sims, order, axis=1)
    rows = np.repeat(np.arange(n), k)
    keep = np.isfinite(sims.ravel())
    log.debug("approximate kNN: %d rows, %d edges kept", n, int(keep.sum()))
    return Edges(rows[keep], dst.ravel()[keep], sims.ravel()[keep])


def lexical_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    """TF-IDF rows over words and word pairs (English stop words dropped): two sentences that
    share rare terms score high, whatever their wording elsewhere."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectoriser = TfidfVectorizer(
        ngram_range=(1, 2), stop_words="english", sublinear_tf=True, dtype=np.float32
    )
    try:
        matrix = vectoriser.fit_transform(texts)
    except ValueError:  # every text was stop words only
        return sparse.csr_matrix((len(texts), 1), dtype=np.float32)
    return sparse.csr_matrix(matrix)


def pair_cosines(matrix: sparse.csr_matrix, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Row-wise dot products of L2-normalised sparse rows, for many pairs, in chunks."""
    out = np.zeros(src.size, dtype=np.float32)
    step = 200_000
    for lo in range(0, src.size, step):
        a = matrix[src[lo : lo + step]]
        b = matrix[dst[lo : lo + step]]
        out[lo : lo + step] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


def relative_scores(edges: Edges, base: np.ndarray, *, n: int, hubness_k: int) -> np.ndarray:
    """CSLS-style corpus-relative score: a pair's score minus the mean of how close each end
    usually is to its ``hubness_k`` best matches. A sentence that resembles everything (the
    corpus's stock phrasing) needs a closer match to count."""
    order = np.lexsort((-base, edges.src))
    src_sorted = edges.src[order]
    base_sorted = base[order]
    starts = np.searchsorted(src_sorted, np.arange(n))
    ends = np.searchsorted(src_sorted, np.arange(n), side="right")
    rank = np.arange(src_sorted.size) - starts[src_sorted]
    top = rank < hubness_k
    sums = np.bincount(src_sorted[top], weights=base_sorted[top], minlength=n)
    counts = np.minimum(ends - starts, hubness_k)
    hub = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    out: np.ndarray = base - 0.5 * (hub[edges.src] + hub[edges.dst])
    return out.astype(np.float32)
