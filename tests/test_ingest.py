from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chorus.errors import BatchRefusedError, ChorusError
from chorus.ingest import FieldMap, ingest_paths
from chorus.store import Store, open_store

from .conftest import SEEDS, write_jsonl

GOOD = [
    json.dumps({"id": f"d{i}", "source": "S", "text": f"Story {i} happened. It was big."})
    for i in range(5)
]


def counts(store: Store) -> tuple[int, int, int, int]:
    row = store.con.execute(
        "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM sentences), "
        "(SELECT count(*) FROM batches), (SELECT count(*) FROM rejects)"
    ).fetchone()
    assert row is not None
    return row


@pytest.mark.parametrize(
    ("bad_line", "field", "reason"),
    [
        ('{"id": "x", "source": "S", "text": "broken', None, "malformed JSON"),
        ('["not", "an", "object"]', None, "expected a JSON object"),
        ('{"id": "x", "source": "S"}', "text", "missing field"),
        ('{"id": "x", "source": "S", "text": "   "}', "text", "empty text"),
        ('{"id": "x", "source": "S", "text": 42}', "text", "expected text"),
        ('{"id": "x", "text": "No source at all here."}', "source", "missing field"),
        ('{"id": {"a": 1}, "source": "S", "text": "Odd id."}', "id", "expected a string"),
    ],
)
def test_bad_record_refuses_whole_batch(
    tmp_path: Path, store: Store, bad_line: str, field: str | None, reason: str
) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [*GOOD, bad_line])
    with pytest.raises(BatchRefusedError) as info:
        ingest_paths(store, [path])
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.line == 6 and problem.field == field
    assert reason in problem.reason
    assert "in.jsonl:6" in str(info.value)
    assert counts(store) == (0, 0, 0, 0), "a refused batch must leave the store unchanged"


def test_skip_keeps_good_rows_and_every_reject(tmp_path: Path, store: Store) -> None:
    bad = ['{"id": "x", "source": "S", "text": ""}'] * 1500  # more than kept in memory
    path = write_jsonl(tmp_path / "in.jsonl", [*GOOD, *bad, '{"oops'])
    summary = ingest_paths(store, [path], on_error="skip")
    assert (summary.n_new, summary.n_rejected) == (5, 1501)
    assert counts(store)[0] == 5 and counts(store)[3] == 1501
    row = store.con.execute(
        "SELECT file, line, field, reason FROM rejects ORDER BY line DESC LIMIT 1"
    ).fetchone()
    assert row is not None and row[1] == 1506 and "malformed JSON" in row[3]


