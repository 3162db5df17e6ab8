"""What changed between analyses: talking points that are new or reach more sources, new
copied passages, new or stronger coordination edges and new watchlist hits."""

from chorus.changes.read import (
    Changes,
    EdgeChange,
    HitChange,
    PassageChange,
    PointChange,
    read_changes,
    records,
)
from chorus.changes.record import record_analysis

__all__ = [
    "Changes",
    "EdgeChange",
    "HitChange",
    "PassageChange",
    "PointChange",
    "read_changes",
    "record_analysis",
    "records",
]
