"""Nearest neighbours across documents, and the corpus-relative score of a pair.

Model-free: these functions take vectors and texts, never a model. Small inputs are searched
exactly in blocks; large ones in partitions (an inverted file over cells: a model's
reference cells, :mod:`chorus.points.cells`, or k-means cells trained on the rows), so cost
grows as n^1.5 with small constants, never n², and memory stays bounded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

log = logging.getLogger(__name__)

EXACT_LIMIT = 30_000
PROBES = 16
_BLOCK = 2048
_CHUNK = 100_000
_LEXICAL_FEATURES = 1 << 21


@dataclass(frozen=True)
class Edges:
    """Directed kNN edges: ``src[i]`` → ``dst[i]`` with ``score[i]``, row-major by ``src``."""

    src: np.ndarray
    dst: np.ndarray
    score: np.ndarray
    # The inverted file a partitioned search used (``None`` for an exact one): its centroids
    # and each row's home cell, kept so an update can file new rows beside the old ones.
    centroids: np.ndarray | None = None
    home: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.src.size)


def centre(vectors: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """Subtract the corpus mean and renormalise: what every sentence of a one-topic corpus
    shares stops counting as similarity. Works in chunks and keeps a float16 or float32
    input's type; ``in_place`` overwrites the input, so millions of rows need no copy."""
    n = vectors.shape[0]
    mean = corpus_mean(vector_sum(vectors), n)
    if in_place and vectors.dtype in (np.float16, np.float32):
        out = vectors
    else:
        dtype = vectors.dtype if vectors.dtype in (np.float16, np.float32) else np.float32
        out = np.empty(vectors.shape, dtype=dtype)
    for lo in range(0, n, _CHUNK):
        out[lo : lo + _CHUNK] = centre_rows(vectors[lo : lo + _CHUNK], mean)
    return out


# A language's own mean is trusted as if it had this many more rows of the corpus mean: a
# language with a handful of sentences is centred mostly on the corpus mean, one with
# thousands on its own.
LANGUAGE_PRIOR_ROWS = 5


def centre_by_language(vectors: np.ndarray, languages: Sequence[str]) -> np.ndarray:
    """Centre each language's rows on that language's mean (shrunk towards the corpus mean
    by ``LANGUAGE_PRIOR_ROWS``), in place, and renormalise. A multilingual model puts every
    sentence of one language a little closer to the others of its language than to its own
    translation; subtracting each language's mean takes that offset out (Libovický et al.,
    2020, "On the language neutrality of pre-trained multilingual representations"), so a
    claim meets its translation more than its neighbours in its own language. Rows whose
    language is unknown (``und``) are centred on the corpus mean."""
    n = vectors.shape[0]
    codes = np.asarray(languages)
    corpus = corpus_mean(vector_sum(vectors), n).astype(np.float64)
    for language in sorted(set(codes.tolist())):
        rows = np.flatnonzero(codes == language)
        if language == "und":
            mean = corpus
        else:
            own = vector_sum(vectors[rows])
            mean = (own + LANGUAGE_PRIOR_ROWS * corpus) / (rows.size + LANGUAGE_PRIOR_ROWS)
        for lo in range(0, rows.size, _CHUNK):
            part = rows[lo : lo + _CHUNK]
            vectors[part] = centre_rows(vectors[part], mean.astype(np.float32))
    return vectors


def vector_sum(vectors: np.ndarray) -> np.ndarray:
    """The float64 column sums of ``vectors``, in chunks. Of float16 rows (the cache's) the
    sum is exact, so partial sums of any split of the rows give the same mean."""
    total = np.zeros(vectors.shape[1], dtype=np.float64)
    for lo in range(0, vectors.shape[0], _CHUNK):
        total += vectors[lo : lo + _CHUNK].astype(np.float64).sum(axis=0)
    return total


def corpus_mean(total: np.ndarray, n: int) -> np.ndarray:
    """The mean :func:`centre_rows` subtracts, from the rows' summed ``total``."""
    return (np.asarray(total, dtype=np.float64) / max(n, 1)).astype(np.float32)


