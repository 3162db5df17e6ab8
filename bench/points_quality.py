"""Talking-point quality on CLEF 2020 CheckThat! task 2 (train + dev): each tweet and the
verified claims it is linked to form one gold group (groups that share a claim are joined).
Every tweet and every linked claim is clustered; pairwise precision, recall and F1 are
reported for chorus (cascade, accurate-only, fast-only) and, in the same run, for the anchor
the issue names: all-MiniLM-L6-v2 with dense O(n^2) complete linkage at its best threshold,
and connected components over a threshold.

    python bench/points_quality.py
"""

from __future__ import annotations

import itertools
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import CLEF, Groups, machine, read_tsv
from chorus.points import PointsSettings, group_claims, load_embedder
from chorus.points.text import claim_text


def load_clef() -> tuple[list[str], list[str]]:
    """(texts, gold group of each text)."""
    claims = {row[0]: row[1] for row in read_tsv(CLEF / "verified_claims.docs.tsv")}
    groups = Groups()
    items: list[tuple[str, str]] = []
    linked: set[str] = set()
    for split in ("train", "dev"):
        items += [(f"{split}:{r[0]}", r[1]) for r in read_tsv(CLEF / split / "tweets.queries.tsv")]
        for line in (CLEF / split / "tweet-vclaim-pairs.qrels").read_text().splitlines():
            tweet, _, claim, _ = line.split()
            groups.join(f"{split}:{tweet}", f"c:{claim}")
            linked.add(claim)
    items += [(f"c:{c}", claims[c]) for c in sorted(linked, key=int)]
    return [claim_text(t) for _, t in items], [groups.find(k) for k, _ in items]


def _pairs(labels: list[object] | np.ndarray) -> set[tuple[int, int]]:
    members: dict[object, list[int]] = defaultdict(list)
    for i, label in enumerate(list(labels)):
        members[label].append(i)
    return {p for m in members.values() for p in itertools.combinations(m, 2)}


def scores(labels: list[object] | np.ndarray, gold: set[tuple[int, int]]) -> tuple[float, ...]:
    found = _pairs(labels)
    tp = len(found & gold)
    p = tp / max(len(found), 1)
    r = tp / max(len(gold), 1)
    return p, r, 2 * p * r / max(p + r, 1e-12)


def anchors(vectors: np.ndarray, gold: set[tuple[int, int]]) -> dict[str, tuple[float, ...]]:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial.distance import squareform

    sims = vectors @ vectors.T
    dist = np.clip(1 - sims, 0, 2)
    np.fill_diagonal(dist, 0)
    tree = linkage(squareform(dist, checks=False), "complete")
    grid = np.arange(0.3, 0.95, 0.025)
    complete = max(
        ((*scores(fcluster(tree, 1 - t, "distance"), gold), float(t)) for t in grid),
        key=lambda s: s[2],
    )
    components = max(
        (
            (*scores(connected_components(sims >= t, directed=False)[1], gold), float(t))
            for t in grid
        ),
        key=lambda s: s[2],
    )
    return {"complete linkage (dense) t=": complete, "connected components t=": components}


def main() -> None:
    texts, gold_labels = load_clef()
    gold = _pairs(gold_labels)
    groups = np.arange(len(texts))  # every tweet and claim is its own document
    print(
        f"# points quality: CLEF 2020 task 2 train+dev, {len(texts)} texts, "
        f"{len(set(gold_labels))} gold groups, {len(gold)} gold pairs"
    )
    print(f"# machine: {machine()}")
    accurate = load_embedder("minilm")
    fast = load_embedder("wordllama")
    rows = []
    for name, model in (
        ("cascade", "cascade"),
        ("minilm only", "minilm"),
        ("wordllama only", "wordllama"),
    ):
        settings = PointsSettings(model=model)  # type: ignore[arg-type]
        start = time.perf_counter()
        result = group_claims(
            texts,
            groups,
            settings=settings,
            embed=fast.embed if model == "wordllama" else accurate.embed,
            embed_fast=fast.embed if model == "cascade" else None,
        )
        seconds = time.perf_counter() - start
        p, r, f = scores(result.labels, gold)
        rows.append((f"chorus {name}", p, r, f, seconds, result.stats["n_screened"]))
    vectors = accurate.embed(texts)
    start = time.perf_counter()
    found = anchors(vectors, gold)
    seconds = time.perf_counter() - start
    print(f"{'method':42} {'P':>6} {'R':>6} {'F1':>6} {'s':>7}  accurate-model texts")
    for name, p, r, f, s, n in rows:
        print(f"{name:42} {p:6.3f} {r:6.3f} {f:6.3f} {s:7.1f}  {n}")
    for name, (p, r, f, t) in found.items():
        label = f"anchor MiniLM {name} {t:.3f}"
        print(f"{label:42} {p:6.3f} {r:6.3f} {f:6.3f} {seconds:7.1f}")
    best_anchor = max(v[2] for v in found.values())
    cascade_f, accurate_f = rows[0][3], rows[1][3]
    print(
        f"chorus cascade F1 / best anchor F1: {cascade_f / best_anchor:.3f}x; "
        f"cascade - accurate-only: {cascade_f - accurate_f:+.3f}; target F1 >= 0.85 (issue 17): "
        f"{'met' if cascade_f >= 0.85 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
