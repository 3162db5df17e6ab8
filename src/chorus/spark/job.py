"""``chorus spark run``: the job a cluster runs (under ``spark-submit``, or in local mode).

Reads JSON Lines or Parquet, writes each stage's tables as Parquet with the store's columns,
one folder per table under the output: always ``documents``, ``rejects`` and ``sentences``; with the
reuse stage ``passages`` and ``reuse_clusters``; with the points stage ``points``,
``mentions`` and ``_embeddings`` (every claim's vector: the store's embedding cache); with
the coord stage ``source_edges``, ``edge_evidence``, ``sources``, ``communities`` and
``coord_runs``. ``chorus load`` brings them into a store.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from chorus.coord.settings import CoordSettings
from chorus.errors import ChorusError
from chorus.ingest.mapping import FieldMap
from chorus.points.settings import PointsSettings
from chorus.reuse.settings import ReuseSettings
from chorus.spark.documents import InputFormat
from chorus.store.store import run_row
from chorus.store.tables import TABLES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


log = logging.getLogger(__name__)

SPARK_STAGES = ("reuse", "points", "coord")
# What each stage needs run before it (ingest always runs).
_NEEDS = {"reuse": (), "points": ("reuse",), "coord": ("reuse", "points")}


@dataclass(frozen=True)
class SparkSummary:
    master: str  # where the job ran: local[2], yarn, spark://...
    n_documents: int
    n_rejects: int
    n_sentences: int
    n_clusters: int
    n_passages: int
    n_units: int
    n_points: int
    n_edges: int


def spark_session(app_name: str = "chorus") -> SparkSession:
    """The active session; else, under ``spark-submit``, a session on the cluster it was
    given; else a local one on every core."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # The settings the job relies on, wherever it runs: dates in UTC, Arrow transfers.
    builder = SparkSession.builder.config("spark.sql.session.timeZone", "UTC").config(
        "spark.sql.execution.arrow.pyspark.enabled", "true"
    )
    if os.environ.get("PYSPARK_GATEWAY_PORT"):
        # spark-submit started the JVM with the cluster's master, memory and name: setting
        # ours would run the whole job on the driver.
        return builder.getOrCreate()
    # Local mode: the workers run this very Python, which has chorus installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        builder.appName(app_name)
        .master(os.environ.get("CHORUS_SPARK_MASTER", "local[*]"))
        # Local mode runs everything in this one JVM: Spark's 1 GB default is too small
        # for the shuffle of a news-sized corpus.
        .config("spark.driver.memory", os.environ.get("CHORUS_SPARK_MEMORY", "6g"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # A local run has a few cores: a few shuffle partitions, not Spark's 200.
        .config("spark.sql.shuffle.partitions", str(4 * (os.cpu_count() or 1)))
        .getOrCreate()
    )
    # Spark's warnings carry JVM traces (a missing path logs one before the error chorus
    # reports); a cluster's own logging settings are left alone.
    session.sparkContext.setLogLevel(os.environ.get("CHORUS_SPARK_LOG_LEVEL", "ERROR"))
    return session


def run_job(
    spark: SparkSession,
    inputs: list[str],
    output: str,
    *,
    stages: tuple[str, ...] = SPARK_STAGES,
    fields: FieldMap | None = None,
    format: InputFormat | None = None,
    reuse: ReuseSettings | None = None,
    points: PointsSettings | None = None,
    coord: CoordSettings | None = None,
    bands: int = 64,
) -> SparkSummary:
    """Run the stages over ``inputs`` (JSON Lines, or Parquet files and folders: ``format``,
    else told by the name) and write their tables under ``output``.

    Raises :class:`~chorus.errors.ChorusError` with Spark's own reason when the job fails
    on input Spark cannot read (a missing path, Parquet files whose columns disagree)."""
    try:
        return _run(
            spark,
            inputs,
            output,
            stages=stages,
            fields=fields,
            format=format,
            reuse=reuse,
            points=points,
            coord=coord,
            bands=bands,
        )
    except Exception as exc:
        reason = _spark_failure(exc)
        if reason is None:
            raise
        raise ChorusError(f"the Spark job failed: {reason}") from exc


def _spark_failure(exc: Exception) -> str | None:
    """The first line of a failure the JVM reports, else None (Python errors, chorus's own
    and those raised in a worker, keep their traceback)."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException, PythonException

    if isinstance(exc, Py4JJavaError):
        message = str(exc.java_exception.getMessage() or exc.java_exception)
    elif isinstance(exc, PySparkException) and not isinstance(exc, PythonException):
        message = str(exc)
    else:
        return None
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _run(
    spark: SparkSession,
    inputs: list[str],
    output: str,
    *,
    stages: tuple[str, ...],
    fields: FieldMap | None,
    format: InputFormat | None,
    reuse: ReuseSettings | None,
    points: PointsSettings | None,
    coord: CoordSettings | None,
    bands: int,
) -> SparkSummary:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from chorus.spark.documents import SENTENCE_COLUMNS, documents_to_sentences, read_documents
    from chorus.spark.reuse import spark_reuse

    unknown = set(stages) - set(SPARK_STAGES)
    if unknown:
        raise ValueError(f"unknown stages {sorted(unknown)}; choose from {SPARK_STAGES}")
    for stage in stages:
        missing = [need for need in _NEEDS[stage] if need not in stages]
        if missing:
            raise ValueError(f"the {stage} stage needs the {', '.join(missing)} stage too")
    parsed = read_documents(spark, inputs, fields=fields, format=format).cache()
    good = parsed.where(F.col("problem").isNull())
    # One document per id: the first in input order, as a single batch on one machine keeps.
    place = Window.partitionBy("doc_id").orderBy("origin_file", "origin_line")
    ranked = good.withColumn(
        "origin_file", F.regexp_extract("origin", r"^(.*):\d+$", 1)
    ).withColumn("origin_line", F.regexp_extract("origin", r":(\d+)$", 1).cast("long"))
    ranked = (
        ranked.withColumn("rank", F.row_number().over(place))
        .withColumn("first_origin", F.first("origin").over(place))
        .withColumn("first_hash", F.first("text_hash").over(place))
    )
    documents = ranked.where("rank = 1").drop(
        "rank", "origin_file", "origin_line", "first_origin", "first_hash"
    )
    # A repeat with the same text is the same document; with other text, a reject worded
    # as the single-machine ingest words it.
    duplicates = ranked.where("rank > 1 AND text_hash <> first_hash").select(
        F.col("origin_file").alias("file"),
        F.col("origin_line").alias("line"),
        F.lit("id").alias("field"),
        F.format_string(
            "duplicate id '%s' with different text (first at %s); use --replace to keep the last",
            "doc_id",
            "first_origin",
        ).alias("reason"),
    )
    rejects = parsed.where(F.col("problem").isNotNull()).select(
        F.regexp_extract("origin", r"^(.*):\d+$", 1).alias("file"),
        F.regexp_extract("origin", r":(\d+)$", 1).cast("long").alias("line"),
        F.col("problem_field").alias("field"),
        F.col("problem").alias("reason"),
    )
    rejects = rejects.unionByName(duplicates)
    documents = documents.drop("problem", "problem_field").cache()
    documents.write.mode("overwrite").parquet(f"{output}/documents")
    rejects.write.mode("overwrite").parquet(f"{output}/rejects")
    n_sentences = n_clusters = n_passages = 0
    sentences = documents.select("doc_id", "text").mapInArrow(
        documents_to_sentences, SENTENCE_COLUMNS
    )
    sentences.write.mode("overwrite").parquet(f"{output}/sentences")
    n_sentences = spark.read.parquet(f"{output}/sentences").count()
    clusters = passages = None
    if "reuse" in stages:
        clusters, passages = spark_reuse(documents, settings=reuse, bands=bands)
        _write_arrow(spark, clusters, f"{output}/reuse_clusters")
        _write_arrow(spark, passages, f"{output}/passages")
        n_clusters, n_passages = clusters.num_rows, passages.num_rows
    n_points = n_units = 0
    if "points" in stages:
        from chorus.spark.points import spark_points

        assert clusters is not None and passages is not None
        found = spark_points(
            spark.read.parquet(f"{output}/sentences"),
            spark.read.parquet(f"{output}/documents"),
            passages,
            clusters,
            settings=points,
        )
        found.embeddings.write.mode("overwrite").parquet(f"{output}/_embeddings")
        found.points.orderBy(F.col("n_docs").desc(), "point_id").write.mode("overwrite").parquet(
            f"{output}/points"
        )
        found.mentions.write.mode("overwrite").parquet(f"{output}/mentions")
        n_points = spark.read.parquet(f"{output}/points").count()
        n_units = found.n_units
        row = run_row(
            points or PointsSettings(),
            stats={"n_texts": n_units, "n_screened": n_units, "engine": "spark"},
        )
        _write_arrow(
            spark,
            pa.Table.from_pylist([row], schema=TABLES["points_runs"].arrow_schema()),
            f"{output}/points_runs",
        )
    n_edges = 0
    if "coord" in stages:
        from chorus.spark.coord import spark_coordination

        assert clusters is not None and passages is not None
        mentions = spark.read.parquet(f"{output}/mentions")
        stored_points = spark.read.parquet(f"{output}/points")
        if "family_id" in stored_points.columns:
            mentions = mentions.join(
                stored_points.select("point_id", "family_id"), "point_id", "left"
            )
        found_coord = spark_coordination(
            spark.read.parquet(f"{output}/documents"),
            mentions,
            passages,
            clusters,
            settings=coord,
        )
        for name in (
            "source_edges",
            "edge_evidence",
            "sources",
            "communities",
            "coord_runs",
            "credits",
        ):
            getattr(found_coord, name).write.mode("overwrite").parquet(f"{output}/{name}")
        n_edges = spark.read.parquet(f"{output}/source_edges").count()
    summary = SparkSummary(
        master=str(spark.sparkContext.master),
        n_documents=documents.count(),
        n_rejects=rejects.count(),
        n_sentences=n_sentences,
        n_clusters=n_clusters,
        n_passages=n_passages,
        n_units=n_units,
        n_points=n_points,
        n_edges=n_edges,
    )
    log.info("spark job: %s", summary)
    return summary


def _write_arrow(spark: SparkSession, table: pa.Table, path: str) -> None:
    """A small Arrow table (the reuse results) written as a Parquet folder like the others."""
    spark.createDataFrame(table).coalesce(1).write.mode("overwrite").parquet(path)
