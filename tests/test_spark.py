"""The Spark engine in local mode gives the single-machine results: the same documents,
sentences, rejects and reuse clusters (up to ids), and ``chorus load`` makes a store of them."""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.points import find_points
from chorus.reuse import find_reuse
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


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """News articles, one passage planted in three new documents, a duplicate id and a bad
    line."""
    path = tmp_path_factory.mktemp("spark") / "corpus.jsonl"
    with gzip.open(NEWS, "rt", encoding="utf-8") as src:
        rows = [json.loads(line) for line in itertools.islice(src, 60)]
    lines = [
        json.dumps({k: r[k] for k in ("id", "source", "date", "url", "title", "text")})
        for r in rows
    ]
    planted = rows[5]["text"][:1200]
    lines += [
        json.dumps({"id": f"copy{i}", "source": f"copier{i}", "text": f"Intro {i}. {planted}"})
        for i in range(3)
    ]
    lines.append(json.dumps({"id": "copy0", "source": "late", "text": "A later duplicate."}))
    lines.append("{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _clusters(store: Store) -> set[tuple[str, frozenset[tuple[str, int, int]]]]:
    groups: dict[str, set[tuple[str, int, int]]] = {}
    for cid, doc, start, end in store.con.execute(
        'SELECT cluster_id, doc_id, start, "end" FROM passages'
    ).fetchall():
        groups.setdefault(cid, set()).add((doc, start, end))
    kinds = dict(store.con.execute("SELECT cluster_id, kind FROM reuse_clusters").fetchall())
    return {(kinds[c], frozenset(g)) for c, g in groups.items()}


def _points(store: Store) -> set[frozenset[tuple[str, int]]]:
    groups: dict[str, set[tuple[str, int]]] = {}
    for point, doc, sent in store.con.execute(
        "SELECT point_id, doc_id, sent_no FROM mentions"
    ).fetchall():
        groups.setdefault(point, set()).add((doc, sent))
    return {frozenset(g) for g in groups.values()}


def _pair_agreement(
    a: set[frozenset[tuple[str, int]]], b: set[frozenset[tuple[str, int]]]
) -> float:
    """Pairwise F1 of two groupings of mentions: the share of same-point pairs they agree on."""

    def pairs(groups: set[frozenset[tuple[str, int]]]) -> set[tuple[object, object]]:
        return {(x, y) for g in groups for x in g for y in g if x < y}

    pa_, pb = pairs(a), pairs(b)
    both = len(pa_ & pb)
    return 2 * both / max(len(pa_) + len(pb), 1)


def test_spark_matches_one_machine(spark: Any, corpus: Path, tmp_path: Path) -> None:
    from chorus.spark import run_job

    out = tmp_path / "out"
    summary = run_job(spark, [str(corpus)], str(out), bands=7)
    assert summary.n_documents == 63 and summary.n_rejects == 2
    with (
        open_store(tmp_path / "spark.duckdb") as cluster,
        open_store(tmp_path / "one.duckdb") as one,
    ):
        load_tables(cluster, out)
        ingest_paths(one, [corpus], on_error="skip", language_detector=NoLanguageDetector())
        find_reuse(one)
        for sql in (
            "SELECT doc_id, source, url, title, published_at, text, text_hash FROM documents",
            'SELECT doc_id, sent_no, start, "end", text FROM sentences',
            "SELECT file, line, reason FROM rejects",
        ):
            ordered = f"{sql} ORDER BY ALL"
            assert cluster.con.execute(ordered).fetchall() == one.con.execute(ordered).fetchall()
        found = _clusters(cluster)
        assert found == _clusters(one)
        planted = {"copy0", "copy1", "copy2"}
        assert any(planted <= {doc for doc, _, _ in group} for _, group in found)
        with pytest.raises(Exception, match="already holds documents"):
            load_tables(cluster, out)
        # Points from the executors' embeddings are the single-machine points; nothing is
        # embedded again.
        cached = cluster.con.execute("SELECT count(*) FROM _embeddings").fetchall()[0][0]
        assert cached == summary.n_embeddings > 100
        find_points(cluster)
        assert cluster.con.execute("SELECT count(*) FROM _embeddings").fetchall()[0][0] == cached
        find_points(one)
        # The executors batch sentences differently, so a vector can differ from the
        # one-machine vector by one float16 step (about 1e-3); a sentence on the edge between
        # two points can change sides. Everything else is the same.
        assert _pair_agreement(_points(cluster), _points(one)) >= 0.97
        spark_vectors = dict(cluster.con.execute("SELECT key, vector FROM _embeddings").fetchall())
        for key, vector in one.con.execute("SELECT key, vector FROM _embeddings").fetchall():
            a = np.frombuffer(spark_vectors[key], np.float16).astype(np.float32)
            b = np.frombuffer(vector, np.float16).astype(np.float32)
            assert np.abs(a - b).max() <= 2e-3
