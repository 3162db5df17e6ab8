"""Watchlist matching: which documents restate a known talking point, even in other words,
ranked, with the sentence that shows it."""

from chorus.match.core import DocumentMatches, Match
from chorus.match.lexical import BM25Index
from chorus.match.settings import MatchSettings
from chorus.match.stage import (
    Matcher,
    detect_languages,
    match_documents,
    scan_store_documents,
    write_matches_jsonl,
)
from chorus.match.watch import (
    DEFAULT_HIT_SCORE,
    DEFAULT_SENTENCE_HIT_SCORE,
    NEW_HIT_COLUMNS,
    UnknownWatchlistError,
    WatchHitsSummary,
    WatchRunSummary,
    add_watchlist,
    find_watch_hits,
    read_stored_watchlist,
    run_watch,
    watch_item_hits,
    watch_source_shares,
    watchlist_names,
)
from chorus.match.watchlist import (
    MatchDocument,
    WatchItem,
    WatchlistError,
    read_match_documents,
    read_watchlist,
)

__all__ = [
    "DEFAULT_HIT_SCORE",
    "DEFAULT_SENTENCE_HIT_SCORE",
    "NEW_HIT_COLUMNS",
    "BM25Index",
    "DocumentMatches",
    "Match",
    "MatchDocument",
    "MatchSettings",
    "Matcher",
    "UnknownWatchlistError",
    "WatchHitsSummary",
    "WatchItem",
    "WatchRunSummary",
    "WatchlistError",
    "add_watchlist",
    "detect_languages",
    "find_watch_hits",
    "match_documents",
    "read_match_documents",
    "read_stored_watchlist",
    "read_watchlist",
    "run_watch",
    "scan_store_documents",
    "watch_item_hits",
    "watch_source_shares",
    "watchlist_names",
    "write_matches_jsonl",
]
