"""Stored watchlists and their hits in the corpus: which documents and sources repeat each
known talking point, when, and what share of each source's documents push the list."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import pyarrow as pa

from chorus.errors import ChorusError
from chorus.match.settings import MatchSettings
from chorus.match.stage import (
    Matcher,
    detect_languages,
    scan_store_documents,
)
from chorus.match.watchlist import WatchItem
from chorus.progress import ProgressFactory, no_progress
from chorus.store import Store

log = logging.getLogger(__name__)

# A document "pushes" a talking point when it scores at least this. On CLEF 2020 train, 65%
# of tweets reach it with the claim they restate; see bench/match_quality.py.
DEFAULT_HIT_SCORE = 0.8
# A document longer than a post scores by its best sentence of dozens, and a sentence on the
# same story reaches 0.8 often: on news articles with restated claims planted
# (bench/watch_planted.py), 19% of hits at 0.8 were the planted claim and 78% of clean
# articles had one; from 1.1, 76% and 5.6% (checked on a second draw of articles).
DEFAULT_SENTENCE_HIT_SCORE = 1.1


class UnknownWatchlistError(ChorusError):
    """No stored watchlist has that name."""


@dataclass(frozen=True)
class WatchHitsSummary:
    watchlist: str
    n_items: int
    n_docs_matched: int
    n_hits: int
    n_items_hit: int
    seconds: float


def add_watchlist(store: Store, name: str, items: Sequence[WatchItem]) -> int:
    """Store ``items`` as the watchlist ``name`` (replacing a list of that name, and its
    hits); returns how many items were stored."""
    if not name.strip():
        raise ChorusError("a watchlist needs a name")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    table = pa.table(
        {
            "watchlist": pa.array([name] * len(items), pa.string()),
            "item_no": pa.array(range(len(items)), pa.int32()),
            "item_id": pa.array([i.id for i in items], pa.string()),
            "text": pa.array([i.text for i in items], pa.string()),
            "metadata": pa.array(
                [json.dumps(i.metadata, ensure_ascii=False) for i in items], pa.string()
            ),
            "added_at": pa.array([now] * len(items), pa.timestamp("us")),
        }
    )
    with store.transaction() as con:
        for stale in ("watchlists", "watch_hits", "watch_runs", "_watch_matched"):
            con.execute(f"DELETE FROM {stale} WHERE watchlist = ?", [name])
        store.insert_arrow("watchlists", table)
    return len(items)


def watchlist_names(store: Store) -> list[str]:
    rows = store.con.execute("SELECT DISTINCT watchlist FROM watchlists ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def read_stored_watchlist(store: Store, name: str) -> list[WatchItem]:
    rows = store.con.execute(
        "SELECT item_id, text, metadata FROM watchlists WHERE watchlist = ? ORDER BY item_no",
        [name],
    ).fetchall()
    if not rows:
        known = ", ".join(watchlist_names(store)) or "none yet ('chorus watch add')"
        raise UnknownWatchlistError(f"no watchlist named {name!r}; stored: {known}")
    return [WatchItem(i, t, json.loads(m) if m else {}) for i, t, m in rows]


@dataclass(frozen=True)
class WatchRunSummary:
    """What :func:`run_watch` did: ``rebuilt`` when it matched every document (the first
    run, other settings than the last run, or asked to); ``new_hits`` holds this run's hits
    with each document's source and date (:data:`NEW_HIT_COLUMNS`)."""

    watchlist: str
    run_no: int
    rebuilt: bool
    n_items: int
    n_docs: int
    n_new_docs: int
    n_new_hits: int
    new_hits: pa.Table
    seconds: float


NEW_HIT_COLUMNS = (
    "item_id",
    "item_text",
    "doc_id",
    "source",
    "published_at",
    "lang",
    "score",
    "start",
    "end",
    "sentence",
)


