"""Talking points keep their ids across analyses: the carry-over kernel case by case, and the
seeds analysed in two batches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.points import PointsSettings, find_points
from chorus.points.lineage import carry_ids
from chorus.points.state import clear_state
from chorus.reuse import find_reuse
from chorus.store import open_store

from .conftest import SEEDS, point_ids, point_lineage, write_jsonl


@pytest.mark.parametrize(
    ("shared", "old", "new", "ids", "lineage"),
    [
        # Same data: every point keeps its own id, nothing to record.
        ([("a", "a", 3)], ["a"], ["a"], {"a": "a"}, []),
        # A point gained sentences and another label: it keeps the earlier id.
        ([("a", "b", 3)], ["a"], ["b"], {"b": "a"}, []),
        # Two points merged: the one sharing more sentences gives the id.
        ([("a", "m", 2), ("b", "m", 5)], ["a", "b"], ["m"], {"m": "b"}, [("a", "merged", "b")]),
        # A point split: its successor keeps the id, the other part is new and says whence.
        (
            [("a", "x", 4), ("a", "y", 2)],
            ["a"],
            ["x", "y"],
            {"x": "a", "y": "y"},
            [("y", "split", "a")],
        ),
        # A point whose sentences are in no point any more.
        ([], ["a"], ["n"], {"n": "n"}, [("a", "gone", None)]),
        # A new point whose digest is an id an earlier point keeps elsewhere.
        ([("a", "b", 2)], ["a"], ["a", "b"], {"b": "a", "a": "a-2"}, []),
        # Ties go to the smaller id.
        ([("a", "m", 2), ("b", "m", 2)], ["a", "b"], ["m"], {"m": "a"}, [("b", "merged", "a")]),
    ],
    ids=["same", "relabelled", "merged", "split", "gone", "digest taken", "tie"],
)
def test_carry_ids(
    shared: list[tuple[str, str, int]],
    old: list[str],
    new: list[str],
    ids: dict[str, str],
    lineage: list[tuple[str, str, str | None]],
) -> None:
    carried = carry_ids(shared, old, new)
    assert carried.ids == ids
    assert carried.lineage == lineage
    assert len(set(carried.ids.values())) == len(carried.ids)  # ids stay unique


def test_point_ids_survive_an_update(tmp_path: Path) -> None:
    """The seeds in two batches: after the second analysis every id of the first still
    names a point or is recorded in point_lineage with one that does; analysing
    the same data again changes no id; a rebuild gives the ids a new store gives."""
    rows = SEEDS.read_text(encoding="utf-8").splitlines()
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    write_jsonl(first, rows[:3])
    write_jsonl(second, rows[3:])
    settings = PointsSettings(model="minilm")
    with open_store(tmp_path / "daily.duckdb") as store:
        ingest_paths(store, [first], language_detector=NoLanguageDetector())
        find_reuse(store)
        find_points(store, settings=settings)
        before = point_ids(store)
        assert before
        ingest_paths(store, [second], language_detector=NoLanguageDetector())
        find_reuse(store)
        find_points(store, settings=settings)
        after = point_ids(store)
        recorded = point_lineage(store)
        for point_id in before - after:  # merged into, or dissolved near, a live point
            assert recorded[point_id][0] in ("merged", "dissolved")
            assert recorded[point_id][1] in after
        # Points that share sentences with a point from before carry its id.
        carried = store.con.execute(
            """SELECT count(DISTINCT point_id) FROM mentions
               WHERE doc_id IN (SELECT unnest(?))""",
            [[json.loads(r)["id"] for r in rows[:3]]],
        ).fetchall()[0][0]
        assert carried and before & after
        # The same data again: no id moves, nothing new is recorded.
        n_recorded = store.count("point_lineage")
        find_points(store, settings=settings)
        again = {r[0] for r in store.con.execute("SELECT point_id FROM points").fetchall()}
        assert again == after and store.count("point_lineage") == n_recorded
        # A rebuild: the ids the same store gives with no points from before. (A new store
        # is not the oracle: the embedding cache holds vectors embedded in other batches,
        # which differ in their last bits.)
        find_points(store, settings=settings, rebuild=True)
        rebuilt = sorted(store.con.execute("SELECT point_id, label FROM points").fetchall())
        store.con.execute("CHECKPOINT")
        shutil.copyfile(tmp_path / "daily.duckdb", tmp_path / "empty.duckdb")
    with open_store(tmp_path / "empty.duckdb") as empty:
        empty.con.execute("DELETE FROM mentions")
        empty.con.execute("DELETE FROM points")
        clear_state(empty.con)  # or the run would update the (empty) points
        find_points(empty, settings=settings)
        fresh = sorted(empty.con.execute("SELECT point_id, label FROM points").fetchall())
        assert empty.count("point_lineage") == n_recorded  # nothing before: nothing to record
    assert rebuilt == fresh


def test_an_update_that_dies_leaves_the_points_and_their_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The points, their mentions and the lineage are written in one transaction: a run that
    fails while writing leaves the earlier ones as they were, and the next run completes."""
    from chorus.points import stage

    settings = PointsSettings(model="minilm")
    with open_store(tmp_path / "s.duckdb") as store:
        ingest_paths(store, [SEEDS], language_detector=NoLanguageDetector())
        find_reuse(store)
        find_points(store, settings=settings)
        before = sorted(store.con.execute("SELECT * FROM points").fetchall(), key=repr)
        n_mentions = store.count("mentions")

        def dies(con: object) -> None:
            raise RuntimeError("killed while writing")

        monkeypatch.setattr(stage, "write_point_pages", dies)
        with pytest.raises(RuntimeError, match="killed"):
            find_points(store, settings=PointsSettings(model="minilm", threshold=0.2))
        assert sorted(store.con.execute("SELECT * FROM points").fetchall(), key=repr) == before
        assert store.count("mentions") == n_mentions and store.count("point_lineage") == 0
        monkeypatch.undo()
        find_points(store, settings=PointsSettings(model="minilm", threshold=0.2))
        assert store.count("points") and store.count("points") != len(before)


