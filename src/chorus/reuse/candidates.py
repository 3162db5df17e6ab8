"""From n-gram hashes to matching positions, partitioned by hash band.

Map: every n-gram goes to band ``hash % bands`` (a file per band, appended batch by batch).
Reduce, per band: sort by hash; an n-gram found 2 to ``max_copies`` times links its copies:
every pair when there are at most ``ALL_PAIRS_UP_TO`` (so each pair of documents sees all it
shares), each copy to the next beyond that (a chain, so a passage in k places costs k - 1
links, not k²). Each link is a match (doc_a, pos_a, doc_b, pos_b), shuffled by document pair
for alignment. Everything a step
holds is one band, so memory stays bounded as the corpus grows, and each band is a Spark task.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from chorus.reuse.tokens import U64, Shingles

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Matches:
    """The same n-gram at token ``pos_a`` of ``doc_a`` and ``pos_b`` of ``doc_b``
    (``doc_a < doc_b``, or the same document with ``pos_a < pos_b``)."""

    doc_a: I32
    pos_a: I32
    doc_b: I32
    pos_b: I32

    def __len__(self) -> int:
        return len(self.doc_a)

    @staticmethod
    def concat(parts: list[Matches]) -> Matches:
        if not parts:
            e = np.zeros(0, dtype=np.int32)
            return Matches(e, e, e, e)
        return Matches(
            *(
                np.concatenate([getattr(p, f) for p in parts]).astype(np.int32)
                for f in ("doc_a", "pos_a", "doc_b", "pos_b")
            )
        )


class BandFiles:
    """Append-only columns per band in a folder: the shuffle between map and reduce."""

    def __init__(self, folder: Path, name: str, bands: int, columns: dict[str, str]) -> None:
        self.folder = folder
        self.name = name
        self.bands = bands
        self.columns = columns
        self._open: dict[Path, BinaryIO] = {}

    def _writer(self, path: Path) -> BinaryIO:
        fh = self._open.get(path)
        if fh is None:
            # Handles stay open while writing: thousands of batches x bands x columns of
            # open() calls would cost more than the writes.
            fh = self._open[path] = path.open("ab")
        return fh

    def close(self) -> None:
        for fh in self._open.values():
            fh.close()
        self._open.clear()

    def _path(self, band: int, column: str) -> Path:
        return self.folder / f"{self.name}-{band:04d}-{column}.bin"

    def append(self, band_of: npt.NDArray[np.int64], arrays: dict[str, np.ndarray]) -> None:
        # A stable sort of small integers is a radix sort in numpy: linear, and it keeps rows
        # in (document, position) order within each band.
        small = np.uint8 if self.bands <= 256 else np.uint16
        order = np.argsort(band_of.astype(small), kind="stable")
        bounds = np.searchsorted(band_of[order], np.arange(self.bands + 1))
        for band in range(self.bands):
            lo, hi = bounds[band], bounds[band + 1]
            if lo == hi:
                continue
            rows = order[lo:hi]
            for column, dtype in self.columns.items():
                fh = self._writer(self._path(band, column))
                fh.write(np.ascontiguousarray(arrays[column][rows], dtype=dtype).tobytes())

    def read(self, band: int) -> dict[str, np.ndarray]:
        """One band's columns; call :meth:`close` after the last append first."""
        out: dict[str, np.ndarray] = {}
        for column, dtype in self.columns.items():
            path = self._path(band, column)
            out[column] = (
                np.fromfile(path, dtype=dtype) if path.exists() else np.zeros(0, dtype=dtype)
            )
        return out

    def remove(self, band: int) -> None:
        for column in self.columns:
            self._path(band, column).unlink(missing_ok=True)


SHINGLE_COLUMNS = {"hash": "uint64", "doc": "int32", "pos": "int32"}
MATCH_COLUMNS = {"doc_a": "int32", "pos_a": "int32", "doc_b": "int32", "pos_b": "int32"}


def band_of_hash(hashes: U64, bands: int) -> I64:
    return (hashes % np.uint64(bands)).astype(np.int64)


def band_of_pair(doc_a: I32, doc_b: I32, bands: int) -> I64:
    key = doc_a.astype(np.int64) * 1_000_003 + doc_b.astype(np.int64)
    return (key % bands).astype(np.int64)


ALL_PAIRS_UP_TO = 8


def matches_in_band(shingles: Shingles, *, max_copies: int, min_self_distance: int) -> Matches:
    """Links between the copies of every n-gram of one band (see the module docstring)."""
    h = shingles.hash
    if len(h) < 2:
        return Matches.concat([])
    order = np.argsort(h)
    hs = h[order]
    is_first = np.empty(len(hs), dtype=np.bool_)
    is_first[0] = True
    np.not_equal(hs[1:], hs[:-1], out=is_first[1:])
    group_start = np.flatnonzero(is_first)
    sizes = np.diff(np.append(group_start, len(hs)))
    group = np.cumsum(is_first) - 1
    size = sizes[group]
    shared = (size >= 2) & (size <= max_copies)
    if not shared.any():
        return Matches.concat([])
    order, group, size = order[shared], group[shared], size[shared]
    # Within a group, copies in (document, position) order.
    key = (shingles.doc[order].astype(np.int64) << 32) | shingles.pos[order].astype(np.int64)
    within = np.lexsort((key, group))
    key, group, size = key[within], group[within], size[within]
    parts_a: list[np.ndarray] = []
    parts_b: list[np.ndarray] = []
    for t in range(1, ALL_PAIRS_UP_TO):
        same = group[:-t] == group[t:]
        if t > 1:
            same &= size[:-t] <= ALL_PAIRS_UP_TO
        idx = np.flatnonzero(same)
        if len(idx) == 0:
            break
        parts_a.append(key[idx])
        parts_b.append(key[idx + t])
    ka, kb = np.concatenate(parts_a), np.concatenate(parts_b)
    doc_a = (ka >> 32).astype(np.int32)
    pos_a = (ka & 0xFFFFFFFF).astype(np.int32)
    doc_b = (kb >> 32).astype(np.int32)
    pos_b = (kb & 0xFFFFFFFF).astype(np.int32)
    # A sequence repeated within a few words of itself ("very very very ...") is not reuse.
    ok = ~((doc_a == doc_b) & (pos_b - pos_a < min_self_distance))
    return Matches(doc_a[ok], pos_a[ok], doc_b[ok], pos_b[ok])
