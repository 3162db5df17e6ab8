"""Claim families: the kernel against a brute-force average linkage, naming, and what
coordination makes of a claim that came out as several points."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.points.families import claim_families, family_ids
from chorus.store import open_store

from .conftest import write_jsonl


def _oracle(vectors: list[np.ndarray], threshold: float) -> list[set[int]]:
    """Naive average linkage over every pair of mention vectors (points as lists of them)."""
    clusters = [{i} for i in range(len(vectors))]
    while True:
        best = None
        for a, b in itertools.combinations(range(len(clusters)), 2):
            left = np.concatenate([vectors[i] for i in clusters[a]])
            right = np.concatenate([vectors[i] for i in clusters[b]])
            mean = float((left @ right.T).mean())
            if mean >= threshold and (best is None or mean > best[0]):
                best = (mean, a, b)
        if best is None:
            return clusters
        _, a, b = best
        clusters[a] |= clusters.pop(b)


@pytest.mark.parametrize("seed", range(6))
def test_families_match_brute_force_average_linkage(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, dim = 16, 12
    centres = rng.normal(size=(4, dim))
    points = []
    for i in range(n):
        size = int(rng.integers(1, 5))
        x = centres[i % 4] + 0.7 * rng.normal(size=(size, dim))
        points.append(x / np.linalg.norm(x, axis=1, keepdims=True))
    sums = np.stack([p.sum(axis=0) for p in points])
    counts = np.array([len(p) for p in points], dtype=np.float64)
    labels = claim_families(sums, counts, threshold=0.45, neighbours=n - 1)
    got = sorted(sorted(np.flatnonzero(labels == label).tolist()) for label in set(labels))
    want = sorted(sorted(c) for c in _oracle(points, 0.45))
    assert got == want
    assert len(got) < n  # the data has families to find


def test_family_is_named_by_its_largest_point_and_unembedded_points_stay_alone() -> None:
    v = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    w = np.array([0.0, 1.0, 0.0], dtype=np.float32)
    ids = ["tp_c", "tp_a", "tp_b", "tp_d", "tp_e"]
    names = family_ids(
        ids,
        [2, 2, 5, 3, 4],
        [2 * v, 2 * v, 5 * v, None, 4 * w],
        [2, 2, 5, 0, 4],
    )
    assert names == ["tp_b", "tp_b", "tp_b", "tp_d", "tp_e"]
    # The order points come in changes nothing.
    order = [3, 0, 4, 2, 1]
    again = family_ids(
        [ids[i] for i in order],
        [[2, 2, 5, 3, 4][i] for i in order],
        [[2 * v, 2 * v, 5 * v, None, 4 * w][i] for i in order],
        [[2, 2, 5, 0, 4][i] for i in order],
    )
    assert again == [names[i] for i in order]


def test_points_of_one_family_are_one_coordination_object(tmp_path: Path) -> None:
    """Two sources restating the same two claims, each claim in two points (a trimmed and a
    reworded version): they share two objects, not zero, and each is one family."""
    from chorus.coord.objects import sharing_events

    rows = [
        json.dumps({"id": d, "source": f"site-{d}", "text": f"Text of document {d}."}) for d in "ab"
    ]
    with open_store(tmp_path / "f.duckdb") as store:
        ingest_paths(
            store, [write_jsonl(tmp_path / "x.jsonl", rows)], language_detector=NoLanguageDetector()
        )
        con = store.con
        for point, family, doc in [
            ("tp_1", "tp_1", "a"),
            ("tp_2", "tp_1", "b"),
            ("tp_3", "tp_3", "a"),
            ("tp_4", "tp_3", "b"),
        ]:
            con.execute(
                """INSERT INTO points (point_id, label, keyphrases, n_mentions, n_docs,
                                       n_sources, origin_doc_id, origin_source, family_id)
                   VALUES (?, 'l', [], 1, 1, 1, ?, 'x', ?)""",
                [point, doc, family],
            )
            con.execute("INSERT INTO mentions VALUES (?, ?, 0, 0, 1, 1.0, 'x')", [point, doc])
        events = sharing_events(store, ("point",)).to_pylist()
        objects = {(e["source"], e["object_id"]) for e in events}
        assert objects == {
            ("site-a", "tp_1"),
            ("site-b", "tp_1"),
            ("site-a", "tp_3"),
            ("site-b", "tp_3"),
        }


def test_pair_means_in_blocks_equal_the_whole_gather() -> None:
    """The candidate pairs' mean cosines are computed a block at a time (bounded memory on
    hundreds of thousands of points): to the last bit what one gather gives."""
    import numpy as np

    from chorus.points import families

    rng = np.random.default_rng(0)
    totals = rng.normal(size=(3000, 64))
    sizes = rng.integers(1, 9, 3000).astype(np.float64)
    pairs = rng.integers(0, 3000, size=(3 * families._PAIR_BLOCK + 17, 2))
    whole = np.einsum("ij,ij->i", totals[pairs[:, 0]], totals[pairs[:, 1]]) / (
        sizes[pairs[:, 0]] * sizes[pairs[:, 1]]
    )
    assert np.array_equal(families._pair_means(totals, sizes, pairs), whole)
