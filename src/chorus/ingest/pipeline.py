"""The ingest stage: read inputs, map and clean records, and land them in the store as one batch.

A batch lands whole or not at all, in bounded memory. Rows are written in committed chunks to
the store's ``*_all`` tables under a *pending* batch, which the ``documents``/``sentences``/
``rejects`` views do not show. The batch is then checked as a set (duplicate ids, conflicts with
stored documents) and published in one small transaction; a refused or failed batch's rows are
deleted, and so are those of a run that was killed before it finished.
"""

from __future__ import annotations

import datetime as dt
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
from chorus.ingest.mapping import (
    DEFAULT_MAX_CHARS,
    DOCUMENT_FIELDS,
    DocumentRow,
    FieldMap,
    to_document,
)
from chorus.progress import ProgressFactory, no_progress
from chorus.segment.stage import segment_documents
from chorus.store import Store, scalar
from chorus.store.batches import BatchCounts, close_batch, discard_pending_batches, open_batch

log = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]
_KEEP_PROBLEMS = 1000  # problems kept in memory for the message; all are counted

_DOCS_SCHEMA = pa.schema([*DOCUMENT_FIELDS, ("seq", pa.int64())])


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
    writes each one under the pending batch as it comes (none is lost, memory stays bounded)."""

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
                "INSERT INTO rejects_all VALUES (?, ?, ?, ?, ?, ?)",
                [[self.batch_id, p.file, p.line, p.field, p.reason, p.raw] for p in self.pending],
            )
            self.pending.clear()


class _Writer:
    """Buffers mapped rows, segments them, and appends both to the store in Arrow chunks,
    each chunk committed on its own under the pending batch."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, batch_id: int, ingested_at: dt.datetime, size: int
    ) -> None:
        self.con = con
        # Nothing can be unchanged in a store that held no documents: skip the per-chunk join.
        self.any_stored = bool(
            _scalar(con, "SELECT count(*) FROM (SELECT 1 FROM documents LIMIT 1)")
        )
        self.batch_id = batch_id
        self.ingested_at = ingested_at
        self.size = size
        self.rows: list[DocumentRow] = []
        self.seq = 0
        self.n_unchanged = 0

    def add(self, row: DocumentRow) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.size:
            self.flush()

    def _drop_unchanged(self) -> None:
        """Drop rows already stored with the same text before segmenting them: re-ingesting a
        corpus then costs reading and hashing, not segmenting and writing it again."""
        keys = pa.table(
            {
                "doc_id": pa.array([r.doc_id for r in self.rows], pa.string()),
                "text_hash": pa.array([r.text_hash for r in self.rows], pa.string()),
            }
        )
        self.con.register("_chunk_keys", keys)
        stored = {
            (doc_id, text_hash)
            for doc_id, text_hash in self.con.execute(
                """SELECT k.doc_id, k.text_hash FROM _chunk_keys k
                   JOIN documents d ON d.doc_id = k.doc_id AND d.text_hash = k.text_hash"""
            ).fetchall()
        }
        self.con.unregister("_chunk_keys")
        if stored:
            before = len(self.rows)
            self.rows = [r for r in self.rows if (r.doc_id, r.text_hash) not in stored]
            self.n_unchanged += before - len(self.rows)

    def flush(self) -> None:
        if not self.rows:
            return
        if self.any_stored:
            self._drop_unchanged()
            if not self.rows:
                return
        seqs = list(range(self.seq, self.seq + len(self.rows)))
        self.seq += len(self.rows)
        cols = list(zip(*self.rows, strict=True))
        docs = pa.Table.from_arrays(
            [pa.array(cols[i], type_) for i, (_, type_) in enumerate(DOCUMENT_FIELDS)]
            + [pa.array(seqs, pa.int64())],
            schema=_DOCS_SCHEMA,
        )
        sents = segment_documents(docs, carry=("seq",))
        self.con.register("_chunk_docs", docs)
        self.con.register("_chunk_sents", sents)
        self.con.execute(
            """INSERT INTO documents_all
               SELECT doc_id, source, url, title, published_at, lang, text, text_hash, ?, ?,
                      origin, extra::JSON, seq FROM _chunk_docs""",
            [self.ingested_at, self.batch_id],
        )
        self.con.execute(
            """INSERT INTO sentences_all
               SELECT doc_id, sent_no, start, "end", text, ?, seq FROM _chunk_sents""",
            [self.batch_id],
        )
        self.con.unregister("_chunk_docs")
        self.con.unregister("_chunk_sents")
        self.rows.clear()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    value = scalar(con, sql, params)
    return int(value) if value is not None else 0


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
    settings = {
        "fields": fields.__dict__,
        "format": format,
        "encoding": encoding,
        "on_error": on_error,
        "replace": replace,
        "source": source,
        "max_chars": max_chars,
    }

    con = store.con
    discard_pending_batches(con)
    batch_id = open_batch(
        con, paths=[str(p) for p in path_list], settings=settings, started_at=started_at
    )
    published = False
    try:
        problems = _Problems(con, batch_id, persist=on_error == "skip")
        writer = _Writer(con, batch_id, started_at, chunk_size)
        with closing(progress(desc="ingest", total=None, unit="doc")) as bar:
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
                        writer.add(mapped)
            writer.flush()
            problems.flush()
        if problems.total and on_error == "raise":
            raise BatchRefusedError(problems.kept, problems.total)

        with store.transaction():
            n_replaced, n_unchanged, n_new = _publish(
                con, batch_id, replace=replace, problems=problems
            )
            n_unchanged += writer.n_unchanged
            problems.flush()
            if problems.total and on_error == "raise":
                raise BatchRefusedError(problems.kept, problems.total)
            n_sentences = _scalar(
                con, "SELECT count(*) FROM sentences_all WHERE batch_id = ?", [batch_id]
            )
            close_batch(
                con,
                batch_id,
                BatchCounts(
                    n_read=n_read,
                    n_new=n_new,
                    n_replaced=n_replaced,
                    n_unchanged=n_unchanged,
                    n_rejected=problems.total,
                    n_bad_dates=date_counts[DateStatus.IMPOSSIBLE.value]
                    + date_counts[DateStatus.UNPARSEABLE.value],
                ),
            )
        published = True
    finally:
        if not published:
            discard_pending_batches(con)

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


