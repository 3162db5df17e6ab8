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
from chorus.points.neighbours import best_of_block
from chorus.reuse import find_reuse
from chorus.store import Store, open_store

from .conftest import SEEDS, point_ids, point_lineage, write_jsonl

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
    before = point_ids(seeded)
    replaced = {**row, "text": "A short note on the weather in a town nobody has heard of."}
    _analyse(seeded, write_jsonl(tmp_path / "replaced.jsonl", [json.dumps(replaced)]), replace=True)
    summary = find_points(seeded, settings=ALWAYS)
    assert summary.update is not None and summary.update.n_removed_sentences > 0
    # The points that lost their second document: their other sentences are still in the
    # store, so each is recorded dissolved, with the live point nearest them.
    after = point_ids(seeded)
    lineage = point_lineage(seeded)
    assert before - after
    for point_id in before - after:
        assert lineage[point_id][0] in ("merged", "dissolved")
        assert lineage[point_id][1] in after
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

    def dies(con: object, **_: object) -> None:
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


@pytest.mark.parametrize("dissolve", [True, False])
def test_a_point_whose_bridge_leaves_splits(tmp_path: Path, dissolve: bool) -> None:
    # Units 0 and 2 were one point only through unit 1 (0-1 and 1-2 close, 0-2 no pair):
    # the mean over the three pairs, (0 + 0 - 0.4) / 3, passes the threshold of -0.14; over
    # 0-2 alone it is the floor. When unit 1's document leaves, a run from scratch keeps 0
    # and 2 apart, so the update must dissolve their cluster rather than keep it.
    import pyarrow as pa

    from chorus.points.update_graph import Lists, Units, recluster

    store = open_store(tmp_path / "s.duckdb")
    edges = [(0, 1), (1, 0), (1, 2), (2, 1)]
    store.con.register(
        "_e",
        pa.table(
            {
                "src": pa.array([a for a, _ in edges], pa.int64()),
                "dst": pa.array([b for _, b in edges], pa.int64()),
                "cosine": pa.array([0.5] * 4, pa.float32()),
                "base": pa.array([0.5] * 4, pa.float32()),
            }
        ),
    )
    store.con.execute("INSERT INTO _point_edges SELECT * FROM _e")
    units = Units(
        unit_no=np.asarray([0, 2]),
        group=np.asarray([0, 2]),
        cluster=np.asarray([0, 0]),
        hub=np.asarray([0.5, 0.5], dtype=np.float32),
        cell=np.asarray([-1, -1], dtype=np.int32),
        vectors=np.zeros((2, 4), dtype=np.float16),
    )
    none = np.zeros(0, dtype=np.int64)
    empty = Lists(none, none, np.zeros(0, np.float32), np.zeros(0, np.float32))
    linked = recluster(
        store,
        units,
        empty,
        none,
        PointsSettings(),
        dissolve=np.asarray([0] if dissolve else [], dtype=np.int64),
    )
    if dissolve:
        assert linked.units.tolist() == [0, 2]
        assert linked.before.tolist() == [0, 0]
        assert linked.after.tolist() == [0, 2]
        assert linked.changed() == {0, 2}  # 0 lost unit 2
        assert linked.labels_after(np.asarray([0, 5])) == {0, 2, 5}
    else:  # nothing changed: nothing is linked again
        assert linked.after.size == 0
        assert linked.changed() == set()


