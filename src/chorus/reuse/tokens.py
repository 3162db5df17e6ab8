"""Word tokens and word n-gram hashes for many documents at once, vectorised with numpy.

The hot path works on UTF-8 bytes: ASCII letters and digits are word characters, ASCII
punctuation and the common Unicode punctuation (curly quotes, dashes, ellipsis, no-break space)
are not, and other non-ASCII characters count as letters. ASCII casing is folded, so
"Officials," and "officials" are the same token. Token offsets are byte offsets into each text;
:func:`char_offsets` turns them into character offsets for the few documents that need them.
Hashes are 64-bit with fixed constants: the same in every process and on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]

_P = np.uint64(0x100000001B3)  # odd, so invertible modulo 2**64
_P_INV = np.uint64(pow(int(_P), -1, 2**64))
# Batches are cut to at most this many bytes, so the power tables below stay small.
MAX_BATCH_BYTES = 1 << 23


@cache
def _byte_tables() -> tuple[U8, U8]:
    is_word = np.zeros(256, dtype=np.uint8)
    fold = np.arange(256, dtype=np.uint8)
    for b in range(256):
        ch = chr(b)
        if b >= 0x80 or (ch.isascii() and ch.isalnum()):
            is_word[b] = 1
        if "A" <= ch <= "Z":
            fold[b] = b + 32
    return is_word, fold


@cache
def _powers() -> tuple[U64, U64]:
    """P**k and P**-k modulo 2**64 for k up to MAX_BATCH_BYTES."""
    n = MAX_BATCH_BYTES + 1
    pw = np.ones(n, dtype=np.uint64)
    pinv = np.ones(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        np.cumprod(np.full(n - 1, _P, dtype=np.uint64), out=pw[1:])
        np.cumprod(np.full(n - 1, _P_INV, dtype=np.uint64), out=pinv[1:])
    return pw, pinv


def mix64(x: U64) -> U64:
    """splitmix64's finaliser: spreads every input bit over the whole hash."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


@dataclass(frozen=True)
class Tokens:
    """Tokens of a batch of documents. ``doc`` indexes the batch; ``start``/``end`` are byte
    offsets into each document's UTF-8 text; ``doc_first_token`` has n_docs + 1 entries."""

    doc: I32
    start: I32
    end: I32
    hash: U64
    doc_first_token: I64


def _punctuation_mask(data: U8) -> npt.NDArray[np.bool_]:
    """Bytes of the multi-byte punctuation that should separate words."""
    mask = np.zeros(len(data), dtype=np.bool_)
    if len(data) < 2:
        return mask
    # U+2000..U+206F (dashes, curly quotes, ellipsis, ...) are E2 80 xx and E2 81 xx.
    lead = np.flatnonzero((data[:-2] == 0xE2) & ((data[1:-1] == 0x80) | (data[1:-1] == 0x81)))
    for k in range(3):
        mask[lead + k] = True
    # U+00A0 no-break space, U+00AB and U+00BB guillemets: C2 A0, C2 AB, C2 BB.
    lead2 = np.flatnonzero(
        (data[:-1] == 0xC2) & ((data[1:] == 0xA0) | (data[1:] == 0xAB) | (data[1:] == 0xBB))
    )
    mask[lead2] = True
    mask[lead2 + 1] = True
    return mask


def tokenize(texts: list[str]) -> Tokens:
    """Tokens of every text. The texts' UTF-8 must total at most ``MAX_BATCH_BYTES``."""
    n_docs = len(texts)
    encoded = [t.encode("utf-8") for t in texts]
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=n_docs)
    doc_offset = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(lengths + 1, out=doc_offset[1:])
    if doc_offset[-1] > MAX_BATCH_BYTES:
        raise ValueError("batch too large; split it with iter_batches()")
    data = np.frombuffer(b"\x00".join(encoded) + b"\x00", dtype=np.uint8)
    is_word, fold = _byte_tables()
    word = is_word[data].astype(np.bool_)
    if not data.max(initial=0) < 0x80:
        word &= ~_punctuation_mask(data)
    edges = np.diff(word.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    if len(starts) == 0:
        empty = np.zeros(0, dtype=np.int32)
        return Tokens(
            empty, empty, empty, np.zeros(0, dtype=np.uint64), np.zeros(n_docs + 1, dtype=np.int64)
        )
    # Token hash = sum of byte_k * P**(k - start) over its bytes, from one prefix sum:
    # G[i] = sum_{k<i} byte_k * P**-k, so hash = (G[end] - G[start]) * P**start.
    pw, pinv = _powers()
    values = fold[data].astype(np.uint64)
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(data) + 1, dtype=np.uint64)
        np.cumsum(values * pinv[: len(data)], out=prefix[1:])
        token_hash = mix64((prefix[ends] - prefix[starts]) * pw[starts])
    doc = (np.searchsorted(doc_offset, starts, side="right") - 1).astype(np.int32)
    base = doc_offset[doc]
    first = np.searchsorted(doc, np.arange(n_docs + 1), side="left").astype(np.int64)
    return Tokens(
        doc, (starts - base).astype(np.int32), (ends - base).astype(np.int32), token_hash, first
    )


def iter_batches(texts: list[str], max_bytes: int = MAX_BATCH_BYTES // 2) -> list[slice]:
    """Slices of ``texts`` whose UTF-8 fits one :func:`tokenize` call (a longer text alone is
    cut short: reuse is looked for in its first MAX_BATCH_BYTES bytes)."""
    slices: list[slice] = []
    lo, size = 0, 0
    for i, text in enumerate(texts):
        n = len(text) * (1 if text.isascii() else 4) + 1
        if size + n > max_bytes and i > lo:
            slices.append(slice(lo, i))
            lo, size = i, 0
        size += n
    if lo < len(texts):
        slices.append(slice(lo, len(texts)))
    return slices


def char_offsets(text: str) -> I64:
    """For each byte offset of ``text``'s UTF-8 (and one past the end), its character offset."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    starts_char = (data & 0xC0) != 0x80
    out = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(starts_char, out=out[1:])
    return out


_SHINGLE_MULT = tuple(
    np.uint64(m)
    for m in (
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
        0xC4CEB9FE1A85EC53,
        0x27D4EB2F165667C5,
        0x85EBCA77C2B2AE63,
    )
)
MAX_NGRAM = len(_SHINGLE_MULT)


@dataclass(frozen=True)
class Shingles:
    """Word n-grams: ``hash`` of tokens ``pos .. pos+n-1`` of document ``doc`` (batch index)."""

    hash: U64
    doc: I32
    pos: I32


def shingle(tokens: Tokens, n: int) -> Shingles:
    """Hash every run of ``n`` consecutive tokens that lies inside one document."""
    if not 1 <= n <= MAX_NGRAM:
        raise ValueError(f"n-grams of 1 to {MAX_NGRAM} words are supported, not {n}")
    count = len(tokens.hash) - n + 1
    if count <= 0:
        e = np.zeros(0, dtype=np.int32)
        return Shingles(np.zeros(0, dtype=np.uint64), e, e)
    acc = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            acc += tokens.hash[j : j + count] * _SHINGLE_MULT[j]
    valid = tokens.doc[:count] == tokens.doc[n - 1 :]
    idx = np.flatnonzero(valid)
    pos = (idx - tokens.doc_first_token[tokens.doc[idx]]).astype(np.int32)
    return Shingles(mix64(acc[idx]), tokens.doc[idx], pos)
