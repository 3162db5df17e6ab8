"""The sentence-level key of the seed corpus (``../shared/data/seeds/EXPECTED.md``), by a careful
reading, and the strict check of a run's talking points against it.

Each item lists, per document (its three-digit prefix), the sentence numbers that state it. A
sentence that states two items is listed under both (000's sentence 0: Mike Pence at the Free
Iran gathering praising the group as the alternative is P3 and P5). Sentences that touch an
item only in passing are not listed: a point may hold them or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SEED_KEY: dict[str, dict[str, set[int]]] = {
    # The regime's effort to attack the group proves it is a threat.
    "P1": {"001": {4, 10, 20}, "002": {5, 6}, "003": {0, 12, 14}},
    # The 1988 massacre of 30,000 political prisoners.
    "P2": {"000": {6, 17}, "001": {12}},
    # Foreign dignitaries attend the yearly Free Iran gathering in support.
    "P3": {"000": {0, 9, 10, 11}, "001": {5}, "002": {11, 14}, "003": {7}},
    # The foiled 2018 bomb plot against the rally in France; the arrested Iranian diplomat.
    "P4": {"001": {14, 15, 16, 22}, "002": {15}},
    # The group is the (only) viable alternative to the regime.
    "P5": {"000": {0}, "001": {0}, "002": {0}, "003": {2}},
    # The regime runs disinformation and demonisation campaigns against the group.
    "P6": {"000": {1}, "001": {1, 18}, "002": {4}, "003": {10, 11, 15}, "004": {30}},
    # Support inside Iran is hidden for fear of execution.
    "P7": {"000": {6}, "002": {8}},
    # The 2018 and 2019 uprisings across Iran.
    "P8": {"000": {8}, "001": {2, 3, 13}, "003": {21}, "004": {25}},
    # Western media and lobbyists repeat the regime's talking points.
    "P9": {"000": {2, 3}, "003": {16, 17}, "004": {5, 6, 31, 32}},
}
# The documents EXPECTED.md lists for each item: its point must span every one.
SEED_DOCS: dict[str, set[str]] = {
    "P1": {"001", "002", "003"},
    "P2": {"000", "001"},
    "P3": {"000", "001", "002", "003"},
    "P4": {"001", "002"},
    "P5": {"000", "001", "002", "003"},
    "P6": {"000", "001", "003", "004"},
    "P7": {"000", "002"},
    "P8": {"000", "001", "003", "004"},
    "P9": {"000", "003", "004"},
}
# The shared tagline: a phrase, not a passage or a claim.
TAGLINE_DOCS = {"001", "003", "004"}

Sentence = tuple[str, int]


def key_items() -> dict[Sentence, set[str]]:
    """Each keyed sentence and the items it states."""
    out: dict[Sentence, set[str]] = {}
    for item, docs in SEED_KEY.items():
        for doc, numbers in docs.items():
            for number in numbers:
                out.setdefault((doc, number), set()).add(item)
    return out


@dataclass(frozen=True)
class ItemResult:
    item: str
    point: str | None
    coverage: float  # share of the item's key sentences in its best point
    spans: bool  # the best point spans every listed document
    ok: bool


@dataclass(frozen=True)
class SeedCheck:
    items: list[ItemResult]
    mixed: list[str]  # points holding sentences of two items (that no sentence states both)
    unkeyed: list[str]  # points holding no key sentence at all

    @property
    def ok(self) -> bool:
        return all(i.ok for i in self.items) and not self.mixed and len(self.unkeyed) <= 3


def check_seed_points(points: Mapping[str, set[Sentence]], *, coverage: float = 0.8) -> SeedCheck:
    """``points``: point id -> its mentions as (document prefix, sentence number)."""
    items = key_items()
    results: list[ItemResult] = []
    for item, docs in SEED_KEY.items():
        key = {(d, s) for d, numbers in docs.items() for s in numbers}
        best = max(
            sorted(points), key=lambda p: (len(points[p] & key), -len(points[p])), default=None
        )
        held = points[best] & key if best is not None else set()
        share = len(held) / len(key)
        spans = best is not None and SEED_DOCS[item] <= {d for d, _ in points[best]}
        results.append(ItemResult(item, best, share, spans, share >= coverage and spans))
    mixed: list[str] = []
    unkeyed: list[str] = []
    for point, members in sorted(points.items()):
        stated = [items[m] for m in members if m in items]
        if not stated:
            unkeyed.append(point)
            continue
        # Mixed: no one item is stated by every keyed sentence of the point.
        if not set.intersection(*stated):
            mixed.append(point)
    return SeedCheck(results, mixed, unkeyed)
