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
