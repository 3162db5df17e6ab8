"""The word index: its answers equal a brute-force scan, in the same order, on any query."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chorus
from chorus.analyze import analyze
from chorus.demo import seed_corpus_path
from chorus.search import (
    build_search_index,
    index_state,
    query_words,
    search_sentences,
)
from chorus.search.index import WORD_PATTERN
from chorus.store import scalar


def split_words(text: str) -> list[str]:
    """Runs of letters, marks and digits, lower-cased: the oracle's own split, in Python."""
    return re.findall(r"[^\W_]+", text.lower())


def _oracle(store: chorus.Store, query: str) -> list[tuple[str, int]]:
    """Every sentence in which each query word begins a word, earliest document first."""
    words = query_words(query)
    rows = store.con.execute(
        """SELECT s.doc_id, s.sent_no, s.text, d.published_at FROM sentences s
           JOIN documents d USING (doc_id)"""
    ).fetchall()
    keep = []
    for doc_id, sent_no, text, published in rows:
        have = split_words(text)
        if words and all(any(h.startswith(w) for h in have) for w in words):
            keep.append((published is None, published or dt.datetime.min, doc_id, sent_no))
    return [(k[2], k[3]) for k in sorted(keep)]


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("search") / "seeds.duckdb"
    extra = tmp_path_factory.mktemp("search_docs") / "more.jsonl"
    # Dated and undated documents, other scripts, and words that regex syntax would misread.
    docs = [
        ("d1", "a", "2021-03-01", "Taxes rose. Syntax (a+b)* is not taxes."),
        ("d2", "b", "2020-01-05", "The tax on fuel. Ein Steuersatz für Öl."),
        ("d3", "c", None, "مالیات بر سوخت افزایش یافت. 燃料税が上がった。 Tax again."),
    ]
    rows = [{"id": i, "source": s, "date": d, "text": t} for i, s, d, t in docs]
    extra.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with chorus.open_store(path) as store:
        chorus.ingest_paths(store, [seed_corpus_path(), extra])
        analyze(store)
    return path


QUERIES = [
    "tax",
    "Taxes",
    "the iran",
    "execution",
    "regime iran people",
    "syntax (a+b)*",
    "für öl",
    "مالیات",
    "燃料税が上がった",
    "%_",
    "zzzz",
    "",
    "the the the",
]


@pytest.mark.parametrize("query", QUERIES)
def test_index_answers_as_the_oracle(seeds: Path, query: str) -> None:
    with chorus.open_store(seeds, read_only=True) as store:
        assert index_state(store) == "current"
        expected = _oracle(store, query)
        found = search_sentences(store, query, limit=1000)
        assert found.index == "current"
        assert [(h.doc_id, h.sent_no) for h in found.hits] == expected
        assert found.total == len(expected)
        for hit in found.hits:
            text = store.con.execute(
                "SELECT text FROM sentences WHERE doc_id = ? AND sent_no = ?",
                [hit.doc_id, hit.sent_no],
            ).fetchall()[0][0]
            assert hit.text == text


def test_pages_cover_every_hit_once(seeds: Path) -> None:
    with chorus.open_store(seeds, read_only=True) as store:
        whole = search_sentences(store, "the", limit=1000)
        assert whole.total > 20
        pages = []
        for offset in range(0, whole.total + 7, 7):
            page = search_sentences(store, "the", limit=7, offset=offset)
            assert page.total == whole.total
            pages += page.hits
        assert pages == list(whole.hits)


