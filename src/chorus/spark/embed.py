"""The talking points' costly half on Spark: every distinct claim embedded on the executors
(the model loaded once per Python worker, from the installed package), written as the store's
embedding cache. After ``chorus load``, ``chorus points`` on one machine finds every vector
cached and only groups them, with the single-machine code and so the same points.

The claims are the ones the points stage embeds: sentences of at least ``min_words`` words
outside boilerplate, links and attributions stripped, the names most documents repeat
masked (chosen from the same sample of documents).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from chorus.points.cache import text_key
from chorus.points.settings import PointsSettings
from chorus.points.text import claim_text, mask_names, shared_names, unit_key

EMBEDDING_COLUMNS = "model STRING, key STRING, vector BINARY"
_CLAIM_COLUMNS = "key STRING, claim STRING"
# DuckDB's \w (RE2) is ASCII: the points stage counts words this way.
_WORD = re.compile(r"[0-9A-Za-z_]+")
_NAME_SAMPLE_DOCS = 2000
_MODELS: dict[str, Any] = {}


def _embedder(name: str) -> Any:
    if name not in _MODELS:
        from chorus.points.embedders import load_embedder

        _MODELS[name] = load_embedder(name)
    return _MODELS[name]


def claim_sentences(sentences: Any, passages: pa.Table, clusters: pa.Table, min_words: int) -> Any:
    """The sentences the points stage considers: long enough, not inside boilerplate."""
    from pyspark.sql import functions as F

    spark = sentences.sparkSession
    kinds = dict(
        zip(
            clusters.column("cluster_id").to_pylist(),
            clusters.column("kind").to_pylist(),
            strict=True,
        )
    )
    boiler = [
        (d, s, e)
        for c, d, s, e in zip(
            passages.column("cluster_id").to_pylist(),
            passages.column("doc_id").to_pylist(),
            passages.column("start").to_pylist(),
            passages.column("end").to_pylist(),
            strict=True,
        )
        if kinds.get(c) == "boilerplate"
    ]
    counted = sentences.withColumn(
        "n_words", F.size(F.regexp_extract_all("text", F.lit(r"[0-9A-Za-z_]+"), 0))
    ).where(F.col("n_words") >= min_words)
    if not boiler:
        return counted.drop("n_words")
    spans = spark.createDataFrame(boiler, "b_doc STRING, b_start INT, b_end INT")
    inside = (
        (counted.doc_id == spans.b_doc)
        & (spans.b_start < counted["end"])
        & (spans.b_end > counted.start)
    )
    return counted.join(F.broadcast(spans), inside, "left_anti").drop("n_words")


def _claims(batches: Iterator[pa.RecordBatch], names: set[str]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        keys: list[str] = []
        claims: list[str] = []
        for text in batch.column("text").to_pylist():
            claim = mask_names(claim_text(text), names)
            if unit_key(claim):
                keys.append(text_key(claim))
                claims.append(claim)
        yield pa.RecordBatch.from_pydict(
            {"key": pa.array(keys, pa.string()), "claim": pa.array(claims, pa.string())}
        )


def _embed(batches: Iterator[pa.RecordBatch], model: str) -> Iterator[pa.RecordBatch]:
    embedder = _embedder(model)
    for batch in batches:
        texts = batch.column("claim").to_pylist()
        for lo in range(0, len(texts), 2048):
            chunk = texts[lo : lo + 2048]
            vectors = embedder.embed(chunk).astype(np.float16)
            yield pa.RecordBatch.from_pydict(
                {
                    "model": pa.array([embedder.name] * len(chunk), pa.string()),
                    "key": batch.column("key").slice(lo, len(chunk)),
                    "vector": pa.array([v.tobytes() for v in vectors], pa.binary()),
                }
            )


def spark_embeddings(
    sentences: Any,
    passages: pa.Table,
    clusters: pa.Table,
    *,
    settings: PointsSettings | None = None,
    model: str = "minilm",
) -> Any:
    """A DataFrame of (model, key, vector): the embedding cache for the corpus's claims."""
    from pyspark.sql import functions as F

    settings = settings or PointsSettings()
    kept = claim_sentences(sentences, passages, clusters, settings.min_words).cache()
    # The names the single-machine stage masks, from the same sample of documents.
    doc_ids = sorted(r[0] for r in kept.select("doc_id").distinct().collect())
    sample = doc_ids[:: max(1, len(doc_ids) // _NAME_SAMPLE_DOCS)]
    picked = kept.where(F.col("doc_id").isin(sample)).select("doc_id", "sent_no", "text")
    by_doc: dict[str, list[tuple[int, str]]] = {}
    for doc_id, sent_no, text in picked.collect():
        by_doc.setdefault(doc_id, []).append((sent_no, text))
    names = shared_names([t for _, t in sorted(by_doc[d])] for d in sample if d in by_doc)
    claims = (
        kept.select("text")
        .mapInArrow(lambda it: _claims(it, names), _CLAIM_COLUMNS)
        .dropDuplicates(["key"])
    )
    return claims.mapInArrow(lambda it: _embed(it, model), EMBEDDING_COLUMNS)
