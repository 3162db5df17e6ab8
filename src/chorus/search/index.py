"""The word index and its queries.

A word is a run of letters, marks and digits (any script), lower-cased; a query finds the
sentences in which every query word begins a word ("tax" finds "taxes", not "syntax"). The
index is three tables inside the store (DuckDB's full-text extension would be downloaded at
run time, and a second file beside the store could drift from it): the documents numbered in
reading order (earliest dated first, undated last), each sentence's span, and one row per
distinct word of each sentence, sorted by word. A word's rows then sit in one or two of the
table's row groups, which DuckDB finds from their min/max without reading the rest, and the
hits come out in reading order without touching the documents.

Built by :func:`build_search_index` (``chorus analyze`` runs it); when the documents changed
since, queries fall back to scanning every sentence, with the same answers, slower.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass
from typing import Literal

import duckdb

from chorus.store import Store, scalar

log = logging.getLogger(__name__)

# RE2 (DuckDB) syntax: the index, the queries and the fallback scan all split words in DuckDB.
WORD_PATTERN = r"[\pL\pM\pN]+"
MAX_QUERY_WORDS = 8
# Longer runs (URLs, unspaced scripts) are indexed by their first characters; a query word
# is cut the same way, so it still finds them as a prefix.
MAX_WORD_CHARS = 64
_LAST_CHAR = "\U0010ffff"  # sorts after every string that starts with the prefix

IndexState = Literal["current", "stale", "missing"]


@dataclass(frozen=True)
class SearchIndexSummary:
    built: bool
    n_documents: int
    n_sentences: int
    n_words: int
    seconds: float


@dataclass(frozen=True)
class SentenceHit:
    doc_id: str
    source: str
    published_at: dt.datetime | None
    sent_no: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SentenceSearch:
    query: str
    words: tuple[str, ...]
    total: int
    offset: int
    hits: tuple[SentenceHit, ...]
    index: IndexState


def query_words(query: str, *, con: duckdb.DuckDBPyConnection | None = None) -> tuple[str, ...]:
    """The words a query searches for: split, lower-cased and cut as the index is (by DuckDB,
    through ``con`` when given: Python's Unicode tables are older than DuckDB's), repeats and
    words another query word already begins dropped, at most eight."""
    con = con if con is not None else duckdb.connect()
    found = [
        w[:MAX_WORD_CHARS]
        for w in con.execute(
            "SELECT regexp_extract_all(lower(?), ?)", [query, WORD_PATTERN]
        ).fetchall()[0][0]
    ]
    words: list[str] = []
    for word in sorted(set(found), key=lambda w: (-len(w), w)):
        # "tax taxes": every sentence with "taxes" has a word beginning "tax".
        if not any(kept.startswith(word) for kept in words):
            words.append(word)
    return tuple(sorted(words, key=found.index)[:MAX_QUERY_WORDS])


def _fingerprint(store: Store) -> str:
    """What the index was built from: the visible ingest batches and the sentence rows.
    Every change to the documents is a batch; re-segmenting changes the sentence count."""
    batches = scalar(
        store.con,
        "SELECT coalesce(string_agg(batch_id::VARCHAR, ',' ORDER BY batch_id), '') FROM batches "
        "WHERE state = 'done'",
    )
    # The stored rows, visible or not: a count DuckDB keeps, where the view's would scan.
    n_sentences = scalar(store.con, "SELECT count(*) FROM sentences_all")
    return f"{batches}|{n_sentences}"


def index_state(store: Store) -> IndexState:
    """``current`` when the index covers the stored documents as they are, ``stale`` when
    they changed since it was built, ``missing`` when it was never built."""
    state: IndexState = store.known("search_index_state", lambda: _index_state(store))
    return state


def _index_state(store: Store) -> IndexState:
    tables = store.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_search_runs'"
    ).fetchall()
    if not tables[0][0]:
        return "missing"
    row = store.con.execute(
        "SELECT fingerprint FROM _search_runs ORDER BY finished_at DESC LIMIT 1"
    ).fetchall()
    if not row:
        return "missing"
    return "current" if row[0][0] == _fingerprint(store) else "stale"


# An update appends the added documents' words as a sorted run of their own, which every
# query then reads too; past this share of the sentences the index is built again in one
# sorted table.
MAX_APPENDED_SHARE = 0.25


def build_search_index(store: Store, *, force: bool = False) -> SearchIndexSummary:
    """Bring the word index up to date with the visible sentences, in one transaction: a
    reader sees the old index or the new one. Skipped when the index is current; when
    documents were added, replaced or removed since, only theirs are indexed again (until
    the added share passes ``MAX_APPENDED_SHARE``); ``force`` rebuilds it all."""
    started = time.perf_counter()
    state = "missing" if force else index_state(store)
    if state == "current":
        row = store.con.execute(
            "SELECT n_documents, n_sentences, n_words FROM _search_runs "
            "ORDER BY finished_at DESC LIMIT 1"
        ).fetchall()[0]
        return SearchIndexSummary(False, row[0], row[1], row[2], time.perf_counter() - started)
    fingerprint = _fingerprint(store)
    with store.transaction() as con:
        n_appended = _update_index(store) if state == "stale" else None
        if n_appended is None:
            _rebuild_index(con)
            n_appended = 0
        # Reading order over every indexed document (the words keep their doc_no).
        con.execute(
            """UPDATE _search_docs s SET read_no = r.read_no FROM (
                   SELECT doc_no, (row_number() OVER (
                       ORDER BY published_at NULLS LAST, doc_id) - 1)::INTEGER AS read_no
                   FROM _search_docs) r
               WHERE s.doc_no = r.doc_no AND s.read_no <> r.read_no"""
        )
        n_docs, n_sentences, n_words = (
            int(scalar(con, f"SELECT count(*) FROM {t}"))
            for t in ("_search_docs", "_search_sentences", "_search_words")
        )
        seconds = time.perf_counter() - started
        con.execute(
            "INSERT INTO _search_runs VALUES (now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)",
            [n_docs, n_sentences, n_words, fingerprint, seconds, n_appended],
        )
    log.info(
        "word index: %d documents, %d sentences, %d word rows in %.1f s (%s)",
        n_docs,
        n_sentences,
        n_words,
        seconds,
        "updated" if n_appended else "built",
    )
    return SearchIndexSummary(True, n_docs, n_sentences, n_words, seconds)


_INSERT_SENTENCES = """INSERT INTO _search_sentences
    SELECT d.doc_no, s.sent_no, s.start, s."end"
    FROM sentences s JOIN {docs} d USING (doc_id) ORDER BY 1, 2"""
_INSERT_WORDS = """INSERT INTO _search_words
    SELECT DISTINCT left(word, ?), doc_no, sent_no FROM (
        SELECT d.doc_no, s.sent_no, unnest(regexp_extract_all(lower(s.text), ?)) AS word
        FROM sentences s JOIN {docs} d USING (doc_id))
    ORDER BY 1, 2, 3"""


def _rebuild_index(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("_search_words", "_search_sentences", "_search_docs"):
        con.execute(f"DELETE FROM {table}")
    con.execute(
        """INSERT INTO _search_docs
           SELECT n, doc_id, source, published_at, n, batch_id FROM (
               SELECT (row_number() OVER (
                           ORDER BY published_at NULLS LAST, doc_id) - 1)::INTEGER AS n,
                      doc_id, source, published_at, batch_id
               FROM documents)
           ORDER BY 1"""
    )
    con.execute(_INSERT_SENTENCES.format(docs="_search_docs"))
    con.execute(_INSERT_WORDS.format(docs="_search_docs"), [MAX_WORD_CHARS, WORD_PATTERN])


def _update_index(store: Store) -> int | None:
    """Drop the documents replaced or removed since the index was built and index those
    added (inside the caller's transaction); the sentences appended since the last full
    build, or ``None``, having changed nothing, when the index must be built again (made
    before updates were kept, or too much appended)."""
    con = store.con
    last = con.execute(
        "SELECT n_sentences, n_appended FROM _search_runs ORDER BY finished_at DESC LIMIT 1"
    ).fetchall()
    if not last or scalar(con, "SELECT count(*) FROM _search_docs WHERE batch_id IS NULL"):
        return None
    # A document's sentences are fixed by its stored row (doc_id, batch_id); one indexed
    # before it was segmented is indexed again.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _si_gone AS
           SELECT s.doc_no FROM _search_docs s
           WHERE NOT EXISTS (SELECT 1 FROM documents d
                             WHERE d.doc_id = s.doc_id AND d.batch_id = s.batch_id)
              OR (NOT EXISTS (SELECT 1 FROM _search_sentences x WHERE x.doc_no = s.doc_no)
                  AND EXISTS (SELECT 1 FROM sentences x WHERE x.doc_id = s.doc_id))"""
    )
    next_no = int(scalar(con, "SELECT coalesce(max(doc_no), -1) + 1 FROM _search_docs"))
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _si_new AS
           SELECT (? + row_number() OVER (ORDER BY d.doc_id) - 1)::INTEGER AS doc_no,
                  d.doc_id, d.source, d.published_at, d.batch_id
           FROM documents d
           WHERE NOT EXISTS (SELECT 1 FROM _search_docs s
                             WHERE s.doc_id = d.doc_id AND s.batch_id = d.batch_id
                               AND s.doc_no NOT IN (SELECT doc_no FROM _si_gone))""",
        [next_no],
    )
    try:
        n_new = int(scalar(con, "SELECT count(*) FROM sentences JOIN _si_new USING (doc_id)"))
        n_appended = int(last[0][1]) + n_new
        if n_appended > MAX_APPENDED_SHARE * max(1, int(last[0][0])):
            return None
        if scalar(con, "SELECT count(*) FROM _si_gone"):
            for table in ("_search_words", "_search_sentences", "_search_docs"):
                con.execute(f"DELETE FROM {table} WHERE doc_no IN (SELECT doc_no FROM _si_gone)")
        con.execute(
            """INSERT INTO _search_docs
               SELECT doc_no, doc_id, source, published_at, -1, batch_id FROM _si_new"""
        )
        con.execute(_INSERT_SENTENCES.format(docs="_si_new"))
        con.execute(_INSERT_WORDS.format(docs="_si_new"), [MAX_WORD_CHARS, WORD_PATTERN])
        return n_appended
    finally:
        con.execute("DROP TABLE IF EXISTS _si_gone")
        con.execute("DROP TABLE IF EXISTS _si_new")


def search_sentences(
    store: Store, query: str, *, limit: int = 50, offset: int = 0
) -> SentenceSearch:
    """The sentences in which every word of ``query`` begins a word, earliest document first
    (undated last), ``limit`` of them from ``offset``, and how many there are in all."""
    words = query_words(query, con=store.con)
    state = index_state(store)
    if not words:
        return SentenceSearch(query, words, 0, offset, (), state)
    if state == "current":
        total, keys = _indexed_hits(store, words, limit=limit, offset=offset)
        hits = _indexed_rows(store, keys)
    else:
        total, hits = _scanned_hits(store, words, limit=limit, offset=offset)
    return SentenceSearch(query, words, total, offset, hits, state)


def _indexed_hits(
    store: Store, words: tuple[str, ...], *, limit: int, offset: int
) -> tuple[int, list[tuple[int, int]]]:
    # DISTINCT: "the" begins "the" and "them" in one sentence.
    one = "SELECT DISTINCT doc_no, sent_no FROM _search_words WHERE word >= ? AND word < ?"
    ranges = " INTERSECT ".join([one] * len(words))
    params: list[object] = []
    for word in words:
        params += [word, word + _LAST_CHAR]
    rows = store.con.execute(
        f"""WITH hits AS ({ranges})
            SELECT h.doc_no, h.sent_no, count(*) OVER ()
            FROM hits h JOIN _search_docs d USING (doc_no)
            ORDER BY d.read_no, h.sent_no LIMIT ? OFFSET ?""",
        [*params, limit, offset],
    ).fetchall()
    if rows:
        return int(rows[0][2]), [(r[0], r[1]) for r in rows]
    if offset == 0:
        return 0, []
    total = scalar(store.con, f"SELECT count(*) FROM ({ranges})", params)
    return int(total), []


def _indexed_rows(store: Store, keys: list[tuple[int, int]]) -> tuple[SentenceHit, ...]:
    if not keys:
        return ()
    # Two small queries: DuckDB plans the four-way join with the documents' text worse than
    # the two halves (35 ms against 7 on the news corpus).
    spans = store.con.execute(
        """WITH k AS (SELECT unnest(?) AS i, unnest(?) AS doc_no, unnest(?) AS sent_no)
           SELECT sd.doc_id, sd.source, sd.published_at, ss.sent_no, ss.start, ss."end"
           FROM k JOIN _search_sentences ss USING (doc_no, sent_no)
                  JOIN _search_docs sd USING (doc_no)
           ORDER BY k.i""",
        [list(range(len(keys))), [k[0] for k in keys], [k[1] for k in keys]],
    ).fetchall()
    texts = store.con.execute(
        """WITH k AS (SELECT unnest(?) AS i, unnest(?) AS doc_id, unnest(?) AS start,
                              unnest(?) AS "end")
           SELECT k.i, substr(d.text, k.start + 1, k."end" - k.start)
           FROM k JOIN documents d USING (doc_id)""",
        [
            list(range(len(spans))),
            [s[0] for s in spans],
            [s[4] for s in spans],
            [s[5] for s in spans],
        ],
    ).fetchall()
    text = dict(texts)
    return tuple(
        SentenceHit(
            doc_id=doc_id,
            source=source,
            published_at=published,
            sent_no=sent_no,
            start=start,
            end=end,
            text=text[i],
        )
        for i, (doc_id, source, published, sent_no, start, end) in enumerate(spans)
        if i in text
    )


def _word_start(word: str) -> str:
    """An RE2 pattern for a word of the text that begins with ``word``."""
    return r"(?:^|[^\pL\pM\pN])" + re.escape(word)


def _scanned_hits(
    store: Store, words: tuple[str, ...], *, limit: int, offset: int
) -> tuple[int, tuple[SentenceHit, ...]]:
    where = " AND ".join(["regexp_matches(lower(s.text), ?)"] * len(words))
    params: list[object] = [_word_start(w) for w in words]
    rows = store.con.execute(
        f"""SELECT d.doc_id, d.source, d.published_at, s.sent_no, s.start, s."end", s.text,
                   count(*) OVER ()
            FROM sentences s JOIN documents d USING (doc_id)
            WHERE {where}
            ORDER BY d.published_at NULLS LAST, d.doc_id, s.sent_no LIMIT ? OFFSET ?""",
        [*params, limit, offset],
    ).fetchall()
    if not rows:
        total = scalar(
            store.con,
            f"SELECT count(*) FROM sentences s WHERE {where}",
            params,
        )
        return int(total), ()
    return int(rows[0][7]), tuple(SentenceHit(*row[:7]) for row in rows)
