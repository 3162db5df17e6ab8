"""Web app latency under a bounded load, and the report's size and load time.

    python bench/serve_load.py [--db STORE] [--seconds 40] [--clients 4]

STORE defaults to the whole news corpus prepared by bench/coord_speed.py
(bench/out/coord_speed.duckdb; run that first), else the analysed seed corpus. ``chorus serve``
runs in its own process on loopback; a Python load generator (``--clients`` threads, each
request a random page of the main views) drives it for at most ``--seconds``; p50 and p99 are
reported per page. Anchor in the same run: the same views called in-process, no HTTP (the
ratio is what the app and HTTP add). Then the report: its size, and the time Chromium takes to
open it from disk and draw its overview and its network.
"""

from __future__ import annotations

import argparse
import logging
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine

DEFAULT_STORE = Path(__file__).parent / "out" / "coord_speed.duckdb"
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed_store(folder: Path) -> Path:
    import chorus
    from chorus.analyze import analyze
    from chorus.demo import seed_corpus_path
    from chorus.ingest import NoLanguageDetector

    path = folder / "seeds.duckdb"
    with chorus.open_store(path) as store:
        chorus.ingest_paths(store, [seed_corpus_path()], language_detector=NoLanguageDetector())
        analyze(store)
    return path


def _targets(db: Path) -> dict[str, list[str]]:
    """Per page: the request paths to draw from (real ids from the store)."""
    import chorus

    with chorus.open_store(db, read_only=True) as store:
        con = store.con
        points = [
            r[0]
            for r in con.execute(
                "SELECT point_id FROM points ORDER BY n_sources DESC, point_id LIMIT 200"
            ).fetchall()
        ]
        n_points = store.count("points")
        edges = con.execute(
            "SELECT source_a, source_b FROM source_edges ORDER BY q_value NULLS LAST, weight DESC "
            "LIMIT 200"
        ).fetchall()
        sources = [
            r[0]
            for r in con.execute(
                "SELECT source FROM documents GROUP BY source ORDER BY count(*) DESC LIMIT 200"
            ).fetchall()
        ]
    q = urllib.parse.quote
    words = ["election", "tax", "border security", "climate change", "health care"]
    pages = max(1, min(n_points, 100_000) // 50)
    return {
        "shell /": ["/"],
        "overview": ["/api/overview"],
        "points page": [f"/api/points?offset={50 * i}" for i in range(min(pages, 200))],
        "points by source": [f"/api/points?source={q(s)}" for s in sources[:50]],
        "point": [f"/api/point?id={q(p)}" for p in points],
        "network": ["/api/network?max_edges=500"],
        "edge evidence": [f"/api/edge?a={q(a)}&b={q(b)}" for a, b in edges],
        "source": [f"/api/source?name={q(s)}" for s in sources],
        "search words": [f"/api/search?q={q(w)}" for w in words],
        "similar": [f"/api/similar?q={q(w)}" for w in words],
    }


def _get(url: str, timeout: float = 60) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        response.read()
    return time.perf_counter() - start


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return pick(0.5) * 1000, pick(0.99) * 1000


def _load(
    base: str, targets: dict[str, list[str]], seconds: float, clients: int
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    names = sorted(targets)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop:
            name = rng.choice(names)
            elapsed = _get(base + rng.choice(targets[name]))
            with lock:
                timings[name].append(elapsed)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return timings


def _direct(db: Path, targets: dict[str, list[str]], per_page: int = 20) -> dict[str, list[float]]:
    """The anchor: the same views, in-process, no HTTP."""
    from fastapi.testclient import TestClient

    from chorus.serve import create_app

    # The test client's Host is "testserver": let it through, or every answer is a 400.
    client = TestClient(create_app(db, allowed_hosts=None))
    client.get("/api/similar?q=warm")  # the index is built once, as the server's was
    rng = random.Random(0)
    out: dict[str, list[float]] = defaultdict(list)
    for name, paths in sorted(targets.items()):
        for _ in range(per_page):
            path = rng.choice(paths)
            start = time.perf_counter()
            response = client.get(path)
            out[name].append(time.perf_counter() - start)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code} {response.text[:200]}")
    return out


def _report(db: Path, folder: Path) -> None:
    import chorus
    from chorus.report import write_report

    started = time.perf_counter()
    with chorus.open_store(db, read_only=True) as store:
        path = write_report(store, folder / "report.html")
    build = time.perf_counter() - started
    size = path.stat().st_size / 1e6
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        started = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector("main[data-ready=true]", state="attached", timeout=60000)
        opened = time.perf_counter() - started
        page.evaluate("document.getElementById('main').dataset.ready = ''")
        started = time.perf_counter()
        page.goto(path.as_uri() + "#/network")
        page.wait_for_selector("main[data-ready=true]", state="attached", timeout=60000)
        network = time.perf_counter() - started
        browser.close()
    print(
        f"report: {size:.1f} MB, written in {build:.1f} s; Chromium opens it and draws the "
        f"overview in {opened:.2f} s, the network in {network:.2f} s; targets: under 30 MB "
        f"{'met' if size < 30 else 'NOT met'}, opens under 5 s {'met' if opened < 5 else 'NOT met'}"
    )


def main() -> None:
    logging.disable(logging.INFO)  # the in-process anchor's HTTP client logs every request
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or (DEFAULT_STORE if DEFAULT_STORE.exists() else _seed_store(Path(tmp)))
        import chorus

        with chorus.open_store(db, read_only=True) as store:
            size = f"{store.count('documents'):,} documents, {store.count('points'):,} points"
        print(f"# serve load: {db.name} ({size}), {args.clients} clients, {args.seconds:.0f} s")
        print(f"# machine: {machine()}")
        targets = _targets(db)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "chorus", "serve", "--db", str(db), "--port", str(port)],
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        launched = time.monotonic()
        try:
            # The app copies the store at start (it serves the copy, leaving the store free
            # for updates): seconds for a store of gigabytes.
            deadline = launched + 300
            while True:
                try:
                    _get(base + "/api/overview")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            print(
                "app answers (after copying the store to serve it): "
                f"{time.monotonic() - launched:.1f} s after launch"
            )
            # The server starts building it at launch; this waits for the rest.
            first_similar = _get(base + "/api/similar?q=warm", timeout=600)
            print(
                "first 'like this' query (waits for the index the server reads at start): "
                f"{first_similar:.1f} s"
            )
            timings = _load(base, targets, args.seconds, args.clients)
        finally:
            server.terminate()
            server.wait(timeout=30)
        direct = _direct(db, targets)
        total = sum(len(v) for v in timings.values())
        print(f"{total:,} requests, {total / args.seconds:.1f}/s")
        print(
            f"{'page':20} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'in-process p50':>15} {'ratio':>6}"
        )
        worst50, worst99 = 0.0, 0.0
        for name in sorted(timings):
            p50, p99 = _percentiles(timings[name])
            d50, _ = _percentiles(direct[name])
            worst50, worst99 = max(worst50, p50), max(worst99, p99)
            print(
                f"{name:20} {len(timings[name]):6} {p50:9.1f} {p99:9.1f} {d50:15.1f} "
                f"{p50 / d50:6.2f}"
            )
        print(
            f"slowest page: p50 {worst50:.1f} ms, p99 {worst99:.1f} ms; targets: p50 under "
            f"100 ms {'met' if worst50 < 100 else 'NOT met'}, p99 under 300 ms "
            f"{'met' if worst99 < 300 else 'NOT met'}"
        )
        _report(db, Path(tmp))


if __name__ == "__main__":
    main()
