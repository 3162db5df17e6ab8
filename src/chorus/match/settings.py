"""Watchlist matching settings, with the defaults calibrated on CLEF 2020 train."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

MatchModel = Literal["auto", "minilm", "multilingual", "wordllama", "hashing"]


@dataclass(frozen=True)
class MatchSettings:
    """How documents are matched against a watchlist.

    ``top_k``: at most this many talking points per document, best first. ``min_score``: drop
    matches below this score (``None`` keeps the top ``top_k`` whatever their score).
    ``min_score_sentence``: for a document scored by its best sentence (longer than
    ``whole_words``), drop matches below this instead (``None``: ``min_score``): its best of
    many sentences reaches a given score more easily than a post scored whole.
    ``lexical_weight``: how much the BM25 score (0 to 1: 1 when the talking point holds every
    term of the document's piece at its highest weight) adds to the embedding cosine.
    ``static_weight``: how much WordLlama's cosine adds (0 skips it). Both weights are the
    best on CLEF 2020 train (``bench/match_quality.py``). ``whole_words``: a document of at
    most this many words (a post, a tweet) is also embedded whole, and its whole-text score
    is the document's score; longer ones score by their best sentence. ``model``: ``auto``
    takes ``multilingual`` (multilingual-e5-small: a talking point meets its translation)
    when the watchlist or the documents are not all English (as ``chorus points`` decides,
    for each of the two), else ``minilm``.
    """

    top_k: int = 5
    min_score: float | None = None
    min_score_sentence: float | None = None
    lexical_weight: float = 0.7
    static_weight: float = 0.3
    whole_words: int = 100
    model: MatchModel = "auto"

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise ValueError("top_k must be at least 1")
        if self.lexical_weight < 0 or self.static_weight < 0:
            raise ValueError("lexical_weight and static_weight must not be negative")
        if self.model not in ("auto", "minilm", "multilingual", "wordllama", "hashing"):
            raise ValueError(f"unknown model {self.model!r}")

    def for_languages(
        self, watchlist: Mapping[str, int], documents: Mapping[str, int] | None = None
    ) -> MatchSettings:
        """These settings with ``auto`` decided for a watchlist and documents of these
        languages (texts per detected language; ``und``: not detected). Documents not yet
        known (a stream) count as English."""
        from chorus.points.settings import model_for_languages

        if self.model != "auto":
            return self
        models = {model_for_languages(watchlist), model_for_languages(documents or {})}
        return replace(self, model="multilingual" if "multilingual" in models else "minilm")
