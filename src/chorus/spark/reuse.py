"""The reuse stage on Spark, with the single-machine code in every step.

map (per document partition, ``mapInArrow``): tokens and n-gram hashes, keyed by hash band →
reduce by band (``applyInArrow``): :func:`~chorus.reuse.candidates.matches_in_band`, keyed by
document-pair band → reduce by pair band: :func:`~chorus.reuse.align.chain` → runs.
The runs (what the single-machine stage also holds in memory) and the documents they touch
come back to the driver, where :func:`~chorus.reuse.finish.finish` extends, clusters and
labels them exactly as on one machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa

from chorus.progress import no_progress
from chorus.reuse.align import Run, chain
from chorus.reuse.candidates import Matches, band_of_hash, band_of_pair, matches_in_band
from chorus.reuse.finish import cluster_table, cut_passages, finish
from chorus.reuse.settings import ReuseSettings
from chorus.reuse.tokens import Shingles, iter_batches, shingle, tokenize
from chorus.store import Store

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


SHINGLE_COLUMNS = "band LONG, hash LONG, doc INT, pos INT"
MATCH_COLUMNS = "pair_band LONG, doc_a INT, pos_a INT, doc_b INT, pos_b INT"
_RUN_FIELDS = [f.name for f in dataclass_fields(Run)][:7]
RUN_COLUMNS = ", ".join(f"{name} LONG" for name in _RUN_FIELDS)


def _shingles(
    batches: Iterator[pa.RecordBatch], settings: ReuseSettings, bands: int
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        docs = np.asarray(batch.column("doc").to_numpy(), dtype=np.int32)
        texts = batch.column("text").to_pylist()
        for sl in iter_batches(texts):
            sh = shingle(tokenize(texts[sl]), settings.ngram)
            yield pa.RecordBatch.from_pydict(
                {
                    "band": band_of_hash(sh.hash, bands),
                    # Spark has no unsigned type: the same 64 bits, read as signed.
                    "hash": sh.hash.view(np.int64),
                    "doc": docs[sl][sh.doc],
                    "pos": sh.pos.astype(np.int32),
                }
            )


def _matches(table: pa.Table, settings: ReuseSettings, bands: int) -> pa.Table:
    m = matches_in_band(
        Shingles(
            np.asarray(table.column("hash").to_numpy(), dtype=np.int64).view(np.uint64),
            np.asarray(table.column("doc").to_numpy(), dtype=np.int32),
            np.asarray(table.column("pos").to_numpy(), dtype=np.int32),
        ),
        max_copies=settings.max_copies,
        min_self_distance=settings.min_span,
    )
    return pa.table(
        {
            "pair_band": band_of_pair(m.doc_a, m.doc_b, bands),
            "doc_a": m.doc_a,
            "pos_a": m.pos_a,
            "doc_b": m.doc_b,
            "pos_b": m.pos_b,
        }
    )


def _runs(table: pa.Table, settings: ReuseSettings) -> pa.Table:
    def col(name: str) -> np.ndarray:
        return np.asarray(table.column(name).to_numpy(), dtype=np.int32)

    runs = chain(Matches(col("doc_a"), col("pos_a"), col("doc_b"), col("pos_b")), settings)
    return pa.table(
        {name: pa.array([getattr(r, name) for r in runs], pa.int64()) for name in _RUN_FIELDS}
    )


def spark_reuse(
    documents: DataFrame, *, settings: ReuseSettings | None = None, bands: int = 64
) -> tuple[pa.Table, pa.Table]:
    """``documents`` (a DataFrame with doc_id, source, published_at, text) → the
    ``reuse_clusters`` and ``passages`` tables, as Arrow (they are small beside the corpus)."""
    settings = settings or ReuseSettings()
    spark = documents.sparkSession
    # Documents are numbered in doc_id order, as on one machine.
    ids = documents.select("doc_id").rdd.map(lambda r: r[0]).sortBy(lambda x: x).zipWithIndex()
    numbered = spark.createDataFrame(ids, "doc_id STRING, doc INT")
    texts = documents.select("doc_id", "text").join(numbered, "doc_id")
    shingles = texts.select("doc", "text").mapInArrow(
        lambda it: _shingles(it, settings, bands), SHINGLE_COLUMNS
    )
    matches = shingles.groupBy("band").applyInArrow(
        lambda t: _matches(t, settings, bands), MATCH_COLUMNS
    )
    runs_df = matches.groupBy("pair_band").applyInArrow(lambda t: _runs(t, settings), RUN_COLUMNS)
    rows = runs_df.toArrow()
    runs = sorted(
        (
            Run(*(int(v) for v in values))
            for values in zip(*(rows.column(n).to_pylist() for n in _RUN_FIELDS), strict=True)
        ),
        key=lambda r: (r.doc_a, r.doc_b, r.a_start, r.b_start, r.a_end, r.b_end),
    )
    involved = sorted({r.doc_a for r in runs} | {r.doc_b for r in runs})
    if not runs:
        return cluster_table([]), cut_passages(_local(pa.table({})), [])
    wanted = spark.createDataFrame([(i,) for i in involved], "doc INT")
    local_docs = (
        documents.select("doc_id", "source", "published_at", "text")
        .join(numbered.join(wanted, "doc"), "doc_id")
        .toArrow()
    )
    con = _local(local_docs)
    doc_ids = dict(
        zip(
            local_docs.column("doc").to_pylist(),
            local_docs.column("doc_id").to_pylist(),
            strict=True,
        )
    )
    store = Store(Path("spark-reuse"), con, read_only=True)
    clusters, passages = finish(store, runs, doc_ids, settings, no_progress)
    return cluster_table(clusters), cut_passages(con, passages)


def _local(documents: pa.Table) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB where ``documents`` is the given Arrow table."""
    con = duckdb.connect()
    if documents.num_columns:
        con.register("documents", documents)
    else:
        con.execute("CREATE TABLE documents (doc_id VARCHAR, text VARCHAR)")
    return con
