"""Talking points like a sentence: every point's label embedded (WordLlama's static vectors by
default) and filed at analysis time, so that the app answers "points like this" without
embedding hundreds of thousands of labels when it starts.

Past ``EXACT_LIMIT`` labels the index is an inverted file: k-means cells (the points stage's
kernels), the rows stored cell by cell, and a query scores only the ``PROBES`` cells nearest
it (a cosine over 500,000 labels is 40 ms of memory traffic; 32 of ~720 cells are 4% of it).
Vectors are stored as float16 (half the disk; scores move in the fourth decimal) and held as
float32 (numpy converts float16 in software: converting a query's cells cost more than
scoring them). The same kernel files the labels when the app has to build the index itself (a
store from before this table, or another embedder), so both paths give the same answers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pyarrow as pa

from chorus.points.neighbours import ivf_cells, ivf_probes, kmeans, kmeans_sample
from chorus.progress import ProgressFactory, no_progress
from chorus.store import Store, scalar

if TYPE_CHECKING:
    from chorus.embed.models import Embedder

log = logging.getLogger(__name__)

# Cells scored per query: of about 720 on 520,000 labels, 32 hold about 4% of them.
PROBES = 32
_BATCH = 10_000

LabelIndexState = Literal["current", "stale", "missing"]


@dataclass(frozen=True)
class LikeHit:
    """A talking point whose label is like the query, and the cosine similarity of the two."""

    point_id: str
    score: float


@dataclass(frozen=True)
class LabelIndex:
    """Labels' vectors filed by cell: cell ``c`` holds rows ``bounds[c]:bounds[c + 1]`` of
    ``vectors`` (float32 rounded to float16, unit length), whose points are the same rows of
    ``point_ids``. ``centroids`` is None when there is one cell (every label is scored)."""

    embedder: str
    point_ids: tuple[str, ...]
    vectors: np.ndarray
    centroids: np.ndarray | None
    bounds: np.ndarray

    def __len__(self) -> int:
        return len(self.point_ids)

    def search(self, query: np.ndarray, *, limit: int = 20) -> list[LikeHit]:
        """The ``limit`` labels most like ``query`` (a vector from the index's embedder),
        best first, ties by point id."""
        if not self.point_ids or limit < 1:
            return []
        q = np.asarray(query, dtype=np.float32).ravel()
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        if self.centroids is None:
            cells = [0]
        else:
            near = np.argsort(-(self.centroids @ q), kind="stable")[:PROBES]
            cells = sorted(int(c) for c in near)
        rows = np.concatenate(
            [np.arange(self.bounds[c], self.bounds[c + 1], dtype=np.int64) for c in cells]
        )
        # Cell by cell: each is a contiguous slice, converted and scored without copying
        # the others.
        scores = np.concatenate(
            [self.vectors[self.bounds[c] : self.bounds[c + 1]] @ q for c in cells]
        )
        keep = min(limit, rows.size)
        if keep == 0:
            return []
        best = np.argpartition(-scores, keep - 1)[:keep] if keep < rows.size else np.arange(keep)
        names = np.array([self.point_ids[rows[i]] for i in best], dtype=object)
        top = best[np.lexsort((names, -scores[best]))]
        return [LikeHit(self.point_ids[rows[i]], round(float(scores[i]), 4)) for i in top]


@dataclass(frozen=True)
class LabelIndexSummary:
    """What :func:`build_label_index` did: ``built`` is False when the index was current."""

    built: bool
    n_points: int
    n_cells: int
    embedder: str
    seconds: float


def file_labels(point_ids: list[str], vectors: np.ndarray, *, embedder: str) -> LabelIndex:
    """The index of ``vectors`` (one row per point id, any scale): unit rows, filed by cell
    past ``EXACT_LIMIT`` rows. Seeded: the same labels give the same cells."""
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] != len(point_ids):
        raise ValueError(f"{len(point_ids)} point ids but vectors of shape {x.shape}")
    x = _unit_rows(x)
    cells = ivf_cells(len(point_ids))
    if cells == 1:
        return LabelIndex(
            embedder, tuple(point_ids), x.astype(np.float32), None, np.array([0, len(x)])
        )
    x = x.astype(np.float32)
    centroids = kmeans(x[kmeans_sample(len(x), cells, seed=0)], cells, seed=0)
    cell = ivf_probes(x, centroids, probes=1)[:, 0]
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(cells + 1))
    return LabelIndex(
        embedder,
        tuple(point_ids[i] for i in order),
        np.ascontiguousarray(x[order]),
        centroids.astype(np.float32),
        bounds.astype(np.int64),
    )


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length and rounded to float16 as stored, so an index read back
    scores exactly as the one filed."""
    out: np.ndarray = (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(
        np.float16
    )
    return out


def embed_labels(
    store: Store, embedder: Embedder, *, progress: ProgressFactory = no_progress
) -> LabelIndex:
    """Every point's label embedded and filed (by point id, so the cells do not depend on
    the order the store returns rows in)."""
    rows = store.con.execute("SELECT point_id, label FROM points ORDER BY point_id").fetchall()
    vectors = _embed(store, embedder, [r[1] for r in rows], progress)
    return file_labels([r[0] for r in rows], vectors, embedder=embedder.name)


def points_model(store: Store) -> str | None:
    """The model the store's talking points were last found with (``None``: none yet)."""
    rows = store.con.execute(
        "SELECT json_extract_string(settings, '$.model') FROM points_runs "
        "ORDER BY finished_at DESC LIMIT 1"
    ).fetchall()
    return str(rows[0][0]) if rows and rows[0][0] is not None else None


def label_embedder(store: Store) -> Embedder:
    """What "points like this" embeds with: WordLlama's static vectors (fast; English), or
    the multilingual model when the points were found with it, so that a sentence in one
    language finds the points stated in another."""
    from chorus.embed.models import load_embedder

    return load_embedder("multilingual" if points_model(store) == "multilingual" else "wordllama")


def _embed(
    store: Store, embedder: Embedder, labels: list[str], progress: ProgressFactory
) -> np.ndarray:
    """The labels' vectors (float32), ``_BATCH`` at a time. With the multilingual model a
    label is embedded as the points stage embedded its claim (through the store's cache, so
    nothing is embedded twice: that model is slow)."""
    bar = progress(desc=f"labels: embed ({embedder.name})", total=len(labels), unit="label")
    parts = []
    from chorus.embed.models import EmbedFn, MultilingualEmbedder

    embed: EmbedFn = embedder.embed
    texts = labels
    if embedder.name == MultilingualEmbedder.name:
        from chorus.embed.cache import cached_embed
        from chorus.points.state import read_state
        from chorus.points.text import claim_text, claim_unit

        state = read_state(store.con)
        names = set(state.names) if state is not None else set()
        # A read-only store (the app building an index analysis did not file) cannot keep
        # what is computed: the model embeds the labels itself there.
        embed = embedder.embed if store.read_only else cached_embed(store, embedder)
        texts = [claim_unit(t, names, min_content_words=0) or claim_text(t) for t in labels]
    try:
        for lo in range(0, len(texts), _BATCH):
            chunk = texts[lo : lo + _BATCH]
            parts.append(np.asarray(embed(chunk), dtype=np.float32))
            bar.update(len(chunk))
    finally:
        bar.close()
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)


def _record_filing(
    store: Store,
    filed: pa.Table,
    *,
    embedder: str,
    dim: int,
    n_points: int,
    n_cells: int,
    fingerprint: str,
    started: float,
) -> float:
    """Inside the transaction that changed ``_label_cells``: each point just ``filed``
    (``point_id``, ``cell``) with a hash of its label, and the run. Returns its seconds."""
    con = store.con
    con.register("_filed", filed)
    try:
        con.execute(
            """INSERT INTO _label_points
               SELECT f.point_id, hash(p.label), f.cell FROM _filed f
               JOIN points p USING (point_id)"""
        )
    finally:
        con.unregister("_filed")
    seconds = time.perf_counter() - started
    con.execute(
        "INSERT INTO _label_runs VALUES (now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)",
        [embedder, dim, n_points, n_cells, fingerprint, seconds],
    )
    return seconds


def _fingerprint(store: Store) -> str:
    """What the index was built from: every point's id and label."""
    row = store.con.execute(
        "SELECT count(*), coalesce(bit_xor(hash(point_id, label)), 0) FROM points"
    ).fetchall()[0]
    return f"{row[0]}|{row[1]}"


def label_index_state(store: Store) -> LabelIndexState:
    """``current`` when the stored index covers the points as they are, ``stale`` when they
    changed since it was built, ``missing`` when it was never built."""
    state: LabelIndexState = store.known("label_index_state", lambda: _state(store))
    return state


def _state(store: Store) -> LabelIndexState:
    tables = scalar(
        store.con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_label_runs'"
    )
    if not tables:
        return "missing"
    built = scalar(store.con, "SELECT fingerprint FROM _label_runs ORDER BY finished_at DESC")
    if built is None:
        return "missing"
    return "current" if built == _fingerprint(store) else "stale"


def build_label_index(
    store: Store,
    *,
    embedder: Embedder | None = None,
    force: bool = False,
    progress: ProgressFactory = no_progress,
) -> LabelIndexSummary:
    """Embed and file every label, in one transaction (a reader sees the old index or the
    new one). Skipped when the index is current and was built by the same embedder
    (``force`` rebuilds anyway). Default embedder: :func:`label_embedder`."""
    started = time.perf_counter()
    embedder = embedder or label_embedder(store)
    if not force and _state(store) == "current":
        row = store.con.execute(
            "SELECT n_points, n_cells, embedder FROM _label_runs ORDER BY finished_at DESC LIMIT 1"
        ).fetchall()[0]
        if row[2] == embedder.name:
            return LabelIndexSummary(False, row[0], row[1], row[2], time.perf_counter() - started)
    fingerprint = _fingerprint(store)
    if not force:
        updated = _file_changed_labels(store, embedder, fingerprint, started, progress)
        if updated is not None:
            return updated
    index = embed_labels(store, embedder, progress=progress)
    n_cells = len(index.bounds) - 1
    centroids = index.centroids
    spans = [slice(index.bounds[c], index.bounds[c + 1]) for c in range(n_cells)]
    table = pa.table(
        {
            "cell": pa.array(range(n_cells), pa.int32()),
            "centroid": pa.array(
                [None if centroids is None else centroids[c].tobytes() for c in range(n_cells)],
                pa.binary(),
            ),
            "point_ids": pa.array(
                [list(index.point_ids[span]) for span in spans],
                pa.list_(pa.string()),
            ),
            "vectors": pa.array(
                [index.vectors[span].astype(np.float16).tobytes() for span in spans],
                pa.binary(),
            ),
        }
    )
    filed = pa.table(
        {
            "point_id": pa.array(list(index.point_ids), pa.string()),
            "cell": pa.array(
                np.repeat(np.arange(n_cells, dtype=np.int32), np.diff(index.bounds)), pa.int32()
            ),
        }
    )
    with store.transaction() as con:
        con.execute("DELETE FROM _label_cells")
        store.insert_arrow("_label_cells", table)
        con.execute("DELETE FROM _label_points")
        seconds = _record_filing(
            store,
            filed,
            embedder=embedder.name,
            dim=index.vectors.shape[1],
            n_points=len(index),
            n_cells=n_cells,
            fingerprint=fingerprint,
            started=started,
        )
    log.info("label index: %d labels in %d cells in %.1f s", len(index), n_cells, seconds)
    return LabelIndexSummary(True, len(index), n_cells, embedder.name, seconds)


# Past this share of changed labels, filing them one cell at a time costs more than
# filing every label again (which also trains the cells on today's labels).
_UPDATE_SHARE = 0.5


def _file_changed_labels(
    store: Store,
    embedder: Embedder,
    fingerprint: str,
    started: float,
    progress: ProgressFactory,
) -> LabelIndexSummary | None:
    """File only the labels that changed since the stored index was built (embedded by the
    same embedder): each new or relabelled point goes to the cell of its nearest centroid,
    and points that left leave theirs. ``None`` when the whole index must be built: none is
    stored, another embedder built it, it predates ``_label_points``, most labels changed,
    or an exact index has outgrown ``EXACT_LIMIT``."""
    con = store.con
    run = con.execute(
        "SELECT embedder, n_cells FROM _label_runs ORDER BY finished_at DESC LIMIT 1"
    ).fetchall()
    if (
        not run
        or run[0][0] != embedder.name
        or not scalar(con, "SELECT count(*) FROM _label_points")
    ):
        return None
    n_points = int(scalar(con, "SELECT count(*) FROM points"))
    changed = con.execute(
        """SELECT p.point_id, p.label FROM points p
           WHERE NOT EXISTS (SELECT 1 FROM _label_points l
                             WHERE l.point_id = p.point_id AND l.label_hash = hash(p.label))
           ORDER BY p.point_id"""
    ).fetchall()
    leaving = con.execute(
        """SELECT l.point_id, l.cell FROM _label_points l
           WHERE NOT EXISTS (SELECT 1 FROM points p
                             WHERE p.point_id = l.point_id AND hash(p.label) = l.label_hash)"""
    ).fetchall()
    if len(changed) > _UPDATE_SHARE * max(n_points, 1):
        return None
    centroid_rows = con.execute(
        "SELECT centroid FROM _label_cells WHERE centroid IS NOT NULL ORDER BY cell"
    ).fetchall()
    centroids = (
        np.stack([np.frombuffer(r[0], dtype=np.float32) for r in centroid_rows])
        if centroid_rows
        else None
    )
    if centroids is None and ivf_cells(n_points) > 1:
        return None
    ids = [r[0] for r in changed]
    x = _embed(store, embedder, [r[1] for r in changed], progress)
    vectors = _unit_rows(x)
    cells = (
        ivf_probes(vectors.astype(np.float32), centroids, probes=1)[:, 0]
        if centroids is not None and ids
        else np.zeros(len(ids), dtype=np.int64)
    )
    gone = {r[0] for r in leaving}
    affected = sorted({int(c) for c in cells.tolist()} | {int(r[1]) for r in leaving})
    rows = con.execute(
        """SELECT cell, centroid, point_ids, vectors FROM _label_cells
           WHERE cell IN (SELECT unnest(?)) ORDER BY cell""",
        [affected],
    ).fetchall()
    dim = embedder.dim
    new_rows = []
    for cell, centroid, point_ids, blob in rows:
        old = np.frombuffer(blob, np.float16).reshape(-1, dim)
        keep = [i for i, pid in enumerate(point_ids) if pid not in gone]
        here = np.flatnonzero(cells == cell)
        new_rows.append(
            {
                "cell": cell,
                "centroid": centroid,
                "point_ids": [point_ids[i] for i in keep] + [ids[i] for i in here.tolist()],
                "vectors": np.concatenate([old[keep], vectors[here]]).tobytes(),
            }
        )
    table = pa.Table.from_pylist(
        new_rows,
        schema=pa.schema(
            [
                ("cell", pa.int32()),
                ("centroid", pa.binary()),
                ("point_ids", pa.list_(pa.string())),
                ("vectors", pa.binary()),
            ]
        ),
    )
    n_cells = int(run[0][1])
    with store.transaction():
        con.execute("DELETE FROM _label_cells WHERE cell IN (SELECT unnest(?))", [affected])
        store.insert_arrow("_label_cells", table)
        con.execute(
            "DELETE FROM _label_points WHERE point_id IN (SELECT unnest(?))", [sorted(gone)]
        )
        seconds = _record_filing(
            store,
            pa.table({"point_id": pa.array(ids, pa.string()), "cell": pa.array(cells, pa.int32())}),
            embedder=embedder.name,
            dim=dim,
            n_points=n_points,
            n_cells=n_cells,
            fingerprint=fingerprint,
            started=started,
        )
    log.info("label index: %d labels filed, %d left, in %.1f s", len(ids), len(gone), seconds)
    return LabelIndexSummary(True, n_points, n_cells, embedder.name, seconds)


def read_label_index(store: Store, *, embedder: str) -> LabelIndex | None:
    """The stored index, when it is current and was built by ``embedder`` (its name);
    otherwise None, and the caller embeds the labels itself."""
    if label_index_state(store) != "current":
        return None
    run = store.con.execute(
        "SELECT embedder, dim, n_points FROM _label_runs ORDER BY finished_at DESC LIMIT 1"
    ).fetchall()[0]
    if run[0] != embedder:
        return None
    dim, n_points = int(run[1]), int(run[2])
    ids: list[str] = []
    # Filled in place, cell by cell: no second copy of half a gigabyte.
    vectors = np.empty((n_points, dim), dtype=np.float32)
    centroids: list[np.ndarray] = []
    bounds = [0]
    cursor = store.con.execute(
        "SELECT cell, centroid, point_ids, vectors FROM _label_cells ORDER BY cell"
    )
    while rows := cursor.fetchmany(64):  # a few cells at a time: bounded memory
        for _cell, centroid, point_ids, blob in rows:
            lo = len(ids)
            # Converted whole, then copied: numpy casts into a 2-D slice row by row, 7x slower.
            cell = np.frombuffer(blob, np.float16).astype(np.float32)
            vectors[lo : lo + len(point_ids)] = cell.reshape(-1, dim)
            ids.extend(point_ids)
            if centroid is not None:
                centroids.append(np.frombuffer(centroid, dtype=np.float32))
            bounds.append(len(ids))
    return LabelIndex(
        embedder,
        tuple(ids),
        vectors,
        np.stack(centroids) if centroids else None,
        np.array(bounds, dtype=np.int64),
    )
