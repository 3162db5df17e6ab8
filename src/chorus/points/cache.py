"""Embeddings cached in the store, keyed by model and text, so a second run embeds nothing
it has embedded before. Vectors are kept as float16 bytes: half the space, and cosine
differences below 1e-3."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from chorus.points.core import EmbedFn
from chorus.points.embedders import Embedder
from chorus.progress import ProgressBar, ProgressFactory, no_progress
from chorus.store import Store

log = logging.getLogger(__name__)

_BATCH = 2048
_CHUNK = 50_000


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


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
        n_cached = 0
        try:
            for lo in range(0, len(texts), _CHUNK):
                chunk = texts[lo : lo + _CHUNK]
                n_cached += _embed_chunk(store, embedder, chunk, out[lo : lo + len(chunk)], bar)
        finally:
            bar.close()
        log.info("embeddings: %d cached, %d computed", n_cached, len(texts) - n_cached)
        return out

    return embed


def _embed_chunk(
    store: Store, embedder: Embedder, texts: Sequence[str], out: np.ndarray, bar: ProgressBar
) -> int:
    """Fill ``out`` with the vectors of ``texts``; returns how many came from the cache."""
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
    bar.update(int(hit.sum()))
    missing = np.flatnonzero(~hit)
    for lo in range(0, missing.size, _BATCH):
        rows = missing[lo : lo + _BATCH]
        vectors = embedder.embed([texts[i] for i in rows.tolist()]).astype(np.float16)
        out[rows] = vectors
        # Units are distinct texts, so each key occurs once per call.
        con.register(
            "_new_vectors",
            pa.table(
                {
                    "model": pa.array([embedder.name] * rows.size, pa.string()),
                    "key": pa.array([keys[i] for i in rows.tolist()], pa.string()),
                    "vector": pa.array([v.tobytes() for v in vectors], pa.binary()),
                }
            ),
        )
        con.execute("INSERT INTO _embeddings SELECT * FROM _new_vectors")
        con.unregister("_new_vectors")
        bar.update(int(rows.size))
    return int(hit.sum())