def test_undecodable_line(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes("\n".join(GOOD).encode() + b'\n{"id": "z", "text": "\xff\xfe"}\n')
    with pytest.raises(BatchRefusedError, match=r"in.jsonl:6: not valid UTF-8"):
        ingest_paths(store, [path])


def test_reingest_adds_nothing(tmp_path: Path, store: Store) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", GOOD)
    first = ingest_paths(store, [path])
    before = store.con.execute("SELECT * FROM sentences ORDER BY doc_id, sent_no").fetchall()
    second = ingest_paths(store, [path])
    assert (first.n_new, second.n_new, second.n_unchanged) == (5, 0, 5)
    assert (
        store.con.execute("SELECT * FROM sentences ORDER BY doc_id, sent_no").fetchall() == before
    )
    assert counts(store)[:2] == (5, len(before))


def test_rows_without_ids_get_stable_content_ids(tmp_path: Path, store: Store) -> None:
    rows = [json.dumps({"source": "S", "text": f"Untitled story {i}."}) for i in range(3)]
    path = write_jsonl(tmp_path / "in.jsonl", rows)
    ingest_paths(store, [path])
    ids = [r[0] for r in store.con.execute("SELECT doc_id FROM documents").fetchall()]
    ingest_paths(store, [path])
    assert counts(store)[0] == 3 and all(i.startswith("h") for i in ids)


def test_duplicate_id_with_other_text(tmp_path: Path, store: Store) -> None:
    ingest_paths(store, [write_jsonl(tmp_path / "a.jsonl", GOOD)])
    changed = json.dumps({"id": "d2", "source": "S", "text": "A corrected story. New facts."})
    path = write_jsonl(tmp_path / "b.jsonl", [changed])
    with pytest.raises(BatchRefusedError, match="already stored with different text"):
        ingest_paths(store, [path])
    summary = ingest_paths(store, [path], replace=True)
    assert (summary.n_new, summary.n_replaced) == (0, 1)
    text = store.con.execute("SELECT text FROM documents WHERE doc_id='d2'").fetchone()
    assert text == ("A corrected story. New facts.",)
    sents = store.con.execute(
        "SELECT text FROM sentences WHERE doc_id='d2' ORDER BY sent_no"
    ).fetchall()
    assert sents == [("A corrected story.",), ("New facts.",)]


def test_duplicate_id_inside_one_batch(tmp_path: Path, store: Store) -> None:
    same = GOOD[0]
    other = json.dumps({"id": "d0", "source": "S", "text": "Different words. Entirely."})
    path = write_jsonl(tmp_path / "a.jsonl", [same, same, other])
    with pytest.raises(BatchRefusedError) as info:
        ingest_paths(store, [path])
    assert info.value.problems[0].line == 3 and info.value.problems[0].field == "id"
    summary = ingest_paths(store, [path], on_error="skip")
    assert (summary.n_new, summary.n_rejected) == (1, 1)
    assert counts(store)[0] == 1


def test_replace_keeps_last_duplicate_in_batch(tmp_path: Path, store: Store) -> None:
    other = json.dumps({"id": "d0", "source": "S", "text": "Different words. Entirely."})
    path = write_jsonl(tmp_path / "a.jsonl", [GOOD[0], other])
    ingest_paths(store, [path], replace=True)
    assert store.con.execute("SELECT text FROM documents").fetchall() == [
        ("Different words. Entirely.",)
    ]


def test_impossible_dates_are_null_and_counted(tmp_path: Path, store: Store) -> None:
    rows = [
        json.dumps({"id": "a", "source": "S", "date": "0001-11-30", "text": "One."}),
        json.dumps({"id": "b", "source": "S", "date": "garbage", "text": "Two."}),
        json.dumps({"id": "c", "source": "S", "date": "9/6/17", "text": "Three."}),
    ]
    summary = ingest_paths(store, [write_jsonl(tmp_path / "a.jsonl", rows)])
    assert summary.n_bad_dates == 2 and summary.dates["ok"] == 1
    dates = store.con.execute(
        "SELECT doc_id, published_at, extra->>'published_at_raw' FROM documents ORDER BY 1"
    ).fetchall()
    assert [(d[0], d[1] is None, d[2]) for d in dates] == [
        ("a", True, "0001-11-30"),
        ("b", True, "garbage"),
        ("c", False, None),
    ]
    batch = store.con.execute("SELECT n_bad_dates FROM batches").fetchone()
    assert batch == (2,)


def test_field_mapping_and_extra_metadata(tmp_path: Path, store: Store) -> None:
    row = {
        "post_id": 7,
        "account": "@bot1",
        "created": "2021-03-04T05:06:07Z",
        "body": "Vote early. Vote often.",
        "likes": 12,
    }
    path = write_jsonl(tmp_path / "p.jsonl", [json.dumps(row)])
    fields = FieldMap(text="body", source="account", date="created", id="post_id")
    ingest_paths(store, [path], fields=fields)
    got = store.con.execute(
        "SELECT doc_id, source, published_at, extra->>'likes' FROM documents"
    ).fetchone()
    assert got is not None and got[0] == "7" and got[1] == "@bot1" and got[3] == "12"
    assert str(got[2]) == "2021-03-04 05:06:07"


def test_huge_document_is_refused_by_limit(tmp_path: Path, store: Store) -> None:
    big = json.dumps({"id": "big", "source": "S", "text": "word " * 5000})
    path = write_jsonl(tmp_path / "a.jsonl", [big])
    with pytest.raises(BatchRefusedError, match="over the limit"):
        ingest_paths(store, [path], max_chars=10_000)
    summary = ingest_paths(store, [path], max_chars=100_000)
    assert summary.n_new == 1


def test_missing_path_and_bad_option(tmp_path: Path, store: Store) -> None:
    with pytest.raises(ChorusError, match="no such file"):
        ingest_paths(store, [tmp_path / "nope.jsonl"])
    with pytest.raises(ChorusError, match="on_error"):
        ingest_paths(store, [SEEDS], on_error="ignore")  # type: ignore[arg-type]


def test_seeds_ingest_with_no_options(store: Store) -> None:
    summary = ingest_paths(store, [SEEDS])
    assert summary.n_new == 5
    rows = store.con.execute(
        'SELECT d.text, s.start, s."end", s.text FROM sentences s JOIN documents d USING (doc_id)'
    ).fetchall()
    assert len(rows) > 100
    assert all(text[start:end] == sent for text, start, end, sent in rows)
    langs = store.con.execute("SELECT DISTINCT lang FROM documents").fetchall()
    assert langs == [("en",)]


def test_news_slice_ingests_with_no_options(store: Store, news_slice: Path) -> None:
    summary = ingest_paths(store, [news_slice])
    assert summary.n_new == 300 and summary.n_rejected == 0
    bad = store.con.execute(
        """SELECT count(*) FROM sentences s JOIN documents d USING (doc_id)
           WHERE substring(d.text, s.start + 1, s."end" - s.start) <> s.text"""
    ).fetchone()
    assert bad == (0,), "DuckDB's substring must agree with Python's offsets"
    assert store.con.execute("SELECT count(DISTINCT source) > 10 FROM documents").fetchone() == (
        True,
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(min_size=1, max_size=200), min_size=1, max_size=5))
def test_any_text_round_trips_through_the_store(tmp_path: Path, texts: list[str]) -> None:
    rows = [json.dumps({"id": str(i), "source": "S", "text": t}) for i, t in enumerate(texts)]
    path = write_jsonl(tmp_path / "h.jsonl", rows)
    with open_store(tmp_path / f"h{abs(hash(tuple(texts)))}.duckdb") as store:
        ingest_paths(store, [path], on_error="skip")
        for text, start, end, sent in store.con.execute(
            'SELECT d.text, s.start, s."end", s.text FROM sentences s JOIN documents d '
            "USING (doc_id)"
        ).fetchall():
            assert text[start:end] == sent


