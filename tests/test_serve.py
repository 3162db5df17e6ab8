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


def test_every_api_response_is_described_and_is_the_view_itself(
    analysed_seeds: Path, tmp_path: Path
) -> None:
    """/openapi.json gives every API path a response schema (the records of chorus.views),
    and what the app sends is the view as the library returns it: nothing dropped or
    coerced on the way through the response model."""
    import json
    import shutil

    from chorus import open_store, views
    from chorus.match import MatchSettings, add_watchlist, find_watch_hits, read_watchlist

    path = tmp_path / "seeds.duckdb"
    shutil.copy(analysed_seeds, path)
    listing = tmp_path / "claims.txt"
    listing.write_text("the regime executes protesters\nsanctions on Iran\n", encoding="utf-8")
    with open_store(path) as store:
        add_watchlist(store, "w", read_watchlist(listing))
        find_watch_hits(store, "w", settings=MatchSettings(model="hashing", min_score=0.0))
    client = TestClient(create_app(path), base_url="http://127.0.0.1")
    spec = client.get("/openapi.json").json()
    for route, methods in spec["paths"].items():
        content = methods["get"]["responses"]["200"]["content"]["application/json"]
        assert content["schema"].get("$ref"), route
    with open_store(path, read_only=True) as store:
        point = store.con.execute("SELECT point_id FROM points ORDER BY point_id").fetchall()[0][0]
        doc = store.con.execute("SELECT min(doc_id) FROM documents").fetchall()[0][0]
        source = store.con.execute("SELECT min(source) FROM documents").fetchall()[0][0]
        cluster = store.con.execute("SELECT min(cluster_id) FROM reuse_clusters").fetchall()[0][0]
        a, b = store.con.execute("SELECT source_a, source_b FROM source_edges").fetchall()[0]
        pairs = [
            ("/api/overview", views.overview(store)),
            ("/api/points?limit=5", views.points_page(store, limit=5)),
            (f"/api/point?id={point}", views.point_detail(store, point, limit=100)),
            (f"/api/document?id={doc}", views.document_detail(store, doc)),
            ("/api/reuse?kind=boilerplate", views.reuse_page(store, kind="boilerplate")),
            (f"/api/cluster?id={cluster}", views.reuse_detail(store, cluster)),
            ("/api/network", views.network(store)),
            (f"/api/edge?a={a}&b={b}", views.edge_detail(store, a, b)),
            ("/api/sources", views.sources_page(store)),
            (f"/api/source?name={source}", views.source_detail(store, source)),
            ("/api/heatmap", views.heatmap(store)),
            ("/api/timeline", views.timeline(store)),
            ("/api/watchlists", views.watchlists(store)),
            ("/api/search?q=regime", views.search_sentences(store, "regime")),
        ]
    assert pairs[-2][1]["watchlists"][0]["items"]  # a matched list, items and all
    for route, view in pairs:
        assert client.get(route).json() == json.loads(json.dumps(view)), route


