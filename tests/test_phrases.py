"""Shared phrases: the n-gram kernel against a brute-force oracle, maximal phrases, the seed
corpus's tagline, bounded work in bands, and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.cli import cli
from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.phrases import PhrasesSettings, find_phrases
from chorus.phrases.kernels import (
    batch_grams,
    key_grams,
    key_hash,
    maximal,
    phrase_key,
    shared_hashes,
    split_words,
    widen,
    word_hash,
)
from chorus.points.text import content_words
from chorus.store import Store, open_store

from .conftest import SEEDS, write_jsonl

_WORD = re.compile(r"\w+(?:['’]\w+)*")


def _oracle(text: str, lo: int, hi: int) -> set[tuple[int, int]]:
    """Every qualifying n-gram's span, by brute force over word positions."""
    words = list(_WORD.finditer(text))
    out = set()
    for i in range(len(words)):
        for j in range(i + lo - 1, min(len(words), i + hi)):
            piece = [w.group(0) for w in words[i : j + 1]]
            content = [content_words(w) > 0 for w in piece]
            if content[0] and content[-1] and sum(content) >= 2:
                out.add((words[i].start(), words[j].end()))
    return out


# The first call builds the code point tables (a quarter of a second): no deadline.
@settings(deadline=None)
@given(
    st.lists(
        st.sampled_from(["the", "of", "regime", "MEK", "Iran", "(PMOI", "/", "it's", "free", "a"]),
        max_size=25,
    )
)
def test_grams_match_the_oracle(tokens: list[str]) -> None:
    text = " ".join(tokens)
    grams = batch_grams([text], min_words=3, max_words=6)
    got = set(zip(grams.starts.tolist(), grams.ends.tolist(), strict=True))
    assert got == _oracle(text, 3, 6)
    # Equal word sequences hash equally, whatever the case and punctuation between them.
    keys: dict[str, int] = {}
    for s, e, h in zip(
        grams.starts.tolist(), grams.ends.tolist(), grams.hashes.tolist(), strict=True
    ):
        assert keys.setdefault(phrase_key(text[s:e]), h) == h


_ODD_WORDS = [
    "Straße",
    "STRASSE",
    "it’s",
    "It's",
    "'tis",
    "dogs'",
    "a''b",
    "ǅemal",
    "İstanbul",
    "ﬁne",
    "x" * 70,
    "X" * 70,
    "😀",
    "\ud800",
    "٣٤",
    "日本語",
    "rock'n'roll",
    "_",
    "Iran,",
    "\n",
]


@settings(deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_ODD_WORDS), st.text(max_size=6)), max_size=12))
def test_words_match_the_regex_and_hash_their_case_fold(pieces: list[str]) -> None:
    texts = [" ".join(pieces), "".join(pieces), ""]
    words = split_words(texts)
    want = [(d, m.start(), m.end()) for d, text in enumerate(texts) for m in _WORD.finditer(text)]
    got = list(zip(words.docs.tolist(), words.starts.tolist(), words.ends.tolist(), strict=True))
    assert got == want
    for (d, s, e), h, is_content in zip(
        got, words.hashes.tolist(), words.is_content.tolist(), strict=True
    ):
        word = texts[d][s:e]
        assert h == word_hash(word)
        assert is_content == (content_words(word.casefold().replace("’", "'")) > 0)


def test_equal_case_folds_hash_equally() -> None:
    words = split_words(["Straße strasse STRASSE it’s IT'S " + "y" * 80 + " " + "Y" * 80])
    h = words.hashes.tolist()
    assert h[0] == h[1] == h[2] and h[3] == h[4] and h[5] == h[6] and h[0] != h[3]


def test_a_phrase_key_hashes_as_its_occurrences() -> None:
    text = "The PMOI / MEK Iran’s rally in Paris"
    grams = batch_grams([text], min_words=3, max_words=5)
    for s, e, h in zip(
        grams.starts.tolist(), grams.ends.tolist(), grams.hashes.tolist(), strict=True
    ):
        assert key_hash(phrase_key(text[s:e])) == h


@pytest.mark.parametrize(
    "key", ["pmoi mek iran", "the people of iran will be free", "straße of the regime's rally"]
)
def test_the_grams_inside_a_phrase_are_those_found_in_its_text(key: str) -> None:
    grams = batch_grams([key], min_words=3, max_words=5)
    assert sorted(key_grams(key, min_words=3, max_words=5)) == sorted(grams.hashes.tolist())


def test_grams_stay_inside_a_text_and_outside_skipped_spans() -> None:
    texts = ["support for the regime", "regime change now in Iran"]
    grams = batch_grams(texts, min_words=3, max_words=8, skip=[[], [(0, 6)]])
    spans = {
        (d, texts[d][s:e])
        for d, s, e in zip(
            grams.docs.tolist(), grams.starts.tolist(), grams.ends.tolist(), strict=True
        )
    }
    # Document 1's first word is skipped: no phrase of it starts there.
    assert all(not (d == 1 and text.startswith("regime")) for d, text in spans)
    assert (1, "change now in Iran") in spans and (0, "support for the regime") in spans