def test_undecodable_file_names_the_file(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"Valid start \xff\xfe\xfa then junk.")
    with pytest.raises(BatchRefusedError, match=r"bad.txt: cannot decode the file's text"):
        ingest_paths(store, [path], source="S", encoding="utf-8")
    assert counts(store) == (0, 0, 0, 0)


def test_corrupt_gzip_keeps_lines_before_it(tmp_path: Path, store: Store) -> None:
    import gzip

    rows = [json.dumps({"id": i, "source": "S", "text": f"Story {i} here."}) for i in range(20000)]
    data = gzip.compress(("\n".join(rows) + "\n").encode(), compresslevel=0)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])  # a download cut off half-way
    with pytest.raises(BatchRefusedError, match="cannot read the file"):
        ingest_paths(store, [path])
    summary = ingest_paths(store, [path], on_error="skip")
    assert summary.n_rejected == 1 and "cannot read the file" in summary.problems[0].reason
    # gzip reads in blocks, so the lines of the last whole block before the cut are kept.
    assert 5000 < summary.n_new < 15000
    assert summary.problems[0].line == summary.n_new + 1


def test_killed_run_is_invisible_and_cleaned_up(tmp_path: Path, store: Store) -> None:
    from chorus.ingest import pipeline

    path = write_jsonl(tmp_path / "a.jsonl", GOOD)

    class Killed(BaseException):
        pass

    original = pipeline._Problems.flush
    calls = {"n": 0}

    def die_after_rows_landed(self: pipeline._Problems) -> None:
        calls["n"] += 1
        # The batch's rows are in the store now, but it has not been published.
        raw = store.con.execute("SELECT count(*) FROM documents_all").fetchone()
        assert raw == (5,) and counts(store)[:2] == (0, 0)
        raise Killed

    pipeline._Problems.flush = die_after_rows_landed  # type: ignore[method-assign]
    try:
        with pytest.raises(Killed):
            ingest_paths(store, [path])
    finally:
        pipeline._Problems.flush = original  # type: ignore[method-assign]
    assert calls["n"] == 1
    assert store.con.execute("SELECT count(*) FROM documents_all").fetchone() == (0,)
    summary = ingest_paths(store, [path])
    assert summary.n_new == 5 and counts(store)[:3] == (5, 10, 1)


def test_analyze_segments_what_has_no_sentences(tmp_path: Path, store: Store) -> None:
    from chorus import analyze

    ingest_paths(store, [SEEDS])
    before = store.con.execute("SELECT * FROM sentences ORDER BY doc_id, sent_no").fetchall()
    store.con.execute("DELETE FROM sentences_all WHERE doc_id LIKE '00%'")
    assert counts(store)[1] == 0
    result = analyze(store)
    assert result.n_sentences_added == len(before)
    after = store.con.execute("SELECT * FROM sentences ORDER BY doc_id, sent_no").fetchall()
    assert after == before


def test_batch_left_pending_by_a_crashed_process(tmp_path: Path) -> None:
    db = tmp_path / "crash.duckdb"
    path = write_jsonl(tmp_path / "a.jsonl", GOOD)
    code = f"""
import os
from chorus.ingest import pipeline, ingest_paths
from chorus.store import open_store
def crash(self):
    os._exit(9)  # dies like a killed process: no cleanup runs
pipeline._Problems.flush = crash
store = open_store({str(db)!r})
ingest_paths(store, [{str(path)!r}])
"""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert proc.returncode == 9
    with open_store(db) as store:
        assert store.con.execute("SELECT count(*) FROM documents_all").fetchall() == [(5,)]
        assert counts(store)[:2] == (0, 0), "an unfinished batch must not be visible"
        assert store.con.execute("SELECT state FROM batches").fetchall() == [("pending",)]
        summary = ingest_paths(store, [path])
        assert summary.n_new == 5 and counts(store)[:3] == (5, 10, 1)
        assert store.con.execute("SELECT count(*) FROM documents_all").fetchall() == [(5,)]
        assert store.con.execute("SELECT state FROM batches").fetchall() == [("done",)]
