"""Coordination: edges, weights and significance against brute force on toy networks; missing
dates; one source; the seed corpus; links as objects; the CLI and graph export."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from chorus.cli import cli
from chorus.coord import CoordSettings, canonical_url, find_coordination, read_edge_evidence
from chorus.coord.core import Events, benjamini_hochberg, closest_pairs, coordination_edges
from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.store import Store, open_store

from .conftest import SEEDS, write_jsonl

# (source, object, time in hours): sources 0 and 1 share objects 0-2 within an hour; source 2
# shares object 0 a day later and object 3 with source 3; object 4 is everyone's.
TOY = [
    (0, 0, 0.0), (1, 0, 0.5), (2, 0, 30.0),
    (0, 1, 10.0), (1, 1, 10.2),
    (0, 2, 20.0), (1, 2, 21.0),
    (2, 3, 40.0), (3, 3, 41.0),
    (0, 4, 50.0), (1, 4, 70.0), (2, 4, 51.0), (3, 4, 52.0),
]  # fmt: skip


def _events(rows: list[tuple[int, int, float]]) -> Events:
    """Each row its own document."""
    s, o, t = (np.array(c) for c in zip(*rows, strict=True))
    n = np.arange(len(rows))
    return Events(s.astype(np.int64), o.astype(np.int64), t.astype(float), n)


def _brute_force(
    rows: list[tuple[int, int, float]], window: float | None
) -> dict[tuple[int, int], tuple[float, int]]:
    n_sources = len({s for s, _, _ in rows})
    popularity = {o: len({s for s, oo, _ in rows if oo == o}) for _, o, _ in rows}
    out: dict[tuple[int, int], tuple[float, int]] = {}
    for (sa, oa, ta), (sb, ob, tb) in itertools.combinations(rows, 2):
        if oa != ob or sa == sb:
            continue
        if window is not None and (math.isnan(ta - tb) or abs(ta - tb) > window):
            continue
        key = (min(sa, sb), max(sa, sb))
        weight, count = out.get(key, (0.0, 0))
        out[key] = (weight + math.log(n_sources / popularity[oa]), count + 1)
    return out


@pytest.mark.parametrize("window", [None, 2.0, 24.0])
@pytest.mark.parametrize("min_objects", [1, 2])
def test_edges_match_brute_force(window: float | None, min_objects: int) -> None:
    edges = coordination_edges(
        _events(TOY), n_sources=4, window=window, min_objects=min_objects, permutations=0, seed=0
    )
    got = {
        (int(a), int(b)): (round(float(w), 6), int(n))
        for a, b, w, n in zip(
            edges.source_a, edges.source_b, edges.weight, edges.n_objects, strict=True
        )
    }
    want = {
        k: (round(w, 6), n) for k, (w, n) in _brute_force(TOY, window).items() if n >= min_objects
    }
    assert got == want
    # Every edge's evidence is its co-actions, one per shared object.
    assert np.bincount(edges.evidence_edge, minlength=len(got)).tolist() == [
        got[k][1] for k in sorted(got)
    ]


def test_popular_objects_weigh_nothing() -> None:
    edges = coordination_edges(
        _events(TOY), n_sources=4, window=None, min_objects=1, permutations=0, seed=0
    )
    ends = zip(edges.source_a.tolist(), edges.source_b.tolist(), strict=True)
    pairs = dict(zip(ends, edges.weight, strict=True))
    assert pairs[(2, 3)] == pytest.approx(math.log(4 / 2))  # object 3; object 4 adds log(1) = 0


def _exact_p_values(
    rows: list[tuple[int, int, float]], window: float
) -> dict[tuple[int, int], float]:
    """Every way of permuting each source's times among its own events, equally likely."""
    observed = _brute_force(rows, window)
    by_source: dict[int, list[int]] = {}
    for i, (s, _, _) in enumerate(rows):
        by_source.setdefault(s, []).append(i)
    sources = sorted(by_source)
    exceed = dict.fromkeys(observed, 0)
    total = 0
    for perms in itertools.product(*(itertools.permutations(by_source[s]) for s in sources)):
        times = [0.0] * len(rows)
        for s, perm in zip(sources, perms, strict=True):
            for slot, source_row in zip(by_source[s], perm, strict=True):
                times[slot] = rows[source_row][2]
        shuffled = [(s, o, times[i]) for i, (s, o, _) in enumerate(rows)]
        null = _brute_force(shuffled, window)
        total += 1
        for key, (weight, _) in observed.items():
            exceed[key] += null.get(key, (0.0, 0))[0] >= weight - 1e-9
    return {key: count / total for key, count in exceed.items()}


