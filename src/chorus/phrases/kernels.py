"""The model-free core of shared phrases: the word n-grams of a batch of documents (hashed,
with their character offsets), and which of them several sources share. Pure functions over
arrays, vectorised over every word of a batch, so any engine can call them per batch of
documents and per hash band."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from chorus.points.text import content_words

_WORD = re.compile(r"\w+(?:['’]\w+)*")
# Rolling-hash multiplier (odd, 64-bit): n-gram hashes extend word by word in uint64.
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Grams:
    """Word n-grams of a batch of texts: ``hashes[i]`` (of the lower-cased words) spans
    ``texts[docs[i]][starts[i]:ends[i]]``."""

    hashes: np.ndarray
    docs: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


class WordHashes:
    """Stable 64-bit hashes of words (the same in every process, unlike ``hash``), and
    whether each carries content, cached per distinct word."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[int, bool]] = {}

    def __call__(self, word: str) -> tuple[int, bool]:
        found = self._known.get(word)
        if found is None:
            key = word.casefold().replace("’", "'")
            digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
            found = (int.from_bytes(digest, "little"), content_words(key) > 0)
            if len(self._known) < 2_000_000:
                self._known[word] = found
        return found


def batch_grams(
    texts: Sequence[str],
    *,
    min_words: int,
    max_words: int,
    skip: Sequence[Sequence[tuple[int, int]]] | None = None,
    words: WordHashes | None = None,
) -> Grams:
    """Every n-gram of ``min_words`` to ``max_words`` words that starts and ends with a word
    outside the stop list, holds at least two such words, stays inside one text and lies
    outside that text's ``skip`` spans (copied passages, already reported as such)."""
    words = words or WordHashes()
    hashes: list[int] = []
    content: list[bool] = []
    starts: list[int] = []
    ends: list[int] = []
    doc_of: list[int] = []
    blocked: list[bool] = []
    for d, text in enumerate(texts):
        spans = sorted(skip[d]) if skip else []
        for m in _WORD.finditer(text):
            h, c = words(m.group(0))
            hashes.append(h)
            content.append(c)
            starts.append(m.start())
            ends.append(m.end())
            doc_of.append(d)
            blocked.append(any(lo < m.end() and hi > m.start() for lo, hi in spans))
    n = len(hashes)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Grams(empty, empty.astype(np.int32), empty.astype(np.int32), empty.astype(np.int32))
    word_hash = np.asarray(hashes, dtype=np.uint64)
    is_content = np.asarray(content, dtype=bool)
    doc = np.asarray(doc_of, dtype=np.int32)
    is_blocked = np.asarray(blocked, dtype=bool)
    start = np.asarray(starts, dtype=np.int32)
    end = np.asarray(ends, dtype=np.int32)
    n_content = np.concatenate([[0], np.cumsum(is_content)])
    n_blocked = np.concatenate([[0], np.cumsum(is_blocked)])
    rolling = word_hash.copy()
    out_h, out_d, out_s, out_e = [], [], [], []
    with np.errstate(over="ignore"):
        for length in range(2, max_words + 1):
            last = np.arange(length - 1, n)
            first = last - (length - 1)
            rolling = rolling[:-1] * _MULTIPLIER + word_hash[length - 1 :]
            if length < min_words:
                continue
            ok = (
                (doc[first] == doc[last])
                & is_content[first]
                & is_content[last]
                & (n_content[last + 1] - n_content[first] >= 2)
                & (n_blocked[last + 1] == n_blocked[first])
            )
            out_h.append(rolling[ok].view(np.int64))
            out_d.append(doc[first[ok]])
            out_s.append(start[first[ok]])
            out_e.append(end[last[ok]])
    return Grams(
        np.concatenate(out_h) if out_h else np.zeros(0, dtype=np.int64),
        np.concatenate(out_d) if out_d else np.zeros(0, dtype=np.int32),
        np.concatenate(out_s) if out_s else np.zeros(0, dtype=np.int32),
        np.concatenate(out_e) if out_e else np.zeros(0, dtype=np.int32),
    )


def band_of(hashes: np.ndarray, bands: int) -> np.ndarray:
    """The hash band of each hash: the unit of partitioning."""
    out: np.ndarray = (hashes.view(np.uint64) % np.uint64(bands)).astype(np.int64)
    return out


def shared_hashes(
    hashes: np.ndarray, sources: np.ndarray, docs: np.ndarray, *, min_sources: int, max_docs: int
) -> np.ndarray:
    """The distinct hashes (sorted) found in at least ``min_sources`` sources and at most
    ``max_docs`` documents, from one row per occurrence."""
    if hashes.size == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = np.unique(np.stack([hashes, sources.astype(np.int64)]), axis=1)
    found, n_sources = np.unique(pairs[0], return_counts=True)
    pairs = np.unique(np.stack([hashes, docs.astype(np.int64)]), axis=1)
    _, n_docs = np.unique(pairs[0], return_counts=True)
    out: np.ndarray = found[(n_sources >= min_sources) & (n_docs <= max_docs)]
    return out


def maximal(phrases: dict[str, int]) -> list[str]:
    """The phrases (lower-cased word sequences, with their number of occurrences) that are
    not always part of a longer one: "pmoi mek" goes when each of its occurrences is in
    "pmoi mek iran" (as many occurrences), but "pmoi mek iran", found 14 times, stays beside
    "mojahedin organization of iran pmoi mek iran", found 3 times. Sorted."""
    by_count: dict[int, list[str]] = {}
    for phrase, count in phrases.items():
        by_count.setdefault(count, []).append(phrase)
    keep = [
        phrase
        for phrase, count in phrases.items()
        if not any(other != phrase and f" {phrase} " in f" {other} " for other in by_count[count])
    ]
    return sorted(keep)


def widen(text: str, start: int, end: int) -> tuple[int, int]:
    """A phrase's span widened over the bracket or quote it opens or closes, or that encloses
    it, so "(PMOI / MEK Iran" and "PMOI / MEK Iran" in brackets read "(PMOI / MEK Iran)"."""
    for opener, closer in ("()", "[]", "“”", "‘’", '""'):
        piece = text[start:end]
        before, after = text[start - 1 : start] if start else "", text[end : end + 1]
        if opener != closer and piece.count(opener) > piece.count(closer) and after == closer:
            end += 1
        elif opener != closer and piece.count(closer) > piece.count(opener) and before == opener:
            start -= 1
        elif before == opener and after == closer and opener not in piece:
            start, end = start - 1, end + 1
    return start, end


def phrase_key(text: str) -> str:
    """A phrase as lower-cased words: what two occurrences must share."""
    return " ".join(w.casefold().replace("’", "'") for w in _WORD.findall(text))
