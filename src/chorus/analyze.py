"""Run every analysis stage that exists, in pipeline order, over the store."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chorus.changes.record import now as record_now
from chorus.changes.record import record_analysis
from chorus.coord import CoordSettings, CoordSummary, find_coordination
from chorus.phrases import PhrasesSettings, PhrasesSummary, find_phrases
from chorus.points import PointsSettings, PointsSummary, find_points
from chorus.progress import ProgressFactory, no_progress
from chorus.reuse import ReuseSettings, ReuseSummary, find_reuse
from chorus.search import (
    LabelIndexSummary,
    SearchIndexSummary,
    build_label_index,
    build_search_index,
)
from chorus.segment.stage import segment_store
from chorus.store import Store

log = logging.getLogger(__name__)

# Grows as the stages land: segment (and its word index) → reuse → points (and the index of
# their labels) and phrases → coordination.
STAGES: tuple[str, ...] = ("segment", "search", "reuse", "points", "labels", "phrases", "coord")


@dataclass(frozen=True)
class AnalysisSummary:
    # The analysis's number (``analysis_runs``; ``chorus changes --since RUN``).
    run_no: int
    stages: tuple[str, ...]
    n_sentences_added: int
    search: SearchIndexSummary
    reuse: ReuseSummary
    points: PointsSummary
    labels: LabelIndexSummary
    phrases: PhrasesSummary
    coord: CoordSummary


def analyze(
    store: Store,
    *,
    reuse: ReuseSettings | None = None,
    points: PointsSettings | None = None,
    phrases: PhrasesSettings | None = None,
    coord: CoordSettings | None = None,
    rebuild: bool = False,
    progress: ProgressFactory = no_progress,
) -> AnalysisSummary:
    """Bring every stage's tables up to date with the stored documents. Talking points that
    continue earlier ones keep their ids; ``rebuild`` finds the points and phrases (and reads
    the wire credits) from scratch, every point with the id its content gives it, as in a new
    store."""
    started = record_now()
    added = segment_store(store)
    search_summary = build_search_index(store)
    reuse_summary = find_reuse(store, settings=reuse, progress=progress)
    points_summary = find_points(store, settings=points, rebuild=rebuild, progress=progress)
    labels_summary = build_label_index(store, progress=progress)
    phrases_summary = find_phrases(store, settings=phrases, rebuild=rebuild, progress=progress)
    coord_summary = find_coordination(store, settings=coord, rebuild=rebuild, progress=progress)
    with store.transaction():
        run_no = record_analysis(store, started_at=started)
    return AnalysisSummary(
        run_no=run_no,
        stages=STAGES,
        n_sentences_added=added,
        search=search_summary,
        reuse=reuse_summary,
        points=points_summary,
        labels=labels_summary,
        phrases=phrases_summary,
        coord=coord_summary,
    )