def test_a_changed_store_is_scanned_until_the_index_is_rebuilt(seeds: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.duckdb"
    path.write_bytes(seeds.read_bytes())
    more = tmp_path / "new.jsonl"
    more.write_text(
        json.dumps({"id": "n1", "source": "z", "date": "2019-01-01", "text": "Taxidermy news."})
        + "\n",
        encoding="utf-8",
    )
    with chorus.open_store(path) as store:
        chorus.ingest_paths(store, [more])
        assert index_state(store) == "stale"
        scanned = search_sentences(store, "tax", limit=1000)
        assert scanned.index == "stale"
        assert [(h.doc_id, h.sent_no) for h in scanned.hits] == _oracle(store, "tax")
        assert scanned.hits[0].doc_id == "n1"  # the earliest
        summary = build_search_index(store)
        assert summary.built and index_state(store) == "current"
        again = search_sentences(store, "tax", limit=1000)
        assert again.hits == scanned.hits and again.total == scanned.total
        assert not build_search_index(store).built  # current: skipped
        assert build_search_index(store, force=True).built


def test_document_text_is_stored_uncompressed(seeds: Path) -> None:
    # Reading one document must not decompress thousands (the app's document and point pages).
    with chorus.open_store(seeds, read_only=True) as store:
        sql = store.con.execute(
            "SELECT sql FROM duckdb_tables() WHERE table_name = 'documents_all'"
        ).fetchall()[0][0]
        assert "USING COMPRESSION Uncompressed" in sql
        assert store.count("documents") == 8


def test_query_words() -> None:
    assert query_words("tax taxes TAX") == ("taxes",)
    assert query_words("Border-security!") == ("border", "security")
    assert query_words("a b c d e f g h i j") == ("a", "b", "c", "d", "e", "f", "g", "h")
    assert query_words("x" * 100) == ("x" * 64,)
    assert query_words("  \u200b ... ") == ()


_con = duckdb.connect()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_a_query_is_words_of_its_own_text(text: str) -> None:
    """Whatever a user types, each query word begins a word the index would hold for that
    text, so a sentence is found by a query copied from it."""
    indexed = _con.execute("SELECT regexp_extract_all(lower(?), ?)", [text, WORD_PATTERN])
    have = [w[:64] for w in indexed.fetchall()[0][0]]
    words = query_words(text, con=_con)
    assert len(words) <= 8 and len(set(words)) == len(words)
    assert all(any(h.startswith(w) for h in have) for w in words)
    assert all(not a.startswith(b) for a in words for b in words if a != b)


def _indexed(store: chorus.Store) -> tuple[list[tuple[object, ...]], ...]:
    """The index's rows by document id (index numbers differ between an update and a build)."""
    docs = store.con.execute(
        "SELECT doc_id, source, published_at, read_no FROM _search_docs ORDER BY read_no"
    ).fetchall()
    sentences = store.con.execute(
        """SELECT d.doc_id, s.sent_no, s.start, s."end" FROM _search_sentences s
           JOIN _search_docs d USING (doc_no) ORDER BY 1, 2"""
    ).fetchall()
    words = store.con.execute(
        """SELECT w.word, d.doc_id, w.sent_no FROM _search_words w
           JOIN _search_docs d USING (doc_no) ORDER BY 1, 2, 3"""
    ).fetchall()
    return docs, sentences, words


def test_an_update_indexes_only_what_changed_and_equals_a_rebuild(
    seeds: Path, tmp_path: Path
) -> None:
    """Documents added (before, between and after the indexed ones in reading order),
    replaced and removed: the updated index holds exactly the rows a rebuild holds, answers
    as the oracle, and past the appended share it is built again."""
    path = tmp_path / "copy.duckdb"
    path.write_bytes(seeds.read_bytes())

    def add(name: str, rows: list[dict[str, object]], *, replace: bool = False) -> None:
        file = tmp_path / f"{name}.jsonl"
        file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        chorus.ingest_paths(store, [file], replace=replace)

    with chorus.open_store(path) as store:
        add(
            "first",
            [
                {"id": "n1", "source": "z", "date": "2001-01-01", "text": "Taxidermy news."},
                {"id": "n2", "source": "z", "date": None, "text": "Undated tax words."},
                {"id": "n3", "source": "y", "date": "2021-03-01", "text": "Tax on the regime."},
            ],
        )
        add(
            "second",
            [{"id": "d2", "source": "b", "date": "2020-01-05", "text": "Now about syntax."}],
            replace=True,
        )
        for table in ("documents_all", "sentences_all"):  # no command removes a document
            store.con.execute(f"DELETE FROM {table} WHERE doc_id = 'd1'")
        summary = build_search_index(store)
        assert summary.built and index_state(store) == "current"
        appended = store.con.execute(
            "SELECT n_appended FROM _search_runs ORDER BY finished_at DESC LIMIT 1"
        ).fetchall()[0][0]
        assert 0 < appended < 10  # the new documents' sentences, not the store's
        updated = _indexed(store)
        for query in [*QUERIES, "syntax", "tax news", "regime"]:
            found = search_sentences(store, query, limit=1000)
            assert found.index == "current"
            assert [(h.doc_id, h.sent_no) for h in found.hits] == _oracle(store, query), query
        build_search_index(store, force=True)
        assert _indexed(store) == updated
        assert "d1" not in {d[0] for d in updated[0]}
        assert ("syntax", "d2", 0) in updated[2] and ("tax", "d2", 0) not in updated[2]

        # A quarter of the store's sentences at once: built again, in one sorted table.
        n_sentences = int(scalar(store.con, "SELECT count(*) FROM sentences"))
        many = [
            {"id": f"m{i}", "source": "m", "date": "2022-01-01", "text": "More tax. Again."}
            for i in range(n_sentences // 8 + 1)
        ]
        add("many", many)
        build_search_index(store)
        assert (
            store.con.execute(
                "SELECT n_appended FROM _search_runs ORDER BY finished_at DESC LIMIT 1"
            ).fetchall()[0][0]
            == 0
        )
        found = search_sentences(store, "again", limit=1000)
        assert [(h.doc_id, h.sent_no) for h in found.hits] == _oracle(store, "again")
        assert {f"m{i}" for i in range(len(many))} <= {h.doc_id for h in found.hits}