def run_watch(
    store: Store,
    name: str,
    *,
    settings: MatchSettings | None = None,
    rebuild: bool = False,
    progress: ProgressFactory = no_progress,
) -> WatchRunSummary:
    """Match the documents the watchlist ``name`` has not matched yet (new ones, and ones
    replaced since with other text) and append their hits: each document's talking points
    scoring at least ``settings.min_score`` (default ``DEFAULT_HIT_SCORE`` for a post scored
    whole, ``DEFAULT_SENTENCE_HIT_SCORE`` for a longer document), at most
    ``settings.top_k``. Every document is matched again when ``rebuild`` is set, on the
    list's first run, and when the settings differ from its last run's (hits found under
    other settings are not comparable). The run lands whole or not at all."""
    started = time.perf_counter()
    settings = settings or MatchSettings()
    if settings.min_score is None:
        settings = replace(
            settings,
            min_score=DEFAULT_HIT_SCORE,
            min_score_sentence=(
                DEFAULT_SENTENCE_HIT_SCORE
                if settings.min_score_sentence is None
                else settings.min_score_sentence
            ),
        )
    items = read_stored_watchlist(store, name)
    # The model is decided before the settings are compared: one that changes with the
    # corpus's languages matches every document again.
    settings = settings.for_languages(
        detect_languages(item.text for item in items), store.languages()
    )
    last = store.con.execute(
        "SELECT run_no, settings FROM watch_runs WHERE watchlist = ? "
        "ORDER BY run_no DESC, finished_at DESC LIMIT 1",
        [name],
    ).fetchall()
    same_settings = bool(last) and json.loads(last[0][1]) == asdict(settings)
    rebuilt = rebuild or not same_settings
    run_no = (int(last[0][0]) + 1) if last else 1
    todo = store.con.execute(
        """SELECT count(*) FROM documents d
           WHERE ? OR NOT EXISTS (
               SELECT 1 FROM _watch_matched m
               WHERE m.watchlist = ? AND m.doc_id = d.doc_id AND m.text_hash = d.text_hash)""",
        [rebuilt, name],
    ).fetchall()[0][0]
    matcher = Matcher(items, settings=settings, store=store, progress=progress)
    bar = progress(desc=f"watch: match '{name}'", total=int(todo), unit="doc")
    rows: list[tuple[object, ...]] = []
    matched: list[str] = []
    try:
        documents = scan_store_documents(store, unmatched_by=None if rebuilt else name)
        for result in matcher.match(documents):
            bar.update(1)
            matched.append(result.id)
            for rank, m in enumerate(result.matches, start=1):
                rows.append(
                    (name, m.id, result.id, rank, m.score, m.start, m.end, m.sentence, run_no)
                )
    finally:
        bar.close()
    hits = _hit_table(rows)
    doc_ids = pa.table({"doc_id": pa.array(matched, pa.string())})
    with store.transaction() as con:
        con.register("_watch_docs", doc_ids)
        try:
            if rebuilt:
                con.execute("DELETE FROM watch_hits WHERE watchlist = ?", [name])
                con.execute("DELETE FROM _watch_matched WHERE watchlist = ?", [name])
            else:  # a replaced document's old hits leave with its old text
                for table in ("watch_hits", "_watch_matched"):
                    con.execute(
                        f"DELETE FROM {table} WHERE watchlist = ? "
                        "AND doc_id IN (SELECT doc_id FROM _watch_docs)",
                        [name],
                    )
            store.insert_arrow("watch_hits", hits)
            con.execute(
                """INSERT INTO _watch_matched
                   SELECT ?, d.doc_id, d.text_hash, ? FROM documents d
                   JOIN _watch_docs w ON w.doc_id = d.doc_id""",
                [name, run_no],
            )
            n_docs = int(store.count("documents"))
            store.record_run(
                "watch_runs",
                settings,
                watchlist=name,
                n_docs=n_docs,
                run_no=run_no,
                n_new_docs=len(matched),
                n_new_hits=hits.num_rows,
            )
        finally:
            con.unregister("_watch_docs")
    new_hits = store.con.sql(
        """SELECT h.item_id, w.text AS item_text, h.doc_id, d.source, d.published_at,
                  coalesce(d.lang, 'und') AS lang, h.score, h.start, h."end", h.sentence
           FROM watch_hits h JOIN watchlists w USING (watchlist, item_id)
           JOIN documents d USING (doc_id)
           WHERE h.watchlist = ? AND h.run_no = ?
           ORDER BY d.published_at NULLS LAST, h.doc_id, h.rank""",
        params=[name, run_no],
    ).to_arrow_table()
    return WatchRunSummary(
        watchlist=name,
        run_no=run_no,
        rebuilt=rebuilt,
        n_items=len(items),
        n_docs=n_docs,
        n_new_docs=len(matched),
        n_new_hits=hits.num_rows,
        new_hits=new_hits,
        seconds=time.perf_counter() - started,
    )


