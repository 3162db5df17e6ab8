""" "Talking points like this sentence": the points' labels embedded once (WordLlama's static
vectors: fast enough to index every label of a large store on first use), then cosine
similarity to the query."""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from chorus.store import Store

log = logging.getLogger(__name__)


class SimilarPoints:
    """A lazily built index of the store's talking points. ``embedder`` is any object with
    ``embed(texts) -> array`` (default: WordLlama from its package)."""

    def __init__(self, store: Store, *, embedder: Any = None) -> None:
        self._store = store
        self._embedder = embedder
        self._lock = threading.Lock()
        self._ids: list[str] | None = None
        self._vectors: np.ndarray | None = None

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
                log.info("similar: indexed %d talking points", len(ids))
                self._ids, self._vectors, self._embedder = ids, vectors, embedder
            return self._ids, self._vectors

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
        scores = vectors @ query
        # The best ``limit`` without sorting every point; ties by id (the rows are in id order).
        keep = min(limit, len(ids))
        best = np.argpartition(-scores, keep - 1)[:keep] if keep < len(ids) else np.arange(keep)
        top = best[np.lexsort((best, -scores[best]))]
        return [(ids[i], round(float(scores[i]), 4)) for i in top]
