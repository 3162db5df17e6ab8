"""``chorus changes``: what an analysis changed, checked against the tables before and after
it, and the command's output and errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from chorus.analyze import analyze
from chorus.changes import read_changes
from chorus.cli import cli
from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.store import Store, open_store

from .conftest import SEEDS, write_jsonl


def _state(
    store: Store,
) -> tuple[dict[str, tuple[int, int]], dict[tuple[str, str], tuple[float, float | None]]]:
    points = {
        r[0]: (r[1], r[2])
        for r in store.con.execute("SELECT point_id, n_sources, n_docs FROM points").fetchall()
    }
    edges = {
        (r[0], r[1]): (r[2], r[3])
        for r in store.con.execute(
            "SELECT source_a, source_b, weight, q_value FROM source_edges"
        ).fetchall()
    }
    return points, edges


@pytest.fixture(scope="module")
def two_analyses(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """The seeds in two batches (three documents, then two, one of them a copy of an earlier
    one from a new outlet), analysed after each; the tables after each analysis."""
    folder = tmp_path_factory.mktemp("changes")
    rows = SEEDS.read_text(encoding="utf-8").splitlines()
    copy = {**json.loads(rows[0]), "id": "copy-of-000", "source": "new-outlet.example"}
    first = write_jsonl(folder / "first.jsonl", rows[:3])
    second = write_jsonl(folder / "second.jsonl", [*rows[3:], json.dumps(copy)])
    path = folder / "s.duckdb"
    seen: dict[str, object] = {}
    with open_store(path) as store:
        ingest_paths(store, [first], language_detector=NoLanguageDetector())
        seen["run1"] = analyze(store).run_no
        seen["before"] = _state(store)
        seen["between"] = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        ingest_paths(store, [second], language_detector=NoLanguageDetector())
        seen["run2"] = analyze(store).run_no
        seen["after"] = _state(store)
        seen["second_docs"] = {json.loads(r)["id"] for r in rows[3:]} | {"copy-of-000"}
    return path, seen


def test_changes_are_what_the_last_analysis_changed(
    two_analyses: tuple[Path, dict[str, object]],
) -> None:
    path, seen = two_analyses
    assert (seen["run1"], seen["run2"]) == (1, 2)
    (points_before, edges_before), (points_after, edges_after) = seen["before"], seen["after"]  # type: ignore[misc]
    with open_store(path, read_only=True) as store:
        changes = read_changes(store)
        assert changes.since_run == 1
        new = {p.point_id for p in changes.points if p.change == "new"}
        grew = {p.point_id: p for p in changes.points if p.change == "grew"}
        regrouped = {p.point_id: p for p in changes.points if p.change == "regrouped"}
        # A new id or a wider reach is news only through the documents ingested since.
        second = sorted(seen["second_docs"])  # type: ignore[call-overload]
        new_docs = dict(
            store.con.execute(
                """SELECT point_id, count(DISTINCT doc_id) FROM mentions
                   WHERE doc_id IN (SELECT unnest(?)) GROUP BY point_id""",
                [second],
            ).fetchall()
        )
        for p in changes.points:
            assert p.n_new_docs == new_docs.get(p.point_id, 0), p
            assert (p.change == "regrouped") == (p.n_new_docs == 0), p
        new_ids = set(points_after) - set(points_before)
        assert new and new == {pid for pid in new_ids if pid in new_docs}
        assert {pid for pid, p in regrouped.items() if p.n_sources_before is None} == {
            pid for pid in new_ids if pid not in new_docs
        }
        expected_grew = {
            pid
            for pid, (sources, docs) in points_after.items()
            if pid in points_before
            and (sources > points_before[pid][0] or docs > points_before[pid][1])
        }
        assert (
            set(grew) | {pid for pid, p in regrouped.items() if p.n_sources_before is not None}
            == expected_grew
            and grew
        )
        for pid, p in grew.items():
            assert (p.n_sources_before, p.n_docs_before) == points_before[pid]
            assert (p.n_sources, p.n_docs) == points_after[pid]
        # Regrouped points come after the news.
        changes_order = [p.change == "regrouped" for p in changes.points]
        assert changes_order == sorted(changes_order)
        # Passages: every passage outside boilerplate in a document of the second batch.
        expected_passages = {
            r[0]
            for r in store.con.execute(
                """SELECT p.passage_id FROM passages p JOIN reuse_clusters c USING (cluster_id)
                   WHERE c.kind <> 'boilerplate' AND p.doc_id IN (SELECT unnest(?))""",
                [sorted(seen["second_docs"])],  # type: ignore[call-overload]
            ).fetchall()
        }
        assert {c.passage_id for c in changes.passages} == expected_passages
        assert any(c.doc_id == "copy-of-000" for c in changes.passages)
        # Edges: significant now, and new, newly significant or 10% stronger.
        expected_edges = set()
        for pair, (weight, q) in edges_after.items():
            if (q or 0) > 0.05:
                continue
            old = edges_before.get(pair)
            if old is None or (old[1] or 0) > 0.05 or weight >= old[0] * 1.1:
                expected_edges.add(pair)
        assert {(e.source_a, e.source_b) for e in changes.edges} == expected_edges
        # Counting from the first analysis is the default; from before it, every point is new.
        assert read_changes(store, since=1) == changes
        assert read_changes(store, since=seen["between"]).points == changes.points  # type: ignore[arg-type]
        everything = read_changes(store, since=dt.date(2000, 1, 1))
        assert {p.point_id for p in everything.points} == set(points_after)
        assert {p.change for p in everything.points} == {"new"}


def test_a_point_regrouped_from_old_sentences_is_not_new(
    two_analyses: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    """An update that splits a point with no new document in it gives the split-off part a
    new id: `changes` lists it as regrouped, with the point it split from, never as new."""
    path, seen = two_analyses
    copy = tmp_path / "s.duckdb"
    copy.write_bytes(path.read_bytes())
    with open_store(copy) as store:
        con = store.con
        second = sorted(seen["second_docs"])  # type: ignore[call-overload]
        old_only, with_new = (
            con.execute(
                f"""SELECT point_id FROM mentions GROUP BY point_id
                    HAVING {cond} ORDER BY point_id LIMIT 1""",
                [second],
            ).fetchall()[0][0]
            for cond in (
                "NOT bool_or(doc_id IN (SELECT unnest(?)))",
                "bool_or(doc_id IN (SELECT unnest(?)))",
            )
        )
        at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        con.execute(
            "INSERT INTO analysis_runs SELECT max(run_no) + 1, ?, ?, 6 FROM analysis_runs",
            [at, at],
        )
        for pid in (old_only, with_new):
            con.execute(
                "INSERT INTO point_changes SELECT ?, point_id, 'new', NULL, n_sources, NULL, "
                "n_docs FROM points WHERE point_id = ?",
                [at, pid],
            )
            con.execute("INSERT INTO point_lineage VALUES (?, ?, 'split', 'tp_parent')", [at, pid])
        # Counted from analysis 1: the second batch is new, so only one of them is news.
        found = {p.point_id: p for p in read_changes(store, since=1).points}
        assert found[old_only].change == "regrouped" and found[old_only].n_new_docs == 0
        assert found[old_only].split_from == "tp_parent"
        assert found[with_new].change == "new" and found[with_new].n_new_docs >= 1
        # Counted from analysis 2: no document is new, so neither is.
        assert {p.change for p in read_changes(store, since=2).points} == {"regrouped"}
    args = ["changes", "--db", str(copy), "--since", "1", "--top", "100000"]
    text = CliRunner().invoke(cli, args).output
    regrouped = text[text.index("regrouped from sentences analysed before") :]
    assert f"split from tp_parent  {old_only}" in regrouped
    news = text[: text.index("regrouped from sentences analysed before")]
    assert old_only not in news and with_new in news


def test_the_changes_command(two_analyses: tuple[Path, dict[str, object]]) -> None:
    path, _ = two_analyses
    runner = CliRunner()
    text = runner.invoke(cli, ["changes", "--db", str(path)])
    assert text.exit_code == 0, text.output
    assert text.output.startswith("changes since analysis 1:")
    assert "new copied passage" in text.output
    lines = runner.invoke(cli, ["changes", "--db", str(path), "--jsonl"]).output.splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["kind"] for r in records} >= {"point", "passage"}
    with open_store(path, read_only=True) as store:
        found = read_changes(store)
    assert sum(r["kind"] == "point" for r in records) == len(found.points)
    missing = runner.invoke(cli, ["changes", "--db", str(path), "--since", "9"])
    assert missing.exit_code == 1 and "no such analysis (the store has analyses 1 to 2)" in (
        missing.output
    )
    bad = runner.invoke(cli, ["changes", "--db", str(path), "--since", "yesterday-ish"])
    assert bad.exit_code == 1 and "not an analysis number or a date" in bad.output
