"""A talking point no new point continues is recorded with where it went: the walk over the
kNN edges case by case and against a brute-force walk, the boilerplate that holds its
sentences, and analyses of the seeds where points leave."""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.points import PointsSettings, find_points
from chorus.points.lineage import settle_gone
from chorus.points.nearest_live import boilerplate_holding, nearest_live_points, where_gone
from chorus.reuse import find_reuse
from chorus.store import Store, open_store

from .conftest import SEEDS, point_ids, point_lineage, write_jsonl

Edge = tuple[int, int, float]


def state(
    gone: dict[str, list[int]], edges: list[Edge], live: dict[int, str]
) -> tuple[duckdb.DuckDBPyConnection, pa.Table]:
    """A connection holding the tables the walk reads: unit ``u`` is stated by sentence 0 of
    document ``d{u}``; ``live`` maps units to the live point their sentence is in; ``gone``:
    each earlier point's units. Returns it with the gone points' sentences."""
    con = duckdb.connect()
    units = sorted({u for us in gone.values() for u in us} | {u for e in edges for u in e[:2]})
    con.execute("CREATE TABLE _point_sentences (doc_id VARCHAR, sent_no INTEGER, unit_no BIGINT)")
    con.execute("CREATE TABLE _point_edges (src BIGINT, dst BIGINT, cosine FLOAT, base FLOAT)")
    con.execute("CREATE TABLE mentions (point_id VARCHAR, doc_id VARCHAR, sent_no INTEGER)")
    con.executemany("INSERT INTO _point_sentences VALUES (?, 0, ?)", [(f"d{u}", u) for u in units])
    con.executemany("INSERT INTO _point_edges VALUES (?, ?, ?, 0)", edges)
    con.executemany(
        "INSERT INTO mentions VALUES (?, ?, 0)", [(p, f"d{u}") for u, p in live.items()]
    )
    sentences = pa.table(
        {
            "point_id": [p for p, us in gone.items() for _ in us],
            "doc_id": [f"d{u}" for us in gone.values() for u in us],
            "sent_no": pa.array([0 for us in gone.values() for _ in us], pa.int32()),
        }
    )
    return con, sentences


@pytest.mark.parametrize(
    ("gone", "edges", "live", "expected"),
    [
        # The live point of the nearest claim.
        ({"g": [0]}, [(0, 1, 0.9), (0, 2, 0.6)], {1: "a", 2: "b"}, {"g": "a"}),
        # An edge counts from either end.
        ({"g": [0]}, [(1, 0, 0.9), (2, 0, 0.6)], {1: "a", 2: "b"}, {"g": "a"}),
        # A point's claims reached add up: two nearer-than-not claims beat one near one.
        (
            {"g": [0, 3]},
            [(0, 1, 0.9), (0, 2, 0.6), (3, 4, 0.5)],
            {1: "a", 2: "b", 4: "b"},
            {"g": "b"},
        ),
        # Its claims' neighbours are in no point: their neighbours are.
        ({"g": [0]}, [(0, 5, 0.9), (5, 1, 0.8), (1, 6, 0.9)], {1: "a", 6: "b"}, {"g": "a"}),
        # Three steps out.
        ({"g": [0]}, [(0, 5, 0.9), (5, 6, 0.9), (6, 1, 0.9)], {1: "a"}, {"g": "a"}),
        # Ties go to the smaller id.
        ({"g": [0]}, [(0, 1, 0.7), (0, 2, 0.7)], {1: "b", 2: "a"}, {"g": "a"}),
        # No edge: nowhere to go.
        ({"g": [0]}, [(1, 2, 0.9)], {1: "a"}, {}),
        # Two gone points each find their own.
        (
            {"g": [0], "h": [3]},
            [(0, 1, 0.9), (3, 2, 0.9)],
            {1: "a", 2: "b"},
            {"g": "a", "h": "b"},
        ),
    ],
    ids=[
        "nearest",
        "either end",
        "sum",
        "two steps",
        "three steps",
        "tie",
        "unreachable",
        "two points",
    ],
)
def test_nearest_live_points(
    gone: dict[str, list[int]], edges: list[Edge], live: dict[int, str], expected: dict[str, str]
) -> None:
    con, sentences = state(gone, edges, live)
    assert nearest_live_points(con, sentences) == expected


