"""What the talking-points stage on Spark starts from: the sentences that can carry a claim
(at least ``min_words`` words, outside boilerplate), the names most documents repeat (masked
before embedding, chosen from the same sample of documents as on one machine) and the
embedder, loaded once per Python worker from the installed package."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from chorus.embed.models import Embedder
from chorus.points.text import name_sample, shared_names
from chorus.store.tables import TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


EMBEDDING_COLUMNS = TABLES["_embeddings"].spark_ddl()
_MODELS: dict[str, Embedder] = {}


def embedder(name: str) -> Embedder:
    """The named embedder, loaded once per Python worker."""
    if name not in _MODELS:
        from chorus.embed.models import load_embedder

        _MODELS[name] = load_embedder(name)
    return _MODELS[name]


# chorus.points.text.WORD_SQL in Java's syntax: the words both engines count.
_WORD_JAVA = r"[\p{IsHan}\p{IsHiragana}\p{IsKatakana}]|[\p{L}\p{N}\p{M}_]+"


def claim_sentences(
    sentences: DataFrame, passages: pa.Table, clusters: pa.Table, min_words: int
) -> DataFrame:
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
        "n_words", F.size(F.regexp_extract_all("text", F.lit(_WORD_JAVA), 0))
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


def corpus_names(kept: DataFrame) -> set[str]:
    """The names the single-machine stage masks, from the same sample of documents."""
    from pyspark.sql import functions as F

    sample = name_sample([r[0] for r in kept.select("doc_id").distinct().collect()])
    picked = kept.where(F.col("doc_id").isin(sample)).select("doc_id", "sent_no", "text")
    by_doc: dict[str, list[tuple[int, str]]] = {}
    for doc_id, sent_no, text in picked.collect():
        by_doc.setdefault(doc_id, []).append((sent_no, text))
    return shared_names([t for _, t in sorted(by_doc[d])] for d in sample if d in by_doc)