@pytest.mark.parametrize(
    ("earlier", "community", "expected", "lineage"),
    [
        # First run: the numbers as found.
        ({}, [0, 0, 1, -1], [0, 0, 1, -1], []),
        # The same communities numbered the other way round keep their numbers.
        ({"a": 0, "b": 0, "c": 1, "d": 1}, [1, 1, 0, 0], [0, 0, 1, 1], []),
        # A new community takes a number no kept community has.
        ({"a": 0, "b": 0}, [1, 1, 0, 0], [0, 0, 1, 1], []),
        ({"a": 5, "b": 5, "c": 0}, [0, 0, 1, 1], [5, 5, 0, 0], []),
        ({"a": 1, "b": 1}, [0, 0, 1, 1], [1, 1, 2, 2], []),
        # Two merged: the one that shares more sources gives the number; the other is
        # recorded as merged into it.
        ({"a": 0, "b": 1, "c": 1}, [0, 0, 0, -1], [1, 1, 1, -1], [(0, "merged", 1)]),
        # One split: the part that holds most keeps the number, the other says whence.
        ({"a": 0, "b": 0, "c": 0}, [0, 0, 1, -1], [0, 0, 1, -1], [(1, "split", 0)]),
        ({"a": 0, "b": 0, "c": 0}, [1, 1, 0, -1], [0, 0, 1, -1], [(1, "split", 0)]),
        # A community whose sources are in none any more.
        ({"a": 0, "b": 0, "c": 1}, [0, 0, -1, -1], [0, 0, -1, -1], [(1, "gone", None)]),
    ],
    ids=[
        "first",
        "permuted",
        "new",
        "continued",
        "own number taken",
        "merged",
        "split",
        "split renumbered",
        "gone",
    ],
)
def test_communities_keep_their_numbers(
    earlier: dict[str, int],
    community: list[int],
    expected: list[int],
    lineage: list[tuple[int, str, int | None]],
) -> None:
    from chorus.coord.kernels import carry_communities

    carried = carry_communities(earlier, ["a", "b", "c", "d"], community)
    assert carried.numbers == expected
    assert carried.lineage == lineage


