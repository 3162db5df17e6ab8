"""Reference cells (chorus.points.cells): the levels a corpus size calls for, filing against a
brute-force oracle, a search over them against the exact search within the probed cells,
and the filing of a sentence not depending on the corpus it arrives in."""

from __future__ import annotations

import numpy as np
import pytest

from chorus.points import neighbours
from chorus.points.cells import (
    FINEST_CELLS,
    REFERENCE_PROBES,
    ReferenceCells,
    file_rows,
    reference_cells,
)
from chorus.points.neighbours import centre_rows, nearest_neighbours


def _unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.normal(size=(n, dim)).astype(np.float32)
    out: np.ndarray = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


@pytest.fixture(scope="module")
def small() -> ReferenceCells:
    rng = np.random.default_rng(7)
    return ReferenceCells(
        "test", rng.normal(size=8).astype(np.float32) * 0.1, _unit_rows(rng, 64, 8)
    )


@pytest.mark.parametrize(
    ("n", "cells"),
    [
        (0, 1),
        (neighbours.EXACT_LIMIT, 1),
        (neighbours.EXACT_LIMIT + 1, 128),  # sqrt 173: 2**7.4
        (208_316, 512),  # sqrt 456: 2**8.8
        (1_390_000, 1024),  # sqrt 1179: 2**10.2
        (10**9, FINEST_CELLS),  # the finest level is the last
    ],
)
def test_cells_follow_the_square_root_in_powers_of_two(n: int, cells: int) -> None:
    reference = reference_cells("all-MiniLM-L6-v2")
    assert reference is not None
    assert reference.cells_for(n) == cells


def test_the_shipped_reference_serves_the_model_on_any_device() -> None:
    reference = reference_cells("all-MiniLM-L6-v2")
    assert reference is not None
    assert reference.centroids.shape == (FINEST_CELLS, 384)
    assert np.allclose(np.linalg.norm(reference.centroids, axis=1), 1.0, atol=1e-3)
    assert reference_cells("all-MiniLM-L6-v2@cuda") is reference
    assert reference_cells("hashing-64") is None


def test_levels_are_seeded_unit_length_and_powers_of_two(small: ReferenceCells) -> None:
    for cells in (32, 16):
        level = small.level(cells)
        assert level.shape == (cells, 8)
        assert np.allclose(np.linalg.norm(level, axis=1), 1.0, atol=1e-5)
    again = ReferenceCells("again", small.mean, small.centroids.copy())
    assert np.array_equal(again.level(16), small.level(16))
    assert small.level(64) is small.centroids
    with pytest.raises(ValueError, match="powers of two"):
        small.level(24)


def test_filing_matches_a_brute_force_oracle(small: ReferenceCells) -> None:
    rng = np.random.default_rng(3)
    raw = _unit_rows(rng, 300, 8)
    level = small.level(32)
    found = file_rows(raw, small.mean, level, 5)
    sims = centre_rows(raw, small.mean) @ level.T
    for row in range(raw.shape[0]):
        order = sorted(range(32), key=lambda c: (-sims[row, c], c))
        assert found[row].tolist() == order[:5]
    assert np.array_equal(small.probes(raw, 32, 5), found)


def test_a_sentence_is_filed_alike_in_any_corpus(
    small: ReferenceCells, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Filing takes the reference mean, not the corpus's: the same row, among other rows,
    # is searched in the same cells.
    monkeypatch.setattr(neighbours, "EXACT_LIMIT", 100)
    rng = np.random.default_rng(5)
    shared = _unit_rows(rng, 150, 8)
    one = np.concatenate([shared, _unit_rows(rng, 100, 8) + 0.5])
    other = np.concatenate([shared, _unit_rows(rng, 120, 8) - 0.5])
    a, b = small.cells(one), small.cells(other)
    assert a is not None and b is not None
    assert a.centroids.shape[0] == b.centroids.shape[0] == 16
    assert np.array_equal(a.probe[:150], b.probe[:150])
    assert small.cells(shared[:100]) is None  # searched exactly


def test_a_search_over_cells_is_exact_within_the_probed_cells(
    small: ReferenceCells, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(neighbours, "EXACT_LIMIT", 100)
    rng = np.random.default_rng(11)
    n, k = 400, 4
    raw = _unit_rows(rng, n, 8)
    groups = rng.integers(0, 60, n)
    cells = small.cells(raw)
    assert cells is not None and cells.probe.shape[1] == min(REFERENCE_PROBES, 16)
    narrow = type(cells)(cells.probe[:, :3], cells.centroids)  # fewer probes than cells
    vectors = centre_rows(raw, raw.mean(axis=0))
    found = nearest_neighbours(vectors, groups, k=k, cells=narrow)
    home = narrow.probe[:, 0]
    sims = vectors @ vectors.T
    for row in range(n):
        allowed = [j for j in range(n) if groups[j] != groups[row] and home[j] in narrow.probe[row]]
        best = sorted(allowed, key=lambda j: (-sims[row, j], j))[:k]
        assert found.dst[found.src == row].tolist() == best
    assert found.home is not None and np.array_equal(found.home, home)
