"""The read model: what the report, the web app and the CLI summaries show, read from the
store as JSON-ready records whose shapes :mod:`chorus.views.records` declares."""

from chorus.views.changes import changes
from chorus.views.pages import (
    document_detail,
    edge_detail,
    first_mentions,
    heatmap,
    network,
    overview,
    point_detail,
    point_history,
    points_page,
    reuse_detail,
    reuse_page,
    safe_url,
    search_sentences,
    source_detail,
    sources_page,
    timeline,
    watchlists,
    word_diff,
)

__all__ = [
    "changes",
    "document_detail",
    "edge_detail",
    "first_mentions",
    "heatmap",
    "network",
    "overview",
    "point_detail",
    "point_history",
    "points_page",
    "reuse_detail",
    "reuse_page",
    "safe_url",
    "search_sentences",
    "source_detail",
    "sources_page",
    "timeline",
    "watchlists",
    "word_diff",
]