def test_the_app_reads_a_snapshot_and_moves_to_each_published_update(
    analysed_seeds: Path, tmp_path: Path
) -> None:
    """`chorus serve` leaves the store free for ingest and analyze: it reads a copy, and
    moves to the copy a finished update publishes; it never reads a half-made update."""
    import shutil
    import time

    from chorus.errors import ChorusError
    from chorus.match import WatchItem, add_watchlist
    from chorus.store import open_store
    from chorus.store.snapshots import latest_snapshot, publish, snapshot_dir

    db = tmp_path / "daily.duckdb"
    shutil.copyfile(analysed_seeds, db)
    app = create_app(db, follow_updates=True, poll_seconds=3600)
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    try:
        assert latest_snapshot(db) is not None
        assert client.get("/api/watchlists").json()["watchlists"] == []
        # The store itself is free: a writer opens it while the app runs.
        with open_store(db) as store:
            add_watchlist(store, "daily", [WatchItem("a", "The regime executed prisoners.")])
            # Not published yet: the app still reads the last whole state.
            assert not app.state.served.refresh()
        assert client.get("/api/watchlists").json()["watchlists"] == []
        snapshot = publish(db)  # this process serves the store, so the update is published
        assert snapshot is not None and snapshot.number == 2
        assert app.state.served.refresh()
        names = [w["name"] for w in client.get("/api/watchlists").json()["watchlists"]]
        assert names == ["daily"]
        # A command that updates the store publishes for the app by itself, and the app's
        # own thread moves to it.
        watchlist = tmp_path / "w.txt"
        watchlist.write_text("The regime executed prisoners.\n", encoding="utf-8")
        out = CliRunner().invoke(
            cli, ["watch", "add", "--db", str(db), str(watchlist), "--name", "second"]
        )
        assert out.exit_code == 0 and "snapshot 3" in out.stderr, out.output
    finally:
        app.state.served.close()
    # Closed: its marker and its snapshots are gone.
    assert not any(snapshot_dir(db).iterdir())
    # A store a writer holds, with no snapshot yet, cannot be served; with one, it can.
    with open_store(db), pytest.raises(ChorusError, match="being written by another process"):
        create_app(db, follow_updates=True)
    publish(db, force=True)
    with open_store(db):
        app = create_app(db, follow_updates=True, poll_seconds=0.1)
        try:
            first = app.state.served.current().number
            publish(db)
            deadline = time.monotonic() + 20
            while app.state.served.current().number == first and time.monotonic() < deadline:
                time.sleep(0.05)
            assert app.state.served.current().number == first + 1
        finally:
            app.state.served.close()


def test_an_id_no_point_has_leads_where_its_lineage_says(
    analysed_seeds: Path, tmp_path: Path
) -> None:
    """A link kept to a point that merged, then dissolved, is followed to the live point; one
    whose sentences became boilerplate to that cluster; a gone one to nothing; an id with no
    record and a live point's id are 404s."""
    import datetime as dt
    import shutil

    from chorus.store import open_store

    path = tmp_path / "s.duckdb"
    shutil.copyfile(analysed_seeds, path)
    with open_store(path) as store:
        live, label = store.con.execute("SELECT point_id, label FROM points LIMIT 1").fetchone()
        cluster = store.con.execute("SELECT cluster_id FROM reuse_clusters LIMIT 1").fetchone()[0]
        day = dt.datetime(2026, 1, 2)
        store.con.executemany(
            "INSERT INTO point_lineage VALUES (?, ?, ?, ?)",
            [
                (day, "tp_old", "merged", "tp_mid"),
                (day + dt.timedelta(days=1), "tp_mid", "dissolved", live),
                (day, "tp_copy", "boilerplate", cluster),
                (day, "tp_left", "gone", None),
                (day, "tp_a", "merged", "tp_b"),
                (day, "tp_b", "merged", "tp_a"),
            ],
        )
    client = TestClient(create_app(path), base_url="http://127.0.0.1")
    old = client.get("/api/lineage", params={"id": "tp_old"}).json()
    assert [(s["point_id"], s["event"], s["other_id"]) for s in old["steps"]] == [
        ("tp_old", "merged", "tp_mid"),
        ("tp_mid", "dissolved", live),
    ]
    assert (old["live_kind"], old["live_id"], old["live_label"]) == ("point", live, label)
    copy = client.get("/api/lineage", params={"id": "tp_copy"}).json()
    assert (copy["live_kind"], copy["live_id"]) == ("cluster", cluster)
    left = client.get("/api/lineage", params={"id": "tp_left"}).json()
    assert left["live_id"] is None and left["steps"][0]["event"] == "gone"
    loop = client.get("/api/lineage", params={"id": "tp_a"}).json()
    assert loop["live_id"] is None and len(loop["steps"]) == 2
    for unknown in ("tp_never", live):
        assert client.get("/api/lineage", params={"id": unknown}).status_code == 404
