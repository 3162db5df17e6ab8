"""Reuse settings in the terms users think in; hashing parameters are derived from them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from chorus.reuse.tokens import MAX_NGRAM


@dataclass(frozen=True)
class ReuseSettings:
    """What counts as reuse.

    ``min_words``: the shortest passage reported, in words. ``edit_tolerance``: the share of
    words that may differ between two copies (changed, added or dropped) and still be one
    passage; punctuation and casing never count. ``max_copies``: a word sequence found in more
    places than this is a stock phrase, not evidence of copying. ``bands``: how many hash
    partitions the work is split into (more bands, less memory per step); by default it is
    derived from the corpus size, about 2.5 million n-grams a band.
    """

    min_words: int = 20
    edit_tolerance: float = 0.2
    max_copies: int = 500
    bands: int | None = None

    def __post_init__(self) -> None:
        if self.min_words < 4:
            raise ValueError("min_words must be at least 4")
        if not 0.0 <= self.edit_tolerance < 0.5:
            raise ValueError("edit_tolerance must be in [0, 0.5)")
        if self.max_copies < 2 or (self.bands is not None and self.bands < 1):
            raise ValueError("max_copies must be at least 2 and bands at least 1")

    def bands_for(self, n_characters: int) -> int:
        """Bands for a corpus of ``n_characters``: the setting, or enough that one band holds
        about 2.5 million n-grams (a word is about six characters), and at least 16."""
        if self.bands is not None:
            return self.bands
        return max(16, math.ceil(n_characters / 6 / 2_500_000))

    @property
    def ngram(self) -> int:
        """Words per hashed n-gram: long enough to be rare, short enough that a passage of
        ``min_words`` with edits keeps several intact n-grams."""
        return max(3, min(MAX_NGRAM, self.min_words // 5))

    @property
    def max_gap(self) -> int:
        """Tokens between two matching n-grams that may still be one passage: an edit breaks
        the ``ngram`` n-grams that contain it, and nearby edits can run together."""
        return 4 * self.ngram

    @property
    def min_matches(self) -> int:
        """Matching n-grams a passage needs; a single one is chance."""
        return 2

    @property
    def max_unmatched_share(self) -> float:
        """Share of a passage's words that no matching n-gram covers. A changed word leaves
        about one word uncovered (the n-grams around it still cover its neighbours), so this
        follows ``edit_tolerance``, with room for edits that fall close together (calibrated
        on planted edits in bench/reuse_quality.py)."""
        return min(0.5, 2.0 * self.edit_tolerance)

    @property
    def min_span(self) -> int:
        """Tokens a passage must span in each copy, allowing for dropped words."""
        return max(self.ngram, math.ceil(self.min_words * (1.0 - self.edit_tolerance)))