def test_reuse_clusters_keep_their_ids(tmp_path: Path) -> None:
    """A cluster's id comes from its earliest passage: a copy dated earlier, ingested later,
    would give it another. The cluster keeps the id it had; a new store gives the other."""
    passage = (
        "The committee said on Tuesday that the new inspection rules for river barges would "
        "take effect next spring after a long period of public consultation with operators."
    )

    def doc(i: str, date: str) -> str:
        return json.dumps(
            {
                "id": i,
                "source": f"site-{i}",
                "date": date,
                "text": f"Report {i} opens here with its own words. {passage} It ends {i}.",
            }
        )

    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    write_jsonl(first, [doc("a", "2021-05-03"), doc("b", "2021-05-04")])
    write_jsonl(second, [doc("c", "2021-05-01")])
    with open_store(tmp_path / "daily.duckdb") as store:
        ingest_paths(store, [first], language_detector=NoLanguageDetector())
        find_reuse(store)
        (before,) = [
            r[0] for r in store.con.execute("SELECT cluster_id FROM reuse_clusters").fetchall()
        ]
        ingest_paths(store, [second], language_detector=NoLanguageDetector())
        find_reuse(store)
        rows = store.con.execute("SELECT cluster_id, origin_doc_id FROM reuse_clusters").fetchall()
        assert rows == [(before, "c")]
        assert {r[0] for r in store.con.execute("SELECT cluster_id FROM passages").fetchall()} == {
            before
        }
    with open_store(tmp_path / "whole.duckdb") as whole:
        ingest_paths(whole, [first, second], language_detector=NoLanguageDetector())
        find_reuse(whole)
        (fresh,) = [
            r[0] for r in whole.con.execute("SELECT cluster_id FROM reuse_clusters").fetchall()
        ]
    assert fresh != before


def test_reuse_lineage_records_the_ids_no_cluster_keeps(tmp_path: Path) -> None:
    """Two copied passages, each its own cluster. The same data again records nothing; a
    document replaced takes its copy with it, and a cluster with no copy left is recorded
    as gone (merges and splits are carry_ids', tested above)."""
    one = (
        "The committee said on Tuesday that the new inspection rules for river barges would "
        "take effect next spring after a long period of public consultation with operators."
    )
    two = (
        "Harbour officials added that pilots on the northern channel must file their routes "
        "a full day ahead and carry the revised charts issued by the port authority this year."
    )

    def doc(i: str, text: str) -> str:
        return json.dumps({"id": i, "source": f"site-{i}", "date": "2021-05-03", "text": text})

    first = write_jsonl(
        tmp_path / "first.jsonl",
        [
            doc("a", f"Report a opens with its own words. {one} Then a talks of weather."),
            doc("b", f"Report b opens with other words. {one} Then b talks of sport."),
            doc("c", f"Report c opens with more words. {two} Then c talks of music."),
            doc("d", f"Report d opens with few words. {two} Then d talks of films."),
        ],
    )
    with open_store(tmp_path / "daily.duckdb") as store:
        ingest_paths(store, [first], language_detector=NoLanguageDetector())
        find_reuse(store)
        before = {
            r[0] for r in store.con.execute("SELECT cluster_id FROM reuse_clusters").fetchall()
        }
        assert len(before) == 2
        find_reuse(store)  # the same data: nothing to record
        assert store.count("reuse_lineage") == 0
        replaced = write_jsonl(
            tmp_path / "replaced.jsonl",
            [
                doc(
                    "d",
                    "Report d now says something else entirely about the harbour and its boats.",
                )
            ],
        )
        ingest_paths(store, [replaced], language_detector=NoLanguageDetector(), replace=True)
        find_reuse(store)
        after = {
            r[0] for r in store.con.execute("SELECT cluster_id FROM reuse_clusters").fetchall()
        }
        lineage = store.con.execute(
            "SELECT cluster_id, event, other_id FROM reuse_lineage"
        ).fetchall()
        assert len(after) == 1 and after < before
        assert lineage == [(*(before - after), "gone", None)]


