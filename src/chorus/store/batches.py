"""The batch protocol every writer of documents follows: rows land in the ``*_all`` tables
under a *pending* batch, which the ``documents``, ``sentences`` and ``rejects`` views do not
show, and become visible together when the batch is marked done, in one small transaction.
A batch that never finishes (refused, or its run killed) is deleted at the next ingest."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb

from chorus.store.store import scalar

log = logging.getLogger(__name__)

BATCH_TABLES = ("sentences_all", "documents_all", "rejects_all")


@dataclass(frozen=True)
class BatchCounts:
    """What a batch read and kept, as the ``batches`` table records it."""

    n_read: int
    n_new: int
    n_replaced: int = 0
    n_unchanged: int = 0
    n_rejected: int = 0
    # None: not known (a batch loaded from a Spark job's tables).
    n_bad_dates: int | None = 0


def now() -> dt.datetime:
    """UTC, without a zone: how the store keeps times."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def open_batch(
    con: duckdb.DuckDBPyConnection,
    *,
    paths: Sequence[str],
    settings: Mapping[str, object],
    started_at: dt.datetime | None = None,
) -> int:
    """A new pending batch; returns its id."""
    batch_id = int(scalar(con, "SELECT coalesce(max(batch_id), 0) + 1 FROM batches"))
    con.execute(
        "INSERT INTO batches (batch_id, state, started_at, paths, settings) "
        "VALUES (?, 'pending', ?, ?, ?)",
        [batch_id, started_at or now(), list(paths), json.dumps(dict(settings))],
    )
    return batch_id


def close_batch(con: duckdb.DuckDBPyConnection, batch_id: int, counts: BatchCounts) -> None:
    """Mark the batch done: its rows become visible. Call it in the transaction that
    settles which of the batch's rows land."""
    con.execute(
        """UPDATE batches SET state = 'done', finished_at = ?, n_read = ?, n_new = ?,
           n_replaced = ?, n_unchanged = ?, n_rejected = ?, n_bad_dates = ?
           WHERE batch_id = ?""",
        [
            now(),
            counts.n_read,
            counts.n_new,
            counts.n_replaced,
            counts.n_unchanged,
            counts.n_rejected,
            counts.n_bad_dates,
            batch_id,
        ],
    )


def discard_pending_batches(con: duckdb.DuckDBPyConnection) -> int:
    """Delete the rows of batches that never finished (a refused batch, or a killed run)."""
    pending = [
        r[0] for r in con.execute("SELECT batch_id FROM batches WHERE state <> 'done'").fetchall()
    ]
    for batch_id in pending:
        for table in BATCH_TABLES:
            con.execute(f"DELETE FROM {table} WHERE batch_id = ?", [batch_id])
        con.execute("DELETE FROM batches WHERE batch_id = ?", [batch_id])
    if pending:
        log.info("discarded unfinished batches %s", pending)
    return len(pending)