def test_a_point_whose_sentences_the_state_does_not_know_goes_nowhere() -> None:
    con, _ = state({"g": [0]}, [(0, 1, 0.9)], {1: "a"})
    elsewhere = pa.table(
        {"point_id": ["g"], "doc_id": ["d-replaced"], "sent_no": pa.array([0], pa.int32())}
    )
    assert nearest_live_points(con, elsewhere) == {}


def walk_by_hand(
    gone: dict[str, list[int]],
    edges: list[Edge],
    live: dict[int, str],
    hops: int,
    width: int,
) -> dict[str, str]:
    """The walk as its docstring says, one point and one step at a time."""
    found: dict[str, str] = {}
    for old, units in gone.items():
        seen, front = set(units), dict.fromkeys(units, 1.0)
        for _ in range(hops):
            weights: dict[int, float] = {}
            for u, w in front.items():
                for a, b, c in edges:
                    for x, y in ((a, b), (b, a)):
                        if x == u and y not in seen:
                            c32 = float(pa.scalar(c, pa.float32()).as_py())
                            weights[y] = max(weights.get(y, 0.0), w * max(c32, 1e-6))
            reached = dict(sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:width])
            scores: dict[str, float] = {}
            for v, w in reached.items():
                if v in live:
                    scores[live[v]] = scores.get(live[v], 0.0) + w
            if scores:
                found[old] = min(scores, key=lambda p: (-round(scores[p], 9), p))
                break
            seen |= set(reached)
            front = reached
    return found


