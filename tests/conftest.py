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
if os.environ.get("CI"):
    settings.load_profile("ci")

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


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