def test_maximal_keeps_a_phrase_used_beyond_its_longer_one() -> None:
    phrases = {"pmoi mek": 14, "pmoi mek iran": 14, "organization of iran pmoi mek iran": 3}
    assert maximal(phrases) == ["organization of iran pmoi mek iran", "pmoi mek iran"]


@pytest.mark.parametrize(
    ("text", "span", "want"),
    [
        ("the (PMOI / MEK Iran) tag", (5, 20), "(PMOI / MEK Iran)"),
        ("“stop the steal” now", (1, 15), "“stop the steal”"),
        ("plain words here", (0, 11), "plain words"),
    ],
)
def test_widen_over_brackets(text: str, span: tuple[int, int], want: str) -> None:
    s, e = widen(text, *span)
    assert text[s:e] == want


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from chorus.reuse import find_reuse

    store = open_store(tmp_path_factory.mktemp("phrases") / "seeds.duckdb")
    ingest_paths(store, [SEEDS], language_detector=NoLanguageDetector())
    find_reuse(store)
    return store


def _phrase_docs(store: Store) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for phrase, doc in store.con.sql(
        "SELECT p.phrase, o.doc_id FROM phrases p JOIN phrase_occurrences o USING (phrase_id)"
    ).fetchall():
        out.setdefault(phrase_key(phrase), set()).add(doc[:3])
    return out


def test_seed_tagline_is_a_shared_phrase(seed_store: Store) -> None:
    summary = find_phrases(seed_store)
    found = _phrase_docs(seed_store)
    # EXPECTED.md: the tag "(PMOI / MEK Iran)" recurs in 001, 003 and 004.
    assert found["pmoi mek iran"] == {"001", "003", "004"}
    assert summary.n_phrases == len(found)
    # Every occurrence is its phrase, at its offsets, and never inside the copied footer.
    texts = dict(seed_store.con.sql("SELECT doc_id, text FROM documents").fetchall())
    footer = seed_store.con.sql(
        'SELECT doc_id, start, "end" FROM passages JOIN reuse_clusters USING (cluster_id) '
        "WHERE kind = 'boilerplate'"
    ).fetchall()
    for phrase, doc, start, end, text in seed_store.con.sql(
        'SELECT p.phrase, o.doc_id, o.start, o."end", o.text FROM phrases p '
        "JOIN phrase_occurrences o USING (phrase_id)"
    ).fetchall():
        assert texts[doc][start:end] == text and phrase_key(text) == phrase_key(phrase)
        assert not any(d == doc and s < end and e > start for d, s, e in footer)


def test_bands_do_not_change_the_phrases(seed_store: Store) -> None:
    find_phrases(seed_store, settings=PhrasesSettings(bands=1))
    one = seed_store.con.sql("SELECT * FROM phrase_occurrences ORDER BY ALL").fetchall()
    find_phrases(seed_store, settings=PhrasesSettings(bands=7), rebuild=True)
    assert seed_store.con.sql("SELECT * FROM phrase_occurrences ORDER BY ALL").fetchall() == one


def test_common_language_is_not_a_shared_phrase(tmp_path: Path) -> None:
    # 250 documents from 250 sources all say "the White House said"; two say a slogan.
    lines = [
        json.dumps({"id": f"d{i}", "source": f"s{i}", "text": f"The White House said {i}."})
        for i in range(250)
    ]
    lines += [
        json.dumps({"id": f"x{i}", "source": f"x{i}", "text": "Build back better now, friends."})
        for i in range(2)
    ]
    with open_store(tmp_path / "p.duckdb") as store:
        corpus = write_jsonl(tmp_path / "c.jsonl", lines)
        ingest_paths(store, [corpus], language_detector=NoLanguageDetector())
        find_phrases(store)
        found = _phrase_docs(store)
    assert "white house said" not in found
    assert found["build back better now friends"] == {"x0", "x1"}


def test_cli_phrases(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    with open_store(db) as store:
        ingest_paths(store, [SEEDS], language_detector=NoLanguageDetector())
    result = CliRunner().invoke(cli, ["phrases", "--db", db, "--quiet"])
    assert result.exit_code == 0, result.output
    assert "shared phrases" in result.output and "PMOI / MEK Iran" in result.output
    bad = CliRunner().invoke(cli, ["phrases", "--db", db, "--min-sources", "1"])
    assert bad.exit_code != 0 and "min_sources" in bad.output


@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 6)),  # (hash, document)
        max_size=60,
    )
)
def test_shared_hashes_match_the_oracle(rows: list[tuple[int, int]]) -> None:
    source_of_doc = [0, 0, 1, 2, 2, 3, 4]  # documents 0-1 are one source, 3-4 another
    hashes = np.asarray([h * 0x9E3779B97F4A7C15 % 2**64 for h, _ in rows], dtype=np.uint64)
    docs = np.asarray([d for _, d in rows], dtype=np.int64)
    sources = np.asarray([source_of_doc[d] for _, d in rows], dtype=np.int64)
    got = set(shared_hashes(hashes, sources, docs, min_sources=2, max_docs=3).tolist())
    want = {
        int(h)
        for h in set(hashes.tolist())
        if len({int(s) for x, s in zip(hashes, sources, strict=True) if x == h}) >= 2
        and len({int(d) for x, d in zip(hashes, docs, strict=True) if x == h}) <= 3
    }
    assert got == want