@pytest.mark.parametrize("seed", range(12))
def test_the_walk_matches_a_walk_by_hand(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(8, 40)
    edges = [
        (a, b, round(rng.uniform(0.1, 1.0), 2))
        for a in range(n)
        for b in rng.sample(range(n), 3)
        if a != b
    ]
    points = ["p", "q", "r", "s"]
    live = {u: rng.choice(points) for u in rng.sample(range(n), max(1, n // 6))}
    free = [u for u in range(n) if u not in live]
    gone = {f"g{i}": rng.sample(free, min(len(free), rng.randint(1, 3))) for i in range(4)}
    gone = {g: us for g, us in gone.items() if us}
    con, sentences = state(gone, edges, live)
    width = rng.choice([2, 4, 64])
    assert nearest_live_points(con, sentences, hops=3, width=width) == walk_by_hand(
        gone, edges, live, hops=3, width=width
    )


def test_boilerplate_holding() -> None:
    """A point whose sentences lie in boilerplate passages goes to the cluster holding most
    of them; copies that are not boilerplate do not count."""
    con = duckdb.connect()
    con.execute('CREATE TABLE sentences (doc_id VARCHAR, sent_no INTEGER, start INT, "end" INT)')
    con.execute('CREATE TABLE passages (cluster_id VARCHAR, doc_id VARCHAR, start INT, "end" INT)')
    con.execute("CREATE TABLE reuse_clusters (cluster_id VARCHAR, kind VARCHAR)")
    con.executemany(
        "INSERT INTO sentences VALUES (?, ?, ?, ?)",
        [("a", 0, 0, 50), ("a", 1, 51, 90), ("b", 0, 0, 40), ("c", 0, 0, 30)],
    )
    con.executemany(
        "INSERT INTO passages VALUES (?, ?, ?, ?)",
        [("c1", "a", 40, 95), ("c1", "b", 0, 40), ("c2", "a", 0, 10), ("c3", "c", 0, 30)],
    )
    con.executemany(
        "INSERT INTO reuse_clusters VALUES (?, ?)",
        [("c1", "boilerplate"), ("c2", "boilerplate"), ("c3", "copy")],
    )
    sentences = pa.table(
        {
            "point_id": ["g", "g", "g", "h"],
            "doc_id": ["a", "a", "b", "c"],
            "sent_no": pa.array([0, 1, 0, 0], pa.int32()),
        }
    )
    assert boilerplate_holding(con, sentences) == {"g": "c1"}
    # A store with no reuse results: nothing to find.
    assert boilerplate_holding(duckdb.connect(), sentences) == {}


def test_settle_gone() -> None:
    lineage = [
        ("a", "merged", "b"),
        ("c", "gone", None),
        ("d", "gone", None),
        ("e", "split", "a"),
        ("f", "gone", None),
    ]
    where = {"c": ("dissolved", "b"), "f": ("boilerplate", "c9")}
    assert settle_gone(lineage, where) == [
        ("a", "merged", "b"),
        ("c", "dissolved", "b"),
        ("d", "gone", None),
        ("e", "split", "a"),
        ("f", "boilerplate", "c9"),
    ]


def ids_left(store: Store, before: set[str]) -> dict[str, tuple[str, str | None]]:
    """The ids of ``before`` no point has now, with what the lineage records of each."""
    events = point_lineage(store)
    return {i: events[i] for i in before - point_ids(store)}


def seeds_analysed(path: Path) -> tuple[Store, set[str]]:
    """A store of the seeds with talking points, and their ids."""
    store = open_store(path)
    ingest_paths(store, [SEEDS], language_detector=NoLanguageDetector())
    find_reuse(store)
    find_points(store, settings=PointsSettings(model="minilm"))
    return store, point_ids(store)


def test_points_that_leave_are_recorded_with_where_they_went(tmp_path: Path) -> None:
    """The seeds analysed, then again with a stricter threshold: a third of the points leave.
    Each is recorded merged into a point that holds its sentences, or dissolved with the live
    point its own walk finds; never gone, as its documents are all still there."""
    store, before = seeds_analysed(tmp_path / "s.duckdb")
    with store:
        old = store.con.sql("SELECT point_id, doc_id, sent_no FROM mentions").to_arrow_table()
        find_points(store, settings=PointsSettings(model="minilm", threshold=0.05))
        after = point_ids(store)
        left = ids_left(store, before)
        assert len(left) >= len(before) // 5
        assert all(other in after for _, other in left.values())
        held = {
            r[0]
            for r in store.con.execute(
                """SELECT DISTINCT o.point_id FROM mentions n
                   JOIN (SELECT * FROM old) o USING (doc_id, sent_no)"""
            ).fetchall()
        }
        events = {event for event, _ in left.values()}
        assert "dissolved" in events and events <= {"merged", "dissolved"}
        for point_id, (event, other) in left.items():
            # Merged: a point holds some of its sentences. Dissolved: none does, and its
            # own walk leads where the lineage says.
            assert (event == "merged") == (point_id in held)
            if event == "dissolved":
                own = old.filter(pa.compute.equal(old["point_id"], point_id))
                assert where_gone(store.con, own) == {point_id: ("dissolved", other)}


def test_a_point_whose_documents_are_replaced_is_gone(tmp_path: Path) -> None:
    """Replacing every document of a point with other text takes its sentences out of the
    store: nothing continues it, nothing is near it, and the lineage says ``gone``."""
    rows = SEEDS.read_text(encoding="utf-8").splitlines()
    store, before = seeds_analysed(tmp_path / "s.duckdb")
    with store:
        replaced = []
        for line in rows:
            row = json.loads(line)
            row["text"] = "Nothing to see here. " * 3
            replaced.append(json.dumps(row))
        ingest_paths(
            store,
            [write_jsonl(tmp_path / "replaced.jsonl", replaced)],
            language_detector=NoLanguageDetector(),
            replace=True,
        )
        find_reuse(store)
        find_points(store, settings=PointsSettings(model="minilm"))
        left = ids_left(store, before)
        assert set(left) == before
        assert set(left.values()) == {("gone", None)}
