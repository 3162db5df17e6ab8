"""Progress reporting without printing: the library reports, the caller decides how to show it.

A progress factory is any callable ``factory(desc=..., total=..., unit=...)`` returning an
object with ``update(n)`` and ``close()``; ``tqdm.tqdm`` itself fits. The default does nothing.
"""

from __future__ import annotations

from typing import Protocol


class ProgressBar(Protocol):
    def update(self, n: int = 1) -> object: ...

    def close(self) -> None: ...


class ProgressFactory(Protocol):
    def __call__(self, *, desc: str, total: int | None, unit: str) -> ProgressBar: ...


class _NoProgressBar:
    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


def no_progress(*, desc: str, total: int | None, unit: str) -> ProgressBar:
    """The default progress factory: reports nothing."""
    return _NoProgressBar()
