"""The reuse stage: passages copied word for word, or nearly, between and within documents."""

from chorus.reuse.classify import ReuseKind, classify
from chorus.reuse.credit import find_credits, is_wire_document
from chorus.reuse.settings import ReuseSettings
from chorus.reuse.stage import ReuseSummary, find_reuse

__all__ = [
    "ReuseKind",
    "ReuseSettings",
    "ReuseSummary",
    "classify",
    "find_credits",
    "find_reuse",
    "is_wire_document",
]
