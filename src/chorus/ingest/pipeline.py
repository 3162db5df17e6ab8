"""The ingest stage: read inputs, map and clean records, and land them in the store as one batch.

A batch lands whole or not at all. Records are staged in temporary tables inside one
transaction, checked as a set (duplicate ids, conflicts with stored documents), then moved into
``documents`` and ``sentences``; any failure rolls the whole batch back.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa

from chorus.errors import BatchRefusedError, ChorusError, InputProblem
from chorus.ingest.dates import DateStatus
from chorus.ingest.formats import Format, read_path
from chorus.ingest.language import LanguageDetector, default_language_detector
from chorus.ingest.mapping import DEFAULT_MAX_CHARS, DocumentRow, FieldMap, to_document
from chorus.progress import ProgressFactory, no_progress
from chorus.segment.splitter import split_sentences
from chorus.store import Store

log = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]
_KEEP_PROBLEMS = 1000  # problems kept in memory for the message; all are counted

_STAGE_DOCS = pa.schema(
    [
        ("seq", pa.int64()),
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("published_at", pa.timestamp("us")),
        ("lang", pa.string()),
        ("text", pa.string()),
        ("text_hash", pa.string()),
        ("origin", pa.string()),
        ("extra", pa.string()),
        ("date_status", pa.string()),
    ]
)
_STAGE_SENTS = pa.schema(
    [
        ("seq", pa.int64()),
        ("doc_id", pa.string()),
        ("sent_no", pa.int32()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("text", pa.string()),
    ]
)


@dataclass(frozen=True)
class IngestSummary:
    """What one ingest batch did."""

    batch_id: int
    paths: list[str]
    n_read: int
    n_new: int
    n_replaced: int
    n_unchanged: int
    n_rejected: int
    n_sentences: int
    dates: dict[str, int]
    problems: list[InputProblem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def n_bad_dates(self) -> int:
        return self.dates.get(DateStatus.IMPOSSIBLE.value, 0) + self.dates.get(
            DateStatus.UNPARSEABLE.value, 0
        )


class _Problems:
    """Counts every problem, keeps the first few for messages and, when rejects are kept,
    stages each one as it comes (so none is lost, in bounded memory)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, batch_id: int, *, persist: bool) -> None:
        self.con = con
        self.batch_id = batch_id
        self.persist = persist
        self.kept: list[InputProblem] = []
        self.pending: list[InputProblem] = []
        self.total = 0

    def add(self, problem: InputProblem) -> None:
        self.total += 1
        if len(self.kept) < _KEEP_PROBLEMS:
            self.kept.append(problem)
        if self.persist:
            self.pending.append(problem)
            if len(self.pending) >= _KEEP_PROBLEMS:
                self.flush()

    def flush(self) -> None:
        if self.pending:
            self.con.executemany(
                "INSERT INTO _stage_rejects VALUES (?, ?, ?, ?, ?, ?)",
                [[self.batch_id, p.file, p.line, p.field, p.reason, p.raw] for p in self.pending],
            )
            self.pending.clear()


_STAGE_TABLES = ("_stage_docs", "_stage_sents", "_stage_rejects", "_keep")


def _drop_stage(con: duckdb.DuckDBPyConnection) -> None:
    for table in _STAGE_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")


