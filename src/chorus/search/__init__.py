"""Word search over every sentence, through an index built at analysis time.

>>> from chorus.search import query_words
>>> query_words("Border-security, ÉLECTION 2020!")
('border', 'security', 'élection', '2020')
"""

from chorus.search.index import (
    SearchIndexSummary,
    SentenceHit,
    SentenceSearch,
    build_search_index,
    index_state,
    query_words,
    search_sentences,
)

__all__ = [
    "SearchIndexSummary",
    "SentenceHit",
    "SentenceSearch",
    "build_search_index",
    "index_state",
    "query_words",
    "search_sentences",
]
