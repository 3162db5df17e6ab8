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
from chorus.progress import ProgressFactory, no_progress
from chorus.store import Store

log = logging.getLogger(__name__)

_BATCH = 2048


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def cached_embed(
    store: Store, embedder: Embedder, *, progress: ProgressFactory = no_progress
) -> EmbedFn:
    """An embed function that reads the store's cache first and stores what it computes."""

    def embed(texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
        con = store.con
        con.register("_wanted", pa.table({"key": pa.array(sorted(set(keys)), pa.string())}))
        found = con.sql(
            "SELECT e.key, e.vector FROM _embeddings e JOIN _wanted w USING (key) "
            "WHERE e.model = ?",
            params=[embedder.name],
        ).to_arrow_table()
        con.unregister("_wanted")
        cached = {
            k: np.frombuffer(v, dtype=np.float16)
            for k, v in zip(found.column(0).to_pylist(), found.column(1).to_pylist(), strict=True)
        }
        missing = [i for i, k in enumerate(keys) if k not in cached]
        for i, k in enumerate(keys):
            if k in cached:
                out[i] = cached[k]
        log.info("embeddings: %d cached, %d to compute", len(texts) - len(missing), len(missing))
        bar = progress(desc=f"points: embed ({embedder.name})", total=len(missing), unit="sent")
        try:
            for lo in range(0, len(missing), _BATCH):
                rows = missing[lo : lo + _BATCH]
                vectors = embedder.embed([texts[i] for i in rows])
                out[rows] = vectors
                # Units are distinct texts, so each key occurs once per call.
                con.register(
                    "_new_vectors",
                    pa.table(
                        {
                            "model": pa.array([embedder.name] * len(rows), pa.string()),
                            "key": pa.array([keys[i] for i in rows], pa.string()),
                            "vector": pa.array(
                                [v.astype(np.float16).tobytes() for v in vectors],
                                pa.binary(),
                            ),
                        }
                    ),
                )
                con.execute("INSERT INTO _embeddings SELECT * FROM _new_vectors")
                con.unregister("_new_vectors")
                bar.update(len(rows))
        finally:
            bar.close()
        # Cached and fresh rows alike go through float16, so a rerun gives the same vectors.
        out = out.astype(np.float16).astype(np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        normalised: np.ndarray = out / np.maximum(norms, 1e-12)
        return normalised

    return embed
