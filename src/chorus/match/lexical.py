"""BM25 over the watchlist: the lexical ranker fused with the embeddings. A query shares rare
words with the talking point it restates (names, numbers, places) more often than not."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

_TOKENS = r"(?u)\b\w+\b"


class BM25Index:
    """Okapi BM25 scores of queries against a fixed set of texts.

    >>> index = BM25Index(["the moon landing was staged", "vaccines cause autism"])
    >>> index.scores(["was the moon landing staged?"]).round(2).tolist()
    [[1.0, 0.0]]
    """

    def __init__(self, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        self._vectoriser = CountVectorizer(stop_words="english", token_pattern=_TOKENS)
        try:
            counts = sparse.csr_matrix(self._vectoriser.fit_transform(texts), dtype=np.float64)
        except ValueError:  # nothing but stop words in every text
            self._weights: sparse.csr_matrix | None = None
            self._best = np.zeros(0)
            self._n = len(texts)
            self._floor = 0.0
            return
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        average = max(float(lengths.mean()), 1e-9)
        doc_freq = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log1p((counts.shape[0] - doc_freq + 0.5) / (doc_freq + 0.5))
        coo = counts.tocoo()
        tf = coo.data
        norm = tf + k1 * (1 - b + b * lengths[coo.row] / average)
        weights = tf * (k1 + 1) / norm * idf[coo.col]
        self._weights = sparse.csr_matrix((weights, (coo.row, coo.col)), shape=counts.shape)
        self._best = np.asarray(self._weights.max(axis=0).todense()).ravel()
        self._n = counts.shape[0]
        # What a typical text's own terms could score: a query with fewer or commoner terms
        # than that cannot reach 1 ("Be safe." holds one word of "Defunding the police will
        # make communities less safe."; that is little evidence, not all of it).
        own = sparse.csr_matrix(counts > 0, dtype=np.float64) @ self._best
        self._floor = float(np.median(own))

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """(queries x texts) BM25 scores on an absolute 0-1 scale: each divided by the most
        the query could score (every one of its terms at its highest weight in any text), or
        by what the median text's own terms could, when that is more. Unlike dividing by the
        best hit, an unrelated query keeps a low score; unlike dividing by the query's own
        bound alone, a query of one or two words does not score 1 for holding them. Either
        way the divisor is the query's, so the order of the texts for a query is BM25's."""
        if self._weights is None or not queries:
            return np.zeros((len(queries), self._n), dtype=np.float32)
        terms = sparse.csr_matrix(self._vectoriser.transform(queries) > 0, dtype=np.float64)
        raw = np.asarray((terms @ self._weights.T).todense(), dtype=np.float32)
        bound = np.asarray(terms @ self._best, dtype=np.float32).reshape(-1, 1)
        out: np.ndarray = raw / np.maximum(bound, max(self._floor, 1e-9))
        return out