def test_p_values_match_exact_enumeration() -> None:
    exact = _exact_p_values(TOY, 2.0)
    edges = coordination_edges(
        _events(TOY),
        n_sources=4,
        window=2.0,
        min_objects=1,
        null="time",
        permutations=4000,
        seed=7,
    )
    for a, b, p in zip(edges.source_a, edges.source_b, edges.p_value, strict=True):
        assert p == pytest.approx(exact[(int(a), int(b))], abs=0.03)
    # Sources 0 and 1 co-act on three objects within the hour: hard to get by chance.
    assert exact[(0, 1)] < 0.2


def test_configuration_p_values_match_the_formula() -> None:
    from scipy.stats import poisson

    edges = coordination_edges(_events(TOY), n_sources=4, window=None, min_objects=1)
    degree = {s: len({o for ss, o, _ in TOY if ss == s}) for s in range(4)}
    popularity = {o: len({s for s, oo, _ in TOY if oo == o}) for _, o, _ in TOY}
    m = sum(degree.values())
    pairs_per_object = sum(k * (k - 1) for k in popularity.values())
    for a, b, n, p in zip(
        edges.source_a, edges.source_b, edges.n_objects, edges.p_value, strict=True
    ):
        expected = degree[int(a)] * degree[int(b)] * pairs_per_object / m**2
        assert p == pytest.approx(poisson.sf(int(n) - 1, expected))


def test_objects_from_one_pair_of_documents_count_once() -> None:
    # Sources 0 and 1 share objects 0-4; background sources share other objects.
    rows = [(s, o, 0.0) for s in (0, 1) for o in range(5)]
    rows += [(s, 10 + s % 7, 0.0) for s in range(2, 40)]
    rows += [(s, 20 + s % 5, 0.0) for s in range(2, 40)]
    sources, objects, times = (np.array(c) for c in zip(*rows, strict=True))
    rows_no = np.arange(len(rows))
    spread = Events(sources, objects, times.astype(float), rows_no)
    # The same sharings, but each source's five objects sit in one document.
    one_doc = np.where(sources < 2, 1000 + sources, np.arange(len(rows)))
    bundled = Events(sources, objects, times.astype(float), one_doc)
    p_spread, p_bundled = (
        coordination_edges(e, n_sources=40, window=None, min_objects=5).p_value
        for e in (spread, bundled)
    )
    assert p_spread[0] < 0.05 < p_bundled[0]


def test_a_source_co_acts_through_any_of_its_documents() -> None:
    # Source 1 shares object 0 twice: a day after source 0, and within the hour.
    rows = [(0, 0, 0.0), (1, 0, 24.0), (1, 0, 0.5), (0, 1, 5.0), (1, 1, 5.5)]
    edges = coordination_edges(_events(rows), n_sources=2, window=2.0, min_objects=1)
    assert edges.n_objects.tolist() == [2]
    # The evidence for object 0 is the closest pair of documents (rows 0 and 2).
    assert sorted(zip(edges.evidence_a.tolist(), edges.evidence_b.tolist(), strict=True)) == [
        (0, 2),
        (3, 4),
    ]


