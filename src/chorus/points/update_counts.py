"""What an update of the talking points changed (:mod:`chorus.points.update`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UpdateCounts:
    """What an update changed: sentences added and removed, units new and gone, points
    built again (new or changed) and points that left."""

    n_added_sentences: int
    n_removed_sentences: int
    n_new_units: int
    n_gone_units: int
    n_changed_points: int
    n_removed_points: int
