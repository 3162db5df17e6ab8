"""Talking points updated with new documents instead of found again: resumed clustering
against the clustering from scratch, and updates with nothing new, a copy from a new source,
a replaced document, and a run that dies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.points import PointsSettings, find_points
from chorus.points.cluster import average_linkage, continue_clusters
from chorus.reuse import find_reuse
from chorus.store import Store, open_store

from .conftest import SEEDS, write_jsonl

# Updates always (the seeds are too small for a quarter's growth to mean anything).
ALWAYS = PointsSettings(model="minilm", restart_growth=1e9)


@pytest.mark.parametrize("seed", range(4))
def test_resuming_from_singletons_is_the_clustering_from_scratch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    groups = rng.integers(0, 8, n)
    x = rng.normal(size=(n, 6))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    sims = x @ x.T
    lo, hi = np.triu_indices(n, 1)
    keep = groups[lo] != groups[hi]
    lo, hi = lo[keep], hi[keep]
    labels = average_linkage(n, lo, hi, sims[lo, hi], groups, threshold=0.3, floor=-1.0)
    resumed = continue_clusters(
        {i: [i] for i in range(n)},
        lo.tolist(),
        hi.tolist(),
        sims[lo, hi].tolist(),
        groups,
        threshold=0.3,
        floor=-1.0,
    )
    assert {frozenset(m) for m in resumed.values()} == {
        frozenset(np.flatnonzero(labels == label).tolist()) for label in set(labels.tolist())
    }
    # A finished clustering resumed with nothing new stays as it is.
    again = continue_clusters(
        resumed, lo.tolist(), hi.tolist(), sims[lo, hi].tolist(), groups, threshold=0.3, floor=-1.0
    )
    assert again == resumed


def _seed_rows() -> list[dict[str, object]]:
    return [json.loads(line) for line in SEEDS.read_text(encoding="utf-8").splitlines()]


def _analyse(store: Store, path: Path, **kwargs: object) -> None:
    ingest_paths(store, [path], language_detector=NoLanguageDetector(), **kwargs)  # type: ignore[arg-type]
    find_reuse(store)


def _tables(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    points = sorted(store.con.execute("SELECT * FROM points").fetchall(), key=repr)
    mentions = sorted(store.con.execute("SELECT * FROM mentions").fetchall(), key=repr)
    return points, mentions


@pytest.fixture
def seeded(tmp_path: Path) -> Store:
    store = open_store(tmp_path / "daily.duckdb")
    _analyse(store, SEEDS)
    first = find_points(store, settings=ALWAYS)
    assert first.update is None and first.n_points
    return store


@pytest.mark.parametrize("batch", ["nothing", "the same documents again"])
def test_an_empty_batch_changes_nothing(seeded: Store, batch: str) -> None:
    before = _tables(seeded)
    if batch != "nothing":
        _analyse(seeded, SEEDS)  # every document unchanged: ingest skips them
    summary = find_points(seeded, settings=ALWAYS)
    assert summary.update is not None
    assert summary.update.n_added_sentences == summary.update.n_removed_sentences == 0
    assert summary.update.n_changed_points == 0
    assert _tables(seeded) == before
    assert seeded.count("point_lineage") == 0
    seeded.close()


def test_a_copy_from_a_new_source_joins_every_point_of_its_original(
    seeded: Store, tmp_path: Path
) -> None:
    """A wire copy from a new outlet: each of its sentences joins the point its original's
    sentence is in, and sentences of the original that stood alone now make points with it."""
    original = _seed_rows()[1]
    copy = {**original, "id": "copy-of-001", "source": "new-outlet.example"}
    _analyse(seeded, write_jsonl(tmp_path / "copy.jsonl", [json.dumps(copy)]))
    ids_before = {
        r[0]
        for r in seeded.con.execute(
            "SELECT point_id FROM mentions WHERE doc_id = ?", [original["id"]]
        ).fetchall()
    }
    summary = find_points(seeded, settings=ALWAYS)
    assert summary.update is not None and summary.update.n_added_sentences
    pairs = seeded.con.execute(
        """SELECT o.sent_no, o.point_id, c.point_id FROM mentions o
           LEFT JOIN mentions c ON c.doc_id = 'copy-of-001' AND c.sent_no = o.sent_no
           WHERE o.doc_id = ?""",
        [original["id"]],
    ).fetchall()
    assert pairs and all(old == new for _, old, new in pairs)
    n_copy = seeded.con.execute(
        "SELECT count(*) FROM mentions WHERE doc_id = 'copy-of-001'"
    ).fetchall()[0][0]
    n_claims = seeded.con.execute(
        "SELECT count(*) FROM _point_sentences WHERE doc_id = 'copy-of-001' AND unit_no >= 0"
    ).fetchall()[0][0]
    assert n_copy == n_claims  # every claim of the copy is in a point
    sources = seeded.con.execute(
        """SELECT min(p.n_sources) FROM points p
           WHERE p.point_id IN (SELECT point_id FROM mentions WHERE doc_id = 'copy-of-001')"""
    ).fetchall()[0][0]
    assert sources >= 2
    # The original's points keep their ids; its sentences that stood alone are new points.
    assert ids_before <= {r[1] for r in pairs}
    seeded.close()


def test_a_replaced_document_takes_its_old_mentions_with_it(seeded: Store, tmp_path: Path) -> None:
    row = _seed_rows()[4]
    old_mentions = seeded.con.execute(
        "SELECT count(*) FROM mentions WHERE doc_id = ?", [row["id"]]
    ).fetchall()[0][0]
    assert old_mentions
    replaced = {**row, "text": "A short note on the weather in a town nobody has heard of."}
    _analyse(seeded, write_jsonl(tmp_path / "replaced.jsonl", [json.dumps(replaced)]), replace=True)
    summary = find_points(seeded, settings=ALWAYS)
    assert summary.update is not None and summary.update.n_removed_sentences > 0
    assert not seeded.con.execute(
        "SELECT count(*) FROM mentions WHERE doc_id = ?", [row["id"]]
    ).fetchall()[0][0]
    # What the state holds of it is its new sentence.
    assert seeded.con.execute(
        """SELECT s.text FROM _point_sentences p JOIN sentences s USING (doc_id, sent_no)
           WHERE p.doc_id = ?""",
        [row["id"]],
    ).fetchall() == [(replaced["text"],)]
    # Every point still spans two documents, and every mention is its document's text.
    assert not seeded.con.execute("SELECT count(*) FROM points WHERE n_docs < 2").fetchall()[0][0]
    bad = seeded.con.execute(
        """SELECT count(*) FROM mentions m JOIN documents d USING (doc_id)
           WHERE substring(d.text, m.start + 1, m."end" - m.start) <> m.text"""
    ).fetchall()[0][0]
    assert bad == 0
    counts = seeded.con.execute(
        """SELECT count(*) FROM points p JOIN (
               SELECT point_id, count(*) n, count(DISTINCT doc_id) d FROM mentions GROUP BY 1
           ) m USING (point_id) WHERE p.n_mentions <> m.n OR p.n_docs <> m.d"""
    ).fetchall()[0][0]
    assert counts == 0
    seeded.close()


def test_an_update_that_dies_leaves_the_points_and_the_next_completes(
    seeded: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chorus.points import update

    copy = {**_seed_rows()[2], "id": "late", "source": "late.example"}
    _analyse(seeded, write_jsonl(tmp_path / "late.jsonl", [json.dumps(copy)]))
    before = _tables(seeded)
    state = seeded.con.execute("SELECT count(*) FROM _point_units").fetchall()

    def dies(con: object) -> None:
        raise RuntimeError("killed while writing")

    monkeypatch.setattr(update, "write_point_pages", dies)
    with pytest.raises(RuntimeError, match="killed"):
        find_points(seeded, settings=ALWAYS)
    assert _tables(seeded) == before
    assert seeded.con.execute("SELECT count(*) FROM _point_units").fetchall() == state
    monkeypatch.undo()
    summary = find_points(seeded, settings=ALWAYS)
    assert summary.update is not None and summary.update.n_added_sentences
    assert seeded.con.execute("SELECT count(*) FROM mentions WHERE doc_id = 'late'").fetchall()[0][
        0
    ]
    seeded.close()


def test_growth_past_the_limit_starts_over(tmp_path: Path) -> None:
    rows = SEEDS.read_text(encoding="utf-8").splitlines()
    settings = PointsSettings(model="minilm")  # restarts past a quarter's growth
    with open_store(tmp_path / "s.duckdb") as store:
        _analyse(store, write_jsonl(tmp_path / "a.jsonl", rows[:4]))
        assert find_points(store, settings=settings).update is None
        _analyse(store, write_jsonl(tmp_path / "b.jsonl", rows[4:]))
        assert find_points(store, settings=settings).update is not None  # 5 <= 4 x 1.25
        # Other settings start over too.
        other = PointsSettings(model="minilm", threshold=-0.1)
        assert find_points(store, settings=other).update is None


def test_a_cache_holding_a_text_twice_still_updates(seeded: Store, tmp_path: Path) -> None:
    """Stores from before the cache's keys were unique hold some vectors twice."""
    seeded.con.execute("INSERT INTO _embeddings SELECT * FROM _embeddings")
    copy = {**_seed_rows()[3], "id": "again", "source": "again.example"}
    _analyse(seeded, write_jsonl(tmp_path / "again.jsonl", [json.dumps(copy)]))
    summary = find_points(seeded, settings=ALWAYS)
    assert summary.update is not None and summary.update.n_added_sentences
    seeded.close()
