"""Embeddings cached in the store, keyed by model and text, so a second run embeds nothing
it has embedded before. Vectors are kept as float16 bytes: half the space, and cosine
differences below 1e-3.

A model's output for a text depends, in the last bits, on the other texts in its batch (the
matrix shapes change the kernels' summation order). So what is missing from the cache is
embedded in canonical batches (:func:`embedding_batches`): longest first, ties by key, 64 at a
time. The Spark engine forms the same batches, and both engines get the same vectors."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from chorus.embed.models import Embedder, EmbedFn
from chorus.progress import ProgressFactory, no_progress
from chorus.store import Store

log = logging.getLogger(__name__)

EMBED_BATCH = 64
_CHUNK = 50_000
# Vectors are committed this many at a time: a run killed part-way keeps all but the last
# few seconds of its work (the longest sentences come first and take the longest).
_INSERT = 256


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def embedding_order(texts: Sequence[str]) -> list[int]:
    """The canonical embedding order: longest text first (fewest padded positions per
    batch), ties by :func:`text_key`. Consecutive runs of ``EMBED_BATCH`` form the batches."""
    return sorted(range(len(texts)), key=lambda i: (-len(texts[i]), text_key(texts[i])))


def cached_embed(
    store: Store, embedder: Embedder, *, progress: ProgressFactory = no_progress
) -> EmbedFn:
    """An embed function that reads the store's cache first and stores what it computes.
    It returns float16 rows (what the cache holds), so a rerun gives the same vectors and a
    corpus of millions of sentences fits in memory; work goes in chunks, so memory beyond the
    result stays bounded."""

    def embed(texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), embedder.dim), dtype=np.float16)
        bar = progress(desc=f"points: embed ({embedder.name})", total=len(texts), unit="sent")
        missing: list[int] = []
        try:
            for lo in range(0, len(texts), _CHUNK):
                chunk = texts[lo : lo + _CHUNK]
                hit = _read_chunk(store, embedder, chunk, out[lo : lo + len(chunk)])
                missing.extend((lo + np.flatnonzero(~hit)).tolist())
                bar.update(int(hit.sum()))
            order = embedding_order([texts[i] for i in missing])
            todo = [missing[i] for i in order]
            for lo in range(0, len(todo), _INSERT):
                rows = todo[lo : lo + _INSERT]
                _embed_rows(store, embedder, [texts[i] for i in rows], out, rows)
                bar.update(len(rows))
        finally:
            bar.close()
        log.info("embeddings: %d cached, %d computed", len(texts) - len(missing), len(missing))
        return out

    return embed


def embed_batches(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """float16 vectors of ``texts`` (already in :func:`embedding_order`), ``EMBED_BATCH`` at a
    time: the batches both engines form. A short last batch is padded with copies of its
    last text: with fewer rows the kernels split work by thread count, and a Spark worker
    (one thread per task) would get other last bits than a laptop (all cores)."""
    out = np.zeros((len(texts), embedder.dim), dtype=np.float16)
    for lo in range(0, len(texts), EMBED_BATCH):
        batch = list(texts[lo : lo + EMBED_BATCH])
        padded = batch + [batch[-1]] * (EMBED_BATCH - len(batch))
        out[lo : lo + len(batch)] = embedder.embed(padded)[: len(batch)]
    return out


def _read_chunk(
    store: Store, embedder: Embedder, texts: Sequence[str], out: np.ndarray
) -> np.ndarray:
    """Fill ``out`` with the cached vectors of ``texts``; returns which were cached."""
    keys = [text_key(t) for t in texts]
    con = store.con
    con.register("_wanted", pa.table({"key": pa.array(keys, pa.string())}))
    found = con.sql(
        "SELECT e.key, e.vector FROM _embeddings e JOIN _wanted w USING (key) WHERE e.model = ?",
        params=[embedder.name],
    ).to_arrow_table()
    con.unregister("_wanted")
    position = {k: i for i, k in enumerate(keys)}
    hit = np.zeros(len(texts), dtype=bool)
    for k, v in zip(found.column(0).to_pylist(), found.column(1).to_pylist(), strict=True):
        out[position[k]] = np.frombuffer(v, dtype=np.float16)
        hit[position[k]] = True
    return hit


def _embed_rows(
    store: Store, embedder: Embedder, texts: Sequence[str], out: np.ndarray, rows: list[int]
) -> None:
    """Embed ``texts`` (a whole number of canonical batches), put them in ``out[rows]`` and
    in the cache."""
    vectors = embed_batches(embedder, texts)
    out[rows] = vectors
    con = store.con
    # Units are distinct texts, so each key occurs once per call.
    con.register(
        "_new_vectors",
        pa.table(
            {
                "model": pa.array([embedder.name] * len(texts), pa.string()),
                "key": pa.array([text_key(t) for t in texts], pa.string()),
                "vector": pa.array([v.tobytes() for v in vectors], pa.binary()),
            }
        ),
    )
    con.execute("INSERT INTO _embeddings SELECT * FROM _new_vectors")
    con.unregister("_new_vectors")
