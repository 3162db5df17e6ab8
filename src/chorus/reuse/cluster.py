"""Aligned runs into clusters of passages: connected copies of the same text."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from chorus.reuse.align import Run


@dataclass(frozen=True)
class Span:
    """Tokens [start, end) of document ``doc`` (a corpus-wide document index), and the same
    bounds as character offsets into its text."""

    doc: int
    start: int
    end: int
    start_char: int = -1
    end_char: int = -1


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller index wins, so components do not depend on the order of unions.
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def cluster_runs(runs: list[Run], *, min_overlap: float = 0.5) -> list[list[Span]]:
    """Group the two copies of every run, joining copies in one document that overlap by at
    least ``min_overlap`` of the shorter. Each cluster is a sorted list of non-overlapping
    spans (overlapping copies of a cluster in one document are merged)."""
    spans: list[Span] = []
    for r in runs:
        spans.append(Span(r.doc_a, r.a_start, r.a_end, r.a_start_char, r.a_end_char))
        spans.append(Span(r.doc_b, r.b_start, r.b_end, r.b_start_char, r.b_end_char))
    uf = _UnionFind(len(spans))
    for i in range(0, len(spans), 2):
        uf.union(i, i + 1)
    order = sorted(range(len(spans)), key=lambda i: (spans[i].doc, spans[i].start, spans[i].end))
    group_rep, group_doc, group_start, group_end = -1, -1, 0, 0
    for i in order:
        s = spans[i]
        if s.doc == group_doc:
            overlap = min(s.end, group_end) - s.start
            shorter = min(s.end - s.start, group_end - group_start)
            if overlap > 0 and overlap >= min_overlap * shorter:
                uf.union(group_rep, i)
                group_end = max(group_end, s.end)
                continue
        group_rep, group_doc, group_start, group_end = i, s.doc, s.start, s.end
    members: dict[int, list[Span]] = defaultdict(list)
    for i, s in enumerate(spans):
        members[uf.find(i)].append(s)
    clusters: list[list[Span]] = []
    for group in members.values():
        group.sort(key=lambda s: (s.doc, s.start, s.end))
        merged: list[Span] = []
        for s in group:
            if merged and merged[-1].doc == s.doc and s.start < merged[-1].end:
                last = merged[-1]
                tail = last if last.end >= s.end else s
                merged[-1] = Span(s.doc, last.start, tail.end, last.start_char, tail.end_char)
            else:
                merged.append(s)
        clusters.append(merged)
    clusters.sort(key=lambda c: (c[0].doc, c[0].start))
    return clusters