def test_benjamini_hochberg() -> None:
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.5])
    q = benjamini_hochberg(p)
    ranked = sorted((v, i) for i, v in enumerate(p) if not math.isnan(v))
    m = len(ranked)
    for rank, (_, i) in enumerate(ranked, start=1):
        want = min(min(v * m / r for r, (v, _) in enumerate(ranked, start=1) if r >= rank), 1)
        assert q[i] == pytest.approx(want)
    assert math.isnan(q[3])


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://www.Example.com/a/?utm_source=tw&id=2#x", "example.com/a?id=2"),
        ("http://example.com/story.", "example.com/story"),
        ("https://t.co/AbC", "t.co/AbC"),
        ("https://localhost/x", None),
        ("https://news.site.org/p?fbclid=1", "news.site.org/p"),
    ],
)
def test_canonical_url(url: str, canonical: str | None) -> None:
    assert canonical_url(url) == canonical


def _store_with(tmp_path: Path, rows: list[dict[str, object]]) -> Store:
    tmp_path.mkdir(parents=True, exist_ok=True)
    store = open_store(tmp_path / "c.duckdb")
    lines = [json.dumps(r) for r in rows]
    ingest_paths(
        store, [write_jsonl(tmp_path / "x.jsonl", lines)], language_detector=NoLanguageDetector()
    )
    return store


def test_links_join_sources_without_dates_and_one_source_alone(tmp_path: Path) -> None:
    rows = [
        {
            "id": f"d{i}",
            "source": f"site{i % 3}",
            "text": "Read it at https://www.example.org/report?utm_medium=x and "
            f"https://example.net/{i // 3}/ today.",
        }
        for i in range(6)
    ]
    with _store_with(tmp_path, rows) as store:
        summary = find_coordination(store, settings=CoordSettings(min_objects=1))
        assert summary.window_hours is None  # no dates: sharing at any time counts
        timed = find_coordination(store, settings=CoordSettings(min_objects=1, null="time"))
        assert not timed.tested  # the time null needs dates
        kinds = store.con.execute("SELECT DISTINCT object_kind FROM edge_evidence").fetchall()
        assert kinds == [("link",)]
        edges = store.con.execute("SELECT source_a, source_b FROM source_edges").fetchall()
        assert ("site0", "site1") in edges and ("site1", "site2") in edges
    one = [{"id": "a", "source": "only", "text": "See https://example.org/x now."}]
    with _store_with(tmp_path / "one", one) as store:
        summary = find_coordination(store)
        assert summary.n_edges == 0 and summary.n_communities == 0
        assert store.con.execute("SELECT community FROM sources").fetchall() == [(None,)]


def test_seed_sources_form_one_community_with_evidence(tmp_path: Path) -> None:
    from chorus.analyze import analyze

    with open_store(tmp_path / "seeds.duckdb") as store:
        ingest_paths(store, [SEEDS], language_detector=NoLanguageDetector())
        analyze(store)
        summary = find_coordination(store)
        assert summary.n_communities == 1
        (sources,) = store.con.execute("SELECT sources FROM communities").fetchall()[0]
        assert len(sources) == 5
        kinds = dict(
            store.con.execute(
                "SELECT object_kind, count(*) FROM edge_evidence GROUP BY 1"
            ).fetchall()
        )
        assert kinds["point"] > 0 and kinds["template"] == 1  # the shared footer, 001 and 004
        # Every edge lists its evidence.
        missing = store.con.execute(
            """SELECT count(*) FROM source_edges e WHERE NOT EXISTS (
                   SELECT 1 FROM edge_evidence v
                   WHERE v.source_a = e.source_a AND v.source_b = e.source_b)"""
        ).fetchall()
        assert missing == [(0,)]
        # The evidence resolves to the very passages: offsets into each document's text.
        a, b = store.con.execute(
            "SELECT source_a, source_b FROM source_edges ORDER BY weight DESC LIMIT 1"
        ).fetchall()[0]
        evidence = read_edge_evidence(store, b, a).to_pylist()  # either order
        assert (
            len(evidence)
            == store.con.execute(
                "SELECT n_objects FROM source_edges WHERE source_a = ? AND source_b = ?", [a, b]
            ).fetchall()[0][0]
        )
        texts = dict(store.con.execute("SELECT doc_id, text FROM documents").fetchall())
        for row in evidence:
            for side in "ab":
                start, end = row[f"start_{side}"], row[f"end_{side}"]
                assert texts[row[f"doc_{side}"]][start:end] == row[f"text_{side}"]


