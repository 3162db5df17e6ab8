"""Run every analysis stage that exists, in pipeline order, over the store."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chorus.progress import ProgressFactory, no_progress
from chorus.segment.stage import segment_store
from chorus.store import Store

log = logging.getLogger(__name__)

# Grows as the stages land: segment → reuse → points → coordination.
STAGES: tuple[str, ...] = ("segment",)


@dataclass(frozen=True)
class AnalysisSummary:
    stages: tuple[str, ...]
    n_sentences_added: int


def analyze(store: Store, *, progress: ProgressFactory = no_progress) -> AnalysisSummary:
    """Bring every stage's tables up to date with the stored documents."""
    bar = progress(desc="analyze", total=len(STAGES), unit="stage")
    try:
        added = segment_store(store)
        bar.update(1)
    finally:
        bar.close()
    return AnalysisSummary(stages=STAGES, n_sentences_added=added)
