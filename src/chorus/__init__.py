"""chorus: find the talking points many sources repeat, with the evidence.

The library never prints; every stage is a function over the store. Start with::

    import chorus
    with chorus.open_store("project.duckdb") as store:
        chorus.ingest_paths(store, ["articles.jsonl"])
        print(chorus.corpus_stats(store).n_documents)
"""

__version__ = "0.1.0"

from chorus.analyze import AnalysisSummary, analyze
from chorus.errors import (
    BatchRefusedError,
    ChorusError,
    InputProblem,
    StoreLockedError,
    StoreVersionError,
    UnknownTableError,
)
from chorus.ingest import FieldMap, IngestSummary, ingest_paths
from chorus.segment import segment_documents, split_sentences
from chorus.stats import CorpusStats, corpus_stats
from chorus.store import Store, open_store

__all__ = [
    "AnalysisSummary",
    "BatchRefusedError",
    "ChorusError",
    "CorpusStats",
    "FieldMap",
    "IngestSummary",
    "InputProblem",
    "Store",
    "StoreLockedError",
    "StoreVersionError",
    "UnknownTableError",
    "__version__",
    "analyze",
    "corpus_stats",
    "ingest_paths",
    "open_store",
    "segment_documents",
    "split_sentences",
]
