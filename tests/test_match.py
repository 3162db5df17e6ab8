"""Watchlist matching: reading watchlists, ranking, offsets, the output format, stored
watchlists and their hits, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from chorus.cli import cli
from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.match import (
    NEW_HIT_COLUMNS,
    BM25Index,
    MatchDocument,
    MatchSettings,
    WatchItem,
    WatchlistError,
    add_watchlist,
    find_watch_hits,
    match_documents,
    read_match_documents,
    read_watchlist,
    run_watch,
    watch_item_hits,
    watch_source_shares,
    write_matches_jsonl,
)
from chorus.match.core import best_items
from chorus.store import Store, open_store

from .conftest import SEEDS, write_jsonl

WATCHLIST = [
    WatchItem("massacre", "The regime executed 30,000 political prisoners in the 1988 massacre."),
    WatchItem("alternative", "The opposition is the only viable alternative to the regime."),
    WatchItem("bomb", "An Iranian diplomat plotted to bomb the opposition rally in France."),
]


@pytest.fixture(scope="module")
def results() -> dict[str, list[dict[str, object]]]:
    docs = [
        MatchDocument(
            "long",
            "The weather was mild. In the summer of 1988 the mullahs killed some thirty "
            "thousand prisoners. Later a diplomat was arrested over a bomb plot against the "
            "rally near Paris.",
        ),
        MatchDocument("tweet", "Only the resistance is a real alternative to the mullahs!"),
        MatchDocument("empty", ""),
        MatchDocument("unrelated", "Stock markets rose on Tuesday after strong earnings."),
    ]
    out = match_documents(docs, WATCHLIST, settings=MatchSettings(top_k=2))
    assert [r.id for r in out] == ["long", "tweet", "empty", "unrelated"]  # input order
    texts = {d.id: d.text for d in docs}
    for r in out:
        for m in r.matches:  # offsets point at the sentence reported
            assert texts[r.id][m.start : m.end] == m.sentence
    return {r.id: [vars(m) for m in r.matches] for r in out}


def test_best_matches_first_with_the_sentence_that_shows_them(
    results: dict[str, list[dict[str, object]]],
) -> None:
    long = {str(m["id"]): m for m in results["long"]}
    assert set(long) == {"massacre", "bomb"}
    scores = [m["score"] for m in results["long"]]
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert str(long["massacre"]["sentence"]).startswith("In the summer of 1988")
    assert str(long["bomb"]["sentence"]).startswith("Later a diplomat")
    assert results["tweet"][0]["id"] == "alternative"
    assert results["empty"] == []


def test_min_score_drops_weak_matches() -> None:
    docs = [MatchDocument("u", "Stock markets rose on Tuesday after strong earnings.")]
    out = match_documents(docs, WATCHLIST, settings=MatchSettings(top_k=3, min_score=0.6))
    assert out[0].matches == []


@pytest.mark.parametrize(
    ("scores", "whole", "want"),
    [
        # Long document: the best piece per item decides, ties go to the lower item.
        ([[0.2, 0.9], [0.8, 0.1]], [False, False], [(1, 0.9, 0), (0, 0.8, 1)]),
        ([[0.5, 0.5]], [False], [(0, 0.5, 0), (1, 0.5, 0)]),
        # Short document: its whole text scores; the best sentence is the evidence.
        ([[0.3, 0.6], [0.9, 0.1], [0.1, 0.7]], [True, False, False], [(1, 0.6, 2), (0, 0.3, 1)]),
        ([], [], []),
    ],
)
def test_best_items(
    scores: list[list[float]], whole: list[bool], want: list[tuple[int, float, int]]
) -> None:
    matrix = np.array(scores, dtype=np.float32).reshape(len(scores), -1 if scores else 0)
    got = best_items(matrix, np.array(whole, dtype=bool), top_k=2, min_score=None)
    assert [(i, round(s, 4), p) for i, s, p in got] == want


def test_bm25_scores_are_absolute() -> None:
    index = BM25Index(["moon landing staged studio", "vaccines autism children"])
    scores = index.scores(["moon landing staged studio", "moon", "weather forecast", ""])
    assert scores[0, 0] == pytest.approx(1.0) and scores[0, 1] == 0.0
    assert 0.0 < scores[1, 0] <= 1.0
    assert not scores[2:].any()


def test_bm25_a_short_query_holding_one_word_is_weak_evidence() -> None:
    """A one-word sentence that a talking point holds ("Be safe.") scored 1 when each query
    was divided by its own bound alone, and passed for a restatement in news articles."""
    texts = [
        "Defunding the police will make communities less safe.",
        "Police used tear gas on peaceful protesters near the White House.",
        "The coronavirus pandemic has killed more than 100,000 Americans.",
    ]
    index = BM25Index(texts)
    queries = [
        "Be safe.",
        "That was before the coronavirus.",
        "Defunding police departments makes communities less safe, critics say.",
        texts[1],
    ]
    scores = index.scores(queries)
    assert scores[0, 0] < 0.25 and scores[1, 2] < 0.25
    assert scores[2, 0] > 0.5 and scores[3, 1] > 0.95
    # Each query's scores are divided by one number: its order of the texts is BM25's, and
    # a query long enough for its own bound to count scores as before.
    assert scores[2].argmax() == 0 and scores[3].argmax() == 1


def test_output_format(tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    docs = [MatchDocument("d1", "The 1988 massacre killed 30,000 political prisoners.")]
    n = write_matches_jsonl(match_documents(docs, WATCHLIST, settings=MatchSettings(top_k=1)), out)
    assert n == 1
    line = json.loads(out.read_text())
    assert list(line) == ["id", "matches"]
    assert list(line["matches"][0]) == ["id", "score", "sentence", "start", "end"]
    assert line["matches"][0]["id"] == "massacre"


def test_read_watchlist_txt_and_jsonl(tmp_path: Path) -> None:
    txt = tmp_path / "w.txt"
    txt.write_text("first point\nsecond point\n\n", encoding="utf-8")
    assert [(i.id, i.text) for i in read_watchlist(txt)] == [
        ("1", "first point"),
        ("2", "second point"),
    ]
    jl = tmp_path / "w.jsonl"
    write_jsonl(
        jl,
        [json.dumps({"id": 7, "text": "x y", "source": "ifcn"}), '{"id": "b", "text": "z"}'],
    )
    items = read_watchlist(jl)
    assert [(i.id, i.text, i.metadata) for i in items] == [
        ("7", "x y", {"source": "ifcn"}),
        ("b", "z", {}),
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("w.txt", "one\n\nthree\n", "w.txt:2: no text on this line"),
        ("w.txt", "", "no talking points"),
        ("w.jsonl", '{"id": 1, "text": "a"}\n{"id": 1, "text": "b"}\n', "w.jsonl:2: field 'id'"),
        ("w.jsonl", '{"id": 1, "text": "  "}\n', "w.jsonl:1: field 'text': the text is empty"),
        ("w.jsonl", '{"text": "a"}\n', "w.jsonl:1: field 'id'"),
        ("w.jsonl", '{"id": 1, "text": "a"}\n{"id": 2, "text": \n', "w.jsonl:2: malformed JSON"),
    ],
)
def test_bad_watchlists_name_the_line(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(WatchlistError, match="nothing was matched") as info:
        read_watchlist(path)
    assert message in str(info.value)


def test_bad_input_documents(tmp_path: Path) -> None:
    empty = tmp_path / "in.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(WatchlistError, match="no documents"):
        read_match_documents(empty)
    missing = tmp_path / "m.jsonl"
    missing.write_text('{"id": "a", "text": "ok"}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(WatchlistError, match=r"m.jsonl:2: field 'text'"):
        read_match_documents(missing)


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30)))
def test_txt_watchlists_never_crash(lines: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.txt"
        path.write_text("\n".join(lines), encoding="utf-8")
        try:
            items = read_watchlist(path)
        except WatchlistError as exc:
            assert exc.problems
        else:
            assert all(i.text and i.text == i.text.strip() for i in items)
            assert len({i.id for i in items}) == len(items)


def test_stored_watchlist_hits_on_the_seeds(tmp_path: Path) -> None:
    with open_store(tmp_path / "seeds.duckdb") as store:
        ingest_paths(store, [SEEDS], language_detector=NoLanguageDetector())
        add_watchlist(store, "mek", WATCHLIST)
        summary = find_watch_hits(store, "mek")
        assert summary.n_items == 3 and summary.n_items_hit >= 2
        items = {r["item_id"]: r for r in watch_item_hits(store, "mek").to_pylist()}
        assert items["massacre"]["n_docs"] >= 2  # EXPECTED.md P2: 000 and 001
        assert items["bomb"]["n_docs"] >= 1  # P4: 001 and 002
        shares = watch_source_shares(store, "mek").to_pylist()
        assert len(shares) == 5 and all(0.0 <= r["share"] <= 1.0 for r in shares)
        # Re-adding a list replaces it and its hits.
        add_watchlist(store, "mek", WATCHLIST[:1])
        assert store.con.execute("SELECT count(*) FROM watch_hits").fetchone() == (0,)


def test_cli_match_and_watch(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "c.duckdb")
    watchlist = tmp_path / "w.txt"
    watchlist.write_text("\n".join(i.text for i in WATCHLIST) + "\n", encoding="utf-8")
    docs = tmp_path / "in.jsonl"
    write_jsonl(docs, [json.dumps({"id": "x", "text": "The 1988 massacre of 30,000 prisoners."})])
    out = tmp_path / "out.jsonl"
    args = ["match", "--db", db, "-w", str(watchlist), "--top-k", "2", str(docs), "-o", str(out)]
    result = runner.invoke(cli, [*args, "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["matches"][0]["id"] == "1"
    both = runner.invoke(cli, [*args, "--corpus"])
    assert both.exit_code != 0 and "either INPUT or --corpus" in both.output
    result = runner.invoke(cli, ["ingest", "--db", db, str(SEEDS), "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["watch", "add", "--db", db, str(watchlist), "--name", "mek"])
    assert result.exit_code == 0 and "stored 3 talking points" in result.output
    result = runner.invoke(cli, ["watch", "hits", "--db", db, "mek", "-q"])
    assert result.exit_code == 0, result.output
    assert "sources pushing the list" in result.output
    unknown = runner.invoke(cli, ["watch", "hits", "--db", db, "nope", "-q"])
    assert unknown.exit_code == 1 and "stored: mek" in unknown.output
    # A setting out of range is a usage error naming the option, not a traceback.
    zero = runner.invoke(cli, ["watch", "hits", "--db", db, "mek", "--top-k", "0", "-q"])
    assert zero.exit_code == 2 and "top_k" in zero.output, zero.output


@pytest.mark.parametrize(
    ("whole", "min_score_sentence", "want"),
    [
        # Scored by its best sentence: the sentence threshold holds when given.
        ([False, False], 1.1, [1]),
        ([False, False], None, [1, 0]),
        # Scored whole (a post): the threshold of a post holds.
        ([True, False], 1.1, [1, 0]),
    ],
)
def test_best_items_threshold_by_how_the_document_scores(
    whole: list[bool], min_score_sentence: float | None, want: list[int]
) -> None:
    matrix = np.array([[0.95, 1.2], [0.3, 0.4]], dtype=np.float32)
    got = best_items(
        matrix,
        np.array(whole, dtype=bool),
        top_k=5,
        min_score=0.8,
        min_score_sentence=min_score_sentence,
    )
    assert [i for i, _, _ in got] == want


def test_watch_default_hit_scores_by_document_kind(tmp_path: Path) -> None:
    """With no score given, a run keeps posts from DEFAULT_HIT_SCORE and longer documents
    from DEFAULT_SENTENCE_HIT_SCORE; a score given holds for both."""
    from chorus.match import DEFAULT_HIT_SCORE, DEFAULT_SENTENCE_HIT_SCORE

    with open_store(tmp_path / "s.duckdb") as store:
        ingest_paths(store, [SEEDS], language_detector=NoLanguageDetector())
        add_watchlist(store, "mek", WATCHLIST)
        run_watch(store, "mek")
        given = run_watch(store, "mek", settings=MatchSettings(min_score=0.9), rebuild=True)
        settings = [
            json.loads(r[0])
            for r in store.con.execute(
                "SELECT settings FROM watch_runs WHERE watchlist = 'mek' ORDER BY run_no"
            ).fetchall()
        ]
    assert (settings[0]["min_score"], settings[0]["min_score_sentence"]) == (
        DEFAULT_HIT_SCORE,
        DEFAULT_SENTENCE_HIT_SCORE,
    )
    assert (settings[1]["min_score"], settings[1]["min_score_sentence"]) == (0.9, None)
    assert given.run_no == 2


def test_store_scan_survives_other_queries(tmp_path: Path) -> None:
    from chorus.match import scan_store_documents

    with open_store(tmp_path / "s.duckdb") as store:
        ingest_paths(store, [SEEDS], language_detector=NoLanguageDetector())
        seen = []
        for document in scan_store_documents(store, batch_size=2):
            store.con.execute("SELECT count(*) FROM sentences").fetchall()
            seen.append(document.id)
        assert seen == sorted(seen) and len(seen) == 5


def _hit_rows(store: Store, name: str) -> list[tuple[object, ...]]:
    return sorted(
        store.con.execute(
            'SELECT item_id, doc_id, rank, score, start, "end", sentence FROM watch_hits '
            "WHERE watchlist = ?",
            [name],
        ).fetchall()
    )


def test_watch_runs_match_only_new_documents(tmp_path: Path) -> None:
    """A daily run matches only what it has not matched: the seeds in two batches give the
    hits of one run over all five; a replaced document's old hits leave; other settings
    match everything again."""
    rows = SEEDS.read_text(encoding="utf-8").splitlines()
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    write_jsonl(first, rows[:3])
    write_jsonl(second, rows[3:])
    with open_store(tmp_path / "all.duckdb") as whole:
        ingest_paths(whole, [SEEDS], language_detector=NoLanguageDetector())
        add_watchlist(whole, "mek", WATCHLIST)
        find_watch_hits(whole, "mek")
        expected = _hit_rows(whole, "mek")
    assert expected
    with open_store(tmp_path / "daily.duckdb") as store:
        ingest_paths(store, [first], language_detector=NoLanguageDetector())
        add_watchlist(store, "mek", WATCHLIST)
        one = run_watch(store, "mek")
        assert (one.run_no, one.rebuilt, one.n_new_docs) == (1, True, 3)
        again = run_watch(store, "mek")
        assert (again.run_no, again.rebuilt, again.n_new_docs, again.n_new_hits) == (2, False, 0, 0)
        assert again.new_hits.num_rows == 0
        ingest_paths(store, [second], language_detector=NoLanguageDetector())
        three = run_watch(store, "mek")
        assert (three.run_no, three.rebuilt, three.n_new_docs) == (3, False, 2)
        assert _hit_rows(store, "mek") == expected
        # This run's hits, with each document's source and date.
        assert three.new_hits.column_names == list(NEW_HIT_COLUMNS)
        new_docs = {json.loads(r)["id"] for r in rows[3:]}
        assert set(three.new_hits.column("doc_id").to_pylist()) <= new_docs
        assert three.n_new_hits == three.new_hits.num_rows
        # A document replaced with other text is matched again; its old hits leave.
        hit_doc = expected[0][1]
        record = next(json.loads(r) for r in rows if json.loads(r)["id"] == hit_doc)
        replaced = tmp_path / "replaced.jsonl"
        write_jsonl(replaced, [json.dumps({**record, "text": "Weather: mild and dry all week."})])
        ingest_paths(store, [replaced], replace=True, language_detector=NoLanguageDetector())
        four = run_watch(store, "mek")
        assert (four.n_new_docs, four.n_new_hits) == (1, 0)
        assert _hit_rows(store, "mek") == [r for r in expected if r[1] != hit_doc]
        # Other settings: every document again.
        five = run_watch(store, "mek", settings=MatchSettings(top_k=1))
        assert five.rebuilt and five.n_new_docs == 5


def test_cli_watch_run_exit_status_and_jsonl(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "w.duckdb")
    watchlist = tmp_path / "w.txt"
    watchlist.write_text("\n".join(i.text for i in WATCHLIST) + "\n", encoding="utf-8")
    assert runner.invoke(cli, ["ingest", "--db", db, str(SEEDS), "-q"]).exit_code == 0
    assert (
        runner.invoke(cli, ["watch", "add", "--db", db, str(watchlist), "--name", "m"]).exit_code
        == 0
    )
    found = runner.invoke(cli, ["watch", "run", "--db", db, "m", "--jsonl", "-q"])
    assert found.exit_code == 0, found.output
    lines = [json.loads(line) for line in found.stdout.splitlines()]
    assert lines and all(
        {"item_id", "doc_id", "source", "score", "sentence", "start", "end"} <= set(r)
        for r in lines
    )
    assert "run 1" in found.stderr
    nothing = runner.invoke(cli, ["watch", "run", "--db", db, "m", "--jsonl", "-q"])
    assert nothing.exit_code == 1 and nothing.stdout == ""
    unknown = runner.invoke(cli, ["watch", "run", "--db", db, "nope", "-q"])
    assert unknown.exit_code == 2 and "no watchlist named" in unknown.output
    bad = runner.invoke(cli, ["watch", "run", "--db", db, "m", "--top-k", "0"])
    assert bad.exit_code == 2 and "Invalid value" in bad.output


@pytest.mark.parametrize("failure", ["in the run", "reader gone"])
def test_cli_watch_run_exits_2_on_any_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """Exit 1 means "no new hits" to a cron job: an unexpected error, or a pipe closed
    before every hit was printed, must not read as that."""
    import chorus.cli.watch as watch_cli

    class Run:
        n_new_hits = 3

    def broken(*args: object, **kwargs: object) -> None:
        raise BrokenPipeError

    def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk gone")

    if failure == "in the run":
        monkeypatch.setattr(watch_cli, "run_watch", failing)
    else:
        monkeypatch.setattr(watch_cli, "run_watch", lambda *a, **k: Run())
        monkeypatch.setattr(watch_cli, "_print_run", broken)
    db = str(tmp_path / "w.duckdb")
    result = CliRunner().invoke(cli, ["watch", "run", "--db", db, "m", "--jsonl", "-q"])
    assert result.exit_code == 2, result.output
