"""The report and the web app in real headless Chromium (Debian's package, driven by
Playwright): they load without console errors, the graph draws, an edge click shows its
evidence, search answers, and a corpus full of script payloads runs none of them.
Screenshots go to a temp folder (printed with -s)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from chorus.report import write_report
from chorus.store import open_store

from .conftest import HOSTILE

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"screenshots: {folder}")
    return folder


class Page:
    """A page that records console errors, page errors and dialogs."""

    def __init__(self, browser: Any, base: str, shots: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.base, self.shots = base, shots
        self.errors: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))

    def show(self, fragment: str, shot: str | None = None) -> Any:
        # The page marks <main data-ready> when a view is drawn: clear it, then go.
        self.page.evaluate(
            "() => { const m = document.getElementById('main'); if (m) m.dataset.ready = ''; }"
        )
        self.page.goto(self.base + fragment)
        self.page.wait_for_selector("main[data-ready=true]", state="attached", timeout=15000)
        if shot:
            self.page.screenshot(path=str(self.shots / f"{shot}.png"), full_page=True)
        return self.page

    def pwned(self) -> Any:
        return self.page.evaluate("window.__pwned")


@pytest.fixture(scope="module")
def seed_report(analysed_seeds: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    with open_store(analysed_seeds, read_only=True) as store:
        path = write_report(store, tmp_path_factory.mktemp("report") / "report.html")
    return path.as_uri()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def serve_url(analysed_seeds: Path) -> Iterator[str]:
    yield from _serve(analysed_seeds)


def _serve(db: Path) -> Iterator[str]:
    import uvicorn

    from chorus.serve import create_app

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


def _network_and_evidence(page: Page, prefix: str) -> None:
    p = page.show("#/network", f"{prefix}-network")
    edges = p.locator("svg.graph g.edge")
    assert edges.count() >= 4  # the five seed sources are joined
    assert p.locator("svg.graph g.node").count() == 5
    edges.first.click()
    p.wait_for_selector("#evidence h3.edge-title")
    rows = p.locator("#evidence table tr")
    assert rows.count() >= 3  # a header and the edge's objects
    evidence = p.locator("#evidence").inner_text()
    assert "characters" in evidence
    # Each object is named and one click from its point or passage.
    assert "talking point" in evidence
    assert p.locator("#evidence table a[href^='#/point/']").count() >= 1
    # The seeds' edges are none of them significant: the caption says so, not "beyond chance".
    caption = p.locator("main").inner_text()
    assert "No edge is significant" in caption and "beyond chance" not in caption
    assert "Solid edges are significant" in caption
    p.screenshot(path=str(page.shots / f"{prefix}-edge-evidence.png"), full_page=True)


def _search_pages(page: Page, store_path: Path, prefix: str) -> None:
    """A query with more hits than a page: the count is the word index's, a word's start is
    marked in every hit, and "next" shows the next page."""
    from chorus.search import search_sentences

    with open_store(store_path, read_only=True) as store:
        expected = search_sentences(store, "the", limit=1000)
    assert expected.total > 50
    p = page.show("#/search?q=The&mode=text", f"{prefix}-search-paged")
    _reads_cleanly(p)
    said = p.locator("p.results").inner_text()
    assert said.startswith(f"{expected.total} sentences with a word beginning the"), said
    assert p.locator("div.mention").count() == 50
    assert p.locator("div.mention").nth(0).locator("mark").count() >= 1
    first = p.locator("div.mention blockquote").first.inner_text()
    assert first == expected.hits[0].text
    p.locator("p.pager button", has_text="next").click()
    p.wait_for_function("() => location.hash.includes('offset=50')")
    p.wait_for_selector("p.pager:has-text('51–')")
    assert p.locator("div.mention").count() == min(50, expected.total - 50)
    assert p.locator("div.mention blockquote").first.inner_text() == expected.hits[50].text
    # "them" holds "the"; "syntax" does not hold "tax" at a word's start.
    marks = p.locator("div.mention mark").all_inner_texts()
    assert marks and all(m.lower() == "the" for m in marks)


def test_report_in_chromium(
    browser: Any, seed_report: str, shots: Path, analysed_seeds: Path
) -> None:
    page = Page(browser, seed_report, shots)
    p = page.show("#/", "report-overview")
    text = p.locator("main").inner_text()
    assert "talking points" in text.lower()
    # The first screen is what was found, and it names no origin the dates cannot support.
    assert text.startswith("What was found")
    assert "earliest dated; 3 documents undated" in text and "started by" not in text
    p = page.show("#/points", "report-points")
    assert p.locator("table.points tr").count() > 10
    # Listed by score by default, each row showing it.
    assert p.locator("table.points th a.sorted").inner_text() == "score"
    # Every seed point is loose: said in other words, not restated sentence for sentence.
    assert p.locator("table.points tr").nth(1).locator("td").nth(1).inner_text() == "loose"
    p.locator("table.points th a", has_text="first seen").click()
    p.wait_for_selector("th a.sorted")
    first = p.locator("table.points tr").nth(1).locator("a").first
    first.click()
    p.wait_for_selector("div.mention mark")
    p.screenshot(path=str(shots / "report-point.png"), full_page=True)
    # Keyphrases are said to be what they are: words the point's sentences share.
    said = [t for t in p.locator("main p").all_inner_texts() if "share" in t]
    assert said and said[0].startswith("Words its sentences share: "), said
    _network_and_evidence(page, "report")
    # Four of the five seeds are undated: where no mention is dated, no origin is named.
    p = page.show("#/points")
    undated = p.locator("table.points td", has_text="unknown (undated)")
    assert undated.count() >= 1
    undated.first.locator("xpath=..").locator("a").first.click()
    p.wait_for_selector("div.mention")
    assert "which document came first is unknown" in p.locator("main").inner_text()
    assert " 1 documents" not in p.locator("main").inner_text()
    # A mention opens its document: the whole text, its points and passages marked.
    p = page.show("#/points")
    p.locator("table.points tr").nth(1).locator("a").first.click()
    p.wait_for_selector("div.mention")
    p.locator("div.mention a[href^='#/document/']").first.click()
    p.wait_for_selector("div.doctext a.span.pt")
    p.screenshot(path=str(shots / "report-document.png"), full_page=True)
    _reads_cleanly(p)
    assert p.locator("div.doctext a.span.pt").count() >= 3
    marked = p.locator("div.doctext a.span.pt").first
    marked.click()
    p.wait_for_selector("blockquote.label")
    p = page.show("#/search?q=uprising", "report-search")
    assert p.locator("div.mention").count() >= 1
    # Search reads every sentence, not only those inside talking points, marks the words
    # and links each hit to its document.
    p = page.show("#/search?q=execution", "report-search-any-sentence")
    assert p.locator("div.mention").count() >= 1
    assert p.locator("div.mention mark").first.inner_text().lower() == "execution"
    assert p.locator("div.mention a[href^='#/document/']").count() >= 1
    _reads_cleanly(p)
    _search_pages(page, analysed_seeds, "report")
    # The copied-passages tabs are links, and the footer two seeds share is one click away.
    p = page.show("#/reuse/reuse", "report-copies")
    _reads_cleanly(p)
    p.locator("main a", has_text="boilerplate").first.click()
    p.wait_for_function("() => location.hash === '#/reuse/boilerplate'")
    p.wait_for_selector("main[data-ready=true] table tr >> nth=1")
    p.screenshot(path=str(shots / "report-copies-boilerplate.png"), full_page=True)
    _reads_cleanly(p)
    for view in ("#/", "#/points", "#/network", "#/sources", "#/reuse/syndication"):
        _reads_cleanly(page.show(view))
    # On a phone-sized window the points table wraps instead of running off the page.
    p.set_viewport_size({"width": 420, "height": 800})
    p = page.show("#/points", "report-points-narrow")
    overflow = p.evaluate("() => document.querySelector('table.points').scrollWidth")
    assert overflow <= 420, overflow
    p.set_viewport_size({"width": 1280, "height": 900})
    assert page.errors == []


def _reads_cleanly(p: Any) -> None:
    """No view shows a JavaScript value where text belongs."""
    text = p.locator("main").inner_text()
    for bad in ("[object", "undefined", "NaN"):
        assert bad not in text, f"{bad!r} on the page: {text[:300]!r}"


def test_app_in_chromium(browser: Any, serve_url: str, shots: Path, analysed_seeds: Path) -> None:
    page = Page(browser, serve_url, shots)
    page.show("#/", "app-overview")
    _network_and_evidence(page, "app")
    p = page.show("#/search?q=uprising&mode=text", "app-search")
    assert p.locator("div.mention").count() >= 1
    p = page.show("#/search?" + "q=" + quote("the regime silences its opponents") + "&mode=like")
    assert p.locator("div.similar").count() >= 1 and p.locator("div.similar blockquote").count()
    p = page.show("#/points?source=001_3446158c2f518966", "app-points-filtered")
    assert p.locator("table.points tr").count() >= 2
    # Every tab, the copies tabs and a document, with no JavaScript value where text belongs.
    for view in (
        "#/",
        "#/points",
        "#/reuse/reuse",
        "#/reuse/syndication",
        "#/reuse/boilerplate",
        "#/network",
        "#/sources",
        "#/watchlists",
    ):
        _reads_cleanly(page.show(view))
    _search_pages(page, analysed_seeds, "app")
    p = page.show("#/search?q=execution&mode=text")
    _reads_cleanly(p)
    p.locator("div.mention a[href^='#/document/']").first.click()
    p.wait_for_selector("div.doctext")
    p.screenshot(path=str(shots / "app-document.png"), full_page=True)
    _reads_cleanly(p)
    assert page.errors == []


def test_app_follows_an_old_point_id(
    browser: Any, analysed_seeds: Path, shots: Path, tmp_path: Path
) -> None:
    """A link kept to a point that merged and then dissolved shows its history and leads
    to the live point; an id nothing recorded is still "No such talking point"."""
    import datetime as dt
    import shutil

    path = tmp_path / "s.duckdb"
    shutil.copyfile(analysed_seeds, path)
    with open_store(path) as store:
        live = store.con.execute("SELECT point_id FROM points LIMIT 1").fetchall()[0][0]
        day = dt.datetime(2026, 1, 2)
        store.con.executemany(
            "INSERT INTO point_lineage VALUES (?, ?, ?, ?)",
            [
                (day, "tp_old", "merged", "tp_mid"),
                (day + dt.timedelta(days=1), "tp_mid", "dissolved", live),
            ],
        )
    page = Page(browser, next(_serve(path)), shots)
    p = page.show("#/point/tp_old", "app-point-history")
    assert p.locator("h2").first.inner_text() == "Talking point no longer in the store"
    assert p.locator("main ol li").count() == 2
    assert "dissolved" in p.locator("main ol").inner_text()
    assert p.locator(f"main a[href='#/point/{live}']").count() == 2
    _reads_cleanly(p)
    p = page.show("#/point/tp_never")
    assert p.locator("h2").first.inner_text() == "No such talking point"
    # The only errors are the browser's own lines for the 404s the lookups answer.
    assert page.errors and all("status of 404" in e for e in page.errors)


@pytest.mark.parametrize("mode", ["report", "app"])
def test_hostile_corpus_runs_no_script(
    browser: Any, hostile_store: Path, shots: Path, tmp_path: Path, mode: str
) -> None:
    with open_store(hostile_store, read_only=True) as store:
        point = store.con.execute("SELECT point_id FROM points LIMIT 1").fetchall()[0][0]
        cluster = store.con.execute("SELECT cluster_id FROM reuse_clusters LIMIT 1").fetchall()[0][
            0
        ]
        kind = store.con.execute("SELECT kind FROM reuse_clusters LIMIT 1").fetchall()[0][0]
        quoted = store.con.execute(
            "SELECT doc_id FROM mentions WHERE point_id = ? ORDER BY doc_id LIMIT 1", [point]
        ).fetchall()[0][0]
        assert store.count("source_edges") > 0
        if mode == "report":
            bases: Iterator[str] = iter([write_report(store, tmp_path / "r.html").as_uri()])
    if mode == "app":
        bases = _serve(hostile_store)
    base = next(bases)
    page = Page(browser, base, shots)
    fragments = [
        "#/",
        "#/points",
        f"#/point/{quote(point, safe='')}",
        f"#/reuse/{kind}",
        f"#/cluster/{quote(cluster, safe='')}",
        "#/sources",
        f"#/source/{quote(HOSTILE + 'site0', safe='')}",
        "#/search?q=committee",
        f"#/document/{quote(quoted, safe='')}",
        "#/reuse/reuse",
        "#/reuse/syndication",
        "#/reuse/boilerplate",
        "#/network",
        "#/watchlists",
    ]
    for i, fragment in enumerate(fragments):
        p = page.show(fragment, f"hostile-{mode}-{i}")
        assert page.pwned() is None, fragment
    # Search for the payload itself: its words are marked, as text, and its document opens.
    p = page.show("#/search?q=" + quote("window pwned onerror") + "&mode=text", f"hostile-{mode}-s")
    assert p.locator("div.mention mark").count() >= 3
    assert "window" in p.locator("div.mention mark").first.inner_text().lower()
    p.locator("div.mention a[href^='#/document/']").first.click()
    p.wait_for_selector("div.doctext")
    assert page.pwned() is None
    _reads_cleanly(p)
    p = page.show(f"#/source/{quote(HOSTILE + 'site0', safe='')}")
    assert HOSTILE + "site0" in p.locator("main h2").inner_text()  # shown as text
    _hostile_edge(page, mode)
    assert page.pwned() is None
    assert p.locator("a[href^='javascript']").count() == 0
    assert page.errors == []
    for _ in bases:  # stop the server
        pass


def _hostile_edge(page: Page, mode: str) -> None:
    p = page.show("#/network", f"hostile-{mode}-network")
    # A level line has a zero-height box, which Playwright calls invisible; its 12 px hit
    # stroke is what a user clicks.
    p.locator("svg.graph g.edge").first.click(force=True)
    p.wait_for_selector("#evidence h3.edge-title")
    assert "window.__pwned" in p.locator("#evidence").inner_text()


@pytest.fixture(scope="module")
def two_batches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds analysed in two batches, the second with a copy from a new outlet."""
    import json

    from chorus.analyze import analyze
    from chorus.ingest import NoLanguageDetector, ingest_paths

    from .conftest import SEEDS, write_jsonl

    folder = tmp_path_factory.mktemp("daily")
    rows = SEEDS.read_text(encoding="utf-8").splitlines()
    copy = {**json.loads(rows[0]), "id": "copy-of-000", "source": "new-outlet.example"}
    path = folder / "daily.duckdb"
    with open_store(path) as store:
        for name, batch in (("a", rows[:3]), ("b", [*rows[3:], json.dumps(copy)])):
            ingest_paths(
                store,
                [write_jsonl(folder / f"{name}.jsonl", batch)],
                language_detector=NoLanguageDetector(),
            )
            analyze(store)
    return path


