"""The segment stage: documents (doc_id, text) in, sentences (doc_id, sent_no, start, end, text)
out. Pure and per document, so it runs on any partition of the documents."""

from __future__ import annotations

import logging

import pyarrow as pa

from chorus.segment.splitter import split_sentences
from chorus.store import Store, scalar
from chorus.store.tables import TABLES

log = logging.getLogger(__name__)

# The sentences view's columns: a batch's id and order are added as they are stored.
SENTENCES_SCHEMA = (
    TABLES["sentences_all"].select("doc_id", "sent_no", "start", "end", "text").arrow_schema()
)


def segment_documents(
    documents: pa.Table | pa.RecordBatch,
    *,
    max_chars: int = 1000,
    carry: tuple[str, ...] = (),
) -> pa.Table:
    """Split each document's text into sentences with offsets into that text.

    Columns named in ``carry`` (for example a batch id) are repeated onto each of the
    document's sentences, after the sentence columns.
    """
    rows: list[int] = []
    sent_nos: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    texts: list[str] = []
    for row, text in enumerate(documents.column("text").to_pylist()):
        for no, span in enumerate(split_sentences(text, max_chars=max_chars)):
            rows.append(row)
            sent_nos.append(no)
            starts.append(span.start)
            ends.append(span.end)
            texts.append(text[span.start : span.end])
    take = pa.array(rows, pa.int64())
    table = pa.Table.from_arrays(
        [
            documents.column("doc_id").take(take).cast(pa.string()),
            pa.array(sent_nos, pa.int32()),
            pa.array(starts, pa.int32()),
            pa.array(ends, pa.int32()),
            pa.array(texts, pa.string()),
        ],
        schema=SENTENCES_SCHEMA,
    )
    for name in carry:
        table = table.append_column(name, documents.column(name).take(take))
    return table


def segment_store(store: Store, *, batch_size: int = 2000) -> int:
    """Segment every stored document that has no sentences yet; returns the sentences added.

    Pages through the documents, committing each page, so memory stays bounded by
    ``batch_size`` documents; a run that is stopped part-way resumes where it stopped.
    """
    con = store.con
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _unsegmented AS
           SELECT row_number() OVER (ORDER BY d.batch_id, d.seq) - 1 AS page_row,
                  d.batch_id, d.seq
           FROM documents_all d
           WHERE d.batch_id IN (SELECT batch_id FROM batches WHERE state = 'done')
             AND NOT EXISTS (SELECT 1 FROM sentences_all s
                             WHERE s.batch_id = d.batch_id AND s.seq = d.seq)"""
    )
    try:
        total = int(scalar(con, "SELECT count(*) FROM _unsegmented"))
        added = 0
        for lo in range(0, total, batch_size):
            page = con.sql(
                """SELECT d.doc_id, d.text, d.batch_id, d.seq FROM documents_all d
                   JOIN _unsegmented u USING (batch_id, seq)
                   WHERE u.page_row >= ? AND u.page_row < ? ORDER BY u.page_row""",
                params=[lo, lo + batch_size],
            ).to_arrow_table()
            sentences = segment_documents(page, carry=("batch_id", "seq"))
            con.register("_new_sentences", sentences)
            con.execute("INSERT INTO sentences_all SELECT * FROM _new_sentences")
            con.unregister("_new_sentences")
            added += sentences.num_rows
        log.info("segmented %d documents into %d sentences", total, added)
        return added
    finally:
        con.execute("DROP TABLE IF EXISTS _unsegmented")
