"""What an update of the shared phrases starts from, written with the phrases.

``_phrase_docs``: every document the phrases describe, with its text hash and a digest of the
spans skipped in it (copied passages), so an update knows which documents to read again.
``_phrase_keys``: each phrase's n-gram hash, so the phrases an update touches are found without
reading their texts. ``_phrase_state``: the settings and the corpus size of the last run from
scratch, and the generation of the stored n-grams (:mod:`chorus.phrases.grams`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import duckdb
import pyarrow as pa

from chorus.phrases.settings import PhrasesSettings

STATE_TABLES = ("_phrase_docs", "_phrase_keys", "_phrase_state", "_phrase_grams")


def settings_key(settings: PhrasesSettings) -> str:
    """The settings an update must share with the run it continues (how the work is split
    and when to start over change no phrase)."""
    fields = asdict(settings)
    fields.pop("bands", None)
    fields.pop("restart_growth", None)
    return json.dumps(fields, sort_keys=True)


def skips_digest(spans: Sequence[tuple[int, int]]) -> str:
    """A digest of a document's skipped spans: the update reads a document again when they
    change (a later copy of it makes part of it a passage)."""
    if not spans:
        return ""
    text = ";".join(f"{s}-{e}" for s, e in sorted(spans))
    return hashlib.blake2b(text.encode("ascii"), digest_size=8).hexdigest()


@dataclass(frozen=True)
class PhrasesState:
    """The last run's settings, the documents at the last run from scratch, the mark (text
    hash, skipped spans) of every document the phrases describe, and the generation of the
    stored n-grams (``None``: not stored)."""

    settings: str
    full_docs: int
    marks: dict[str, tuple[str, str]]
    grams_gen: int | None = None


def read_state(con: duckdb.DuckDBPyConnection) -> PhrasesState | None:
    """The stored state, or ``None`` when the phrases were never found with one."""
    rows = con.execute("SELECT settings, full_docs, grams_gen FROM _phrase_state").fetchall()
    if not rows:
        return None
    row = rows[0]
    marks = {d: (t, s) for d, t, s in con.execute("SELECT * FROM _phrase_docs").fetchall()}
    return PhrasesState(
        settings=str(row[0]),
        full_docs=int(row[1]),
        marks=marks,
        grams_gen=None if row[2] is None else int(row[2]),
    )


def write_marks(con: duckdb.DuckDBPyConnection, marks: Mapping[str, tuple[str, str]]) -> None:
    """Replace the documents' marks (inside the caller's transaction)."""
    ids = sorted(marks)
    table = pa.table(
        {
            "doc_id": ids,
            "text_hash": [marks[d][0] for d in ids],
            "skips": [marks[d][1] for d in ids],
        }
    )
    con.execute("DELETE FROM _phrase_docs")
    con.register("_phrase_marks_in", table)
    try:
        con.execute("INSERT INTO _phrase_docs SELECT * FROM _phrase_marks_in")
    finally:
        con.unregister("_phrase_marks_in")


def write_scalars(
    con: duckdb.DuckDBPyConnection, settings: PhrasesSettings, *, full_docs: int, grams_gen: int
) -> None:
    con.execute("DELETE FROM _phrase_state")
    con.execute(
        "INSERT INTO _phrase_state VALUES (?, ?, ?)",
        [settings_key(settings), full_docs, grams_gen],
    )
