"""The labels' index for "points like this": filed at analysis time, read back as it was
written, the same answers as labels embedded on the spot, and an exact search's answers
where it reads only the cells nearest the query."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import chorus
from chorus.embed.models import HashingEmbedder
from chorus.points import neighbours
from chorus.search import build_label_index, label_index_state, read_label_index
from chorus.search.labels import PROBES, embed_labels, file_labels


@pytest.fixture
def seeds_copy(analysed_seeds: Path, tmp_path: Path) -> Path:
    path = tmp_path / "seeds.duckdb"
    shutil.copy(analysed_seeds, path)
    return path


def _queries(store: chorus.Store) -> list[str]:
    labels = [r[0] for r in store.con.execute("SELECT label FROM points").fetchall()]
    return [*labels[:5], "the regime silences the opposition", "human rights in Iran"]


def test_analyze_files_every_label(analysed_seeds: Path) -> None:
    with chorus.open_store(analysed_seeds, read_only=True) as store:
        assert label_index_state(store) == "current"
        index = read_label_index(store, embedder="wordllama-l2-supercat-256")
        assert index is not None
        ids = {r[0] for r in store.con.execute("SELECT point_id FROM points").fetchall()}
        assert sorted(index.point_ids) == sorted(ids)
        assert read_label_index(store, embedder="another-model") is None
        # A label is most like itself.
        label, point_id = store.con.execute(
            "SELECT label, point_id FROM points ORDER BY point_id LIMIT 1"
        ).fetchall()[0]
        from chorus.embed.models import load_embedder

        query = load_embedder("wordllama").embed([label])[0]
        assert index.search(query, limit=3)[0].point_id == point_id


@pytest.mark.parametrize("exact_limit", [100_000, 4])
def test_stored_index_answers_as_labels_embedded_on_the_spot(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch, exact_limit: int
) -> None:
    """One cell, and (with the limit lowered to 4 labels) an inverted file of several cells:
    what the store gives back searches exactly like the index built in memory."""
    monkeypatch.setattr(neighbours, "EXACT_LIMIT", exact_limit)
    embedder = HashingEmbedder(dim=64)
    with chorus.open_store(seeds_copy) as store:
        summary = build_label_index(store, embedder=embedder)
        assert summary.built and summary.embedder == embedder.name
        n_points = store.count("points")
        assert summary.n_points == n_points
        assert (summary.n_cells > 1) == (exact_limit == 4)
        stored = read_label_index(store, embedder=embedder.name)
        fresh = embed_labels(store, embedder)
        assert stored is not None
        assert stored.point_ids == fresh.point_ids
        assert np.array_equal(stored.vectors, fresh.vectors)
        assert np.array_equal(stored.bounds, fresh.bounds)
        for text in _queries(store):
            q = embedder.embed([text])[0]
            assert stored.search(q, limit=10) == fresh.search(q, limit=10)
        again = build_label_index(store, embedder=embedder)
        assert not again.built and again.n_points == n_points


def test_changed_points_make_the_index_stale(seeds_copy: Path) -> None:
    embedder = HashingEmbedder(dim=32)
    with chorus.open_store(seeds_copy) as store:
        build_label_index(store, embedder=embedder, force=True)
        assert label_index_state(store) == "current"
        store.con.execute(
            "UPDATE points SET label = 'another label' WHERE point_id = "
            "(SELECT min(point_id) FROM points)"
        )
        assert label_index_state(store) == "stale"
        assert read_label_index(store, embedder=embedder.name) is None
        assert build_label_index(store, embedder=embedder).built
        assert label_index_state(store) == "current"


def test_a_store_from_before_the_index_reads_as_missing(tmp_path: Path) -> None:
    with chorus.open_store(tmp_path / "empty.duckdb") as store:
        store.con.execute("DROP TABLE _label_runs")
        assert label_index_state(store) == "missing"
        assert read_label_index(store, embedder="x") is None


def test_an_inverted_file_finds_what_an_exact_search_finds() -> None:
    """Past 30,000 labels a query reads the cells nearest it: on clustered vectors it finds
    at least 95% of an exact search's 20 best, in the exact order of their scores."""
    rng = np.random.default_rng(7)
    topics = rng.normal(size=(300, 32)).astype(np.float32)
    vectors = topics[rng.integers(0, 300, 40_000)] + 0.6 * rng.normal(size=(40_000, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    ids = [f"tp_{i:06d}" for i in range(40_000)]
    index = file_labels(ids, vectors, embedder="given")
    assert index.centroids is not None and sorted(index.point_ids) == ids
    assert len(index.bounds) - 1 > PROBES
    found = 0
    for q in rng.choice(40_000, 50, replace=False):
        query = vectors[q] + 0.3 * rng.normal(size=32).astype(np.float32)
        query /= np.linalg.norm(query)
        exact = np.argsort(-(vectors @ query), kind="stable")[:20]
        hits = index.search(query, limit=20)
        found += len({ids[i] for i in exact} & {h.point_id for h in hits})
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert found / (50 * 20) >= 0.95, found


def test_the_app_reads_the_stored_index_instead_of_embedding_labels(analysed_seeds: Path) -> None:
    from fastapi.testclient import TestClient

    from chorus.embed.models import load_embedder
    from chorus.serve import create_app

    class Counting:
        inner = load_embedder("wordllama")
        name, dim = inner.name, inner.dim
        texts = 0

        def embed(self, texts: list[str]) -> np.ndarray:
            Counting.texts += len(texts)
            return self.inner.embed(texts)

    app = create_app(analysed_seeds, similar_embedder=Counting(), warm_similar=True)
    client = TestClient(app, base_url="http://127.0.0.1")
    items = client.get("/api/similar", params={"q": "a regime"}).json()["items"]
    assert items and Counting.texts == 1  # the query alone: no label was embedded


@pytest.mark.parametrize("exact_limit", [30_000, 10], ids=["exact", "inverted file"])
def test_an_update_files_only_changed_labels_and_holds_what_a_rebuild_holds(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch, exact_limit: int
) -> None:
    monkeypatch.setattr(neighbours, "EXACT_LIMIT", exact_limit)
    embedder = HashingEmbedder(dim=32)
    with chorus.open_store(seeds_copy) as store:
        build_label_index(store, embedder=embedder, force=True)
        before = store.con.execute("SELECT count(*) FROM _label_cells").fetchall()
        first, second = [
            r[0]
            for r in store.con.execute(
                "SELECT point_id FROM points ORDER BY point_id LIMIT 2"
            ).fetchall()
        ]
        store.con.execute("UPDATE points SET label = 'another label' WHERE point_id = ?", [first])
        store.con.execute("DELETE FROM points WHERE point_id = ?", [second])
        store.con.execute(
            """INSERT INTO points SELECT * REPLACE ('tp_new' AS point_id, 'a new claim' AS label)
               FROM points WHERE point_id = ?""",
            [first],
        )
        summary = build_label_index(store, embedder=embedder)
        assert summary.built and label_index_state(store) == "current"
        assert store.con.execute("SELECT count(*) FROM _label_cells").fetchall() == before
        updated = read_label_index(store, embedder=embedder.name)
        assert updated is not None
        ids = {r[0] for r in store.con.execute("SELECT point_id FROM points").fetchall()}
        assert sorted(updated.point_ids) == sorted(ids) and second not in updated.point_ids
        filed = dict(zip(updated.point_ids, updated.vectors, strict=True))
        build_label_index(store, embedder=embedder, force=True)
        rebuilt = read_label_index(store, embedder=embedder.name)
        assert rebuilt is not None
        for point_id, vector in zip(rebuilt.point_ids, rebuilt.vectors, strict=True):
            np.testing.assert_array_equal(filed[point_id], vector)
        if updated.centroids is not None:
            # A filed label sits in the cell of its nearest centroid.
            at = updated.point_ids.index("tp_new")
            cell = int(np.searchsorted(updated.bounds, at, side="right") - 1)
            assert cell == int(np.argmax(updated.centroids @ updated.vectors[at]))