def test_new_since_in_chromium(
    browser: Any, two_batches: Path, shots: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The "new since" view in the report and the app lists what the second analysis
    changed, as chorus changes does, each row one click from its evidence."""
    from chorus.changes import read_changes

    with open_store(two_batches, read_only=True) as store:
        changed = read_changes(store)
        report = write_report(store, tmp_path_factory.mktemp("daily-report") / "r.html")
    n_new = sum(p.change == "new" for p in changed.points)
    assert n_new and changed.passages
    for prefix, base in (("report", report.as_uri()), ("app", None)):
        if base is None:
            served = _serve(two_batches)
            base = next(served)
        page = Page(browser, base, shots)
        p = page.show("#/changes", f"{prefix}-new-since")
        _reads_cleanly(p)
        text = p.locator("main").inner_text()
        assert text.startswith("New since analysis 1"), text[:200]
        tables = p.locator("main table")
        assert tables.nth(0).locator("tr").count() == n_new + 1
        assert p.locator("main a[href^='#/point/']").count() >= n_new
        assert p.locator("main a[href='#/document/copy-of-000']").count() >= 1
        p.locator("main a[href^='#/cluster/']").first.click()
        p.wait_for_selector("main[data-ready=true]")
        assert not page.errors, page.errors
        if prefix == "app":
            next(served, None)


def test_a_point_across_languages_in_chromium(
    browser: Any, shots: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A talking point stated in four languages: each mention says its language, and the
    Persian and Arabic sentences read right to left."""
    import json

    from chorus.analyze import analyze
    from chorus.ingest import ingest_paths
    from chorus.match import MatchSettings, WatchItem, add_watchlist, run_watch

    from .conftest import write_jsonl
    from .test_multilingual import CLAIM, OTHERS

    folder = tmp_path_factory.mktemp("languages")
    lines = [
        json.dumps({"id": f"{lang}-1", "source": f"{lang}.example", "text": " ".join([c, *o])})
        for (lang, c), o in zip(CLAIM.items(), OTHERS.values(), strict=True)
    ]
    with open_store(folder / "x.duckdb") as store:
        ingest_paths(store, [write_jsonl(folder / "x.jsonl", lines)])
        analyze(store)
        (point,) = store.con.execute("SELECT point_id FROM points").fetchall()[0]
        add_watchlist(store, "executions", [WatchItem("1988", CLAIM["en"])])
        run_watch(store, "executions", settings=MatchSettings(min_score=0.7))
        hit_langs = sorted(
            lang
            for (lang,) in store.con.execute(
                "SELECT DISTINCT d.lang FROM watch_hits h JOIN documents d USING (doc_id)"
            ).fetchall()
        )
        report = write_report(store, folder / "r.html")
    page = Page(browser, report.as_uri(), shots)
    p = page.show(f"#/point/{quote(point, safe='')}", "report-point-four-languages")
    _reads_cleanly(p)
    heads = p.locator("main .mention > div:first-child").all_inner_texts()
    assert sorted(h.split(" · ")[3] for h in heads) == ["ar", "en", "fa", "fr"], heads
    assert p.locator("main .mention blockquote[dir=auto]").count() == 4
    assert not page.errors, page.errors
    # The watchlists view names the languages the item is found in.
    p = page.show("#/watchlists", "report-watchlist-languages")
    row = p.locator("main table").first.locator("tr").nth(1).locator("td").all_inner_texts()
    assert len(hit_langs) > 1 and row[4] == ", ".join(hit_langs), row
    # Its two tables each stand under their own heading.
    assert p.locator("main h4").all_inner_texts() == [
        "Items, and where they are found",
        "Sources whose documents match an item",
    ]
    assert not page.errors, page.errors
