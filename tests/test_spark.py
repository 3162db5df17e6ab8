"""The Spark engine in local mode gives the single-machine results: the same documents,
sentences, rejects, reuse clusters (up to ids), talking points and coordination network (ids
included), and ``chorus load`` makes a store of them."""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chorus.coord import CoordSettings, find_coordination
from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.points import PointsSettings, find_points
from chorus.reuse import find_reuse
from chorus.search import index_state, label_index_state
from chorus.store import Store, open_store
from chorus.store.load import load_tables

from .conftest import NEWS


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.fail("Java is missing: `make test` installs Debian's openjdk-17-jre-headless")
    import os

    os.environ["CHORUS_SPARK_MASTER"] = "local[2]"
    from chorus.spark.job import spark_session

    session = spark_session("chorus-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


_FRAMES = ("It is now clear that", "Sources confirm that", "Make no mistake:")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """News articles; one passage planted in three new documents; a campaign of four new
    sites each publishing three articles within hours that carry the same three claims,
    copied or restated; a duplicate id and a bad line."""
    path = tmp_path_factory.mktemp("spark") / "corpus.jsonl"
    with gzip.open(NEWS, "rt", encoding="utf-8") as src:
        rows = [json.loads(line) for line in itertools.islice(src, 80)]
    lines = [
        json.dumps({k: r[k] for k in ("id", "source", "date", "url", "title", "text")})
        for r in rows[:60]
    ]
    planted = rows[5]["text"][:1200]
    lines += [
        json.dumps({"id": f"copy{i}", "source": f"copier{i}", "text": f"Intro {i}. {planted}"})
        for i in range(3)
    ]

    # The campaign's claims and filler come from articles outside the corpus.
    def sentences(row: dict[str, Any]) -> list[str]:
        return [
            s.strip() + "."
            for s in str(row["text"]).split(". ")
            if 12 <= len(s.split()) <= 40 and "Caption" not in s
        ]

    # One claim from each of three articles, filler from others.
    claims = [sentences(r)[0] for r in rows[60:] if sentences(r)][:3]
    filler = [s for r in rows[66:] for s in sentences(r)]
    for site in range(4):
        for k in range(3):
            body = [
                claim if (site + k + c) % 2 else f"{_FRAMES[c]} {claim[0].lower()}{claim[1:]}"
                for c, claim in enumerate(claims)
            ]
            body += filler[(site * 3 + k) * 3 : (site * 3 + k) * 3 + 3]
            lines.append(
                json.dumps(
                    {
                        "id": f"campaign-{site}-{k}",
                        "source": f"campaign-site{site}",
                        "text": " ".join(body),
                        "date": f"2021-03-0{1 + k}T08:{10 * site:02d}:00",
                    }
                )
            )
    lines.append(json.dumps({"id": "copy0", "source": "late", "text": "A later duplicate."}))
    lines.append("{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    """Rows in a canonical order, lists made hashable."""
    rows = [
        tuple(tuple(v) if isinstance(v, list) else v for v in row)
        for row in store.con.execute(sql).fetchall()
    ]
    return sorted(rows, key=repr)


def _clusters(store: Store) -> set[tuple[str, frozenset[tuple[str, int, int]]]]:
    groups: dict[str, set[tuple[str, int, int]]] = {}
    for cid, doc, start, end in store.con.execute(
        'SELECT cluster_id, doc_id, start, "end" FROM passages'
    ).fetchall():
        groups.setdefault(cid, set()).add((doc, start, end))
    kinds = dict(store.con.execute("SELECT cluster_id, kind FROM reuse_clusters").fetchall())
    return {(kinds[c], frozenset(g)) for c, g in groups.items()}


@dataclass(frozen=True)
class Engines:
    """The corpus through the Spark job (its Parquet output) and through one machine (a
    store with documents, reuse and talking points at default settings, no coordination)."""

    out: Path
    summary: Any
    one: Path


@pytest.fixture(scope="module")
def engines(spark: Any, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Engines:
    from chorus.spark import run_job

    folder = tmp_path_factory.mktemp("engines")
    summary = run_job(spark, [str(corpus)], str(folder / "out"), bands=7)
    with open_store(folder / "one.duckdb") as one:
        ingest_paths(one, [corpus], on_error="skip", language_detector=NoLanguageDetector())
        find_reuse(one)
        find_points(one)
    return Engines(folder / "out", summary, folder / "one.duckdb")


@pytest.fixture
def uncached(spark: Any) -> Iterator[None]:
    """Frees what a test cached: one session runs the whole module (its driver heap is
    small on a 2-core machine)."""
    yield
    spark.catalog.clearCache()


def _one_machine(engines: Engines, tmp_path: Path) -> Path:
    """A copy of the one-machine store for a test to change."""
    path = tmp_path / "one.duckdb"
    shutil.copyfile(engines.one, path)
    return path


def _frame_rows(store: Store, frame: Any, columns: list[str]) -> list[tuple[Any, ...]]:
    """A Spark result's rows as the store would hold them, in :func:`_rows`'s order."""
    table = frame.select(*columns).toArrow()
    store.con.register("_spark_result", table)
    try:
        quoted = ", ".join(f'"{c}"' for c in columns)
        return _rows(store, f"SELECT {quoted} FROM _spark_result")
    finally:
        store.con.unregister("_spark_result")


def test_spark_matches_one_machine(engines: Engines, tmp_path: Path) -> None:
    out = engines.out
    summary = engines.summary
    assert summary.n_documents == 75 and summary.n_rejects == 2
    with (
        open_store(tmp_path / "spark.duckdb") as cluster,
        open_store(_one_machine(engines, tmp_path)) as one,
    ):
        load_tables(cluster, out)
        # The app's indexes, built as chorus analyze builds them.
        assert index_state(cluster) == "current" and label_index_state(cluster) == "current"
        find_coordination(one)
        for sql in (
            "SELECT doc_id, source, url, title, published_at, text, text_hash FROM documents",
            'SELECT doc_id, sent_no, start, "end", text FROM sentences',
            "SELECT file, line, field, reason FROM rejects",
        ):
            assert _rows(cluster, sql) == _rows(one, sql)
        found = _clusters(cluster)
        assert found == _clusters(one)
        planted = {"copy0", "copy1", "copy2"}
        assert any(planted <= {doc for doc, _, _ in group} for _, group in found)
        with pytest.raises(Exception, match="already holds documents"):
            load_tables(cluster, out)
        # The same points, ids included, and the same vectors: both engines embed in the
        # same batches, and every later step sums in the same order.
        for table in ("points", "mentions", "_embeddings"):
            assert _rows(cluster, f"SELECT * FROM {table}") == _rows(one, f"SELECT * FROM {table}")
        campaign = {f"campaign-site{i}" for i in range(4)}
        assert any(
            {
                s
                for (s,) in cluster.con.execute(
                    "SELECT DISTINCT d.source FROM mentions m JOIN documents d USING (doc_id) "
                    "WHERE m.point_id = ?",
                    [p],
                ).fetchall()
            }
            >= campaign
            for (p,) in cluster.con.execute("SELECT point_id FROM points").fetchall()
        )
        # The same network, evidence, scores and communities.
        for table in ("source_edges", "edge_evidence", "sources", "communities"):
            assert _rows(cluster, f"SELECT * FROM {table}") == _rows(one, f"SELECT * FROM {table}")
        assert _rows(cluster, "SELECT window_hours, n_objects FROM coord_runs") == _rows(
            one, "SELECT window_hours, n_objects FROM coord_runs"
        )
        significant = {
            (a, b)
            for a, b in cluster.con.execute(
                "SELECT source_a, source_b FROM source_edges WHERE q_value <= 0.05"
            ).fetchall()
        }
        # Every campaign pair is an edge; whatever stands out is the campaign (three articles
        # a site is little evidence, so not every pair passes the test).
        pairs = {(a, b) for a in campaign for b in campaign if a < b}
        edges = set(cluster.con.execute("SELECT source_a, source_b FROM source_edges").fetchall())
        assert pairs <= edges and significant and significant <= pairs
        # find_points on the loaded store embeds nothing: every vector is cached.
        cached = cluster.con.execute("SELECT count(*) FROM _embeddings").fetchall()[0][0]
        find_points(cluster)
        assert cluster.con.execute("SELECT count(*) FROM _embeddings").fetchall()[0][0] == cached


def _reuse(spark: Any, engines: Engines) -> tuple[Any, Any, Any]:
    """The job's documents and its reuse stage's Arrow tables, as the job hands them on."""
    from chorus.spark.reuse import spark_reuse

    documents = spark.read.parquet(str(engines.out / "documents"))
    clusters, passages = spark_reuse(documents, bands=7)
    return documents, clusters, passages


@pytest.mark.parametrize("cells", ["reference", "trained"])
def test_spark_points_match_over_settings_and_the_inverted_file(
    spark: Any,
    engines: Engines,
    uncached: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cells: str,
) -> None:
    """Past the exact search's limit both engines search an inverted file (cells, probes):
    the model's reference cells, or (for a model without them) cells trained on the corpus.
    The cells are Spark groups, and with no lexical term and a span counted in sources the
    points are still the single-machine points. (The main test covers the exact search at
    default settings; one run per kind of cells keeps the suite's time.)"""
    from chorus.points import neighbours, stage
    from chorus.spark import points as spark_module
    from chorus.spark.points import spark_points

    monkeypatch.setattr(neighbours, "EXACT_LIMIT", 400)
    if cells == "trained":
        for module in (stage, spark_module):
            monkeypatch.setattr(module, "reference_cells", lambda model: None)
    settings = PointsSettings(lexical_weight=0.0, span="sources")
    documents, clusters, passages = _reuse(spark, engines)
    found = spark_points(
        spark.read.parquet(str(engines.out / "sentences")),
        documents,
        passages,
        clusters,
        settings=settings,
    )
    assert found.n_units > neighbours.EXACT_LIMIT
    with open_store(_one_machine(engines, tmp_path)) as one:
        find_points(one, settings=settings, rebuild=True)  # fresh ids, as on the cluster
        assert one.count("points") > 5
        for table, frame in (("points", found.points), ("mentions", found.mentions)):
            columns = list(frame.columns)
            quoted = ", ".join(f'"{c}"' for c in columns)
            assert _frame_rows(one, frame, columns) == _rows(
                one, f"SELECT {quoted} FROM {table}"
            ), table


@pytest.mark.parametrize(
    "settings",
    [
        CoordSettings(window_hours=6.0),
        CoordSettings(kinds=("point", "reuse")),
        CoordSettings(null="time", permutations=99, min_objects=1),
    ],
    ids=["fixed window", "points and reuse only", "time-shuffle null"],
)
def test_spark_coordination_matches_over_settings(
    spark: Any, engines: Engines, uncached: None, tmp_path: Path, settings: CoordSettings
) -> None:
    from pyspark.sql import functions as F

    from chorus.spark.coord import spark_coordination

    documents, clusters, passages = _reuse(spark, engines)
    points = spark.read.parquet(str(engines.out / "points"))
    mentions = spark.read.parquet(str(engines.out / "mentions")).join(
        points.select("point_id", "family_id"), "point_id", "left"
    )
    found = spark_coordination(documents, mentions, passages, clusters, settings=settings)
    with open_store(_one_machine(engines, tmp_path)) as one:
        find_coordination(one, settings=settings)
        assert one.count("source_edges") > 0
        for table in ("source_edges", "edge_evidence", "sources", "communities", "credits"):
            frame = getattr(found, table)
            columns = list(frame.columns)
            quoted = ", ".join(f'"{c}"' for c in columns)
            assert _frame_rows(one, frame, columns) == _rows(
                one, f"SELECT {quoted} FROM {table}"
            ), table
        assert _frame_rows(one, found.coord_runs, ["window_hours", "n_objects"]) == _rows(
            one, "SELECT window_hours, n_objects FROM coord_runs"
        )
        if settings.null == "time":
            # Tested by permutations, not the analytic null: p-values are multiples of 1/100.
            p = [r[0] for r in one.con.execute("SELECT p_value FROM source_edges").fetchall()]
            assert any(v is not None for v in p)
            assert all(v is None or round(v * 100, 6).is_integer() for v in p)
        if settings.kinds == ("point", "reuse"):
            kinds = found.edge_evidence.select(F.col("object_kind")).distinct().collect()
            assert {r[0] for r in kinds} <= {"point", "reuse"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_connected_components_match_scipy(spark: Any, seed: int) -> None:
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components as scipy_components

    from chorus.spark.components import connected_components

    rng = np.random.default_rng(seed)
    n = 300
    src = rng.integers(0, n, 200)
    dst = rng.integers(0, n, 200)
    # A long path: the case where label propagation needs as many rounds as nodes.
    src = np.r_[src, np.arange(n, n + 150)]
    dst = np.r_[dst, np.arange(n + 1, n + 151)]
    frame = spark.createDataFrame(
        [(int(a), int(b)) for a, b in zip(src, dst, strict=True)], "src LONG, dst LONG"
    )
    found = {r.node: r.component for r in connected_components(frame).collect()}
    size = n + 151
    _, label = scipy_components(
        sparse.coo_matrix((np.ones(src.size), (src, dst)), shape=(size, size)), directed=False
    )
    nodes = sorted(set(src.tolist()) | set(dst.tolist()))
    smallest: dict[int, int] = {}
    for node in nodes:
        smallest.setdefault(int(label[node]), node)
    assert found == {node: smallest[int(label[node])] for node in nodes}


def test_spark_stages_need_their_inputs(spark: Any, corpus: Path, tmp_path: Path) -> None:
    from chorus.spark import run_job

    with pytest.raises(ValueError, match="points stage needs the reuse"):
        run_job(spark, [str(corpus)], str(tmp_path / "o"), stages=("points",))
    with pytest.raises(ValueError, match="unknown stages"):
        run_job(spark, [str(corpus)], str(tmp_path / "o"), stages=("embed",))


def test_parquet_input_matches_one_machine(spark: Any, corpus: Path, tmp_path: Path) -> None:
    """Parquet files, given by name or as their folder, become the single-machine documents,
    sentences and rejects: rows numbered within their file, a timestamp column read as one
    machine reads it, the duplicate id refused at the same row. Input Spark cannot read is a
    clear error."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from chorus.errors import ChorusError
    from chorus.spark import run_job

    rows = []
    for line in corpus.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue

    def moment(value: object) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)
        except ValueError:
            return None

    columns = [(name, pa.string()) for name in ("id", "source", "url", "title", "text")]
    schema = pa.schema([*columns, ("date", pa.timestamp("us", tz="UTC"))])
    timed = [{**r, "date": moment(r.get("date"))} for r in rows]
    assert any(r["date"] for r in timed)
    parts = tmp_path / "parts"
    parts.mkdir()
    half = len(rows) // 2
    files = [parts / "a.parquet", parts / "b.parquet"]
    for file, chunk in zip(files, (timed[:half], timed[half:]), strict=True):
        pq.write_table(pa.Table.from_pylist(chunk, schema=schema), file, row_group_size=7)
    with open_store(tmp_path / "one.duckdb") as one:
        ingest_paths(one, files, on_error="skip", language_detector=NoLanguageDetector())
        assert one.count("rejects") == 1
        for name, inputs in (("files", [str(f) for f in files]), ("folder", [str(parts)])):
            out = tmp_path / name
            run_job(spark, inputs, str(out), stages=())
            with open_store(tmp_path / f"{name}.duckdb") as cluster:
                load_tables(cluster, out)
                for sql in (
                    "SELECT doc_id, source, url, title, published_at, text, text_hash "
                    "FROM documents",
                    'SELECT doc_id, sent_no, start, "end", text FROM sentences',
                    "SELECT file, line, field, reason FROM rejects",
                ):
                    assert _rows(cluster, sql) == _rows(one, sql), (name, sql)
    # Part files whose columns disagree: Spark's reason, naming the column, not a JVM trace.
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(files[0], mixed / "a.parquet")
    as_text = pa.schema([*columns, ("date", pa.string())])
    pq.write_table(pa.Table.from_pylist(rows[half:], schema=as_text), mixed / "b.parquet")
    with pytest.raises(ChorusError, match=r"the Spark job failed: .*\bdate\b"):
        run_job(spark, [str(mixed)], str(tmp_path / "o"), stages=())
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ChorusError, match=r"bad\.parquet: not a readable Parquet"):
        run_job(spark, [str(tmp_path / "bad.parquet")], str(tmp_path / "o"), stages=())


def test_spark_submit_runs_on_the_master_it_is_given(corpus: Path, tmp_path: Path) -> None:
    """The documented command, `spark-submit [options] "$(chorus spark entry)" spark run ...`,
    runs on the master spark-submit was given, not chorus's local default."""
    import os
    import subprocess
    import sys

    bin_dir = Path(sys.executable).parent
    entry = subprocess.run(
        [bin_dir / "chorus", "spark", "entry"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert entry.endswith("__main__.py") and Path(entry).is_file()
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "CHORUS_SPARK_MASTER": "local[2]"}
    # Ingest alone on a few lines: what is checked is where the job runs, not the stages.
    small = tmp_path / "small.jsonl"
    small.write_text("".join(corpus.read_text(encoding="utf-8").splitlines(True)[:10]))
    out = tmp_path / "out"
    done = subprocess.run(
        [
            bin_dir / "spark-submit",
            "--master",
            "local[1]",
            "--conf",
            "spark.ui.enabled=false",
            entry,
            "spark",
            "run",
            "--input",
            str(small),
            "--output",
            str(out),
            "--stages",
            "",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "spark (local[1]): 10 documents (0 rejected)" in done.stdout
    with open_store(tmp_path / "submitted.duckdb") as store:
        load_tables(store, out)
        assert store.count("documents") == 10
