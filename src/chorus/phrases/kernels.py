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
    """Word n-grams of a batch of texts: ``hashes[i]`` (uint64, of the lower-cased words) spans
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
    first_word = [0]
    for d, text in enumerate(texts):
        for m in _WORD.finditer(text):
            h, c = words(m.group(0))
            hashes.append(h)
            content.append(c)
            starts.append(m.start())
            ends.append(m.end())
            doc_of.append(d)
        first_word.append(len(hashes))
    n = len(hashes)
    if n == 0:
        empty = np.zeros(0, dtype=np.int32)
        return Grams(np.zeros(0, dtype=np.uint64), empty, empty, empty)
    start = np.asarray(starts, dtype=np.int32)
    end = np.asarray(ends, dtype=np.int32)
    is_blocked = np.zeros(n, dtype=bool)
    for d, spans in enumerate(skip or []):
        words_here = slice(first_word[d], first_word[d + 1])
        for lo, hi in spans:
            is_blocked[words_here] |= (start[words_here] < hi) & (end[words_here] > lo)
    word_hash = np.asarray(hashes, dtype=np.uint64)
    is_content = np.asarray(content, dtype=bool)
    doc = np.asarray(doc_of, dtype=np.int32)
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
            out_h.append(rolling[ok])
            out_d.append(doc[first[ok]])
            out_s.append(start[first[ok]])
            out_e.append(end[last[ok]])
    return Grams(
        np.concatenate(out_h) if out_h else np.zeros(0, dtype=np.uint64),
        np.concatenate(out_d) if out_d else np.zeros(0, dtype=np.int32),
        np.concatenate(out_s) if out_s else np.zeros(0, dtype=np.int32),
        np.concatenate(out_e) if out_e else np.zeros(0, dtype=np.int32),
    )


def shared_hashes(
    hashes: np.ndarray, sources: np.ndarray, docs: np.ndarray, *, min_sources: int, max_docs: int
) -> np.ndarray:
    """The distinct hashes found in at least ``min_sources`` sources and at most
    ``max_docs`` documents, from one row per occurrence."""
    if hashes.size == 0:
        return np.zeros(0, dtype=np.uint64)

    def distinct_per_hash(other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each distinct hash (ascending) and how many distinct ``other`` values it has."""
        order = np.lexsort((other, hashes))
        h, o = hashes[order], other[order]
        new_hash = np.ones(h.size, dtype=bool)
        new_hash[1:] = h[1:] != h[:-1]
        new_pair = new_hash.copy()
        new_pair[1:] |= o[1:] != o[:-1]
        starts = np.flatnonzero(new_hash)
        return h[starts], np.add.reduceat(new_pair.astype(np.int64), starts)

    found, n_sources = distinct_per_hash(np.asarray(sources))
    _, n_docs = distinct_per_hash(np.asarray(docs))
    out: np.ndarray = found[(n_sources >= min_sources) & (n_docs <= max_docs)]
    return out


def maximal(phrases: dict[str, int]) -> list[str]:
    """The phrases (lower-cased word sequences, with their number of occurrences) that are
    not always part of a longer one: "pmoi mek" goes when each of its occurrences is in
    "pmoi mek iran" (as many occurrences), but "pmoi mek iran", found 14 times, stays beside
    "mojahedin organization of iran pmoi mek iran", found 3 times. Sorted. Each phrase's
    inner word runs are looked up, so the cost is linear in the phrases."""
    covered: set[str] = set()
    for phrase, count in phrases.items():
        words = phrase.split()
        for lo in range(len(words)):
            for hi in range(lo + 1, len(words) + 1):
                if hi - lo == len(words):
                    continue
                inner = " ".join(words[lo:hi])
                if phrases.get(inner) == count:
                    covered.add(inner)
    return sorted(p for p in phrases if p not in covered)


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
