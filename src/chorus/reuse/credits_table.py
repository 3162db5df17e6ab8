"""The ``credits`` table kept up to date with the documents: the wire credits of every
document (:func:`chorus.reuse.credit.find_credits`), read once per document and text and
again only when the rules change. The reuse stage reads it to tell credited copy from
copying, and coordination to leave syndication out."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from contextlib import closing

import pyarrow as pa

from chorus.progress import ProgressFactory, no_progress
from chorus.reuse.credit import CREDITS_SCHEMA, Credit, credit_rules, credit_table
from chorus.store import Store, scalar

log = logging.getLogger(__name__)


def write_credits(
    store: Store,
    *,
    batch_size: int = 2000,
    rebuild: bool = False,
    progress: ProgressFactory = no_progress,
) -> int:
    """Bring the ``credits`` table up to date with the documents: read those added, replaced
    or moved to another source since it was written, or read under other rules (every one
    with ``rebuild``); returns the credits found in those read."""
    rules = credit_rules()
    with store.transaction() as tx:
        if rebuild:
            tx.execute("DELETE FROM _credit_docs")
        tx.execute(
            """DELETE FROM _credit_docs c WHERE c.rules <> ? OR NOT EXISTS (
                   SELECT 1 FROM documents d WHERE d.doc_id = c.doc_id
                      AND d.text_hash = c.text_hash AND d.source = c.source)""",
            [rules],
        )
        # Credits of documents gone or read again leave (and any a Spark run wrote for
        # documents this table does not list).
        tx.execute(
            "DELETE FROM credits w WHERE NOT EXISTS "
            "(SELECT 1 FROM _credit_docs c WHERE c.doc_id = w.doc_id)"
        )
        todo = """FROM documents d WHERE NOT EXISTS (
                       SELECT 1 FROM _credit_docs c WHERE c.doc_id = d.doc_id)"""
        total = int(scalar(tx, f"SELECT count(*) {todo}"))
        reader = tx.sql(f"SELECT doc_id, source, text, text_hash {todo} ORDER BY doc_id")
        parts: list[pa.Table] = []
        read: list[pa.Table] = []
        with closing(progress(desc="wire credits", total=total, unit="doc")) as bar:
            for batch in reader.to_arrow_reader(batch_size):
                parts.append(credit_table(batch))
                read.append(pa.table(batch).select(["doc_id", "text_hash", "source"]))
                bar.update(batch.num_rows)
        table = pa.concat_tables(parts) if parts else CREDITS_SCHEMA.empty_table()
        store.insert_arrow("credits", table)
        if read:
            done = pa.concat_tables(read)
            store.insert_arrow(
                "_credit_docs",
                done.append_column("rules", pa.array([rules] * done.num_rows, pa.string())),
            )
    log.info("wire credits: %d documents read, %d credits", total, table.num_rows)
    return int(table.num_rows)


def read_credits(store: Store, doc_ids: Sequence[str]) -> dict[str, list[Credit]]:
    """The stored credits of these documents, each document's in ``find_credits``'s order
    (a document without any has no entry): write the table first (:func:`write_credits`)."""
    if not doc_ids:
        return {}
    out: dict[str, list[Credit]] = defaultdict(list)
    con = store.con
    con.register("_credits_wanted", pa.table({"doc_id": pa.array(doc_ids, pa.string())}))
    try:
        rows = con.execute(
            """SELECT c.doc_id, c.agency, c.form, c.start, c."end", c.whole FROM credits c
               WHERE c.doc_id IN (SELECT doc_id FROM _credits_wanted)
               ORDER BY c.doc_id, c.start, c."end", c.form"""
        ).fetchall()
    finally:
        con.unregister("_credits_wanted")
    for doc_id, agency, form, start, end, whole in rows:
        out[doc_id].append(Credit(agency, form, start, end, whole))
    return dict(out)
