"""Reference cells: a fixed partition of a model's vector space for the inverted-file search.

Past ``EXACT_LIMIT`` units the points stage compares each unit only with the units filed
under a few cells near it. Cells trained on the corpus itself (k-means) move whenever the
corpus grows, so the neighbour lists an update finds and those a run from scratch finds
differ: on 6,000 news articles, centroids trained on the first 5,400 instead of all 6,000
moved 4.6% of the mention pairs (``bench/update_design.py``). Reference cells are trained
once, on a sample of news claims (``bench/reference_cells.py``), and ship with chorus: which
cells a sentence is searched in depends on the sentence alone, so the lists are a function
of the set of units and an update can reach what a run from scratch finds.

A unit is filed by its vector centred on the reference mean (not the corpus mean, which
moves too); the search itself scores with the corpus-centred vectors as before. The number
of cells follows the corpus in powers of two (about the square root of the units): coarser
levels are k-means over the finest centroids, seeded. A corpus that crosses to another level
is searched afresh (:func:`chorus.points.update.update_points` starts over).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chorus.points import neighbours
from chorus.points.neighbours import Cells, centre_rows, ivf_probes, kmeans

log = logging.getLogger(__name__)

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
# The finest level shipped; a corpus past about FINEST_CELLS**2 units keeps it.
FINEST_CELLS = 2048
COARSEST_CELLS = 16
# Cells trained elsewhere fit a corpus less tightly than its own k-means: 24 probes of
# reference cells find about what 16 of the corpus's own found (recall of the exact top-5
# lists 0.903 against 0.884 on the first 6,000 news articles, in 77 s against 51 s).
REFERENCE_PROBES = 24


@dataclass(frozen=True, eq=False)  # cached by identity
class ReferenceCells:
    """A model's reference: ``mean`` (what vectors are centred on to be filed) and the
    finest ``centroids``."""

    model: str
    mean: np.ndarray
    centroids: np.ndarray

    def cells_for(self, n: int) -> int:
        """How many cells a search over ``n`` units uses: 1 (exact) up to ``EXACT_LIMIT``,
        then the power of two nearest the square root of ``n``, within the levels."""
        if n <= neighbours.EXACT_LIMIT:
            return 1
        level = 2 ** round(np.log2(np.sqrt(n)))
        return int(min(max(level, COARSEST_CELLS), self.centroids.shape[0]))

    def level(self, cells: int) -> np.ndarray:
        """The ``cells`` centroids of one level (float32, unit length)."""
        return _level(self, cells)

    def probes(self, raw: np.ndarray, cells: int, probes: int = REFERENCE_PROBES) -> np.ndarray:
        """Each raw (uncentred) vector's ``probes`` nearest cells of the level, nearest
        first; the first is the cell it is filed under."""
        return file_rows(raw, self.mean, self.level(cells), probes)

    def cells(self, raw: np.ndarray) -> Cells | None:
        """Where each of these raw vectors is searched, at the level their number calls
        for; ``None`` when they are few enough to be searched exactly."""
        n_cells = self.cells_for(raw.shape[0])
        if n_cells == 1:
            return None
        return Cells(self.probes(raw, n_cells), self.level(n_cells))


def file_rows(
    raw: np.ndarray, mean: np.ndarray, centroids: np.ndarray, probes: int = REFERENCE_PROBES
) -> np.ndarray:
    """The kernel both engines file rows with: each raw vector centred on the reference
    ``mean``, then its ``probes`` nearest ``centroids``, nearest first."""
    # int32: a corpus of a million units probes 24 cells each.
    out = np.empty((raw.shape[0], min(probes, centroids.shape[0])), dtype=np.int32)
    for lo in range(0, raw.shape[0], 50_000):
        part = centre_rows(raw[lo : lo + 50_000], mean)
        out[lo : lo + part.shape[0]] = ivf_probes(part, centroids, probes)
    return out


@functools.cache
def _level(reference: ReferenceCells, cells: int) -> np.ndarray:
    finest = reference.centroids
    if cells >= finest.shape[0]:
        return finest
    if cells & (cells - 1):
        raise ValueError(f"reference cells come in powers of two, not {cells}")
    # Each level from the one above: the same levels however the corpus grew to need them.
    finer = _level(reference, cells * 2)
    out: np.ndarray = kmeans(finer, cells, seed=cells, iterations=20)
    return out


def reference_cells(model: str) -> ReferenceCells | None:
    """The reference cells shipped for ``model`` (an embedder's name), or ``None``: the
    search then trains its cells on the corpus."""
    # The same model on a GPU (``...@cuda``) files its vectors under the same cells.
    return _load(model.split("@")[0])


@functools.cache
def _load(model: str) -> ReferenceCells | None:
    path = REFERENCE_DIR / f"{model}.npz"
    if not path.exists():
        return None
    with np.load(path) as data:
        centroids = data["centroids"].astype(np.float32)
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        mean = data["mean"].astype(np.float32)
    log.debug("reference cells for %s: %d cells", model, centroids.shape[0])
    return ReferenceCells(model, mean, centroids)
