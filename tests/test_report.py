from __future__ import annotations

import json
from pathlib import Path

from chorus.ingest import ingest_paths
from chorus.report import write_report
from chorus.store import Store

from .conftest import write_jsonl

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def test_report_escapes_hostile_text(tmp_path: Path, store: Store) -> None:
    row = {
        "id": PAYLOAD,
        "source": PAYLOAD,
        "title": PAYLOAD,
        "url": "javascript:alert(3)",
        "text": f"Hostile text {PAYLOAD}. Another sentence.",
    }
    ingest_paths(store, [write_jsonl(tmp_path / "x.jsonl", [json.dumps(row)])])
    html = write_report(store, tmp_path / "r.html").read_text()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert "javascript:" not in html
    assert "default-src 'none'" in html  # CSP: no script runs even if something slipped through


def test_report_lists_reuse_escaped(tmp_path: Path, store: Store) -> None:
    from chorus.reuse import find_reuse

    shared = (
        f"{PAYLOAD} The committee voted late on Thursday to send the measure to the full "
        "chamber where leaders expect a close vote after weeks of negotiation over spending"
    )
    rows = [
        json.dumps({"id": f"d{i}", "source": f"{PAYLOAD}{i}", "text": f"Intro {i}. {shared}."})
        for i in range(2)
    ]
    ingest_paths(store, [write_jsonl(tmp_path / "x.jsonl", rows)])
    find_reuse(store)
    html = write_report(store, tmp_path / "r.html").read_text()
    assert "Copied passages" in html and "The committee voted" in html
    assert "<script>" not in html and "<img" not in html


def test_report_lists_points_and_watchlists_escaped(tmp_path: Path, store: Store) -> None:
    from chorus.match import WatchItem, add_watchlist, find_watch_hits
    from chorus.points import PointsSettings, find_points

    claim = "the new dam will flood twelve villages along the river valley next spring"
    rows = [
        json.dumps(
            {
                "id": f"d{i}",
                "source": f"{PAYLOAD}{i}",
                "text": f"Officials spoke on Monday. {PAYLOAD} Critics say {claim}.",
            }
        )
        for i in range(3)
    ]
    ingest_paths(store, [write_jsonl(tmp_path / "x.jsonl", rows)])
    find_points(store, settings=PointsSettings(model="hashing"))
    add_watchlist(store, PAYLOAD, [WatchItem(PAYLOAD, f"The dam floods villages {PAYLOAD}")])
    find_watch_hits(store, PAYLOAD)
    html = write_report(store, tmp_path / "r.html").read_text()
    assert "Talking points" in html and "Watchlists" in html and "twelve villages" in html
    assert "<script>" not in html and "<img" not in html


def test_report_shows_the_network_with_evidence_escaped(tmp_path: Path, store: Store) -> None:
    from chorus.coord import CoordSettings, find_coordination
    from chorus.reuse import find_reuse

    shared = (
        f"{PAYLOAD} The committee voted late on Thursday to send the measure to the full "
        "chamber where leaders expect a close vote after weeks of negotiation over spending"
    )
    rows = [
        json.dumps({"id": f"d{i}", "source": f"{PAYLOAD}{i}", "text": f"Intro {i}. {shared}."})
        for i in range(2)
    ]
    ingest_paths(store, [write_jsonl(tmp_path / "x.jsonl", rows)])
    find_reuse(store)
    find_coordination(store, settings=CoordSettings(min_objects=1))
    html = write_report(store, tmp_path / "r.html").read_text()
    assert "Coordination network" in html and "No time window" in html
    assert "characters" in html and "The committee voted" in html
    assert "<script>" not in html and "<img" not in html
