"""Hostile input: each case found by probing fails loudly and precisely, never with a traceback
or silently wrong data."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from chorus.cli import cli
from chorus.errors import BatchRefusedError
from chorus.ingest import ingest_paths
from chorus.serve import create_app
from chorus.store import Store, open_store

from .conftest import write_jsonl


def _doc(date: object, doc_id: str = "a") -> str:
    return json.dumps({"id": doc_id, "source": "S", "date": date, "text": "One thing happened."})


# -- dates -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        "2020-01-01T00:00:00+25:00",
        "Wed, 01 Jan 2020 00:00:00 +9900",
        "5",
        "01",
        "Monday",
        "yesterday",
    ],
)
def test_what_is_not_a_date_is_null_and_kept_raw(tmp_path: Path, store: Store, raw: str) -> None:
    summary = ingest_paths(store, [write_jsonl(tmp_path / "a.jsonl", [_doc(raw)])])
    assert summary.n_new == 1 and summary.dates.get("unparseable") == 1
    row = store.con.execute(
        "SELECT published_at, extra->>'published_at_raw' FROM documents"
    ).fetchone()
    assert row == (None, raw)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_dates_are_unparseable_and_exports_stay_json(
    tmp_path: Path, literal: str
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        '{"id": "a", "source": "S", "date": ' + literal + ', "text": "One thing happened."}\n'
    )
    db = tmp_path / "c.duckdb"
    with open_store(db) as store:
        summary = ingest_paths(store, [path])
    assert summary.dates.get("unparseable") == 1
    out = tmp_path / "docs.jsonl"
    result = CliRunner().invoke(cli, ["export", "documents", "--db", str(db), "-o", str(out)])
    assert result.exit_code == 0, result.output
    for line in out.read_text().splitlines():
        json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))


# -- JSON Lines ----------------------------------------------------------------------------------
def test_deeply_nested_json_is_a_reject(tmp_path: Path, store: Store) -> None:
    deep = '{"id": "x", "source": "S", "text": "t", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = write_jsonl(tmp_path / "a.jsonl", [_doc("2020-01-01"), deep])
    summary = ingest_paths(store, [path], on_error="skip")
    assert (summary.n_new, summary.n_rejected) == (1, 1)
    reason = store.con.execute("SELECT line, reason FROM rejects").fetchone()
    assert reason == (2, "malformed JSON: nested too deeply to read")


def test_json_error_message_says_at_once(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "x", "source": "S", "text": "tab\there"}\n')
    with pytest.raises(BatchRefusedError) as info:
        ingest_paths(store, [path])
    assert "Invalid control character at column" in str(info.value)
    assert "at at" not in str(info.value)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_utf16_json_lines(tmp_path: Path, store: Store, encoding: str) -> None:
    path = tmp_path / "a.jsonl"
    lines = [_doc("2020-01-01", "a"), _doc("2020-01-02", "b").replace("One", "Ünïcode")]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    summary = ingest_paths(store, [path], encoding=encoding)
    assert summary.n_new == 2
    texts = [r[0] for r in store.con.execute("SELECT text FROM documents ORDER BY 1").fetchall()]
    assert texts == ["One thing happened.", "Ünïcode thing happened."]


# -- WARC ----------------------------------------------------------------------------------------
def _warc(gz: bool) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    for k in range(2):
        html = (
            f"<html><head><title>Page {k}</title></head><body><article><p>"
            + f"Sentence number {k} says something about the council vote. " * 60
            + "</p></article></body></html>"
        ).encode()
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.0"
        )
        writer.write_record(
            writer.create_warc_record(
                f"http://example.com/{k}",
                "response",
                payload=io.BytesIO(html),
                http_headers=headers,
            )
        )
    return buf.getvalue()


def test_warc_cut_inside_a_payload_is_a_reject(tmp_path: Path, store: Store) -> None:
    data = _warc(gz=False)
    path = tmp_path / "cut.warc"
    path.write_bytes(data[: len(data) - 1000])
    with pytest.raises(BatchRefusedError) as info:
        ingest_paths(store, [path])
    assert "record cut off" in str(info.value)
    summary = ingest_paths(store, [path], on_error="skip")
    assert (summary.n_new, summary.n_rejected) == (1, 1)


@pytest.mark.parametrize("keep", [40, 200])
def test_truncated_warc_gz_is_a_reject(tmp_path: Path, store: Store, keep: int) -> None:
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(_warc(gz=True)[:keep])
    summary = ingest_paths(store, [path], on_error="skip")
    assert summary.n_new == 0 and summary.n_rejected == 1
    reason = store.con.execute("SELECT reason FROM rejects").fetchone()
    assert reason is not None and "WARC" in reason[0]


@pytest.mark.parametrize("content", [b"", b"just some plain text\nin a file\n"])
def test_a_file_with_no_warc_record_says_so(tmp_path: Path, store: Store, content: bytes) -> None:
    path = tmp_path / "notes.warc"
    path.write_bytes(content)
    with pytest.raises(BatchRefusedError) as info:
        ingest_paths(store, [path])
    assert "WARC" in str(info.value)


# -- the web app ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(analysed_seeds: Path) -> TestClient:
    return TestClient(create_app(analysed_seeds), base_url="http://127.0.0.1:8000")


@pytest.mark.parametrize(
    "path",
    [
        "/api/points?offset=99999999999999999999999",
        "/api/sources?offset=99999999999999999999999",
        "/api/reuse?offset=99999999999999999999999",
        "/api/points?since=0000-00-00",
        "/api/points?since=2020-13-45",
        "/api/points?until=2020-02-30",
    ],
)
def test_out_of_range_parameters_are_422(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_search_wildcards_are_characters(client: TestClient) -> None:
    assert client.get("/api/search?q=%25").json()["items"] == []
    assert client.get("/api/search?q=re_ime").json()["items"] == []
    assert client.get("/api/search?q=regime").json()["items"]


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:8000", 200),
        ("localhost:8000", 200),
        ("[::1]:8000", 200),
        ("evil.example.com", 400),
        ("evil.example.com:8000", 400),
        ("127.0.0.1.evil.example.com", 400),
    ],
)
def test_only_own_host_names(client: TestClient, host: str, status: int) -> None:
    assert client.get("/api/overview", headers={"Host": host}).status_code == status


def test_serve_on_a_store_in_use_says_only_the_error(tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    with open_store(db):
        pass
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, chorus; s = chorus.open_store(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(60)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = CliRunner().invoke(cli, ["serve", "--db", str(db), "--port", "8765"])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code != 0
    assert "serving" not in result.output
    assert "Traceback" not in result.output


# -- a long run keeps its work --------------------------------------------------------------------
def test_embeddings_are_kept_in_small_steps(tmp_path: Path) -> None:
    """A run that dies part-way keeps the vectors it computed, bar the last step's."""
    from chorus.embed.cache import cached_embed

    class Dying:
        name = "dying-test-model"
        dim = 8

        def __init__(self) -> None:
            self.calls = 0

        def embed(self, texts: list[str]) -> np.ndarray:
            self.calls += 1
            if self.calls > 6:  # 6 batches of 64 done, then the process "dies"
                raise KeyboardInterrupt
            return np.ones((len(texts), self.dim), dtype=np.float32)

    texts = [f"sentence number {i} of the corpus" for i in range(1000)]
    with open_store(tmp_path / "c.duckdb") as store:
        embed = cached_embed(store, Dying())
        with pytest.raises(KeyboardInterrupt):
            embed(texts)
        kept = store.con.execute("SELECT count(*) FROM _embeddings").fetchone()
    assert kept is not None and kept[0] >= 256


# -- found by bench/fuzz.py -------------------------------------------------------------------
def test_parquet_value_python_cannot_hold_is_a_reject(tmp_path: Path, store: Store) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "a.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["a", "b"],
                "source": ["S", "S"],
                "text": ["One thing happened.", "Another thing happened."],
                "date": pa.array([0, 2**62], pa.timestamp("us")),
            }
        ),
        path,
    )
    summary = ingest_paths(store, [path], on_error="skip")
    assert (summary.n_new, summary.n_rejected) == (1, 1)
    row = store.con.execute("SELECT line, field, reason FROM rejects").fetchone()
    assert row is not None and row[:2] == (2, "date") and "cannot be read" in row[2]


def test_html_the_extractor_fails_on_is_a_reject(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "page.html"
    path.write_text("<iframe></html>0000-00-00")
    summary = ingest_paths(store, [path], on_error="skip")
    assert summary.n_new == 0 and summary.n_rejected == 1
