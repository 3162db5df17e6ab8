"""The model-free core of shared phrases: the word n-grams of a batch of documents (hashed,
with their character offsets), and which of them several sources share. Pure functions over
arrays, vectorised over every word of a batch, so any engine can call them per batch of
documents and per hash band."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Sequence
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


# Polynomial word hash over case-folded code points: a word's hash is
# sum(c_k * _BASE**k) mod 2**64, computed for every word of a batch at once from prefix sums.
_BASE = 0x100000001B3
_BASE_INVERSE = pow(_BASE, -1, 2**64)
_APOSTROPHES = (ord("'"), ord("’"))
_MASK = 2**64 - 1


@functools.cache
def _code_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per code point: is it a word character (``\\w``), its case fold when that is one code
    point (``’`` folds to ``'``), and whether its case fold is longer (``ß`` → ``ss``). Built
    once per process (about a quarter of a second)."""
    everything = "".join(map(chr, range(0x110000)))
    is_word = np.zeros(0x110000, dtype=bool)
    for m in re.finditer(r"\w+", everything):
        is_word[m.start() : m.end()] = True
    fold = np.arange(0x110000, dtype=np.uint64)
    is_long = np.zeros(0x110000, dtype=bool)
    for c in np.flatnonzero(is_word).tolist():
        folded = chr(c).casefold()
        if len(folded) == 1:
            fold[c] = ord(folded)
        else:
            is_long[c] = True
    fold[ord("’")] = ord("'")
    return is_word, fold, is_long


def _mix(h: np.ndarray) -> np.ndarray:
    """Spread a polynomial hash's bits (splitmix64's finaliser), in uint64 arithmetic."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        out: np.ndarray = h ^ (h >> np.uint64(31))
    return out


# Longer words are hashed with blake2b: a polynomial hash modulo 2**64 has known collisions
# between long strings (Thue-Morse sequences), which hostile text could plant.
_POLY_CHARS = 64


def word_hash(word: str) -> int:
    """The hash :func:`split_words` gives ``word`` (of its case fold, ``’`` read as ``'``)."""
    key = word.casefold().replace("’", "'")
    if len(key) > _POLY_CHARS:
        return int.from_bytes(
            hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
            "little",
        )
    h = 0
    for c in reversed(key):
        h = (h * _BASE + ord(c)) & _MASK
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK
    return h ^ (h >> 31)


def key_hash(key: str) -> int:
    """The n-gram hash :func:`batch_grams` gives an occurrence of the phrase ``key``."""
    h = 0
    for i, word in enumerate(key.split()):
        h = word_hash(word) if i == 0 else (h * int(_MULTIPLIER) + word_hash(word)) & _MASK
    return h


def key_grams(key: str, *, min_words: int, max_words: int) -> list[int]:
    """The hashes of the n-grams :func:`batch_grams` finds inside the phrase ``key`` (itself
    included): what changes with it when a document holding it leaves."""
    words = key.split()
    content = [content_words(w) > 0 for w in words]
    out = []
    for lo in range(len(words)):
        for hi in range(lo + min_words, min(len(words), lo + max_words) + 1):
            if content[lo] and content[hi - 1] and sum(content[lo:hi]) >= 2:
                out.append(key_hash(" ".join(words[lo:hi])))
    return out


@dataclass(frozen=True)
class Words:
    """The words of a batch of texts: ``texts[docs[i]][starts[i]:ends[i]]`` hashes to
    ``hashes[i]`` (of its case fold), and ``is_content[i]`` says it is not a stop word."""

    hashes: np.ndarray
    is_content: np.ndarray
    docs: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


class ContentWords:
    """Whether each word (by hash) carries content, cached across batches: only words not
    seen before are looked up."""

    def __init__(self) -> None:
        self._known: dict[int, bool] = {}

    def __call__(self, hashes: np.ndarray, words: Callable[[int], str]) -> np.ndarray:
        distinct, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        flags = np.empty(distinct.size, dtype=bool)
        for i, (h, at) in enumerate(zip(distinct.tolist(), first.tolist(), strict=True)):
            found = self._known.get(h)
            if found is None:
                found = content_words(words(at).casefold().replace("’", "'")) > 0
                if len(self._known) < 2_000_000:
                    self._known[h] = found
            flags[i] = found
        out: np.ndarray = flags[inverse.reshape(-1)]
        return out


def split_words(texts: Sequence[str], *, content: ContentWords | None = None) -> Words:
    """Every word (``\\w+`` runs joined by inner apostrophes, as ``it's``) of ``texts``,
    found and hashed with array operations over the batch's code points rather than a
    Python step per word."""
    content = content or ContentWords()
    is_word_table, fold, is_long = _code_tables()
    joined = "\n".join(texts)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    n = codes.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int32)
        return Words(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=bool), empty, empty, empty)
    is_word = is_word_table[codes]
    inner = np.zeros(n, dtype=bool)
    inner[1:-1] = np.isin(codes[1:-1], _APOSTROPHES) & is_word[:-2] & is_word[2:]
    in_word = is_word | inner
    edges = np.diff(np.concatenate([[False], in_word, [False]]).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    folded = fold[codes]
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(n, _BASE, dtype=np.uint64))
        powers = np.concatenate([[np.uint64(1)], powers[:-1]])
        inverse = np.cumprod(np.full(n, _BASE_INVERSE, dtype=np.uint64))
        inverse = np.concatenate([[np.uint64(1)], inverse[:-1]])
        prefix = np.concatenate([[np.uint64(0)], np.cumsum(folded * powers, dtype=np.uint64)])
        hashes = _mix((prefix[ends] - prefix[starts]) * inverse[starts])
    # Words holding a code point whose case fold is longer, and long words, one by one.
    slow = np.union1d(
        np.searchsorted(ends, np.flatnonzero(is_long[codes]), side="right"),
        np.flatnonzero(ends - starts > _POLY_CHARS),
    )
    for w in slow.tolist():
        hashes[w] = word_hash(joined[starts[w] : ends[w]])
    text_starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
    docs = (np.searchsorted(text_starts, starts, side="right") - 1).astype(np.int32)
    flags = content(hashes, lambda i: joined[starts[i] : ends[i]])
    return Words(
        hashes,
        flags,
        docs,
        (starts - text_starts[docs]).astype(np.int32),
        (ends - text_starts[docs]).astype(np.int32),
    )