def centre_rows(rows: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``rows`` less the corpus ``mean``, renormalised (float32)."""
    x = rows.astype(np.float32) - mean
    out: np.ndarray = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return out


def nearest_neighbours(
    vectors: np.ndarray,
    groups: np.ndarray,
    *,
    k: int,
    seed: int = 0,
    cells: Cells | None = None,
) -> Edges:
    """The ``k`` most similar rows (inner product) to each row, among rows of another group
    (document). Exact below ``EXACT_LIMIT`` rows; above, an inverted-file search that
    compares each row with a few partitions of the corpus: the given ``cells`` (reference
    cells, :mod:`chorus.points.cells`), or cells trained on the rows (seeded)."""
    n = vectors.shape[0]
    k = max(0, min(k, n - 1))
    if n == 0 or k == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Edges(empty, empty, np.zeros(0, dtype=np.float32))
    if n <= EXACT_LIMIT:
        return _exact(vectors, groups, k)
    if cells is not None:
        return search_probed(vectors, groups, k, cells)
    return _partitioned(vectors, groups, k, seed=seed)


@dataclass(frozen=True)
class Cells:
    """Where each row is searched: ``probe[i]``, its cells nearest first (the first is the
    one it is filed under), among the ``centroids``."""

    probe: np.ndarray
    centroids: np.ndarray


def _exact(vectors: np.ndarray, groups: np.ndarray, k: int) -> Edges:
    n = vectors.shape[0]
    vectors = vectors.astype(np.float32, copy=False)
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


def ivf_cells(n: int) -> int:
    """How many inverted-file cells a search over ``n`` rows uses (one: exact)."""
    return 1 if n <= EXACT_LIMIT else max(1, int(np.sqrt(n)))


def kmeans_sample(n: int, cells: int, *, seed: int) -> np.ndarray:
    """The rows (sorted) whose vectors train the centroids: a seeded sample, the same
    whichever engine draws it."""
    rng = np.random.default_rng(seed)
    out: np.ndarray = np.sort(rng.choice(n, size=min(n, max(cells * 40, 20_000)), replace=False))
    return out


def ivf_probes(vectors: np.ndarray, centroids: np.ndarray, probes: int = PROBES) -> np.ndarray:
    """Each row's ``probes`` nearest centroids, nearest first (ties by number); the first
    is the cell the row is filed under."""
    width = min(probes, centroids.shape[0])
    out = np.empty((vectors.shape[0], width), dtype=np.int64)
    for lo in range(0, vectors.shape[0], 20_000):
        sims = _rows(vectors, lo, lo + 20_000) @ centroids.T
        top = np.argpartition(-sims, width - 1, axis=1)[:, :width]
        order = np.lexsort((top, -np.take_along_axis(sims, top, axis=1)), axis=1)
        out[lo : lo + 20_000] = np.take_along_axis(top, order, axis=1)
    return out


def search_cell(
    query_vectors: np.ndarray,
    query_groups: np.ndarray,
    member_vectors: np.ndarray,
    member_ids: np.ndarray,
    member_groups: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per query row, its ``k`` best members of one cell in other groups: (ids, scores),
    best first, ties by id; -1 and -inf pad. In blocks of at most ~8M similarities, however
    large a cell grows. The unit of work of both engines: the same shapes, the same sums."""
    nq = query_vectors.shape[0]
    best = np.full((nq, k), -1, dtype=np.int64)
    best_score = np.full((nq, k), -np.inf, dtype=np.float32)
    for qs, ms, sims in cell_similarities(
        query_vectors, query_groups, member_vectors, member_groups
    ):
        best[qs], best_score[qs] = best_of_block(best[qs], best_score[qs], sims, member_ids[ms])
    return best, best_score


def cell_similarities(
    query_vectors: np.ndarray,
    query_groups: np.ndarray,
    member_vectors: np.ndarray,
    member_groups: np.ndarray,
    *,
    mask_groups: bool = True,
) -> Iterator[tuple[slice, slice, np.ndarray]]:
    """The cosines of queries and members of one cell, block by block of at most ~8M:
    (query rows, member rows, cosines), -inf for a pair in the same group unless
    ``mask_groups`` is false (the caller skips those pairs itself)."""
    nq, nm = query_vectors.shape[0], member_vectors.shape[0]
    if nq == 0 or nm == 0:
        return
    step = max(1, 8_000_000 // max(nm, 1))
    block_m = max(1, 8_000_000 // max(min(nq, step), 1))
    for qlo in range(0, nq, step):
        qs = slice(qlo, qlo + step)
        xq = query_vectors[qs].astype(np.float32)
        gq = query_groups[qs]
        for mlo in range(0, nm, block_m):
            ms = slice(mlo, mlo + block_m)
            sims = xq @ member_vectors[ms].astype(np.float32).T
            if mask_groups:
                sims[gq[:, None] == member_groups[ms][None, :]] = -np.inf
            yield qs, ms, sims


def best_of_block(
    best: np.ndarray, best_score: np.ndarray, sims: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` (``best``'s width) best per row of a row's best so far and one block of
    its cosines to members ``ids``; ties by id."""
    k = best.shape[1]
    kk = min(k, sims.shape[1])
    part = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
    scores = np.concatenate([best_score, np.take_along_axis(sims, part, axis=1)], axis=1)
    both = np.concatenate([best, ids[part]], axis=1)
    order = np.lexsort((both, -scores), axis=1)[:, :k]
    return np.take_along_axis(both, order, axis=1), np.take_along_axis(scores, order, axis=1)


def merge_best(
    ids: np.ndarray, scores: np.ndarray, more_ids: np.ndarray, more_scores: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of two candidate lists per row, ties by id."""
    scores = np.concatenate([scores, more_scores], axis=1)
    ids = np.concatenate([ids, more_ids], axis=1)
    order = np.lexsort((ids, -scores), axis=1)[:, :k]
    return np.take_along_axis(ids, order, axis=1), np.take_along_axis(scores, order, axis=1)


def _partitioned(
    vectors: np.ndarray, groups: np.ndarray, k: int, *, seed: int, probes: int = PROBES
) -> Edges:
    """Inverted-file search: every row is filed under the nearest of about sqrt(n) centroids
    (k-means on a seeded sample) and compared exactly with the rows filed under its
    ``probes`` nearest centroids. Deterministic, parallel through BLAS, and each cell is an
    independent partition (the unit of work the Spark engine distributes)."""
    n = vectors.shape[0]
    cells = max(1, int(np.sqrt(n)))
    centroids = kmeans(vectors[kmeans_sample(n, cells, seed=seed)], cells, seed=seed)
    return search_ivf(vectors, groups, k, centroids, probes=probes)


def search_ivf(
    vectors: np.ndarray, groups: np.ndarray, k: int, centroids: np.ndarray, *, probes: int = PROBES
) -> Edges:
    """The inverted-file search over given ``centroids`` (what :func:`nearest_neighbours`
    runs once it has trained them): each row against the rows filed under its ``probes``
    nearest centroids."""
    return search_probed(
        vectors, groups, k, Cells(ivf_probes(vectors, centroids, probes), centroids)
    )


def search_probed(vectors: np.ndarray, groups: np.ndarray, k: int, cells: Cells) -> Edges:
    """Each row against the rows filed under each of its cells."""
    n = vectors.shape[0]
    n_cells = cells.centroids.shape[0]
    probe = cells.probe
    home = probe[:, 0]
    best = np.full((n, k), -1, dtype=np.int64)
    best_score = np.full((n, k), -np.inf, dtype=np.float32)
    for members, asked in probed_cells(home, probe):
        queries = asked // probe.shape[1]
        found, found_score = search_cell(
            vectors[queries], groups[queries], vectors[members], members, groups[members], k
        )
        best[queries], best_score[queries] = merge_best(
            best[queries], best_score[queries], found, found_score, k
        )
    rows = np.repeat(np.arange(n), k)
    keep = np.isfinite(best_score.ravel())
    log.debug("partitioned kNN: %d rows, %d cells, %d edges", n, n_cells, int(keep.sum()))
    return Edges(rows[keep], best.ravel()[keep], best_score.ravel()[keep], cells.centroids, home)


def probed_cells(home: np.ndarray, probe: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per cell, in order, that holds a row of ``home`` and some row of ``probe`` probes:
    (the rows filed under it, the positions in ``probe.ravel()`` that probe it; a
    position's row is ``position // probe.shape[1]``, its rank ``position % ...``)."""
    by_home = np.argsort(home, kind="stable")
    home_sorted = home[by_home]
    flat = probe.ravel()
    by_probe = np.argsort(flat, kind="stable")
    flat_sorted = flat[by_probe]
    asked = np.unique(flat)
    # Keys of the arrays' own type: a key of another type makes numpy cast the whole array.
    member_bounds = np.searchsorted(home_sorted, np.stack([asked, asked + 1]).astype(home.dtype))
    query_bounds = np.searchsorted(flat_sorted, np.stack([asked, asked + 1]).astype(flat.dtype))
    for (mlo, mhi), (qlo, qhi) in zip(member_bounds.T, query_bounds.T, strict=True):
        if mlo < mhi:
            yield by_home[mlo:mhi], by_probe[qlo:qhi]


def _rows(vectors: np.ndarray, lo: int, hi: int) -> np.ndarray:
    out: np.ndarray = vectors[lo:hi].astype(np.float32)
    return out


def kmeans(x: np.ndarray, cells: int, *, seed: int, iterations: int = 8) -> np.ndarray:
    """Spherical k-means centroids of the sample ``x`` (:func:`kmeans_sample`): enough to
    file rows, not to be optimal; a poor centroid costs recall only through the probes."""
    rng = np.random.default_rng([seed, 1])
    x = x.astype(np.float32)
    centroids: np.ndarray = x[np.sort(rng.choice(x.shape[0], size=cells, replace=False))].copy()
    for _ in range(iterations):
        assigned = np.argmax(x @ centroids.T, axis=1)
        membership = sparse.csr_matrix(
            (np.ones(x.shape[0], dtype=np.float32), (assigned, np.arange(x.shape[0]))),
            shape=(cells, x.shape[0]),
        )
        sums = np.asarray(membership @ x)
        filled = np.bincount(assigned, minlength=cells) > 0
        centroids[filled] = sums[filled]
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    return centroids


def lexical_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    """TF-IDF rows over words and word pairs (English stop words dropped): two sentences that
    share rare terms score high, whatever their wording elsewhere. Terms are hashed into a
    fixed number of columns, so memory stays bounded however large the vocabulary grows."""
    counts = hashed_counts(texts)
    return tfidf_rows(counts, lexical_idf(document_frequency(counts), len(texts)))


def hashed_counts(texts: Sequence[str]) -> sparse.csr_matrix:
    """Counts of each text's hashed terms (words and word pairs, no stop words)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    counts = HashingVectorizer(
        ngram_range=(1, 2),
        stop_words="english",
        n_features=_LEXICAL_FEATURES,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    ).transform(texts)
    return sparse.csr_matrix(counts, dtype=np.float32)


def document_frequency(counts: sparse.csr_matrix) -> np.ndarray:
    """How many rows have each hashed term: sums over partitions add up to the corpus's."""
    out: np.ndarray = np.bincount(counts.indices, minlength=_LEXICAL_FEATURES)
    return out


def lexical_idf(df: np.ndarray, n: int) -> np.ndarray:
    """Smoothed idf, as scikit-learn's ``TfidfTransformer`` computes it (in float32)."""
    idf = np.full(df.size, n + 1, dtype=np.float32)
    idf /= df.astype(np.float32) + 1.0
    np.log(idf, out=idf)
    idf += 1.0
    return idf


def tfidf_rows(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF-IDF rows, L2-normalised; each row depends only on itself and ``idf``."""
    from sklearn.preprocessing import normalize

    out = counts.copy()
    np.log(out.data, out.data)
    out.data += 1.0
    out.data *= idf[out.indices]
    return sparse.csr_matrix(normalize(out, norm="l2", copy=False), dtype=np.float32)


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
    hub = unit_hubs(edges.src, base, n=n, hubness_k=hubness_k)
    return relative_to_hubs(base, hub[edges.src], hub[edges.dst])


def unit_hubs(src: np.ndarray, base: np.ndarray, *, n: int, hubness_k: int) -> np.ndarray:
    """Per unit (``src`` numbers them below ``n``): the mean of its ``hubness_k`` best
    out-edge scores, summed best first in float64 (0 for a unit with none). Spark calls it
    on one unit's edges."""
    order = np.lexsort((-base, src))
    src_sorted = src[order]
    base_sorted = base[order]
    starts = np.searchsorted(src_sorted, np.arange(n))
    ends = np.searchsorted(src_sorted, np.arange(n), side="right")
    rank = np.arange(src_sorted.size) - starts[src_sorted]
    top = rank < hubness_k
    sums = np.bincount(src_sorted[top], weights=base_sorted[top], minlength=n)
    counts = np.minimum(ends - starts, hubness_k)
    out: np.ndarray = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    return out


def relative_to_hubs(base: np.ndarray, hub_a: np.ndarray, hub_b: np.ndarray) -> np.ndarray:
    """Each pair's score less the mean of its two ends' hubs."""
    out: np.ndarray = (base - 0.5 * (hub_a + hub_b)).astype(np.float32)
    return out


def floor_weak_pairs(
    base: np.ndarray, scores: np.ndarray, *, min_similarity: float, floor: float
) -> np.ndarray:
    """A pair must also be close in absolute terms: in a corpus of unrelated sentences every
    sentence still has a best match, which the relative score alone would accept."""
    out: np.ndarray = np.where(base >= min_similarity, scores, floor).astype(np.float32)
    return out
