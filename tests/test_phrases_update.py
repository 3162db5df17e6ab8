"""Shared phrases updated with the documents added since, against the phrases found from
scratch on the same store: batches of random corpora, new sources, copies that turn part of
an old document into a passage, replaced and removed documents, an empty batch, a run that
dies, and starting over."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.phrases import PhrasesSettings, find_phrases
from chorus.phrases import stage as phrases_stage
from chorus.reuse import find_reuse
from chorus.store import Store, open_store

from .conftest import SEEDS, write_jsonl

# Updates always: the corpora here are small, a quarter's growth is one batch.
ALWAYS = PhrasesSettings(restart_growth=1e9)

_VOCABULARY = [
    "regime",
    "people",
    "Iran",
    "freedom",
    "rally",
    "Paris",
    "resistance",
    "the",
    "of",
    "a",
    "to",
    "and",
    "in",
    "for",
    "we",
    "will",
    "support",
    "change",
    "now",
    "democracy",
    "women",
    "leader",
    "nation",
    "history",
    "future",
    "struggle",
]


def _text(rng: random.Random, n_words: int) -> str:
    words = [rng.choice(_VOCABULARY) for _ in range(n_words)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def _corpus(seed: int, n_docs: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = [
        {
            "id": f"d{seed}-{i:03d}",
            "source": f"s{rng.randrange(8)}",
            "published_at": f"2024-01-{1 + i % 28:02d}",
            "text": " ".join(_text(rng, rng.randrange(8, 30)) for _ in range(rng.randrange(1, 5))),
        }
        for i in range(n_docs)
    ]
    # A later document copies a long run of an earlier one: part of the earlier document
    # becomes a passage, so its phrases there leave.
    copied = rows[2]["text"] + " " + _text(rng, 60)
    rows[2]["text"] = copied
    rows.append(
        {
            "id": f"d{seed}-copy",
            "source": "copier",
            "published_at": "2024-02-01",
            "text": _text(rng, 10) + " " + copied,
        }
    )
    return rows


def _add(store: Store, tmp_path: Path, name: str, rows: list[dict[str, str]], **kw: object) -> None:
    path = write_jsonl(tmp_path / f"{name}.jsonl", [json.dumps(r) for r in rows])
    ingest_paths(store, [path], language_detector=NoLanguageDetector(), **kw)  # type: ignore[arg-type]
    find_reuse(store)


def _tables(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    return (
        store.con.execute("SELECT * FROM phrases ORDER BY phrase_id").fetchall(),
        store.con.execute("SELECT * FROM phrase_occurrences ORDER BY ALL").fetchall(),
    )


def _grams(store: Store) -> list[tuple[object, ...]]:
    """The stored n-grams of the generation the state names (and that no other is left)."""
    gens = store.con.execute("SELECT DISTINCT gen FROM _phrase_grams").fetchall()
    named = store.con.execute("SELECT grams_gen FROM _phrase_state").fetchall()
    assert gens == named
    return store.con.execute(
        'SELECT hash, doc_id, start, "end" FROM _phrase_grams ORDER BY ALL'
    ).fetchall()


def _equals_from_scratch(store: Store) -> None:
    updated = _tables(store)
    grams = _grams(store)
    assert updated[0], "the corpus has shared phrases"
    find_phrases(store, settings=ALWAYS, rebuild=True)
    assert _tables(store) == updated
    assert _grams(store) == grams


@pytest.mark.parametrize("seed", range(3))
def test_batches_of_new_documents_equal_the_phrases_from_scratch(seed: int, tmp_path: Path) -> None:
    rows = _corpus(seed, 60)
    with open_store(tmp_path / "p.duckdb") as store:
        summaries = []
        for k, lo in enumerate(range(0, len(rows), 16)):
            _add(store, tmp_path, f"b{k}", rows[lo : lo + 16])
            summaries.append(find_phrases(store, settings=ALWAYS))
        assert summaries[0].n_changed_documents is None
        # The last batch holds the copy, and the document it copies is read again.
        assert [s.n_changed_documents for s in summaries[1:]] == [16, 16, 14]
        _equals_from_scratch(store)


def test_a_copy_turns_an_old_documents_phrases_into_a_passage(tmp_path: Path) -> None:
    rows = _corpus(7, 30)
    copy = rows.pop()
    with open_store(tmp_path / "p.duckdb") as store:
        _add(store, tmp_path, "first", rows)
        find_phrases(store, settings=ALWAYS)
        before = store.con.execute(
            'SELECT start, "end" FROM phrase_occurrences WHERE doc_id = ?', [rows[2]["id"]]
        ).fetchall()
        _add(store, tmp_path, "copy", [copy])
        summary = find_phrases(store, settings=ALWAYS)
        # The copy and the document it copies (now holding a passage) are read again.
        assert summary.n_changed_documents == 2
        spans = store.con.execute(
            'SELECT start, "end" FROM passages WHERE doc_id = ?', [rows[2]["id"]]
        ).fetchall()
        lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
        assert any(s < hi and e > lo for s, e in before), "phrases were there before the copy"
        inside = store.con.execute(
            'SELECT count(*) FROM phrase_occurrences WHERE doc_id = ? AND start < ? AND "end" > ?',
            [rows[2]["id"], hi, lo],
        ).fetchall()
        assert inside == [(0,)]
        _equals_from_scratch(store)


def test_replaced_and_removed_documents_take_their_phrases_with_them(tmp_path: Path) -> None:
    rows = _corpus(3, 40)
    with open_store(tmp_path / "p.duckdb") as store:
        _add(store, tmp_path, "all", rows)
        find_phrases(store, settings=ALWAYS)
        held = store.con.execute(
            "SELECT doc_id, count(*) FROM phrase_occurrences GROUP BY doc_id ORDER BY 2 DESC"
        ).fetchall()
        replaced, removed = held[0][0], held[1][0]
        new_text = "A short note on the weather in a town nobody has heard of."
        row = next(r for r in rows if r["id"] == replaced)
        _add(store, tmp_path, "replace", [{**row, "text": new_text}], replace=True)
        # chorus has no command that removes a document; the update copes with one gone.
        for table in ("sentences_all", "documents_all"):
            store.con.execute(f"DELETE FROM {table} WHERE doc_id = ?", [removed])
        find_reuse(store)
        summary = find_phrases(store, settings=ALWAYS)
        assert summary.n_changed_documents == 1
        docs = {d for (d,) in store.con.execute("SELECT doc_id FROM phrase_occurrences").fetchall()}
        assert replaced not in docs and removed not in docs
        _equals_from_scratch(store)


def test_seeds_one_document_at_a_time(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in SEEDS.read_text(encoding="utf-8").splitlines()]
    with open_store(tmp_path / "p.duckdb") as store:
        for k, row in enumerate(rows):
            _add(store, tmp_path, f"seed{k}", [row])
            find_phrases(store, settings=ALWAYS)
        # EXPECTED.md: the tag "(PMOI / MEK Iran)" recurs in 001, 003 and 004.
        tag = store.con.execute(
            "SELECT list(DISTINCT left(o.doc_id, 3) ORDER BY left(o.doc_id, 3)) FROM phrases p "
            "JOIN phrase_occurrences o USING (phrase_id) WHERE p.phrase = '(PMOI / MEK Iran)'"
        ).fetchall()
        assert tag == [(["001", "003", "004"],)]
        _equals_from_scratch(store)


@pytest.mark.parametrize("batch", ["nothing", "the same documents again"])
def test_an_empty_batch_changes_nothing(batch: str, tmp_path: Path) -> None:
    rows = _corpus(5, 30)
    with open_store(tmp_path / "p.duckdb") as store:
        _add(store, tmp_path, "all", rows)
        find_phrases(store, settings=ALWAYS)
        before = _tables(store)
        runs = store.con.execute("SELECT * FROM phrases_runs").fetchall()
        _add(store, tmp_path, "again", [] if batch == "nothing" else rows)
        summary = find_phrases(store, settings=ALWAYS)
        assert summary.n_changed_documents == 0
        assert _tables(store) == before
        assert store.con.execute("SELECT * FROM phrases_runs").fetchall() == runs


def test_a_run_that_dies_leaves_the_phrases_and_the_next_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _corpus(11, 40)
    with open_store(tmp_path / "p.duckdb") as store:
        _add(store, tmp_path, "first", rows[:30])
        find_phrases(store, settings=ALWAYS)
        before = _tables(store)
        _add(store, tmp_path, "second", rows[30:])

        def die(*args: object, **kwargs: object) -> None:
            raise RuntimeError("killed mid-write")

        with monkeypatch.context() as patch:
            patch.setattr(phrases_stage, "write_marks", die)
            with pytest.raises(RuntimeError):
                find_phrases(store, settings=ALWAYS)
        assert _tables(store) == before
        summary = find_phrases(store, settings=ALWAYS)
        assert summary.n_changed_documents == 12  # the ten, the copy, the copied
        _equals_from_scratch(store)


def test_growth_and_other_settings_start_over(tmp_path: Path) -> None:
    rows = _corpus(13, 40)
    with open_store(tmp_path / "p.duckdb") as store:
        _add(store, tmp_path, "first", rows[:20])
        find_phrases(store)
        _add(store, tmp_path, "second", rows[20:25])
        assert find_phrases(store).n_changed_documents == 5  # 25% more: still an update
        _add(store, tmp_path, "third", rows[25:])
        assert find_phrases(store).n_changed_documents is None  # past restart_growth
        other = PhrasesSettings(min_sources=3)
        assert find_phrases(store, settings=other).n_changed_documents is None
        assert find_phrases(store, settings=other).n_changed_documents == 0


def _no_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    def scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("the update read every document")

    monkeypatch.setattr(phrases_stage, "_scan", scan)


def test_an_update_reads_only_the_changed_documents_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _corpus(17, 100)
    with open_store(tmp_path / "p.duckdb") as store:
        _add(store, tmp_path, "first", rows[:95])
        find_phrases(store, settings=ALWAYS)
        _add(store, tmp_path, "second", rows[95:])
        with monkeypatch.context() as patch:
            _no_scan(patch)
            # The five added, the copy, the document it copies: under a tenth.
            assert find_phrases(store, settings=ALWAYS).n_changed_documents == 7
        _equals_from_scratch(store)


def test_a_store_without_stored_grams_reads_every_document_once(tmp_path: Path) -> None:
    rows = _corpus(19, 40)
    with open_store(tmp_path / "p.duckdb") as store:
        _add(store, tmp_path, "first", rows[:30])
        find_phrases(store, settings=ALWAYS)
        # As a store analysed before the n-grams were kept (schema 20) left it.
        store.con.execute("DELETE FROM _phrase_grams")
        store.con.execute("UPDATE _phrase_state SET grams_gen = NULL")
        _add(store, tmp_path, "second", rows[30:])
        assert find_phrases(store, settings=ALWAYS).n_changed_documents == 12
        assert store.con.execute("SELECT grams_gen FROM _phrase_state").fetchall() != [(None,)]
        _equals_from_scratch(store)


def test_a_run_that_dies_while_storing_grams_leaves_the_last_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _corpus(23, 40)
    with open_store(tmp_path / "p.duckdb") as store:
        _add(store, tmp_path, "first", rows)
        find_phrases(store, settings=ALWAYS)
        before, grams = _tables(store), _grams(store)
        stored = phrases_stage.append_grams
        calls = []

        def die_later(*args: object, **kwargs: object) -> None:
            calls.append(1)
            if len(calls) > 1:
                raise RuntimeError("killed mid-scan")
            stored(*args, **kwargs)  # type: ignore[arg-type]

        with monkeypatch.context() as patch:
            patch.setattr(phrases_stage, "append_grams", die_later)
            patch.setattr(phrases_stage, "_BATCH_DOCS", 10)
            with pytest.raises(RuntimeError):
                find_phrases(store, settings=ALWAYS, rebuild=True)
        # A batch of the dead run's n-grams landed; the state does not name them.
        assert store.con.execute("SELECT count(DISTINCT gen) FROM _phrase_grams").fetchall() == [
            (2,)
        ]
        assert _tables(store) == before
        named = store.con.execute(
            'SELECT hash, doc_id, start, "end" FROM _phrase_grams WHERE gen = '
            "(SELECT grams_gen FROM _phrase_state) ORDER BY ALL"
        ).fetchall()
        assert named == grams
        find_phrases(store, settings=ALWAYS, rebuild=True)
        assert _tables(store) == before and _grams(store) == grams


@pytest.mark.parametrize(("n_set", "n_values"), [(0, 10), (1, 1000), (5000, 20000)])
def test_the_hash_set_answers_as_isin(n_set: int, n_values: int) -> None:
    rng = np.random.default_rng(n_set)
    members = np.unique(rng.integers(0, 2**63, n_set, dtype=np.uint64) * np.uint64(2))
    values = np.concatenate(
        [members[: n_values // 2], rng.integers(0, 2**63, n_values, dtype=np.uint64)]
    )
    found = phrases_stage._HashSet(members).contains(values)
    assert (found == np.isin(values, members)).all()