def _clusters(spans: dict[str, list[tuple[str, int, int]]]) -> tuple[list[Any], list[Any]]:
    from chorus.reuse.finish import ClusterRow, PassageRow

    clusters = [
        ClusterRow(c, "reuse", len(s), len(s), len(s), 10, None, s[0][0], "site", "text")
        for c, s in spans.items()
    ]
    passages = [PassageRow(f"p-{c}-{d}-{a}", c, d, a, b) for c, s in spans.items() for d, a, b in s]
    return clusters, passages


@pytest.mark.parametrize(
    ("stored", "found", "expected"),
    [
        # One long copy aligned in two overlapping pieces: each piece overlaps the other as
        # many times as itself; each keeps its id, whichever name sorts first.
        (
            {
                "x": [("d1", 100, 500), ("d2", 1100, 1500)],
                "y": [("d1", 300, 900), ("d2", 1300, 1900)],
            },
            {
                "cA": [("d1", 100, 500), ("d2", 1100, 1500)],
                "cB": [("d1", 300, 900), ("d2", 1300, 1900)],
            },
            {"cA": "x", "cB": "y"},
        ),
        (
            {
                "x": [("d1", 100, 500), ("d2", 1100, 1500)],
                "y": [("d1", 300, 900), ("d2", 1300, 1900)],
            },
            {
                "cB": [("d1", 100, 500), ("d2", 1100, 1500)],
                "cA": [("d1", 300, 900), ("d2", 1300, 1900)],
            },
            {"cB": "x", "cA": "y"},
        ),
        # A cluster that grew keeps its id over a smaller one closer to its old size.
        (
            {"x": [("d1", 100, 500), ("d2", 100, 500)]},
            {
                "cA": [("d1", 100, 500), ("d2", 100, 500), ("d3", 0, 400), ("d4", 0, 400)],
                "cB": [("d1", 120, 480)],
            },
            {"cA": "x", "cB": "cB"},
        ),
    ],
    ids=["pieces", "pieces, names swapped", "grown"],
)
def test_reuse_clusters_carry_ids_by_the_characters_they_share(
    tmp_path: Path,
    stored: dict[str, list[tuple[str, int, int]]],
    found: dict[str, list[tuple[str, int, int]]],
    expected: dict[str, str],
) -> None:
    """A run on the same passages gives every cluster the id it had: overlapping clusters
    once handed their ids round, as a count of overlapping passages tied between them."""
    import pyarrow as pa

    from chorus.reuse.finish import carry_cluster_ids, cluster_table

    old_clusters, old_passages = _clusters(stored)
    with open_store(tmp_path / "s.duckdb") as store:
        store.insert_arrow("reuse_clusters", cluster_table(old_clusters))
        store.insert_arrow(
            "passages",
            pa.table(
                {
                    "passage_id": [p.passage_id for p in old_passages],
                    "cluster_id": [p.cluster_id for p in old_passages],
                    "doc_id": [p.doc_id for p in old_passages],
                    "start": pa.array([p.start for p in old_passages], pa.int32()),
                    "end": pa.array([p.end for p in old_passages], pa.int32()),
                    "text": ["t"] * len(old_passages),
                }
            ),
        )
        clusters, passages = _clusters(found)
        carried, carried_passages, _ = carry_cluster_ids(store, clusters, passages)
    assert {c.cluster_id: k.cluster_id for c, k in zip(clusters, carried, strict=True)} == expected
    assert [p.cluster_id for p in carried_passages] == [expected[p.cluster_id] for p in passages]
