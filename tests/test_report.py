"""The report file: self-contained, its own script allowed by hash and nothing else, every
value from the corpus carried as data (never markup), bounded in size. How it behaves in a
browser is tested in test_browser.py."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import unescape
from pathlib import Path

from chorus.ingest import ingest_paths
from chorus.report import ReportLimits, report_data, write_report
from chorus.store import Store, open_store

from .conftest import write_jsonl

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def _data(html: str) -> dict[str, object]:
    block = re.search(r'<script type="application/json" id="chorus-data">(.*?)</script>', html)
    assert block is not None
    parsed: dict[str, object] = json.loads(block.group(1))
    return parsed


def test_report_carries_hostile_text_as_data_only(tmp_path: Path, store: Store) -> None:
    row = {
        "id": PAYLOAD,
        "source": PAYLOAD,
        "title": PAYLOAD,
        "url": "javascript:alert(3)",
        "text": f"Hostile text {PAYLOAD}. Another sentence.",
    }
    ingest_paths(store, [write_jsonl(tmp_path / "x.jsonl", [json.dumps(row)])])
    html = write_report(store, tmp_path / "r.html").read_text()
    assert PAYLOAD not in html and "<img" not in html and "javascript:" not in html
    assert _data(html)["sources"]["items"][0]["source"] == PAYLOAD  # type: ignore[index]
    # Exactly two script elements: the data (not run) and the app, allowed by its hash.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert [attrs for attrs, _ in scripts] == [' type="application/json" id="chorus-data"', ""]
    digest = hashlib.sha256(scripts[1][1].encode()).digest()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    assert csp is not None
    policy = unescape(csp.group(1))
    assert f"script-src 'sha256-{base64.b64encode(digest).decode()}'" in policy
    assert "unsafe-inline" not in policy and "default-src 'none'" in policy
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing fetched


def test_report_holds_every_view(tmp_path: Path, analysed_seeds: Path) -> None:
    with open_store(analysed_seeds, read_only=True) as store:
        data = report_data(store)
        n_points = store.count("points")
    assert len(data["points"]) == n_points == len(data["point_detail"])
    assert set(data["reuse"]) == {"reuse", "syndication", "boilerplate"}
    assert len(data["edge_detail"]) == len(data["network"]["edges"]) == 9
    assert len(data["source_detail"]) == 5
    assert data["heatmap"]["cells"] and data["timeline"]["points"]


def test_report_limits_bound_it(tmp_path: Path, analysed_seeds: Path) -> None:
    limits = ReportLimits(points=3, mentions=1, edges=2, evidence=1, sources=2, source_details=1)
    with open_store(analysed_seeds, read_only=True) as store:
        data = report_data(store, limits=limits)
    assert len(data["points"]) == 3 and data["partial"]["points"]
    assert all(len(p["mentions"]) == 1 for p in data["point_detail"].values())
    assert len(data["network"]["edges"]) == 2
    assert all(len(e["evidence"]) == 1 for e in data["edge_detail"].values())


def test_report_includes_watchlists(tmp_path: Path, store: Store) -> None:
    from chorus.match import WatchItem, add_watchlist, find_watch_hits
    from chorus.points import PointsSettings, find_points

    claim = "the new dam will flood twelve villages along the river valley next spring"
    rows = [
        json.dumps({"id": f"d{i}", "source": f"s{i}", "text": f"Critics say {claim}."})
        for i in range(3)
    ]
    ingest_paths(store, [write_jsonl(tmp_path / "x.jsonl", rows)])
    find_points(store, settings=PointsSettings(model="hashing"))
    add_watchlist(store, "dams", [WatchItem("w1", "The dam floods villages")])
    find_watch_hits(store, "dams")
    data = _data(write_report(store, tmp_path / "r.html").read_text())
    (watchlist,) = data["watchlists"]["watchlists"]  # type: ignore[index]
    assert watchlist["name"] == "dams" and watchlist["items"]


def test_the_script_is_every_part_once_and_never_writes_html() -> None:
    """The report and the app run the parts of static/app/ joined in one scope: every file
    there is a part (none forgotten), and none turns text into HTML (corpus text is
    hostile: it reaches the page through textContent and attribute setters only)."""
    from importlib import resources

    from chorus.report.html import SCRIPT_PARTS, app_script

    folder = resources.files("chorus.report") / "static" / "app"
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".js")) == sorted(
        SCRIPT_PARTS
    )
    script = app_script()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
    assert script.count("(function () {") == 1 and script.rstrip().endswith("})();")
