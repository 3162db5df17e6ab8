"""Documents and sentences on Spark: the single-machine mapping, clean-up and segmenter run on
each partition (``mapInArrow``), so a document is the same row on a laptop and on a cluster."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from chorus.errors import ChorusError, InputProblem
from chorus.ingest.formats import JSON_TOO_DEEP, json_message
from chorus.ingest.language import default_language_detector
from chorus.ingest.mapping import DOCUMENT_FIELDS, FieldMap, to_document
from chorus.ingest.records import RawRecord
from chorus.segment.stage import SENTENCES_SCHEMA, segment_documents
from chorus.store.tables import TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


DOCUMENT_COLUMNS = (
    "doc_id STRING, source STRING, url STRING, title STRING, published_at TIMESTAMP_NTZ, "
    "lang STRING, text STRING, text_hash STRING, origin STRING, extra STRING, "
    "problem_field STRING, problem STRING"
)
SENTENCE_COLUMNS = (
    TABLES["sentences_all"].select("doc_id", "sent_no", "start", "end", "text").spark_ddl()
)

# Where a Parquet row came from, carried beside its columns into the mapping.
_ROW_FILE, _ROW_LINE = "__chorus_file", "__chorus_row"

_DOC_SCHEMA = pa.schema(
    [*DOCUMENT_FIELDS, ("problem_field", pa.string()), ("problem", pa.string())]
)


def records_to_documents(
    batches: Iterator[pa.RecordBatch], *, fields: FieldMap
) -> Iterator[pa.RecordBatch]:
    """(file, line, value: one JSON object) → document rows; a bad record becomes a row with
    ``problem`` set (the caller keeps those as rejects)."""

    def records(batch: pa.RecordBatch) -> Iterator[tuple[str, int, dict[str, Any] | str]]:
        for file, line, value in zip(
            batch.column("file").to_pylist(),
            batch.column("line").to_pylist(),
            batch.column("value").to_pylist(),
            strict=True,
        ):
            # The same messages as the single-machine reader's.
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError as exc:
                yield file, line, json_message(exc)
                continue
            except RecursionError:
                yield file, line, JSON_TOO_DEEP
                continue
            if not isinstance(parsed, dict):
                yield file, line, f"expected a JSON object, got {type(parsed).__name__}"
            else:
                yield file, line, parsed

    return _documents(batches, records, fields=fields)


def rows_to_documents(
    batches: Iterator[pa.RecordBatch], *, fields: FieldMap
) -> Iterator[pa.RecordBatch]:
    """Parquet rows (their columns plus ``_ROW_FILE`` and ``_ROW_LINE``) → document rows: each
    row's values as pyarrow gives them, which is what the single-machine Parquet reader maps."""

    def records(batch: pa.RecordBatch) -> Iterator[tuple[str, int, dict[str, Any] | str]]:
        for row in batch.to_pylist():
            file, line = row.pop(_ROW_FILE), row.pop(_ROW_LINE)
            yield file, line, row

    return _documents(batches, records, fields=fields)


def _documents(
    batches: Iterator[pa.RecordBatch],
    records: Callable[[pa.RecordBatch], Iterator[tuple[str, int, dict[str, Any] | str]]],
    *,
    fields: FieldMap,
) -> Iterator[pa.RecordBatch]:
    """Each record (its fields, or the reason it is unreadable) mapped as one machine maps it."""
    lang = default_language_detector()  # per partition: the compressed model is under 1 MB
    for batch in batches:
        out: dict[str, list[Any]] = {name: [] for name in _DOC_SCHEMA.names}
        for file, line, parsed in records(batch):
            row: dict[str, Any]
            if isinstance(parsed, str):
                row = {"origin": f"{file}:{line}", "problem": parsed}
            else:
                doc = to_document(RawRecord(file, int(line), parsed), fields=fields, detector=lang)
                if isinstance(doc, InputProblem):
                    row = {
                        "origin": f"{file}:{line}",
                        "problem_field": doc.field,
                        "problem": doc.reason,
                    }
                else:
                    row = doc._asdict()
                    row.pop("date_status")
            for name in out:
                out[name].append(row.get(name))
        yield pa.RecordBatch.from_pydict(out, schema=_DOC_SCHEMA)


def documents_to_sentences(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        yield from segment_documents(batch).cast(SENTENCES_SCHEMA).to_batches()


InputFormat = Literal["jsonl", "parquet"]
INPUT_FORMATS: tuple[InputFormat, ...] = ("jsonl", "parquet")


def input_format(path: str, chosen: InputFormat | None = None) -> InputFormat:
    """What ``path`` holds: ``chosen``, else Parquet for a ``.parquet``/``.pq`` name or a
    local folder of Parquet files (what Spark writes), else JSON Lines."""
    if chosen is not None:
        return chosen
    name = path.rstrip("/")
    if name.lower().endswith((".parquet", ".pq")):
        return "parquet"
    local = Path(name.removeprefix("file://"))
    if local.is_dir() and any(
        child.suffix.lower() in (".parquet", ".pq") for child in local.iterdir()
    ):
        return "parquet"
    return "jsonl"


def read_documents(
    spark: SparkSession,
    paths: list[str],
    *,
    fields: FieldMap | None = None,
    format: InputFormat | None = None,
) -> DataFrame:
    """JSON Lines files (gzipped or not) and Parquet files or folders → a DataFrame of
    document rows and problems. A record's origin is its file and its line (JSON Lines) or
    row (Parquet, counted within its file from 1), as on one machine."""
    chosen = fields or FieldMap()
    frames = [
        _read_parquet(spark, path, chosen)
        if input_format(path, format) == "parquet"
        else _read_jsonl(spark, path, chosen)
        for path in paths
    ]
    documents = frames[0]
    for frame in frames[1:]:
        documents = documents.unionByName(frame)
    return documents


def _read_jsonl(spark: SparkSession, path: str, fields: FieldMap) -> DataFrame:
    from pyspark.sql import functions as F

    lines = spark.read.text(path)
    numbered = lines.rdd.zipWithIndex().map(lambda r: (r[0][0], r[1] + 1))
    raw = spark.createDataFrame(numbered, "value STRING, line LONG").withColumn("file", F.lit(path))
    raw = raw.where(F.trim("value") != "")
    return raw.select("file", "line", "value").mapInArrow(
        lambda it: records_to_documents(it, fields=fields), DOCUMENT_COLUMNS
    )


def _read_parquet(spark: SparkSession, path: str, fields: FieldMap) -> DataFrame:
    from pyspark.sql import functions as F

    try:
        frame = spark.read.parquet(path)
    except Exception as exc:  # Spark raises several types (missing path, unreadable footer)
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ChorusError(f"{path}: not a readable Parquet file or folder: {reason}") from exc
    taken = {_ROW_FILE, _ROW_LINE} & set(frame.columns)
    if taken:
        raise ChorusError(f"{path}: column {sorted(taken)[0]} is a name chorus reserves")
    # A file given by name is its own origin, as on one machine; a folder's rows name the
    # part file they are in.
    name = F.col("_metadata.file_name")
    file = F.when(F.lit(path.rstrip("/")).endswith(name), F.lit(path)).otherwise(
        F.concat(F.lit(path.rstrip("/") + "/"), name)
    )
    rows = frame.select(
        "*", file.alias(_ROW_FILE), (F.col("_metadata.row_index") + 1).alias(_ROW_LINE)
    )
    return rows.mapInArrow(lambda it: rows_to_documents(it, fields=fields), DOCUMENT_COLUMNS)