def test_cli_coord_and_graph_export(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "c.duckdb")
    assert runner.invoke(cli, ["ingest", "--db", db, str(SEEDS), "-q"]).exit_code == 0
    assert runner.invoke(cli, ["analyze", "--db", db, "-q"]).exit_code == 0
    result = runner.invoke(cli, ["coord", "--db", db, "-q"])
    assert result.exit_code == 0, result.output
    assert "1 community;" in result.output and "no window" in result.output
    # None of the seeds' edges is significant, and the command says so plainly.
    assert "no edge is significant" in result.output
    for suffix in ("gexf", "graphml"):
        out = tmp_path / f"net.{suffix}"
        result = runner.invoke(cli, ["export", "graph", "--db", db, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "001_3446158c2f518966" in out.read_text()
    bad = runner.invoke(cli, ["export", "graph", "--db", db, "-o", str(tmp_path / "g.csv")])
    assert bad.exit_code != 0 and "gexf" in bad.output


_WIRE_BODY = (
    "The central bank left interest rates unchanged on Wednesday "
    "and signalled that it expects to hold them steady for the rest of the year as "
    "inflation cools. Officials said the labour market remained strong and that consumer "
    "spending had held up better than economists had forecast in the spring. The decision "
    "was unanimous, the bank said in a statement released after its two-day meeting."
)


@pytest.mark.parametrize(
    "wire",
    [
        f"WASHINGTON (Reuters) - {_WIRE_BODY}",
        f"WASHINGTON (AFP) {_WIRE_BODY}",
        f"{_WIRE_BODY}\n\n— Associated Press",
        f"By Jane Roe, Associated Press\n\n{_WIRE_BODY}",
    ],
    ids=["reuters-dateline", "afp-no-dash", "ap-closing", "ap-byline"],
)
def test_credited_wire_copy_joins_no_sources(tmp_path: Path, wire: str) -> None:
    from chorus.analyze import analyze

    rows = [
        {
            "id": f"d{i}",
            "source": f"outlet{i}",
            "published_at": "2020-03-04T15:00:00",
            "text": f"Local desk note number {i} about parking.\n\n{wire}",
        }
        for i in range(4)
    ]
    with _store_with(tmp_path, rows) as store:
        analyze(store)
        kinds = store.con.execute("SELECT DISTINCT kind FROM reuse_clusters").fetchall()
        assert ("syndication",) in kinds
        assert store.count("mentions") > 0  # the wire's sentences are talking points...
        # ...but credited wire copy joins no two sources.
        assert store.con.execute("SELECT count(*) FROM source_edges").fetchall() == [(0,)]
        credited = store.con.execute(
            "SELECT count(DISTINCT doc_id) FROM credits WHERE whole"
        ).fetchall()
        assert credited == [(4,)]


@pytest.mark.parametrize("credited", [True, False])
def test_credited_sentences_and_credit_lines_are_no_evidence(
    tmp_path: Path, credited: bool
) -> None:
    """Sources that share only sentences credited in the text ("..., Reuters reported") are
    not joined, by the passage or by the talking points; the same sources sharing the same
    sentences uncredited are."""
    from chorus.analyze import analyze

    claims = [
        "The central bank left interest rates unchanged on Wednesday and signalled that it "
        "expects to hold them steady for the rest of the year",
        "Officials expect the labour market to remain strong through the summer months while "
        "consumer spending keeps growing",
    ]
    if credited:
        shared = f"{claims[0]}, Reuters reported. {claims[1]}, according to the AP."
    else:
        shared = f"{claims[0]}. {claims[1]}."
    own = [
        f"Outlet {i} covered the city council vote on the new bridge, the parking garage and "
        f"the school budget in its {day} edition, with comments from {i} local residents."
        for i, day in enumerate(["Monday", "Tuesday", "Wednesday", "Thursday"])
    ]
    rows = [
        {
            "id": f"d{i}",
            "source": f"outlet{i}",
            "published_at": f"2020-03-04T1{i}:00:00",
            "text": f"{own[i]}\n\n{shared}",
        }
        for i in range(4)
    ]
    with _store_with(tmp_path, rows) as store:
        analyze(store)
        n_edges = store.con.execute("SELECT count(*) FROM source_edges").fetchall()[0][0]
        assert (n_edges == 0) is credited


def _closest_brute_force(events: Events, window: float | None) -> dict[tuple[int, ...], float]:
    """Per (source a, source b, object) co-acted: the smallest lag (inf when undated)."""
    out: dict[tuple[int, ...], float] = {}
    for i, j in itertools.combinations(range(events.source.size), 2):
        si, sj = int(events.source[i]), int(events.source[j])
        if si == sj or events.obj[i] != events.obj[j]:
            continue
        lag = abs(float(events.time[i]) - float(events.time[j]))
        if window is not None and (math.isnan(lag) or lag > window):
            continue  # with a window, an undated document co-acts with nothing
        key = (min(si, sj), max(si, sj), int(events.obj[i]))
        lag = math.inf if math.isnan(lag) else lag
        out[key] = min(out.get(key, math.inf), lag)
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("window", [None, 0.5, 3.0])
@pytest.mark.parametrize("chunk_pairs", [1, 7, 4_000_000])
def test_closest_pairs_match_brute_force(seed: int, window: float | None, chunk_pairs: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    times = rng.uniform(0, 10, n).round(1)
    times[rng.random(n) < 0.2] = np.nan  # some undated
    events = Events(
        rng.integers(0, 6, n), rng.integers(0, 5, n), times, np.arange(n, dtype=np.int64)
    )
    pairs = closest_pairs(events, window, chunk_pairs=chunk_pairs)
    got = {}
    for a, b in zip(pairs.a.tolist(), pairs.b.tolist(), strict=True):
        assert events.source[a] < events.source[b] and events.obj[a] == events.obj[b]
        lag = abs(float(events.time[a]) - float(events.time[b]))
        key = (int(events.source[a]), int(events.source[b]), int(events.obj[a]))
        assert key not in got
        got[key] = math.inf if math.isnan(lag) else lag
    assert got == _closest_brute_force(events, window)


def test_a_copied_sentence_is_one_object_not_two(tmp_path: Path) -> None:
    """A claim two sites copy word for word is a talking point and a copied passage at once:
    one piece of evidence, which alone makes no edge (min_objects 2)."""
    from chorus.analyze import analyze

    claim = (
        "The new water treatment plant on the east side of the river quietly doubled its "
        "prices for every household in the county last winter without any public vote."
    )
    own = [
        "Our correspondent visited the farmers market downtown on a cold Saturday morning.",
        "The local football team lost its third game in a row to a rival from the north.",
    ]
    rows = [
        {
            "id": f"d{i}",
            "source": f"site{i}",
            "published_at": f"2020-03-04T1{i}:00:00",
            "text": f"{own[i]} {claim} {own[1 - i]}".replace(own[1 - i], f"Note {i}."),
        }
        for i in range(2)
    ]
    with _store_with(tmp_path, rows) as store:
        analyze(store)
        kinds = store.con.execute("SELECT kind FROM reuse_clusters").fetchall()
        assert ("reuse",) in kinds and store.count("mentions") >= 2
        n_edges = store.con.execute("SELECT count(*) FROM source_edges").fetchall()[0][0]
        assert n_edges == 0
