"""The web app's API: every view answers, errors are 404s and 422s, headers are strict, and the
CLI refuses to bind a public address without being told."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from chorus.cli import cli
from chorus.serve import CSP, create_app


@pytest.fixture(scope="module")
def client(analysed_seeds: Path) -> TestClient:
    return TestClient(create_app(analysed_seeds), base_url="http://127.0.0.1:8000")


@pytest.mark.parametrize(
    "path",
    [
        "/api/overview",
        "/api/points?sort=first_seen&limit=3",
        "/api/points?source=001_3446158c2f518966&since=2020-01-01&until=2020-12-31",
        "/api/reuse?kind=boilerplate",
        "/api/network",
        "/api/sources",
        "/api/source?name=001_3446158c2f518966",
        "/api/heatmap",
        "/api/timeline",
        "/api/watchlists",
        "/api/search?q=uprising",
        "/api/similar?q=the+regime+tries+to+silence+the+opposition",
        "/openapi.json",
    ],
)
def test_views_answer(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"


def test_details_and_errors(client: TestClient) -> None:
    points = client.get("/api/points").json()["items"]
    point = client.get("/api/point", params={"id": points[0]["point_id"]}).json()
    assert point["mentions"]
    edges = client.get("/api/network").json()["edges"]
    edge = client.get("/api/edge", params={"a": edges[0]["source_a"], "b": edges[0]["source_b"]})
    assert edge.json()["evidence"]
    similar = client.get("/api/similar", params={"q": points[0]["label"]}).json()["items"]
    assert similar[0]["point_id"] == points[0]["point_id"]  # a label is most like itself
    assert client.get("/api/point", params={"id": "nope"}).status_code == 404
    doc = client.get("/api/document", params={"id": point["mentions"][0]["doc_id"]}).json()
    assert any(s["kind"] == "point" and s["id"] == point["point_id"] for s in doc["spans"])
    assert client.get("/api/document", params={"id": "nope"}).status_code == 404
    assert client.get("/api/edge", params={"a": "x", "b": "y"}).status_code == 404
    assert client.get("/api/points?sort=evil").status_code == 422
    assert client.get("/api/points?limit=100000").status_code == 422
    assert client.get("/api/points?since=yesterday").status_code == 422
    assert client.get("/docs").status_code == 404  # its page would load a CDN
    page = client.get("/")
    assert '<script src="/static/app.js">' in page.text
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")


def test_serve_binds_loopback_unless_told(tmp_path: Path, analysed_seeds: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--db", str(analysed_seeds), "--host", "0.0.0.0"])
    assert result.exit_code != 0 and "--allow-remote" in result.output
    help_text = CliRunner().invoke(cli, ["serve", "--help"]).output
    assert "127.0.0.1" in help_text


def test_the_like_this_index_is_built_in_the_background(analysed_seeds: Path) -> None:
    """With another embedder than the one that filed the store's labels, ``chorus serve``
    starts embedding them at once; the first query finds them embedded."""
    import time

    import numpy as np

    class Counting:
        name, dim = "counting", 4
        calls = 0

        def embed(self, texts: list[str]) -> np.ndarray:
            Counting.calls += 1
            return np.array([[len(t), t.count("e"), t.count("a"), 1.0] for t in texts])

    app = create_app(analysed_seeds, similar_embedder=Counting(), warm_similar=True)
    deadline = time.monotonic() + 20
    while Counting.calls == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Counting.calls == 1  # the labels, before any request
    client = TestClient(app, base_url="http://127.0.0.1")
    items = client.get("/api/similar", params={"q": "a regime"}).json()["items"]
    assert items and Counting.calls == 2  # then only the query
