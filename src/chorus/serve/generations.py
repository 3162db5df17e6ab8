"""What the app reads: one generation of the store at a time.

A generation is a read-only store (the store itself, or a snapshot of it, see
:mod:`chorus.store.snapshots`) with what the app keeps beside it: its "points like this"
index and the answers of the views without parameters. When ``chorus serve`` follows
updates, a background thread opens the newest snapshot once it is whole, prepares it, and
makes it current; a request reads one generation from start to end.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from chorus.embed.models import Embedder
from chorus.errors import ChorusError
from chorus.serve.similar import SimilarPoints
from chorus.store import Store, open_store
from chorus.store.snapshots import (
    latest_snapshot,
    mark_server,
    publish_if_free,
    remove_older,
    server_running,
    unmark_server,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class Generation:
    """A read-only store and what the app computed from it."""

    def __init__(self, store: Store, number: int, *, embedder: Embedder | None) -> None:
        self.store = store
        self.number = number
        self.similar = SimilarPoints(store, embedder=embedder)
        self._cached: dict[tuple[str, int], Any] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def reader(self) -> Store:
        # DuckDB connections are not shared across threads: one cursor per worker thread.
        current: Store | None = getattr(self._local, "store", None)
        if current is None:
            current = self._local.store = self.store.cursor()
        return current

    def once(self, name: str, arg: int, make: Callable[[], T]) -> T:
        """The answer of a view without parameters, computed once per generation (the
        store does not change under it)."""
        with self._lock:
            if (name, arg) not in self._cached:
                self._cached[(name, arg)] = make()
            value: T = self._cached[(name, arg)]
            return value


_REQUEST: contextvars.ContextVar[Generation | None] = contextvars.ContextVar(
    "chorus_generation", default=None
)


class ServedStore:
    """The generation requests read. With ``follow``, the app reads snapshots and moves to a
    newer one when a writer publishes it (polling every ``poll_seconds``); without, it reads
    the store itself, opened read-only for its lifetime."""

    def __init__(
        self,
        db: str | Path,
        *,
        embedder: Embedder | None = None,
        follow: bool = False,
        poll_seconds: float = 2.0,
    ) -> None:
        self.db = Path(db)
        self._embedder = embedder
        self._marker: Path | None = None
        self._stop = threading.Event()
        self._swap = threading.Lock()
        self._previous: Generation | None = None
        if not follow:
            self._current = Generation(open_store(db, read_only=True), 0, embedder=embedder)
            return
        if not self.db.exists():
            raise ChorusError(f"no store at {self.db}; run 'chorus ingest' first")
        self._marker = mark_server(self.db)
        snapshot = publish_if_free(self.db) or latest_snapshot(self.db)
        if snapshot is None:
            unmark_server(self._marker)
            raise ChorusError(
                f"{self.db} is being written by another process and has no snapshot to serve "
                "yet; start the app again when that command has finished"
            )
        self._current = self._open(snapshot.number, snapshot.path)
        remove_older(self.db, snapshot.number)
        threading.Thread(
            target=self._follow, args=(poll_seconds,), name="store-updates", daemon=True
        ).start()

    def _open(self, number: int, path: Path) -> Generation:
        return Generation(open_store(path, read_only=True), number, embedder=self._embedder)

    @property
    def name(self) -> str:
        return self.db.name

    def current(self) -> Generation:
        """The request's generation (set when it began), else the newest."""
        return _REQUEST.get() or self._current

    def begin_request(self) -> contextvars.Token[Generation | None]:
        return _REQUEST.set(self._current)

    def end_request(self, token: contextvars.Token[Generation | None]) -> None:
        _REQUEST.reset(token)

    def _follow(self, poll_seconds: float) -> None:
        while not self._stop.wait(poll_seconds):
            try:
                self.refresh()
            except Exception:  # the app keeps serving what it has; the next poll tries again
                log.exception("serve: moving to the store's newest snapshot failed")

    def refresh(self) -> bool:
        """Move to the newest snapshot, if there is a newer one; True when it did. Its
        "like this" index is read before it becomes current."""
        snapshot = latest_snapshot(self.db)
        if snapshot is None or snapshot.number <= self._current.number:
            return False
        fresh = self._open(snapshot.number, snapshot.path)
        fresh.similar.warm()
        with self._swap:
            # The generation before the last may still finish a request; the one before it
            # cannot be in use any more.
            stale, self._previous, self._current = self._previous, self._current, fresh
        if stale is not None:
            stale.store.close()
            remove_older(self.db, self._previous.number)
        log.info("serve: now reading snapshot %d of %s", fresh.number, self.db)
        return True

    def close(self) -> None:
        """Stop following, close the stores, and remove this app's snapshots when no other
        app serves the store. Closing again does nothing."""
        if self._stop.is_set():
            return
        self._stop.set()
        for generation in (self._previous, self._current):
            if generation is not None:
                generation.store.close()
        if self._marker is not None:
            unmark_server(self._marker)
            if not server_running(self.db):
                remove_older(self.db, 1 << 62)
