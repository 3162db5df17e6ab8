""" "Talking points like this sentence": the points' labels embedded once (WordLlama's static
vectors: fast enough to index every label of a large store on first use), then cosine
similarity to the query."""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from chorus.points.neighbours import ivf_cells, ivf_probes, kmeans, kmeans_sample
from chorus.store import Store

log = logging.getLogger(__name__)

# Cells read per query: of about 720 on 520,000 labels, 32 hold about 4% of them.
_PROBES = 32


class SimilarPoints:
    """A lazily built index of the store's talking points. ``embedder`` is any object with
    ``embed(texts) -> array`` (default: WordLlama from its package)."""

    def __init__(self, store: Store, *, embedder: Any = None) -> None:
        self._store = store
        self._embedder = embedder
        self._lock = threading.Lock()
        self._ids: list[str] | None = None
        self._vectors: np.ndarray | None = None
        self._centroids: np.ndarray | None = None
        self._bounds = np.zeros(1, dtype=np.int64)

    def _build(self, store: Store | None = None) -> tuple[list[str], np.ndarray]:
        with self._lock:
            if self._ids is None or self._vectors is None:
                from chorus.points.embedders import load_embedder

                embedder = self._embedder or load_embedder("wordllama")
                rows = (
                    (store or self._store)
                    .con.execute("SELECT point_id, label FROM points ORDER BY point_id")
                    .fetchall()
                )
                ids = [r[0] for r in rows]
                vectors = np.zeros((0, 1), dtype=np.float32)
                if rows:
                    vectors = np.asarray(embedder.embed([r[1] for r in rows]), dtype=np.float32)
                    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
                ids, vectors = self._file(ids, vectors)
                log.info("similar: indexed %d talking points", len(ids))
                self._ids, self._vectors, self._embedder = ids, vectors, embedder
            return self._ids, self._vectors

    def _file(self, ids: list[str], vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Past ``EXACT_LIMIT`` labels, an inverted file: k-means cells (the points stage's
        kernels), the rows reordered cell by cell, so a query reads the cells nearest it
        instead of every label (a cosine over 500,000 labels is 40 ms of memory traffic)."""
        self._centroids = None
        cells = ivf_cells(len(ids))
        if cells == 1:
            return ids, vectors
        centroids = kmeans(vectors[kmeans_sample(len(ids), cells, seed=0)], cells, seed=0)
        cell = ivf_probes(vectors, centroids, probes=1)[:, 0]
        order = np.argsort(cell, kind="stable")
        self._centroids = centroids
        self._bounds = np.searchsorted(cell[order], np.arange(cells + 1))
        return [ids[i] for i in order], np.ascontiguousarray(vectors[order])

    def _candidates(self, query: np.ndarray) -> np.ndarray:
        """The rows to score: every row, or those of the ``PROBES`` cells nearest the query."""
        assert self._vectors is not None
        if self._centroids is None:
            return np.arange(self._vectors.shape[0])
        near = np.argsort(-(self._centroids @ query), kind="stable")[:_PROBES]
        return np.concatenate(
            [np.arange(self._bounds[c], self._bounds[c + 1]) for c in np.sort(near)]
        )

    def warm(self) -> None:
        """Build the index now (the app calls it in a background thread at start)."""
        try:
            # Its own cursor: DuckDB connections are not shared across threads.
            self._build(Store(self._store.path, self._store.con.cursor(), read_only=True))
        except Exception:  # a failed warm-up leaves the first query to build, and to report
            log.exception("similar: building the index in the background failed")

    def search(self, text: str, *, limit: int = 20) -> list[tuple[str, float]]:
        """(point id, cosine similarity), best first."""
        ids, vectors = self._build()
        if not ids or not text.strip():
            return []
        query = np.asarray(self._embedder.embed([text]), dtype=np.float32)[0]
        query /= max(float(np.linalg.norm(query)), 1e-12)
        rows = self._candidates(query)
        scores = vectors[rows] @ query
        # The best ``limit`` without sorting every candidate; ties by id.
        keep = min(limit, len(rows))
        best = np.argpartition(-scores, keep - 1)[:keep] if keep < len(rows) else np.arange(keep)
        names = np.array([ids[rows[i]] for i in best], dtype=object)
        top = best[np.lexsort((names, -scores[best]))]
        return [(ids[rows[i]], round(float(scores[i]), 4)) for i in top]
