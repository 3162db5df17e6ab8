"""Sentence embedders and the store's cache of their vectors: shared by talking points,
watchlist matching, "points like this" and the Spark engine.

>>> from chorus.embed import HashingEmbedder
>>> HashingEmbedder(dim=8).embed(["a claim", "a claim"]).shape
(2, 8)
"""

from chorus.embed.cache import cached_embed
from chorus.embed.models import (
    Embedder,
    EmbedFn,
    HashingEmbedder,
    MiniLMEmbedder,
    WordLlamaEmbedder,
    load_embedder,
)

__all__ = [
    "EmbedFn",
    "Embedder",
    "HashingEmbedder",
    "MiniLMEmbedder",
    "WordLlamaEmbedder",
    "cached_embed",
    "load_embedder",
]
