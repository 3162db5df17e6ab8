"""Shared-phrase settings in the terms users think in."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PhrasesSettings:
    """What counts as a shared phrase.

    ``min_words`` to ``max_words``: its length in words (punctuation and case never count,
    so "(PMOI / MEK Iran)" and "PMOI MEK Iran" are one phrase). ``min_sources``: how many
    sources must use it. ``max_doc_share``: a phrase in more than this share of the documents
    is the corpus's common language (its subject's name, "the United States"), not a
    phrase some sources share; it applies once the corpus has at least ``min_docs_for_share``
    documents, since in a handful of documents every shared phrase is in a large share.
    ``bands``: hash partitions the work is split into (more, less memory per step); by
    default derived from the corpus size. ``restart_growth``: a store whose phrases were found
    has them updated with the documents added since, until the corpus has grown by more than
    this share since the last run from scratch (the ``max_doc_share`` limit moves with the
    corpus; phrases no added document holds keep the limit of that run).
    """

    min_words: int = 3
    max_words: int = 8
    min_sources: int = 2
    max_doc_share: float = 0.02
    min_docs_for_share: int = 200
    bands: int | None = None
    restart_growth: float = 0.25

    def __post_init__(self) -> None:
        if not 2 <= self.min_words <= self.max_words <= 16:
            raise ValueError("need 2 <= min_words <= max_words <= 16")
        if self.min_sources < 2:
            raise ValueError("min_sources must be at least 2")
        if not 0.0 < self.max_doc_share <= 1.0:
            raise ValueError("max_doc_share must be in (0, 1]")
        if self.bands is not None and self.bands < 1:
            raise ValueError("bands must be at least 1")
        if self.restart_growth < 0:
            raise ValueError("restart_growth must be at least 0")

    def bands_for(self, n_characters: int) -> int:
        """Enough bands that one holds about 8 million phrase occurrences (a word is about
        six characters, and each word starts ``max_words - min_words + 1`` phrases)."""
        if self.bands is not None:
            return self.bands
        per_word = self.max_words - self.min_words + 1
        return max(1, math.ceil(n_characters / 6 * per_word / 8_000_000))
