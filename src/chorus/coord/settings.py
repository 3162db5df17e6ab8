"""Coordination settings, in the terms users think in."""

from __future__ import annotations

from dataclasses import dataclass

OBJECT_KINDS = ("point", "reuse", "link", "template")


@dataclass(frozen=True)
class CoordSettings:
    """What counts as acting together.

    ``window_hours``: two sources co-act on an object when both share it within this many
    hours; ``None`` derives it from the data (the median time an object takes to reach its
    second source, between 1 hour and 7 days). ``kinds``: the objects that count (talking
    points, reuse clusters, links, cross-source page templates). ``min_objects``: an edge
    needs at least this many objects in common. ``null``: the model an edge is tested against,
    both keeping each source's activity and each object's popularity: ``configuration`` (who
    shares what is random; analytic) or ``time`` (each source's times shuffled among its own
    objects, ``permutations`` draws). ``fdr``: the false discovery rate an edge's q-value
    must meet.
    ``resolution``: how tightly a community's sources must be tied, as a share of the median
    edge weight: sources in one community are joined, on average, by at least this share
    (higher, smaller and denser communities).
    """

    window_hours: float | None = None
    kinds: tuple[str, ...] = OBJECT_KINDS
    min_objects: int = 2
    null: str = "configuration"
    permutations: int = 200
    fdr: float = 0.05
    resolution: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(OBJECT_KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"kinds must be among {', '.join(OBJECT_KINDS)}")
        if self.window_hours is not None and self.window_hours <= 0:
            raise ValueError("window_hours must be positive")
        if self.min_objects < 1 or self.permutations < 0:
            raise ValueError("min_objects must be at least 1 and permutations not negative")
        if self.null not in ("configuration", "time"):
            raise ValueError("null must be 'configuration' or 'time'")
        if not 0 < self.fdr < 1:
            raise ValueError("fdr must be between 0 and 1")
