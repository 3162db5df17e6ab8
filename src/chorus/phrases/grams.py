"""Every document's phrase n-grams, kept in the store (``_phrase_grams``) so that an update
finds where the n-grams it decides again occur by a join, not by reading and splitting every
document's text again (which is most of what an update cost).

Rows carry a generation: a run that stores every document's n-grams writes a new one in
committed chunks (memory holds one batch of documents, never the whole table), and the run's
last transaction names it in ``_phrase_state.grams_gen`` and deletes the others. Rows of a
generation no state names are a dead run's leftovers: never read (every query names its
generation), and deleted by the next run that stores every document's n-grams.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from chorus.phrases.kernels import Grams
from chorus.store import Store, scalar

_SCHEMA = pa.schema(
    [
        ("gen", pa.int32()),
        ("hash", pa.uint64()),
        ("doc_id", pa.string()),
        ("start", pa.int32()),
        ("end", pa.int32()),
    ]
)


def next_generation(store: Store, current: int | None) -> int:
    """A generation number no row holds, after deleting the rows of generations other than
    ``current`` (a dead run's)."""
    con = store.con
    if current is None:
        con.execute("DELETE FROM _phrase_grams")
    else:
        con.execute("DELETE FROM _phrase_grams WHERE gen <> ?", [current])
    return int(scalar(con, "SELECT coalesce(max(gen), 0) + 1 FROM _phrase_grams"))


def grams_table(gen: int, doc_ids: list[str], grams: Grams) -> pa.Table:
    """Rows of ``_phrase_grams`` for a batch's n-grams; ``doc_ids[grams.docs[i]]`` is the
    document of n-gram ``i``."""
    ids = pa.array(doc_ids, pa.string())
    return pa.table(
        [
            pa.array(np.full(grams.hashes.size, gen, dtype=np.int32)),
            pa.array(grams.hashes, pa.uint64()),
            ids.take(pa.array(grams.docs.astype(np.int64))),
            pa.array(grams.starts.astype(np.int32)),
            pa.array(grams.ends.astype(np.int32)),
        ],
        schema=_SCHEMA,
    )


def append_grams(store: Store, rows: pa.Table) -> None:
    """Add rows (committed at once unless the caller holds a transaction)."""
    if rows.num_rows:
        store.insert_arrow("_phrase_grams", rows)


def occurrences_of(
    store: Store, gen: int, hashes: np.ndarray, *, except_docs: list[str]
) -> pa.Table:
    """Where the n-grams ``hashes`` occur among the stored documents of generation ``gen``
    but ``except_docs``: columns ``hash``, ``doc_id``, ``start``, ``end``."""
    con = store.con
    con.register("_grams_wanted", pa.table({"hash": pa.array(hashes, pa.uint64())}))
    con.register("_grams_except", pa.table({"doc_id": pa.array(except_docs, pa.string())}))
    try:
        return con.sql(
            """SELECT g.hash, g.doc_id, g.start, g."end" FROM _phrase_grams g
               WHERE g.gen = ? AND g.hash IN (SELECT hash FROM _grams_wanted)
                 AND g.doc_id NOT IN (SELECT doc_id FROM _grams_except)""",
            params=[gen],
        ).to_arrow_table()
    finally:
        con.unregister("_grams_wanted")
        con.unregister("_grams_except")


def drop_documents(store: Store, gen: int, doc_ids: list[str]) -> None:
    """Delete the rows of ``doc_ids`` (inside the caller's transaction)."""
    con = store.con
    con.register("_grams_drop", pa.table({"doc_id": pa.array(doc_ids, pa.string())}))
    try:
        con.execute(
            """DELETE FROM _phrase_grams
               WHERE gen = ? AND doc_id IN (SELECT doc_id FROM _grams_drop)""",
            [gen],
        )
    finally:
        con.unregister("_grams_drop")


def keep_only(store: Store, gen: int) -> None:
    """Delete every row of another generation (inside the transaction that names ``gen``)."""
    store.con.execute("DELETE FROM _phrase_grams WHERE gen <> ?", [gen])
