"""The web app: the report's views over the live store, plus search, filters and a JSON API
(OpenAPI at ``/openapi.json``).

The store is opened read-only (``chorus serve``: a snapshot of it, replaced by the newest
once a command that updated the store publishes one); each worker thread reads through its
own cursor. Pages are the
report's own script, served from this app only: the Content-Security-Policy allows no other
script, style or connection, and no page loads anything from elsewhere (FastAPI's interactive
docs, which load from a CDN, are off).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from chorus import __version__, views
from chorus.embed.models import Embedder
from chorus.errors import ChorusError
from chorus.points.pages import POINT_SORTS
from chorus.report.html import app_script, page_shell, static_text
from chorus.serve.generations import ServedStore
from chorus.store import Store
from chorus.views.records import (
    ChangesView,
    DocumentDetail,
    EdgeDetail,
    Heatmap,
    Network,
    Overview,
    PointDetail,
    PointHistory,
    PointsPage,
    ReuseDetail,
    ReusePage,
    SearchPage,
    SimilarItem,
    SimilarPage,
    SourceDetail,
    SourcesPage,
    Timeline,
    Watchlists,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_MAX_PAGE = 500
# An offset past any table, and small enough for DuckDB's BIGINT.
_MAX_OFFSET = 10**12
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
_SORTS = "^(" + "|".join(POINT_SORTS) + ")$"


def host_name(header: str) -> str:
    """The host of a ``Host`` header, without its port, lower-cased (``[::1]:8000`` → ``::1``).

    >>> host_name("LocalHost:8000"), host_name("[::1]:8000"), host_name("127.0.0.1")
    ('localhost', '::1', '127.0.0.1')
    """
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def create_app(
    db: str | Path,
    *,
    similar_embedder: Embedder | None = None,
    allowed_hosts: tuple[str, ...] | None = LOOPBACK_NAMES,
    warm_similar: bool = False,
    follow_updates: bool = False,
    poll_seconds: float = 2.0,
) -> Any:
    """A FastAPI app over the store at ``db`` (opened read-only for the app's lifetime; with
    ``follow_updates``, a snapshot of it, so other commands can update the store while the
    app runs, and the app moves to the newest snapshot they publish: see
    :mod:`chorus.store.snapshots`).

    ``allowed_hosts``: the host names a request's ``Host`` header may carry (``None``: any).
    A page on another site cannot reach a loopback app through DNS rebinding: its requests
    carry that site's name. ``warm_similar``: read the labels' index for "like this" search at
    once, in a background thread (a second or two; a store analysed before the index, about
    a minute of embedding on the news corpus), so the first such query does not wait."""
    from fastapi import FastAPI, HTTPException, Query, Request, Response
    from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

    allowed = None if allowed_hosts is None else {host_name(h) for h in allowed_hosts}
    served = ServedStore(
        db, embedder=similar_embedder, follow=follow_updates, poll_seconds=poll_seconds
    )
    if warm_similar:
        threading.Thread(
            target=served.current().similar.warm, name="similar-index", daemon=True
        ).start()

    def reader() -> Store:
        return served.current().reader()

    def once(name: str, arg: int, make: Callable[[], T]) -> T:
        # A generation does not change under the app, so the views without parameters
        # (the overview, the laid-out network...) are computed once per generation.
        return served.current().once(name, arg, make)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        # The server stops (Ctrl-C, SIGTERM): uvicorn runs this before it re-raises the
        # signal, which would end the process before any ``finally`` of ours.
        served.close()

    app = FastAPI(
        title="chorus",
        version=__version__,
        description="Talking points, copied passages and the coordination network of a "
        "chorus store. Read-only.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if allowed is not None and host_name(request.headers.get("host", "")) not in allowed:
            response: Response = JSONResponse(
                {"detail": "unknown Host header: this app answers only its own host names"},
                status_code=400,
            )
        else:
            # One generation of the store from the request's start to its end.
            token = served.begin_request()
            try:
                response = await call_next(request)
            finally:
                served.end_request(token)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    shell = page_shell(
        head='<link rel="stylesheet" href="/static/app.css">',
        body_attrs='data-mode="serve" data-api="/api"',
        tail='<script src="/static/app.js"></script>',
        subtitle=f"live · {served.name} · chorus {__version__}",
    )
    script, style = app_script(), static_text("app.css")

    def found(value: T | None, what: str) -> T:
        if value is None:
            raise HTTPException(status_code=404, detail=f"no such {what}")
        return value

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return shell

    @app.get("/static/app.js", include_in_schema=False)
    def app_js() -> PlainTextResponse:
        return PlainTextResponse(script, media_type="text/javascript")

    @app.get("/static/app.css", include_in_schema=False)
    def app_css() -> PlainTextResponse:
        return PlainTextResponse(style, media_type="text/css")

    @app.get("/api/overview")
    def overview() -> Overview:
        """Corpus size, what each stage found, and its settings."""
        return once("overview", 0, lambda: views.overview(reader()))

    @app.get("/api/points")
    def points(
        offset: int = Query(0, ge=0, le=_MAX_OFFSET),
        limit: int = Query(50, ge=1, le=_MAX_PAGE),
        sort: str = Query("score", pattern=_SORTS),
        source: str | None = None,
        since: date | None = None,
        until: date | None = None,
        q: str | None = None,
    ) -> PointsPage:
        """A page of talking points, filtered by source, first-seen date (YYYY-MM-DD) and
        label words."""
        return views.points_page(
            reader(),
            offset=offset,
            limit=limit,
            sort=sort,
            source=source or None,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            query=q,
        )

    @app.get("/api/point")
    def point(
        id: str,
        offset: int = Query(0, ge=0, le=_MAX_OFFSET),
        limit: int = Query(100, ge=1, le=2000),
    ) -> PointDetail:
        """One talking point with a page of its mentions in context."""
        return found(views.point_detail(reader(), id, offset=offset, limit=limit), "talking point")

    @app.get("/api/lineage")
    def lineage(id: str) -> PointHistory:
        """Where a talking point id that names no point now went (``point_lineage``)."""
        return found(views.point_history(reader(), id), "talking point history")

    @app.get("/api/document")
    def document(id: str) -> DocumentDetail:
        """One document's whole text with its talking-point sentences and copied passages."""
        return found(views.document_detail(reader(), id), "document")

    @app.get("/api/reuse")
    def reuse(
        kind: str = Query("reuse", pattern="^(reuse|syndication|boilerplate)$"),
        offset: int = Query(0, ge=0, le=_MAX_OFFSET),
        limit: int = Query(50, ge=1, le=_MAX_PAGE),
    ) -> ReusePage:
        """A page of copied-passage clusters of one kind."""
        return views.reuse_page(reader(), kind=kind, offset=offset, limit=limit)

    @app.get("/api/cluster")
    def cluster(id: str) -> ReuseDetail:
        """One cluster with its copies and their differences."""
        return found(views.reuse_detail(reader(), id), "cluster")

    @app.get("/api/network")
    def network(max_edges: int = Query(2000, ge=1, le=20000)) -> Network:
        """The source graph, laid out."""
        return once("network", max_edges, lambda: views.network(reader(), max_edges=max_edges))

    @app.get("/api/edge")
    def edge(a: str, b: str, limit: int = Query(100, ge=1, le=2000)) -> EdgeDetail:
        """One edge and its evidence."""
        return found(views.edge_detail(reader(), a, b, limit=limit), "edge")

    @app.get("/api/sources")
    def sources(
        offset: int = Query(0, ge=0, le=_MAX_OFFSET),
        limit: int = Query(100, ge=1, le=_MAX_PAGE),
    ) -> SourcesPage:
        """Sources by activity, with their community and roles."""
        return views.sources_page(reader(), offset=offset, limit=limit)

    @app.get("/api/source")
    def source(name: str) -> SourceDetail:
        """One source: its talking points, who it follows and who follows it."""
        return found(views.source_detail(reader(), name), "source")

    @app.get("/api/heatmap")
    def heatmap() -> Heatmap:
        """Sources x the most shared talking points."""
        return once("heatmap", 0, lambda: views.heatmap(reader()))

    @app.get("/api/timeline")
    def timeline() -> Timeline:
        """How the most shared talking points spread."""
        return once("timeline", 0, lambda: views.timeline(reader()))

    @app.get("/api/watchlists")
    def watchlists() -> Watchlists:
        """Hits per item and per source of each matched watchlist."""
        return views.watchlists(reader())

    @app.get("/api/changes")
    def changes(since: int | None = Query(None, ge=1)) -> ChangesView:
        """What the last analysis changed, or every analysis after analysis ``since``: new
        and growing talking points, passages copied in new documents, new or stronger
        edges, new watchlist hits."""
        try:
            return views.changes(reader(), since_run=since)
        except ChorusError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    @app.get("/api/search")
    def search(
        q: str = Query(..., max_length=500),
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0, le=_MAX_OFFSET),
    ) -> SearchPage:
        """Sentences in which every word of ``q`` begins a word, earliest first, through the
        word index that ``chorus analyze`` builds."""
        return views.search_sentences(reader(), q, limit=limit, offset=offset)

    @app.get("/api/similar")
    def similar_points(
        q: str = Query(..., max_length=2000), limit: int = Query(20, ge=1, le=200)
    ) -> SimilarPage:
        """Talking points whose label is like the sentence ``q``, each with a few of its
        sentences."""
        similar = served.current().similar
        score = {hit.point_id: hit.score for hit in similar.search(q, limit=limit)}
        rows = (
            reader()
            .con.execute(
                "SELECT point_id, label, n_sources, n_docs FROM points "
                "WHERE point_id IN (SELECT unnest(?))",
                [list(score)],
            )
            .fetchall()
        )
        rows.sort(key=lambda r: (-score[r[0]], r[0]))
        # A few of each point's sentences: what "sentences like this one" finds.
        sample = views.first_mentions(reader(), [r[0] for r in rows], per_point=3)
        items: list[SimilarItem] = [
            {
                "point_id": p,
                "label": label,
                "n_sources": ns,
                "n_docs": nd,
                "score": score[p],
                "mentions": sample.get(p, []),
            }
            for p, label, ns, nd in rows
        ]
        return {"query": q, "items": items}

    app.state.served = served
    return app


def allowed_hosts_for(host: str, extra: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The host names an app bound to ``host`` answers: the loopback names (and ``host``
    itself) for a loopback or named address, plus ``extra``; any name for an address that
    binds every interface (0.0.0.0, ::) unless ``extra`` names them."""
    if host in ("0.0.0.0", "::", ""):
        return extra or None
    return (*LOOPBACK_NAMES, host, *extra)


def run_app(app: Any, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve an app from :func:`create_app` until interrupted."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning")


def run(db: str | Path, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the store until interrupted."""
    app = create_app(
        db, allowed_hosts=allowed_hosts_for(host), warm_similar=True, follow_updates=True
    )
    run_app(app, host=host, port=port)
