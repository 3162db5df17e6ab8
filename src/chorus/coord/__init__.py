"""Coordination: which sources push the same talking points together, with the evidence for
every edge and a significance test."""

from chorus.coord.evidence import read_edge_evidence
from chorus.coord.graph import GRAPH_FORMATS, write_graph
from chorus.coord.objects import canonical_url, sharing_events
from chorus.coord.settings import OBJECT_KINDS, CoordSettings
from chorus.coord.stage import CoordSummary, find_coordination

__all__ = [
    "GRAPH_FORMATS",
    "OBJECT_KINDS",
    "CoordSettings",
    "CoordSummary",
    "canonical_url",
    "find_coordination",
    "read_edge_evidence",
    "sharing_events",
    "write_graph",
]