def _hit_table(rows: list[tuple[object, ...]]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [()] * 9
    return pa.table(
        {
            "watchlist": pa.array(columns[0], pa.string()),
            "item_id": pa.array(columns[1], pa.string()),
            "doc_id": pa.array(columns[2], pa.string()),
            "rank": pa.array(columns[3], pa.int32()),
            "score": pa.array(columns[4], pa.float32()),
            "start": pa.array(columns[5], pa.int32()),
            "end": pa.array(columns[6], pa.int32()),
            "sentence": pa.array(columns[7], pa.string()),
            "run_no": pa.array(columns[8], pa.int32()),
        }
    )


def find_watch_hits(
    store: Store,
    name: str,
    *,
    settings: MatchSettings | None = None,
    progress: ProgressFactory = no_progress,
) -> WatchHitsSummary:
    """Match every stored document against the watchlist ``name`` and rebuild its hits
    (:func:`run_watch` with ``rebuild``): each document's talking points scoring at least
    ``settings.min_score`` (default: as :func:`run_watch`), at most ``settings.top_k``."""
    run = run_watch(store, name, settings=settings, rebuild=True, progress=progress)
    matched, n_items_hit = store.con.execute(
        "SELECT count(DISTINCT doc_id), count(DISTINCT item_id) FROM watch_hits "
        "WHERE watchlist = ?",
        [name],
    ).fetchall()[0]
    return WatchHitsSummary(
        watchlist=name,
        n_items=run.n_items,
        n_docs_matched=int(matched),
        n_hits=run.n_new_hits,
        n_items_hit=int(n_items_hit),
        seconds=run.seconds,
    )


def watch_item_hits(store: Store, name: str) -> pa.Table:
    """Per talking point of the list: how many documents and sources repeat it, first and
    last dates, its best-matching document, and the languages its documents are in (those
    detected at ingest, sorted; none for documents of no detected language). Items with no
    hit are listed too."""
    read_stored_watchlist(store, name)  # names the known lists if this one is not
    return store.con.sql(
        """SELECT w.item_id, w.text,
                  count(DISTINCT h.doc_id) AS n_docs,
                  count(DISTINCT d.source) AS n_sources,
                  min(d.published_at) AS first_seen,
                  max(d.published_at) AS last_seen,
                  arg_max(h.doc_id, h.score) AS best_doc_id,
                  max(h.score) AS best_score,
                  coalesce(list(DISTINCT d.lang ORDER BY d.lang)
                           FILTER (d.lang IS NOT NULL AND d.lang <> 'und'), [])
                      AS languages
           FROM watchlists w
           LEFT JOIN watch_hits h ON h.watchlist = w.watchlist AND h.item_id = w.item_id
           LEFT JOIN documents d ON d.doc_id = h.doc_id
           WHERE w.watchlist = ?
           GROUP BY w.item_no, w.item_id, w.text
           ORDER BY n_docs DESC, w.item_no""",
        params=[name],
    ).to_arrow_table()


def watch_source_shares(store: Store, name: str) -> pa.Table:
    """Per source: its documents, how many push at least one talking point of the list, the
    share, and how many distinct items it pushes."""
    read_stored_watchlist(store, name)
    return store.con.sql(
        """WITH pushed AS (
               SELECT DISTINCT h.doc_id, h.item_id FROM watch_hits h WHERE h.watchlist = ?)
           SELECT d.source,
                  count(DISTINCT d.doc_id) AS n_docs,
                  count(DISTINCT p.doc_id) AS n_docs_pushing,
                  round(count(DISTINCT p.doc_id) / count(DISTINCT d.doc_id), 4) AS share,
                  count(DISTINCT p.item_id) AS n_items
           FROM documents d LEFT JOIN pushed p ON p.doc_id = d.doc_id
           GROUP BY d.source
           ORDER BY share DESC, n_docs_pushing DESC, d.source""",
        params=[name],
    ).to_arrow_table()