def _publish(
    con: duckdb.DuckDBPyConnection, batch_id: int, *, replace: bool, problems: _Problems
) -> tuple[int, int, int]:
    """Decide which of the pending batch's rows land, drop the rest, apply replacements.

    Runs inside the publishing transaction and changes only row ids and markers, never copies
    text. Returns (replaced, unchanged, new).
    """
    # One row per id: the first occurrence, or the last when replacing.
    pick = "max" if replace else "min"
    con.execute(
        f"""CREATE TEMP TABLE _keep AS
            SELECT doc_id, {pick}(seq) AS seq FROM documents_all WHERE batch_id = ?
            GROUP BY doc_id""",
        [batch_id],
    )
    con.execute(
        """CREATE TEMP TABLE _pending AS
           SELECT seq, doc_id, text_hash, origin FROM documents_all WHERE batch_id = ?""",
        [batch_id],
    )
    try:
        if not replace:
            clashes = con.execute(
                """SELECT p.doc_id, p.origin, k.origin FROM _pending p
                   JOIN (SELECT q.doc_id, q.origin, q.text_hash FROM _pending q
                         JOIN _keep USING (seq)) k USING (doc_id)
                   WHERE p.text_hash <> k.text_hash ORDER BY p.seq"""
            ).fetchall()
            for doc_id, origin, first in clashes:
                problems.add(
                    _dup_problem(
                        origin,
                        f"duplicate id {doc_id!r} with different text (first at {first}); "
                        "use --replace to keep the last",
                    )
                )
        # Documents stored before with the same id: unchanged, or replaced, or a conflict.
        con.execute(
            """CREATE TEMP TABLE _stored AS
               SELECT k.seq, k.doc_id, p.origin, d.origin AS was,
                      d.text_hash = p.text_hash AS same
               FROM _keep k JOIN _pending p USING (seq)
               JOIN documents d ON d.doc_id = k.doc_id"""
        )
        n_unchanged = _scalar(con, "SELECT count(*) FROM _stored WHERE same")
        n_changed = _scalar(con, "SELECT count(*) FROM _stored WHERE NOT same")
        if n_changed and not replace:
            conflicts = con.execute(
                "SELECT doc_id, origin, was FROM _stored WHERE NOT same ORDER BY seq LIMIT ?",
                [_KEEP_PROBLEMS],
            ).fetchall()
            for doc_id, origin, was in conflicts:
                problems.add(
                    _dup_problem(
                        origin,
                        f"id {doc_id!r} is already stored with different text (from {was}); "
                        "use --replace to replace it",
                    )
                )
            problems.total += n_changed - len(conflicts)
        drop_when = "TRUE" if not replace else "same"
        con.execute(f"DELETE FROM _keep WHERE seq IN (SELECT seq FROM _stored WHERE {drop_when})")
        n_replaced = 0
        if n_changed and replace:
            for table in ("sentences_all", "documents_all"):
                con.execute(
                    f"""DELETE FROM {table} WHERE batch_id <> ?
                        AND doc_id IN (SELECT doc_id FROM _stored WHERE NOT same)""",
                    [batch_id],
                )
            n_replaced = n_changed
        for table in ("sentences_all", "documents_all"):
            con.execute(
                f"""DELETE FROM {table} WHERE batch_id = ?
                    AND seq NOT IN (SELECT seq FROM _keep)""",
                [batch_id],
            )
        n_kept = _scalar(con, "SELECT count(*) FROM _keep")
        return n_replaced, n_unchanged, n_kept - n_replaced
    finally:
        for table in ("_keep", "_pending", "_stored"):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _dup_problem(origin: str, reason: str) -> InputProblem:
    file, _, line = origin.rpartition(":")
    return InputProblem(reason, file or origin, int(line) if line.isdigit() else None, "id")