def batch_grams(
    texts: Sequence[str],
    *,
    min_words: int,
    max_words: int,
    skip: Sequence[Sequence[tuple[int, int]]] | None = None,
    words: ContentWords | None = None,
) -> Grams:
    """Every n-gram of ``min_words`` to ``max_words`` words that starts and ends with a word
    outside the stop list, holds at least two such words, stays inside one text and lies
    outside that text's ``skip`` spans (copied passages, already reported as such)."""
    found = split_words(texts, content=words)
    n = found.hashes.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int32)
        return Grams(np.zeros(0, dtype=np.uint64), empty, empty, empty)
    start, end, doc = found.starts, found.ends, found.docs
    first_word = np.searchsorted(doc, np.arange(len(texts) + 1)).tolist()
    is_blocked = np.zeros(n, dtype=bool)
    for d, spans in enumerate(skip or []):
        words_here = slice(first_word[d], first_word[d + 1])
        for lo, hi in spans:
            is_blocked[words_here] |= (start[words_here] < hi) & (end[words_here] > lo)
    hashes, is_content = found.hashes, found.is_content
    n_content = np.concatenate([[0], np.cumsum(is_content)])
    n_blocked = np.concatenate([[0], np.cumsum(is_blocked)])
    rolling = hashes.copy()
    out_h, out_d, out_s, out_e = [], [], [], []
    with np.errstate(over="ignore"):
        for length in range(2, max_words + 1):
            last = np.arange(length - 1, n)
            first = last - (length - 1)
            rolling = rolling[:-1] * _MULTIPLIER + hashes[length - 1 :]
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


_OPENERS = frozenset('([“‘"')
_CLOSERS = frozenset(')]”’"')


def widen(text: str, start: int, end: int) -> tuple[int, int]:
    """A phrase's span widened over the bracket or quote it opens or closes, or that encloses
    it, so "(PMOI / MEK Iran" and "PMOI / MEK Iran" in brackets read "(PMOI / MEK Iran)"."""
    # Every widening needs an opener just before the span or a closer just after it.
    if text[start - 1 : start] not in _OPENERS and text[end : end + 1] not in _CLOSERS:
        return start, end
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
