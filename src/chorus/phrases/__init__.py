"""Shared phrases: short word sequences several sources use (a tagline, a slogan), too short
for a copied passage and too short to be a claim."""

from chorus.phrases.settings import PhrasesSettings
from chorus.phrases.stage import PhrasesSummary, find_phrases

__all__ = ["PhrasesSettings", "PhrasesSummary", "find_phrases"]
