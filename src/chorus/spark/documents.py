"""Documents and sentences on Spark: the single-machine mapping, clean-up and segmenter run on
each partition (``mapInArrow``), so a document is the same row on a laptop and on a cluster."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from chorus.errors import InputProblem
from chorus.ingest.language import default_language_detector
from chorus.ingest.mapping import DOCUMENT_FIELDS, FieldMap, to_document
from chorus.ingest.records import RawRecord
from chorus.segment.stage import SENTENCES_SCHEMA, segment_documents

DOCUMENT_COLUMNS = (
    "doc_id STRING, source STRING, url STRING, title STRING, published_at TIMESTAMP_NTZ, "
    "lang STRING, text STRING, text_hash STRING, origin STRING, extra STRING, "
    "problem_field STRING, problem STRING"
)
SENTENCE_COLUMNS = "doc_id STRING, sent_no INT, start INT, end INT, text STRING"

_DOC_SCHEMA = pa.schema(
    [*DOCUMENT_FIELDS, ("problem_field", pa.string()), ("problem", pa.string())]
)


def records_to_documents(
    batches: Iterator[pa.RecordBatch], *, fields: FieldMap
) -> Iterator[pa.RecordBatch]:
    """(file, line, value: one JSON object) → document rows; a bad record becomes a row with
    ``problem`` set (the caller keeps those as rejects)."""
    lang = default_language_detector()  # per partition: the compressed model is under 1 MB
    for batch in batches:
        out: dict[str, list[Any]] = {name: [] for name in _DOC_SCHEMA.names}
        for file, line, value in zip(
            batch.column("file").to_pylist(),
            batch.column("line").to_pylist(),
            batch.column("value").to_pylist(),
            strict=True,
        ):
            # The same messages as the single-machine reader's.
            reason = None
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError as exc:
                reason = f"malformed JSON: {exc.msg} at column {exc.colno}"
            else:
                if not isinstance(parsed, dict):
                    reason = f"expected a JSON object, got {type(parsed).__name__}"
            if reason is not None:
                row: dict[str, Any] = {"origin": f"{file}:{line}", "problem": reason}
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


def read_documents(spark: Any, paths: list[str], *, fields: FieldMap | None = None) -> Any:
    """JSON Lines files (gzipped or not) → a DataFrame of document rows and problems, each
    line numbered within its file."""
    from pyspark.sql import functions as F

    frames = []
    for path in paths:
        lines = spark.read.text(path)
        numbered = lines.rdd.zipWithIndex().map(lambda r: (r[0][0], r[1] + 1))
        frames.append(
            spark.createDataFrame(numbered, "value STRING, line LONG").withColumn(
                "file", F.lit(path)
            )
        )
    raw = frames[0]
    for frame in frames[1:]:
        raw = raw.unionByName(frame)
    raw = raw.where(F.trim("value") != "")
    chosen = fields or FieldMap()
    return raw.select("file", "line", "value").mapInArrow(
        lambda it: records_to_documents(it, fields=chosen), DOCUMENT_COLUMNS
    )
