"""Talking points: sentences that make the same claim, in the same or other words, across
documents."""

from chorus.embed.models import (
    Embedder,
    HashingEmbedder,
    MiniLMEmbedder,
    WordLlamaEmbedder,
    load_embedder,
)
from chorus.points.core import ClaimGroups, group_claims
from chorus.points.settings import PointsSettings
from chorus.points.stage import PointsSummary, find_points

__all__ = [
    "ClaimGroups",
    "Embedder",
    "HashingEmbedder",
    "MiniLMEmbedder",
    "PointsSettings",
    "PointsSummary",
    "WordLlamaEmbedder",
    "find_points",
    "group_claims",
    "load_embedder",
]
