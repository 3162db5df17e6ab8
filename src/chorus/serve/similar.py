""" "Talking points like this sentence" for the app: the index ``chorus analyze`` filed
(:mod:`chorus.search.labels`), read once; a store without it (or with another embedder's)
has its labels embedded and filed here, with the same kernel and so the same answers."""

from __future__ import annotations

import logging
import threading

from chorus.embed.models import Embedder
from chorus.search.labels import (
    LabelIndex,
    LikeHit,
    embed_labels,
    label_embedder,
    read_label_index,
)
from chorus.store import Store

log = logging.getLogger(__name__)


class SimilarPoints:
    """The store's labels, ready to search with ``embedder`` (default: the one analysis
    filed them with, :func:`~chorus.search.labels.label_embedder`)."""

    def __init__(self, store: Store, *, embedder: Embedder | None = None) -> None:
        self._store = store
        self._embedder = embedder
        self._lock = threading.Lock()
        self._embed_lock = threading.Lock()
        self._index: LabelIndex | None = None

    def index(self, store: Store | None = None) -> LabelIndex:
        with self._lock:
            if self._embedder is None:
                self._embedder = label_embedder(store or self._store)
            if self._index is None:
                store = store or self._store
                index = read_label_index(store, embedder=self._embedder.name)
                if index is None:
                    log.info("similar: no current label index in the store; embedding labels")
                    index = embed_labels(store, self._embedder)
                log.info("similar: %d talking points ready", len(index))
                self._index = index
            return self._index

    def warm(self) -> None:
        """Read (or build) the index now: the app calls it in a background thread at start."""
        try:
            # Its own cursor: DuckDB connections are not shared across threads.
            self.index(self._store.cursor())
        except Exception:  # a failed warm-up leaves the first query to build, and to report
            log.exception("similar: preparing the index in the background failed")

    def search(self, text: str, *, limit: int = 20) -> list[LikeHit]:
        """The points whose label is most like ``text``, best first."""
        index = self.index()
        if not len(index) or not text.strip():
            return []
        assert self._embedder is not None  # index() loaded it
        with self._embed_lock:  # one query's embedding is a millisecond; the model is shared
            query = self._embedder.embed([text])[0]
        return index.search(query, limit=limit)
