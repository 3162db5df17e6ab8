"""The demo: the bundled seed corpus through every stage, ending in a report."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from chorus.analyze import AnalysisSummary, analyze
from chorus.ingest import IngestSummary, ingest_paths
from chorus.progress import ProgressFactory, no_progress
from chorus.report import write_report
from chorus.stats import CorpusStats, corpus_stats
from chorus.store import open_store

DEMO_STORE = "chorus-demo.duckdb"
DEMO_REPORT = "chorus-demo-report.html"


def seed_corpus_path() -> Path:
    """The five seed articles shipped with chorus, as JSON Lines."""
    return Path(str(resources.files("chorus.demo") / "data" / "seeds.jsonl"))


@dataclass(frozen=True)
class DemoResult:
    store_path: Path
    report_path: Path
    ingest: IngestSummary
    analysis: AnalysisSummary
    stats: CorpusStats


def run_demo(
    *,
    db: str | os.PathLike[str] = DEMO_STORE,
    report: str | os.PathLike[str] = DEMO_REPORT,
    progress: ProgressFactory = no_progress,
) -> DemoResult:
    """Ingest the seed corpus (again: it adds nothing the second time), analyse, report."""
    with open_store(db) as store:
        ingested = ingest_paths(store, [seed_corpus_path()], progress=progress)
        analysis = analyze(store, progress=progress)
        stats = corpus_stats(store)
        report_path = write_report(store, report)
        return DemoResult(store.path, report_path, ingested, analysis, stats)
