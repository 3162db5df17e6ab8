from __future__ import annotations

import gzip
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from chorus.ingest import NoLanguageDetector
from chorus.store import Store, open_store

# CI replays the same examples every run, so a red build is reproducible, not a dice roll.
settings.register_profile("ci", derandomize=True, deadline=None)
# No deadline here either: a test's speed on a loaded machine is no property of the code
# (tests check correctness; bench/ measures time).
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SEEDS = SHARED / "seeds" / "seeds.jsonl"
NEWS = SHARED / "news" / "allsides.jsonl.gz"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "test.duckdb") as s:
        yield s


@pytest.fixture
def no_lang() -> NoLanguageDetector:
    return NoLanguageDetector()


@pytest.fixture(scope="session")
def news_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 300 articles of the shared news corpus, as plain JSON Lines."""
    out = tmp_path_factory.mktemp("news") / "news300.jsonl"
    with gzip.open(NEWS, "rb") as src:
        out.write_bytes(b"".join(itertools.islice(src, 300)))
    return out


def point_ids(store: Store) -> set[str]:
    return {r[0] for r in store.con.execute("SELECT point_id FROM points").fetchall()}


def point_lineage(store: Store) -> dict[str, tuple[str, str | None]]:
    """Each id ``point_lineage`` records, with its latest event and other id."""
    return {
        point_id: (event, other)
        for point_id, event, other in store.con.execute(
            "SELECT point_id, event, other_id FROM point_lineage ORDER BY recorded_at"
        ).fetchall()
    }


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def analysed_seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the seed corpus with every stage run (read it; copy it to change it)."""
    from chorus.analyze import analyze
    from chorus.ingest import ingest_paths

    path = tmp_path_factory.mktemp("seeds") / "seeds.duckdb"
    with open_store(path) as store:
        ingest_paths(store, [SEEDS], language_detector=NoLanguageDetector())
        analyze(store)
    return path


HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


@pytest.fixture(scope="session")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose texts, titles, sources and URLs all carry script payloads, and whose
    documents share a passage and a claim, so every view has hostile content to show."""
    import json

    from chorus.coord import CoordSettings, find_coordination
    from chorus.ingest import ingest_paths
    from chorus.points import PointsSettings, find_points
    from chorus.reuse import find_reuse

    folder = tmp_path_factory.mktemp("hostile")
    shared = (
        f"{HOSTILE} The committee voted late on Thursday to send the measure to the full "
        "chamber where leaders expect a close vote after weeks of negotiation over spending."
    )
    claim = "the new dam will flood twelve villages along the river valley next spring"
    rows = [
        json.dumps(
            {
                "id": f"{HOSTILE}{i}",
                "source": f"{HOSTILE}site{i}",
                "title": HOSTILE,
                "url": "javascript:window.__pwned=3",
                "published_at": f"2024-05-0{i + 1}T10:00:00",
                "text": f"Intro {i} {HOSTILE}. {shared} Critics say {claim} {HOSTILE}.",
            }
        )
        for i in range(3)
    ]
    path = folder / "hostile.duckdb"
    with open_store(path) as store:
        ingest_paths(
            store,
            [write_jsonl(folder / "x.jsonl", rows)],
            language_detector=NoLanguageDetector(),
        )
        find_reuse(store)
        find_points(store, settings=PointsSettings(model="hashing"))
        find_coordination(store, settings=CoordSettings(min_objects=1, window_hours=100))
    return path
