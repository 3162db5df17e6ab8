"""What an update of the talking points starts from, kept in the store by every full run.

A full run clusters every distinct claim (unit) of the corpus; an update (``chorus.points.
update``) adds the units of new documents to that clustering instead of starting over. For
that it needs what the full run computed and ``points``/``mentions`` do not hold: every unit
(not only those in a point) with its document, cluster, hub and inverted-file cell, which unit
each sentence states, the kNN edges with their scores, the documents (by text hash) the points
were found in, the corpus mean the vectors were centred on, the inverted file's centroids, the
masked names, the lexical document frequencies and the keyphrase term counts. All of it is
written in the transaction that writes the points, so it always describes them.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import duckdb
import numpy as np
import pyarrow as pa

from chorus.embed.cache import text_key
from chorus.points.core import ClaimGroups
from chorus.points.settings import PointsSettings

STATE_TABLES = (
    "_point_units",
    "_point_sentences",
    "_point_edges",
    "_point_docs",
    "_point_state",
    "_point_terms",
)
# Updates need every unit's vector from the embedding cache, which holds this model's.
UPDATABLE_MODELS = ("minilm",)


def doc_group(doc_id: str) -> int:
    """A document's number in the units' ``doc_group``: a digest, so a document added later
    gets its number without renumbering the others (only equality between numbers counts)."""
    return int.from_bytes(
        hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "little", signed=True
    )


def settings_key(settings: PointsSettings) -> str:
    """The settings an update must share with the run it continues (where the model runs
    changes no result)."""
    fields = asdict(settings)
    fields.pop("device", None)
    fields.pop("restart_growth", None)
    return json.dumps(fields, sort_keys=True)


@dataclass(frozen=True)
class PointsState:
    """The scalars of the state: the settings it was made with, the corpus mean, the
    inverted file's centroids (``None``: the search was exact), the masked names, the
    lexical document frequencies (``None`` without the lexical term) over ``n_texts``
    units, and the mean claims per point the keyphrases were ranked with."""

    settings: str
    mean: np.ndarray
    centroids: np.ndarray | None
    names: frozenset[str]
    df: np.ndarray | None
    n_texts: int
    average_claims: float
    # Documents in the store at the last run from scratch.
    full_docs: int


def clear_state(con: duckdb.DuckDBPyConnection) -> bool:
    """Forget the state (inside the caller's transaction): the next run starts over. Returns
    False: nothing can be updated from no state."""
    for table in STATE_TABLES:
        con.execute(f"DELETE FROM {table}")
    return False


def read_state(con: duckdb.DuckDBPyConnection) -> PointsState | None:
    rows = dict(con.execute("SELECT name, value FROM _point_state").fetchall())
    if "settings" not in rows:
        return None
    meta = json.loads(rows["meta"])
    dim = int(meta["dim"])
    centroids = (
        np.frombuffer(rows["centroids"], dtype=np.float32).reshape(-1, dim).copy()
        if "centroids" in rows
        else None
    )
    return PointsState(
        settings=bytes(rows["settings"]).decode("utf-8"),
        mean=np.frombuffer(rows["mean"], dtype=np.float32).copy(),
        centroids=centroids,
        names=frozenset(meta["names"]),
        df=np.frombuffer(rows["df"], dtype=np.int64).copy() if "df" in rows else None,
        n_texts=int(meta["n_texts"]),
        average_claims=float(meta["average_claims"]),
        full_docs=int(meta["full_docs"]),
    )


def write_scalars(con: duckdb.DuckDBPyConnection, state: PointsState) -> None:
    con.execute("DELETE FROM _point_state")
    meta = {
        "dim": int(state.mean.size),
        "names": sorted(state.names),
        "n_texts": state.n_texts,
        "average_claims": state.average_claims,
        "full_docs": state.full_docs,
    }
    values: dict[str, bytes] = {
        "settings": state.settings.encode("utf-8"),
        "meta": json.dumps(meta).encode("utf-8"),
        "mean": np.ascontiguousarray(state.mean, dtype=np.float32).tobytes(),
    }
    if state.centroids is not None:
        values["centroids"] = np.ascontiguousarray(state.centroids, dtype=np.float32).tobytes()
    if state.df is not None:
        values["df"] = np.ascontiguousarray(state.df, dtype=np.int64).tobytes()
    con.executemany("INSERT INTO _point_state VALUES (?, ?)", list(values.items()))


@dataclass(frozen=True)
class FullRun:
    """What a full run leaves for the state: its units (in unit order: key, claim, first
    document), which unit each sentence states (-1: none), the groups, the names and the
    keyphrase term counts."""

    unit_keys: Sequence[bytes]
    unit_texts: Sequence[str]
    unit_docs: Sequence[str]
    sentence_docs: Sequence[str]
    sentence_nos: Sequence[int]
    sentence_unit: np.ndarray
    groups: ClaimGroups
    names: frozenset[str]
    terms: Counter[str]
    average_claims: float


def write_state(con: duckdb.DuckDBPyConnection, run: FullRun, settings: PointsSettings) -> bool:
    """Replace the state with a full run's (inside the caller's transaction). Returns
    whether an update can start from it: not when the run screened units out (the cascade)
    or used a model whose vectors the store does not cache."""
    clear_state(con)
    groups = run.groups
    n = len(run.unit_texts)
    if (
        settings.model not in UPDATABLE_MODELS
        or groups.graph is None
        or groups.mean is None
        or groups.screened.size != n
    ):
        return False
    graph = groups.graph
    kept = groups.screened
    hub = np.zeros(n, dtype=np.float32)
    hub[kept] = graph.hub
    cell = np.full(n, -1, dtype=np.int32)
    if graph.knn.home is not None:
        cell[kept] = graph.knn.home
    units = pa.table(
        {
            "unit_no": pa.array(np.arange(n, dtype=np.int64)),
            "unit_key": pa.array(list(run.unit_keys), pa.binary()),
            "claim": pa.array(list(run.unit_texts), pa.string()),
            "embed_key": pa.array([text_key(t) for t in run.unit_texts], pa.string()),
            "doc_group": pa.array([doc_group(d) for d in run.unit_docs], pa.int64()),
            "cluster": pa.array(np.asarray(groups.labels, dtype=np.int64)),
            "hub": pa.array(hub),
            "cell": pa.array(cell),
        }
    )
    # Every sentence that could carry a claim, -1 for those that make none: an update then
    # knows them and does not take them for new.
    sentences = pa.table(
        {
            "doc_id": pa.array(run.sentence_docs, pa.string()),
            "sent_no": pa.array(run.sentence_nos, pa.int32()),
            "unit_no": pa.array(np.asarray(run.sentence_unit, dtype=np.int64)),
        }
    )
    edges = pa.table(
        {
            "src": pa.array(kept[graph.knn.src].astype(np.int64)),
            "dst": pa.array(kept[graph.knn.dst].astype(np.int64)),
            "cosine": pa.array(graph.knn.score.astype(np.float32)),
            "base": pa.array(np.asarray(graph.base, dtype=np.float32)),
        }
    )
    terms = pa.table(
        {
            "term": pa.array(list(run.terms), pa.string()),
            "n": pa.array(list(run.terms.values()), pa.int32()),
        }
    )
    for table, data in (
        ("_point_units", units),
        ("_point_sentences", sentences),
        ("_point_edges", edges),
        ("_point_terms", terms),
    ):
        con.register("_state_rows", data)
        try:
            con.execute(f"INSERT INTO {table} SELECT * FROM _state_rows")
        finally:
            con.unregister("_state_rows")
    con.execute("INSERT INTO _point_docs SELECT doc_id, text_hash FROM documents")
    write_scalars(
        con,
        PointsState(
            settings=settings_key(settings),
            mean=groups.mean,
            centroids=graph.knn.centroids,
            names=run.names,
            df=graph.df,
            n_texts=n,
            average_claims=run.average_claims,
            full_docs=int(con.execute("SELECT count(*) FROM documents").fetchall()[0][0]),
        ),
    )
    return True
