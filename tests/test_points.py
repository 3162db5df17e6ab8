"""Talking points: the clustering against a brute-force oracle, both embedders on a tiny
corpus, the seed corpus's talking points, determinism, and the CLI."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from chorus.cli import cli
from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.points import PointsSettings, find_points, group_claims, load_embedder
from chorus.points.cluster import average_linkage
from chorus.points.neighbours import _exact, _partitioned, centre
from chorus.points.score import cohesion, point_score
from chorus.points.text import claim_text, mask_names, shared_names
from chorus.reuse import find_reuse
from chorus.store import Store, open_store

from .conftest import SEEDS, write_jsonl
from .seedkey import check_seed_points


def _oracle(sims: np.ndarray, groups: np.ndarray, threshold: float) -> list[set[int]]:
    """Naive average linkage over cross-group pairs, all pairs known."""
    clusters = [{i} for i in range(len(sims))]
    while True:
        best = None
        for a, b in itertools.combinations(range(len(clusters)), 2):
            pairs = [sims[i, j] for i in clusters[a] for j in clusters[b] if groups[i] != groups[j]]
            if pairs and np.mean(pairs) >= threshold and (best is None or np.mean(pairs) > best[0]):
                best = (float(np.mean(pairs)), a, b)
        if best is None:
            return clusters
        _, a, b = best
        clusters[a] |= clusters.pop(b)


@pytest.mark.parametrize("seed", range(6))
def test_average_linkage_matches_oracle(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 14
    centres = rng.normal(size=(4, 8))
    x = centres[rng.integers(0, 4, n)] + 0.6 * rng.normal(size=(n, 8))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    sims = x @ x.T
    groups = rng.integers(0, 6, n)
    src, dst = np.triu_indices(n, 1)
    labels = average_linkage(n, src, dst, sims[src, dst], groups, threshold=0.5, floor=-1.0)
    got = sorted(sorted(np.flatnonzero(labels == label).tolist()) for label in set(labels))
    want = sorted(sorted(c) for c in _oracle(sims, groups, 0.5))
    assert got == want


def test_average_linkage_never_merges_one_document() -> None:
    labels = average_linkage(
        3,
        np.array([0, 0]),
        np.array([1, 2]),
        np.array([0.9, 0.9], dtype=np.float32),
        np.array([5, 5, 5]),
        threshold=0.1,
        floor=-0.5,
    )
    assert labels.tolist() == [0, 1, 2]


def _clustered_vectors(n: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n // 20, dim))
    x = centres[rng.integers(0, centres.shape[0], n)] + 0.6 * rng.normal(size=(n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), rng.integers(0, n // 4, n)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_partitioned_search_finds_what_exact_search_finds(dtype: type) -> None:
    x, groups = _clustered_vectors(4000, 32, seed=3)
    exact = _exact(x, groups, 5)
    found = _partitioned(x.astype(dtype), groups, 5, seed=0)
    want = set(zip(exact.src.tolist(), exact.dst.tolist(), strict=True))
    got = set(zip(found.src.tolist(), found.dst.tolist(), strict=True))
    assert len(want & got) / len(want) >= 0.9
    assert not (groups[found.src] == groups[found.dst]).any()
    again = _partitioned(x.astype(dtype), groups, 5, seed=0)
    assert np.array_equal(found.dst, again.dst) and np.array_equal(found.score, again.score)


def test_centre_in_place_matches_a_copy() -> None:
    x, _ = _clustered_vectors(500, 16, seed=1)
    x += 1.0  # what every row shares, as in a one-topic corpus
    copy = centre(x)
    assert np.allclose(np.linalg.norm(copy, axis=1), 1.0, atol=1e-5)
    assert np.linalg.norm(copy.mean(axis=0)) < 0.1 * np.linalg.norm(x.mean(axis=0))
    same = centre(x, in_place=True)
    assert same is x and np.allclose(same, copy)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Big news https://t.co/abc pic.twitter.com/x", "Big news"),
        ("Vote now #election @someone", "Vote now election someone"),
        ("It is true. — Jane Doe (@jdoe) January 6, 2020", "It is true."),
    ],
)
def test_claim_text(raw: str, clean: str) -> None:
    assert claim_text(raw) == clean


def test_names_every_document_repeats_are_masked() -> None:
    docs = [["Acme Corp is great.", "the plan works"], ["Acme fails"], ["We love Acme"]]
    names = shared_names(docs)
    assert names == {"acme"}
    assert mask_names("The Acme (Acme) plan", names) == "The plan"


TINY = [
    ("a1", "outlet-a", "The new dam will flood three villages and displace thousands of farmers."),
    (
        "b1",
        "outlet-b",
        "Thousands of farmers will be displaced because the dam floods three villages.",
    ),
    (
        "c1",
        "outlet-c",
        "Three villages are going to be flooded by the new dam, displacing farmers.",
    ),
    (
        "a2",
        "outlet-a",
        "The central bank raised interest rates by half a percentage point on Tuesday.",
    ),
    ("b2", "outlet-b", "On Tuesday the central bank lifted interest rates by half a point."),
    ("c2", "outlet-c", "The local football team won the championship after a penalty shootout."),
]


def _tiny_texts() -> tuple[list[str], np.ndarray]:
    return [t for _, _, t in TINY], np.arange(len(TINY))


@pytest.mark.parametrize("model", ["minilm", "wordllama"])
def test_both_embedders_group_restated_claims(model: str) -> None:
    texts, groups = _tiny_texts()
    embedder = load_embedder(model)
    result = group_claims(texts, groups, settings=PointsSettings(model=model), embed=embedder.embed)
    labels = result.labels.tolist()
    assert labels[0] == labels[1] == labels[2]
    assert labels[3] == labels[4]
    assert len({labels[0], labels[3], labels[5]}) == 3


def _tiny_store(tmp_path: Path) -> Store:
    path = write_jsonl(
        tmp_path / "tiny.jsonl",
        [
            json.dumps({"id": i, "source": s, "text": t, "published_at": f"2024-01-0{n + 1}"})
            for n, (i, s, t) in enumerate(TINY)
        ],
    )
    store = open_store(tmp_path / "tiny.duckdb")
    ingest_paths(store, [path], language_detector=NoLanguageDetector())
    return store


def test_points_tables_and_determinism(tmp_path: Path) -> None:
    store = _tiny_store(tmp_path)
    settings = PointsSettings(model="minilm")
    find_points(store, settings=settings)
    first = store.read_table("points").to_pylist()
    mentions = store.read_table("mentions").to_pylist()
    find_points(store, settings=settings)  # second run: from the embedding cache
    assert store.read_table("points").to_pylist() == first
    assert len(first) == 2
    dam = next(p for p in first if p["n_docs"] == 3)
    assert dam["origin_doc_id"] == "a1" and dam["origin_source"] == "outlet-a"
    assert dam["n_sources"] == 3 and dam["keyphrases"]
    texts = {r["doc_id"]: r for r in store.read_table("documents").to_pylist()}
    for m in mentions:
        assert texts[m["doc_id"]]["text"][m["start"] : m["end"]] == m["text"]
    store.close()


def test_span_in_sources(tmp_path: Path) -> None:
    store = _tiny_store(tmp_path)
    find_points(store, settings=PointsSettings(model="minilm", span="sources", min_span=3))
    assert [p["n_sources"] for p in store.read_table("points").to_pylist()] == [3]
    store.close()


@pytest.fixture(scope="module", params=["full", "daily"])
def seed_points(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, set[tuple[str, int]]]:
    """The seeds' points from one run over the corpus, or from a store updated a document at
    a time (each analysis continuing the last): both must meet the same key."""
    folder = tmp_path_factory.mktemp("seeds")
    store = open_store(folder / "seeds.duckdb")
    settings = PointsSettings(model="minilm")
    if request.param == "full":
        batches = [SEEDS]
    else:
        rows = SEEDS.read_text(encoding="utf-8").splitlines()
        batches = [write_jsonl(folder / f"day{i}.jsonl", [row]) for i, row in enumerate(rows)]
    for batch in batches:
        ingest_paths(store, [batch], language_detector=NoLanguageDetector())
        find_reuse(store)
        summary = find_points(store, settings=settings)
    assert (summary.update is None) == (request.param == "full")
    points: dict[str, set[tuple[str, int]]] = {}
    for point_id, doc_id, sent_no in store.con.sql(
        "SELECT point_id, doc_id, sent_no FROM mentions"
    ).fetchall():
        points.setdefault(point_id, set()).add((doc_id[:3], sent_no))
    store.close()
    return points


# The strict check of the whole key (every item, no mixing, few unkeyed points) is issue 17's
# target and is not met: ``bench/points_seeds.py`` prints it item by item. What holds today
# is asserted here, strictly, so a regression shows.
@pytest.mark.parametrize("name", ["P2", "P4"])
def test_seed_items_met_strictly(seed_points: dict[str, set[tuple[str, int]]], name: str) -> None:
    check = check_seed_points(seed_points)
    result = next(i for i in check.items if i.item == name)
    assert result.ok, result


@pytest.mark.parametrize("name", ["P1", "P2", "P3", "P4"])
def test_seed_items_have_a_point_over_their_documents(
    seed_points: dict[str, set[tuple[str, int]]], name: str
) -> None:
    result = next(i for i in check_seed_points(seed_points).items if i.item == name)
    assert result.spans, result


def test_seed_points_do_not_merge_p2_and_p4(
    seed_points: dict[str, set[tuple[str, int]]],
) -> None:
    for members in seed_points.values():
        assert not ({("000", 6), ("001", 12)} & members and {("002", 15)} & members)


def test_seed_key_check_is_strict() -> None:
    """The checker itself: a fragment is not a found item, and two items in one point are
    mixed unless one sentence states both."""
    p2 = {("000", 6), ("000", 17), ("001", 12)}
    check = check_seed_points({"a": p2, "b": {("000", 17), ("001", 12)}})
    assert next(i for i in check.items if i.item == "P2").ok
    fragment = check_seed_points({"a": {("000", 6), ("001", 12)}})
    assert not next(i for i in fragment.items if i.item == "P2").ok
    mixed = check_seed_points({"a": {("000", 17), ("002", 15)}})
    assert mixed.mixed == ["a"]
    # 000's sentence 6 states P2 and P7: beside a P7 sentence it mixes nothing.
    assert check_seed_points({"a": {("000", 6), ("002", 8)}}).mixed == []
    assert check_seed_points({"a": {("004", 9)}}).unkeyed == ["a"]


@pytest.mark.parametrize(
    ("n_sources", "days", "tight", "want"),
    [
        (1, 100.0, 1.0, 0.0),  # one source is not "many sources"
        (2, 0.0, 1.0, 1.0),
        (4, 0.0, 1.0, 2.0),  # each doubling of the sources adds the same
        (2, 9.0, 1.0, 2.0),  # ten days of use: twice one day's weight
        (2, 0.0, 0.95, 1.0),
        (2, 0.0, 0.875, 0.5),
        (8, 100.0, 0.8, 0.0),  # its least alike sentences say different things
        (8, 0.0, -0.2, 0.0),
    ],
)
def test_point_score(n_sources: int, days: float, tight: float, want: float) -> None:
    first = dt.datetime(2020, 1, 1)
    last = first + dt.timedelta(days=days)
    got = point_score(n_sources=n_sources, first_seen=first, last_seen=last, cohesion=tight)
    assert got == pytest.approx(want, abs=1e-4)


def test_cohesion_is_the_least_alike_pair() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(7, 12))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    pairs = [float(x[i] @ x[j]) for i, j in itertools.combinations(range(7), 2)]
    assert cohesion(x) == pytest.approx(min(pairs), abs=1e-6)
    assert cohesion(x[:1]) == 1.0


def test_points_are_ranked_by_score(tmp_path: Path) -> None:
    store = _tiny_store(tmp_path)
    find_points(store, settings=PointsSettings(model="minilm"))
    rows = store.con.sql("SELECT score, cohesion, n_sources FROM points").fetchall()
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)
    assert all(-1 <= c <= 1 and s >= 0 for s, c, _ in rows)
    store.close()


def _store_of(tmp_path: Path, rows: list[tuple[str, str, str]], lang: str | None = None) -> Store:
    path = write_jsonl(
        tmp_path / "c.jsonl",
        [json.dumps({"id": i, "source": s, "text": t}) for i, s, t in rows],
    )
    store = open_store(tmp_path / "c.duckdb")
    ingest_paths(store, [path], language_detector=NoLanguageDetector())
    if lang:
        store.con.execute("UPDATE documents_all SET lang = ?", [lang])
    return store


@pytest.mark.parametrize(
    ("rows", "lang", "note"),
    [
        ([], None, "holds no documents"),
        ([("a", "s1", TINY[0][2])], None, "at least 2 documents; the store holds 1"),
        ([("a", "s1", "Yes. No. Maybe so."), ("b", "s2", "Yes. No.")], None, "no sentence can"),
        (
            [("a", "s1", TINY[0][2]), ("b", "s2", TINY[1][2])],
            "fr",
            "languages the models do not read (fr 2)",
        ),
        (
            [("a", "s1", TINY[0][2]), ("b", "s2", TINY[5][2])],
            None,
            "nothing recurs",
        ),
    ],
)
def test_corpora_without_points_say_why(
    tmp_path: Path, rows: list[tuple[str, str, str]], lang: str | None, note: str
) -> None:
    with _store_of(tmp_path, rows, lang) as store:
        summary = find_points(store, settings=PointsSettings(model="minilm"))
        assert summary.n_points == 0 and summary.note and note in summary.note
        assert store.count("points") == 0 and store.count("mentions") == 0


def test_stock_phrases_are_not_claims(tmp_path: Path) -> None:
    stock = "Well, it's not going to happen, is it?"
    rows = [(f"d{i}", f"s{i}", f"{stock} {TINY[i][2]}") for i in range(3)]
    with _store_of(tmp_path, rows) as store:
        find_points(store, settings=PointsSettings(model="minilm"))
        said = {t for (t,) in store.con.sql("SELECT text FROM mentions").fetchall()}
        assert stock not in said


def test_cli_points_and_export(tmp_path: Path) -> None:
    _tiny_store(tmp_path).close()
    db = str(tmp_path / "tiny.duckdb")
    runner = CliRunner()
    result = runner.invoke(cli, ["points", "--db", db, "--model", "minilm", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "2 talking points" in result.output
    out = tmp_path / "mentions.csv"
    result = runner.invoke(cli, ["export", "mentions", "--db", db, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("point_id,doc_id,sent_no")
    bad = runner.invoke(cli, ["points", "--db", db, "--min-span", "1"])
    assert bad.exit_code != 0 and "min_span" in bad.output


def test_device_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from chorus.embed.models import MiniLMEmbedder, resolve_device
    from chorus.errors import ChorusError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu" and resolve_device("cpu") == "cpu"
    with pytest.raises(ChorusError, match="sees no GPU"):
        resolve_device("cuda")
    assert MiniLMEmbedder(device="auto").name == "all-MiniLM-L6-v2"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    # GPU vectors differ in their last bits: cached apart from the CPU's.
    assert MiniLMEmbedder(device="auto").name == "all-MiniLM-L6-v2@cuda"
    assert MiniLMEmbedder(device="cpu").name == "all-MiniLM-L6-v2"
    with pytest.raises(ValueError, match="device"):
        PointsSettings(device="tpu")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        # Stop words end a phrase: no pair jumps across them.
        ("support from around the world", {"support", "world"}),
        # Punctuation ends a phrase too.
        ("the world, foreign leaders", {"world", "foreign", "leaders", "foreign leaders"}),
        # A possessive is cut and ends the phrase after it.
        ("Free Iran's rally", {"free", "iran", "free iran", "rally"}),
        ("so-called experts", {"so-called", "experts", "so-called experts"}),
        ("in 2018 and 1,500", set()),
        ("", set()),
    ],
)
def test_text_terms(text: str, terms: set[str]) -> None:
    from chorus.points.keyphrases import text_terms

    assert text_terms(text) == terms


def test_keyphrases_are_what_restatements_share() -> None:
    from chorus.points.keyphrases import keyphrases

    claims = [
        [
            "Human rights are stripped from the people of Iran.",
            "The regime strips human rights from Iranians, observers say.",
            "Observers condemn the regime over human rights.",
        ],
        ["A single copied sentence about fuel taxes."],
        ["Fuel taxes rose again.", "Fuel taxes are rising."],
    ]
    first, single, fuel = keyphrases(claims)
    # Held by two claims or more; the pair in place of its words; nothing one claim says alone.
    assert first[0] == "human rights"
    assert "human" not in first and "rights" not in first
    assert set(first) <= {"human rights", "regime", "observers"}
    assert "people" not in first and "condemn" not in first
    # One claim (a sentence copied verbatim): its own words.
    assert "copied sentence" in single or "copied" in single
    assert fuel == ["fuel taxes"]


def test_seed_keyphrases_are_shared_by_two_claims(analysed_seeds: Path) -> None:
    from chorus.points.keyphrases import text_terms

    with open_store(analysed_seeds, read_only=True) as store:
        rows = store.con.execute(
            """SELECT p.point_id, p.keyphrases, list(DISTINCT m.text) FROM points p
               JOIN mentions m USING (point_id) GROUP BY ALL"""
        ).fetchall()
    assert rows
    for point_id, phrases, claims in rows:
        for phrase in phrases:
            holding = sum(phrase in text_terms(c) for c in claims)
            assert holding >= min(2, len(claims)), (point_id, phrase, claims)