@pytest.mark.parametrize("filed", [True, False], ids=["cells", "exact"])
def test_an_updates_neighbour_lists_are_the_run_from_scratchs(tmp_path: Path, filed: bool) -> None:
    # Brute-force oracle: with the same vectors, the new units' lists are the ones a search
    # over every unit finds, exactly or in the cells the units are filed under. An old
    # unit's list is its best of its stored list and the new units that reached it: exactly,
    # every new unit (the list a search over every unit finds); in cells, those filed under
    # a cell it probes whose wider filing holds the cell it is filed under.
    import pyarrow as pa

    from chorus.points.cells import file_rows
    from chorus.points.neighbours import Cells, nearest_neighbours, search_probed
    from chorus.points.state import PointsState
    from chorus.points.update_graph import Units, neighbour_lists

    rng = np.random.default_rng(2)
    n_old, n_new, k = 300, 60, 5
    n = n_old + n_new
    x = rng.normal(size=(n, 8))
    vectors = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float16)
    groups = rng.integers(0, 90, n)
    centroids = vectors[rng.choice(n, 16, replace=False)].astype(np.float32)
    probe = file_rows(vectors, np.zeros(8, np.float32), centroids, 4) if filed else None

    def search(rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        v = vectors[:rows].astype(np.float32)
        if probe is None:
            found = nearest_neighbours(v, groups[:rows], k=k)
        else:
            found = search_probed(v, groups[:rows], k, Cells(probe[:rows], centroids))
        return found.src, found.dst, found.score

    store = open_store(tmp_path / "s.duckdb")
    src, dst, cos = search(n_old)
    store.con.register(
        "_e", pa.table({"src": src, "dst": dst, "cosine": cos, "base": cos.astype(np.float32)})
    )
    store.con.execute("INSERT INTO _point_edges SELECT * FROM _e")
    units = Units(
        unit_no=np.arange(n),
        group=groups,
        cluster=np.arange(n),
        hub=np.zeros(n, dtype=np.float32),
        cell=(probe[:, 0] if probe is not None else np.full(n, -1)).astype(np.int32),
        vectors=vectors,
    )
    state = PointsState(
        settings="",
        mean=np.zeros(8, np.float32),
        centroids=centroids if filed else None,
        names=frozenset(),
        df=None,
        n_texts=n_old,
        average_claims=1.0,
        full_docs=1,
    )
    settings = PointsSettings(lexical_weight=0.0)
    wide = file_rows(vectors, np.zeros(8, np.float32), centroids, 8) if filed else None
    new_probe = wide[n_old:] if wide is not None else None
    lists = neighbour_lists(
        store,
        units,
        n_old,
        new_probe,
        [""] * n_new,
        state,
        settings,
        searched=4,
        file_old=(lambda rows: probe[rows]) if probe is not None else None,
    )
    after = {int(u): [] for u in range(n)}
    for a, b in zip(lists.src.tolist(), lists.dst.tolist(), strict=True):
        after[a].append(b)
    for a, b in zip(src.tolist(), dst.tolist(), strict=True):
        if a not in set(lists.src.tolist()):
            after[a].append(b)
    full = {int(u): [] for u in range(n)}
    f_src, f_dst, _ = search(n)
    for a, b in zip(f_src.tolist(), f_dst.tolist(), strict=True):
        full[a].append(b)
    v = vectors.astype(np.float32)
    for old in range(n_old):
        reached = [
            b
            for b in range(n_old, n)
            if groups[b] != groups[old]
            and (wide is None or (wide[old, 0] in wide[b] and wide[b, 0] in probe[old]))
        ]
        stored = [b for a, b in zip(src.tolist(), dst.tolist(), strict=True) if a == old]
        candidates = set(full[old] if probe is None else stored)
        candidates |= set(reached)
        full[old] = sorted(candidates, key=lambda b: (-float(v[old] @ v[b]), b))[:k]
    assert after == full
    assert set(lists.src.tolist()) >= set(range(n_old, n))  # every new unit has its list


def _partition(rng: np.random.Generator, units: np.ndarray) -> np.ndarray:
    """A random partition of ``units``, each labelled by its smallest member."""
    draw = rng.integers(0, units.size // 3, units.size)
    first = {}
    for unit, d in zip(units.tolist(), draw.tolist(), strict=True):
        first.setdefault(d, unit)
    return np.asarray([first[d] for d in draw.tolist()], dtype=np.int64)


@pytest.mark.parametrize("seed", range(6))
def test_reclustered_changes_match_the_member_lists(seed: int) -> None:
    from chorus.points.update_graph import Reclustered

    rng = np.random.default_rng(seed)
    units = np.sort(rng.choice(200, 40, replace=False)).astype(np.int64)
    before = _partition(rng, units)
    # Some clusters stay as they were.
    after = np.where(rng.random(units.size) < 0.5, before, _partition(rng, units))
    after = np.asarray([units[after == a].min() for a in after.tolist()], dtype=np.int64)
    linked = Reclustered(units, np.arange(units.size), before, after)
    was = {c: sorted(units[before == c].tolist()) for c in set(before.tolist())}
    now = {c: sorted(units[after == c].tolist()) for c in set(after.tolist())}
    assert linked.changed() == {c for c, xs in now.items() if was.get(c) != xs}
    losing = np.asarray(sorted({*before[:3].tolist(), 1_000}), dtype=np.int64)
    label_of = dict(zip(units.tolist(), after.tolist(), strict=True))
    want = {label_of[x] for c in losing.tolist() for x in was.get(c, [])} | {1_000}
    assert linked.labels_after(losing) == want


def _sorted_best(
    ids: np.ndarray, scores: np.ndarray, k: int
) -> tuple[list[list[int]], list[list[float]]]:
    """The oracle: every candidate sorted by cosine, then unit number; the first ``k``."""
    out_ids, out_scores = [], []
    for row_ids, row_scores in zip(ids.tolist(), scores.tolist(), strict=True):
        ranked = sorted(zip(row_scores, row_ids, strict=True), key=lambda p: (-p[0], p[1]))[:k]
        out_ids.append([i for _, i in ranked])
        out_scores.append([s for s, _ in ranked])
    return out_ids, out_scores


@pytest.mark.parametrize(
    ("seed", "levels", "room"),
    [(0, 0, None), (1, 0, None), (2, 5, None), (3, 3, None), (4, 0, 1), (5, 4, 1)],
    ids=["distinct", "distinct-2", "ties", "many-ties", "overflow", "ties-overflow"],
)
def test_the_compiled_block_scan_is_a_sort_and_a_comparison(
    seed: int, levels: int, room: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chorus.points import offers

    rng = np.random.default_rng(seed)
    nq, nm, k = 23, 57, 5
    sims = rng.uniform(-1, 1, (nq, nm)).astype(np.float32)
    if levels:  # cosines on a few levels: ties across the k-th place
        sims = (np.round(sims * levels) / levels).astype(np.float32)
    query_groups = rng.integers(0, 6, nq)
    member_groups = rng.integers(0, 6, nm)
    masked = sims.copy()
    masked[query_groups[:, None] == member_groups[None, :]] = -np.inf  # pairs in one group
    ids = rng.permutation(1000)[:nm].astype(np.int64)
    listing = rng.random(nq) < 0.7
    member_kth = rng.uniform(-0.5, 1, nm).astype(np.float32)
    member_kth[rng.random(nm) < 0.3] = np.inf  # new members take no offer
    member_kth[rng.random(nm) < 0.1] = -np.inf  # short lists take any
    # A best so far from an earlier block: some real, some padding.
    best = np.full((nq, k), -1, dtype=np.int64)
    best_score = np.full((nq, k), -np.inf, dtype=np.float32)
    earlier_ids = 1000 + np.arange(2)
    earlier = np.sort(rng.uniform(-1, 1, (nq, 2)).astype(np.float32), axis=1)[:, ::-1]
    if levels:
        earlier = (np.round(earlier * levels) / levels).astype(np.float32)
    best[:, :2], best_score[:, :2] = earlier_ids, earlier
    expect_ids, expect_scores = _sorted_best(
        np.concatenate([best, np.broadcast_to(ids, (nq, nm))], axis=1),
        np.concatenate([best_score, masked], axis=1),
        k,
    )
    before_ids, before_scores = best.copy(), best_score.copy()
    if room is not None:
        monkeypatch.setattr(offers, "_MIN_ROOM", room)
        monkeypatch.setattr(offers, "_ROOM_PER_ROW", 0)
    got = offers.scan_block(
        sims, query_groups, member_groups, listing, best, best_score, ids, member_kth
    )
    if not levels:  # without ties, numpy's partition picks the same best
        rows = np.flatnonzero(listing)
        np_best, np_score = best_of_block(before_ids[rows], before_scores[rows], masked[rows], ids)
        assert np_best.tolist() == best[rows].tolist()
        assert np_score.tolist() == best_score[rows].tolist()
    for q in range(nq):
        if listing[q]:
            assert best[q].tolist() == expect_ids[q]
            assert best_score[q].tolist() == expect_scores[q]
        else:
            assert best[q].tolist() == before_ids[q].tolist()
            assert best_score[q].tolist() == before_scores[q].tolist()
    qi, mi = np.nonzero((masked >= member_kth[None, :]) & np.isfinite(masked))
    assert got.query.tolist() == qi.tolist()
    assert got.member.tolist() == mi.tolist()
    assert got.cosine.tolist() == masked[qi, mi].tolist()


def _pages(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    pages = store.con.execute("SELECT * FROM _point_pages ORDER BY point_id").fetchall()
    sources = store.con.execute("SELECT * FROM _source_points ORDER BY source, point_id").fetchall()
    return pages, sources


@pytest.mark.parametrize("batch", ["copy from a new source", "replaced document", "both"])
def test_an_updates_point_pages_are_those_written_from_scratch(
    seeded: Store, tmp_path: Path, batch: str
) -> None:
    """The update writes only the changed points' page rows and every point's ranks; a
    rewrite of every row from the same points finds the same."""
    from chorus.points.pages import write_point_pages

    rows = _seed_rows()
    if batch != "replaced document":
        copy = {**rows[1], "id": "copy-of-001", "source": "new-outlet.example"}
        _analyse(seeded, write_jsonl(tmp_path / "copy.jsonl", [json.dumps(copy)]))
    if batch != "copy from a new source":
        replaced = {**rows[4], "text": "A short note on the weather in a town nobody knows."}
        _analyse(
            seeded, write_jsonl(tmp_path / "replaced.jsonl", [json.dumps(replaced)]), replace=True
        )
    summary = find_points(seeded, settings=ALWAYS)
    assert summary.update is not None and summary.update.n_changed_points
    updated = _pages(seeded)
    assert len(updated[0]) == seeded.count("points")
    with seeded.transaction():
        write_point_pages(seeded.con)
    assert updated == _pages(seeded)
    seeded.close()


def test_a_new_point_never_takes_the_id_a_point_left_as_it_was_holds(tmp_path: Path) -> None:
    """A point carries an id from a point that had another label; when an update builds a
    point whose label gives that id, the new point takes another (found on the news corpus:
    ten date-ordered batches left 4,228 ids on two points each)."""
    import shutil

    original = _seed_rows()[1]
    copy_path = write_jsonl(
        tmp_path / "copy.jsonl",
        [json.dumps({**original, "id": "copy-of-001", "source": "new-outlet.example"})],
    )
    with open_store(tmp_path / "a.duckdb") as store:
        _analyse(store, SEEDS)
        find_points(store, settings=ALWAYS)
        before = {r[0] for r in store.con.execute("SELECT point_id FROM points").fetchall()}
    shutil.copyfile(tmp_path / "a.duckdb", tmp_path / "b.duckdb")
    # A trial update learns which ids the new points take.
    with open_store(tmp_path / "a.duckdb") as trial:
        _analyse(trial, copy_path)
        find_points(trial, settings=ALWAYS)
        fresh = sorted(
            {r[0] for r in trial.con.execute("SELECT point_id FROM points").fetchall()} - before
        )
    assert fresh
    with open_store(tmp_path / "b.duckdb") as store:
        # A point with no sentence of the original's (so the update leaves it) holds one.
        (kept,) = store.con.execute(
            """SELECT min(point_id) FROM points WHERE point_id NOT IN
                   (SELECT point_id FROM mentions WHERE doc_id = ?)""",
            [original["id"]],
        ).fetchone()
        for table in ("points", "mentions"):
            store.con.execute(
                f"UPDATE {table} SET point_id = ? WHERE point_id = ?", [fresh[0], kept]
            )
        held = store.con.execute(
            "SELECT doc_id, sent_no FROM mentions WHERE point_id = ? ORDER BY ALL", [fresh[0]]
        ).fetchall()
        _analyse(store, copy_path)
        find_points(store, settings=ALWAYS)
        n, distinct = store.con.execute(
            "SELECT count(*), count(DISTINCT point_id) FROM points"
        ).fetchone()
        assert n == distinct
        assert (
            store.con.execute(
                "SELECT doc_id, sent_no FROM mentions WHERE point_id = ? ORDER BY ALL", [fresh[0]]
            ).fetchall()
            == held
        )
        assert store.con.execute(
            "SELECT count(*) FROM points WHERE point_id = ?", [f"{fresh[0]}-2"]
        ).fetchone() == (1,)
