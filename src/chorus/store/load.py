"""``chorus load``: tables a Spark job wrote (Parquet folders, one per table) into a store, so
``report``, ``serve``, ``match`` and ``export`` work on cluster results unchanged."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from chorus.errors import ChorusError
from chorus.store import batches
from chorus.store.store import Store, scalar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadSummary:
    n_documents: int
    n_sentences: int
    n_rejects: int
    n_clusters: int
    n_passages: int
    n_embeddings: int
    n_points: int
    n_edges: int


# The stages' result tables, in the order the single-machine stages store them (mentions by
# point: the report reads one point's mentions at a time).
_RESULT_TABLES = (
    ("passages", ""),
    ("reuse_clusters", ""),
    ("points", "ORDER BY score DESC, n_docs DESC, point_id"),
    ("mentions", "ORDER BY point_id, doc_id, sent_no"),
    ("points_runs", ""),
    ("source_edges", "ORDER BY source_a, source_b"),
    ("edge_evidence", "ORDER BY ALL"),
    ("sources", "ORDER BY source"),
    ("communities", "ORDER BY community"),
    ("credits", "ORDER BY doc_id, start, form"),
    ("coord_runs", ""),
)


def _parquet(folder: Path, table: str) -> str | None:
    path = folder / table
    if path.is_dir() and any(path.glob("*.parquet")):
        return str(path / "*.parquet")
    if path.with_suffix(".parquet").is_file():
        return str(path.with_suffix(".parquet"))
    return None


def load_tables(store: Store, folder: str | Path) -> LoadSummary:
    """Load ``documents`` and ``sentences`` (and, when present, ``rejects``, the embedding
    cache ``_embeddings`` and the stages' tables: reuse, points, coordination) from ``folder``
    into an empty store, as one batch: all or nothing. Then the word index over the sentences
    and, with talking points, the index of their labels, as ``chorus analyze`` builds them."""
    root = Path(folder)
    docs = _parquet(root, "documents")
    if docs is None:
        raise ChorusError(f"{root}: no documents table (a folder of Parquet files) to load")
    if store.count("documents"):
        raise ChorusError(f"{store.path} already holds documents; load into a new store")
    sentences = _parquet(root, "sentences")
    if sentences is None:
        raise ChorusError(f"{root}: no sentences table; run the job with the segment stage")
    con = store.con
    now = batches.now()
    with store.transaction():
        batch_id = batches.open_batch(
            con, paths=[str(root)], settings={"loaded_from": str(root)}, started_at=now
        )
        con.execute(
            """INSERT INTO documents_all
                SELECT doc_id, source, url, title, published_at, lang, text, text_hash, ?, ?,
                       origin, extra::JSON, row_number() OVER (ORDER BY doc_id)
                FROM read_parquet(?)""",
            [now, batch_id, docs],
        )
        con.execute(
            """INSERT INTO sentences_all
                SELECT s.doc_id, s.sent_no, s.start, s."end", s.text, ?, d.seq
                FROM read_parquet(?) s
                JOIN documents_all d ON d.doc_id = s.doc_id AND d.batch_id = ?""",
            [batch_id, sentences, batch_id],
        )
        rejects = _parquet(root, "rejects")
        if rejects:
            con.execute(
                """INSERT INTO rejects_all (batch_id, file, line, field, reason)
                    SELECT ?, file, line, field, reason FROM read_parquet(?)""",
                [batch_id, rejects],
            )
        n_docs = int(
            scalar(con, "SELECT count(*) FROM documents_all WHERE batch_id = ?", [batch_id])
        )
        n_rejects = int(
            scalar(con, "SELECT count(*) FROM rejects_all WHERE batch_id = ?", [batch_id])
        )
        batches.close_batch(
            con,
            batch_id,
            batches.BatchCounts(
                n_read=n_docs, n_new=n_docs, n_rejected=n_rejects, n_bad_dates=None
            ),
        )
        embeddings = _parquet(root, "_embeddings")
        if embeddings:
            con.execute(
                "INSERT INTO _embeddings SELECT model, key, vector FROM read_parquet(?)",
                [embeddings],
            )
        for table, order in _RESULT_TABLES:
            path = _parquet(root, table)
            if path:
                con.execute(f"DELETE FROM {table}")
                con.execute(
                    f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet(?) {order}", [path]
                )
        if _parquet(root, "mentions"):
            from chorus.points.pages import write_point_pages

            write_point_pages(con)
        if _parquet(root, "edge_evidence"):
            from chorus.coord.evidence import write_evidence_text

            write_evidence_text(con)
    # The indexes the app reads, as ``chorus analyze`` builds them (each its own transaction:
    # the tables above stand if one fails, and a rerun of either finishes the work).
    from chorus.search import build_label_index, build_search_index

    build_search_index(store)
    if _parquet(root, "points"):
        build_label_index(store)
    summary = LoadSummary(
        n_documents=n_docs,
        n_sentences=store.count("sentences"),
        n_rejects=store.count("rejects"),
        n_clusters=store.count("reuse_clusters"),
        n_passages=store.count("passages"),
        n_embeddings=int(scalar(con, "SELECT count(*) FROM _embeddings")),
        n_points=store.count("points"),
        n_edges=store.count("source_edges"),
    )
    log.info("load: %s", summary)
    return summary