class _Stager:
    """Buffers mapped rows and appends them to the stage tables in Arrow chunks.

    Why stage in committed tables rather than inside the batch's transaction: DuckDB keeps a
    transaction's uncommitted rows in memory, so memory would grow with the input. Committed
    stage rows are checkpointed to the store's file and evicted; only the final move from the
    stage into the user's tables is one transaction.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, chunk_size: int) -> None:
        self.con = con
        self.chunk_size = chunk_size
        self.rows: list[DocumentRow] = []
        self.seq = 0
        con.execute("CREATE TABLE _stage_rejects AS SELECT * FROM rejects WITH NO DATA")
        con.execute(
            """CREATE TABLE _stage_docs (seq BIGINT, doc_id VARCHAR, source VARCHAR,
               url VARCHAR, title VARCHAR, published_at TIMESTAMP, lang VARCHAR, text VARCHAR,
               text_hash VARCHAR, origin VARCHAR, extra VARCHAR, date_status VARCHAR)"""
        )
        con.execute(
            """CREATE TABLE _stage_sents (seq BIGINT, doc_id VARCHAR, sent_no INTEGER,
               start INTEGER, "end" INTEGER, text VARCHAR)"""
        )

    def add(self, row: DocumentRow) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.chunk_size:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        seqs = list(range(self.seq, self.seq + len(self.rows)))
        self.seq += len(self.rows)
        cols = list(zip(*self.rows, strict=True))
        docs = pa.Table.from_arrays(
            [pa.array(seqs, pa.int64())]
            + [pa.array(cols[i], _STAGE_DOCS.field(i + 1).type) for i in range(10)]
            + [pa.array([s.value for s in cols[10]], pa.string())],
            schema=_STAGE_DOCS,
        )
        s_seq: list[int] = []
        s_doc: list[str] = []
        s_no: list[int] = []
        s_start: list[int] = []
        s_end: list[int] = []
        s_text: list[str] = []
        for seq, row in zip(seqs, self.rows, strict=True):
            text = row.text
            for no, (start, end) in enumerate(split_sentences(text)):
                s_seq.append(seq)
                s_doc.append(row.doc_id)
                s_no.append(no)
                s_start.append(start)
                s_end.append(end)
                s_text.append(text[start:end])
        sents = pa.Table.from_arrays(
            [
                pa.array(s_seq, pa.int64()),
                pa.array(s_doc, pa.string()),
                pa.array(s_no, pa.int32()),
                pa.array(s_start, pa.int32()),
                pa.array(s_end, pa.int32()),
                pa.array(s_text, pa.string()),
            ],
            schema=_STAGE_SENTS,
        )
        self.con.register("_chunk_docs", docs)
        self.con.register("_chunk_sents", sents)
        self.con.execute("INSERT INTO _stage_docs SELECT * FROM _chunk_docs")
        self.con.execute("INSERT INTO _stage_sents SELECT * FROM _chunk_sents")
        self.con.unregister("_chunk_docs")
        self.con.unregister("_chunk_sents")
        self.rows.clear()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def ingest_paths(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    *,
    fields: FieldMap | None = None,
    format: Format | None = None,
    encoding: str | None = None,
    on_error: OnError = "raise",
    replace: bool = False,
    source: str | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    language_detector: LanguageDetector | None = None,
    progress: ProgressFactory = no_progress,
    chunk_size: int = 2000,
) -> IngestSummary:
    """Read ``paths`` and land their documents and sentences in ``store`` as one batch.

    With ``on_error="raise"`` (the default) any bad record refuses the whole batch with
    :class:`~chorus.errors.BatchRefusedError` and the store is unchanged. With ``"skip"``, good
    records land and each bad one is kept in the ``rejects`` table with its reason.
    A document already stored with the same id and text is left alone; the same id with other
    text is an error unless ``replace=True``.
    """
    if on_error not in ("raise", "skip"):
        raise ChorusError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    if store.read_only:
        raise ChorusError(f"{store.path} is open read-only")
    fields = fields or FieldMap()
    detector = language_detector or default_language_detector()
    path_list = [Path(p) for p in paths]
    if not path_list:
        raise ChorusError("no input paths given")
    for path in path_list:
        if not path.exists():
            raise ChorusError(f"{path}: no such file or folder")
    started = time.monotonic()
    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    date_counts: Counter[str] = Counter()
    n_read = 0

    con = store.con
    row = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM batches").fetchone()
    batch_id = int(row[0]) if row else 1
    _drop_stage(con)  # left over from a run that was killed mid-way
    try:
        problems = _Problems(con, batch_id, persist=on_error == "skip")
        stager = _Stager(con, chunk_size)
        bar = progress(desc="ingest", total=None, unit="doc")
        try:
            for path in path_list:
                for item in read_path(path, format=format, encoding=encoding):
                    n_read += 1
                    bar.update(1)
                    if isinstance(item, InputProblem):
                        problems.add(item)
                        continue
                    mapped = to_document(
                        item,
                        fields=fields,
                        detector=detector,
                        default_source=source,
                        max_chars=max_chars,
                    )
                    if isinstance(mapped, InputProblem):
                        problems.add(mapped)
                        continue
                    date_counts[mapped.date_status.value] += 1
                    # Once a strict batch is refused, keep reading only to report every problem.
                    if on_error == "skip" or problems.total == 0:
                        stager.add(mapped)
            stager.flush()
            problems.flush()
        finally:
            bar.close()
        if problems.total and on_error == "raise":
            raise BatchRefusedError(problems.kept, problems.total)

        with closing(progress(desc="store", total=3, unit="step")) as landing, store.transaction():
            n_replaced, n_unchanged = _resolve_duplicates(
                con, replace=replace, on_error=on_error, problems=problems
            )
            problems.flush()
            if problems.total and on_error == "raise":
                raise BatchRefusedError(problems.kept, problems.total)
            con.execute(
                """INSERT INTO documents
                   SELECT s.doc_id, s.source, s.url, s.title, s.published_at, s.lang, s.text,
                          s.text_hash, ?, ?, s.origin, s.extra::JSON
                   FROM _stage_docs s JOIN _keep k USING (seq) ORDER BY s.seq""",
                [started_at, batch_id],
            )
            landing.update(1)
            n_new = _scalar(con, "SELECT count(*) FROM _keep") - n_replaced
            n_sentences = _scalar(con, "SELECT count(*) FROM _stage_sents JOIN _keep USING (seq)")
            con.execute(
                """INSERT INTO sentences
                   SELECT s.doc_id, s.sent_no, s.start, s."end", s.text
                   FROM _stage_sents s JOIN _keep k USING (seq) ORDER BY s.seq, s.sent_no"""
            )
            landing.update(1)
            con.execute("INSERT INTO rejects SELECT * FROM _stage_rejects")
            settings = {
                "fields": fields.__dict__,
                "format": format,
                "encoding": encoding,
                "on_error": on_error,
                "replace": replace,
                "source": source,
                "max_chars": max_chars,
            }
            con.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    batch_id,
                    started_at,
                    dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    [str(p) for p in path_list],
                    n_read,
                    n_new,
                    n_replaced,
                    n_unchanged,
                    problems.total,
                    date_counts[DateStatus.IMPOSSIBLE.value]
                    + date_counts[DateStatus.UNPARSEABLE.value],
                    json.dumps(settings),
                ],
            )
            landing.update(1)
    finally:
        _drop_stage(con)

    summary = IngestSummary(
        batch_id=batch_id,
        paths=[str(p) for p in path_list],
        n_read=n_read,
        n_new=n_new,
        n_replaced=n_replaced,
        n_unchanged=n_unchanged,
        n_rejected=problems.total,
        n_sentences=n_sentences,
        dates=dict(date_counts),
        problems=problems.kept,
        seconds=time.monotonic() - started,
    )
    log.info(
        "batch %d: %d new, %d replaced, %d unchanged, %d rejected",
        batch_id,
        n_new,
        n_replaced,
        n_unchanged,
        problems.total,
    )
    return summary


def _resolve_duplicates(
    con: duckdb.DuckDBPyConnection, *, replace: bool, on_error: OnError, problems: _Problems
) -> tuple[int, int]:
    """Choose which staged rows land (table ``_keep``); returns (replaced, unchanged)."""
    # One row per id: the first occurrence, or the last when replacing.
    pick = "max" if replace else "min"
    con.execute(
        f"""CREATE TABLE _keep AS
            SELECT {pick}(seq) AS seq FROM _stage_docs GROUP BY doc_id"""
    )
    if not replace:
        clashes = con.execute(
            """SELECT s.doc_id, s.origin, k.origin FROM _stage_docs s
               JOIN (SELECT st.doc_id, st.origin, st.text_hash FROM _stage_docs st
                     JOIN _keep USING (seq)) k USING (doc_id)
               WHERE s.text_hash <> k.text_hash ORDER BY s.seq"""
        ).fetchall()
        for doc_id, origin, first in clashes:
            problems.add(
                _dup_problem(
                    origin,
                    f"duplicate id {doc_id!r} with different text "
                    f"(first at {first}); use --replace to keep the "
                    "last",
                )
            )
    # Rows identical to what is stored change nothing.
    con.execute(
        """DELETE FROM _keep WHERE seq IN (
             SELECT s.seq FROM _stage_docs s JOIN _keep USING (seq)
             JOIN documents d ON d.doc_id = s.doc_id AND d.text_hash = s.text_hash)"""
    )
    unchanged_ids = _scalar(
        con,
        """SELECT count(DISTINCT s.doc_id) FROM _stage_docs s
                JOIN documents d ON d.doc_id = s.doc_id AND d.text_hash = s.text_hash""",
    )
    conflicts = con.execute(
        """SELECT s.seq, s.doc_id, s.origin, d.origin FROM _stage_docs s JOIN _keep USING (seq)
           JOIN documents d ON d.doc_id = s.doc_id ORDER BY s.seq"""
    ).fetchall()
    if not conflicts:
        return 0, unchanged_ids
    if replace:
        con.execute(
            """CREATE TEMP TABLE _replaced AS SELECT DISTINCT s.doc_id FROM _stage_docs s
               JOIN _keep USING (seq) JOIN documents d ON d.doc_id = s.doc_id"""
        )
        con.execute("DELETE FROM sentences WHERE doc_id IN (SELECT doc_id FROM _replaced)")
        con.execute("DELETE FROM documents WHERE doc_id IN (SELECT doc_id FROM _replaced)")
        n = _scalar(con, "SELECT count(*) FROM _replaced")
        con.execute("DROP TABLE _replaced")
        return n, unchanged_ids
    for seq, doc_id, origin, stored in conflicts:
        problems.add(
            _dup_problem(
                origin,
                f"id {doc_id!r} is already stored with different "
                f"text (from {stored}); use --replace to replace it",
            )
        )
        con.execute("DELETE FROM _keep WHERE seq = ?", [seq])
    return 0, unchanged_ids


def _dup_problem(origin: str, reason: str) -> InputProblem:
    file, _, line = origin.rpartition(":")
    return InputProblem(reason, file or origin, int(line) if line.isdigit() else None, "id")
