"""Word search over every sentence, and "points like this" over every label, through indexes
built at analysis time.

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
from chorus.search.labels import (
    LabelIndex,
    LabelIndexSummary,
    LikeHit,
    build_label_index,
    label_index_state,
    read_label_index,
)

__all__ = [
    "LabelIndex",
    "LabelIndexSummary",
    "LikeHit",
    "SearchIndexSummary",
    "SentenceHit",
    "SentenceSearch",
    "build_label_index",
    "build_search_index",
    "index_state",
    "label_index_state",
    "query_words",
    "read_label_index",
    "search_sentences",
]
