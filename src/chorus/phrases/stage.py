"""The shared-phrases stage: documents → word n-grams, hashed into bands on disk → the
n-grams several sources share, kept where no longer phrase covers them → ``phrases`` and
``phrase_occurrences``.

Copied passages (the reuse stage's) are skipped: a phrase inside a copy is part of the copy.
Memory is bounded by one batch of documents while hashing, one band while counting, and the
shared occurrences (not their documents' texts) while writing. The bands on disk are the reuse
stage's (:class:`~chorus.reuse.candidates.BandFiles`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import tempfile
import time
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from chorus.phrases.kernels import (
    WordHashes,
    batch_grams,
    maximal,
    phrase_key,
    shared_hashes,
    widen,
)
from chorus.phrases.settings import PhrasesSettings
from chorus.progress import ProgressFactory, no_progress
from chorus.reuse.candidates import BandFiles, band_of_hash
from chorus.store import Store, scalar
from chorus.store.tables import TABLES

log = logging.getLogger(__name__)

_BATCH_DOCS = 500


@dataclass(frozen=True)
class PhrasesSummary:
    n_documents: int
    n_phrases: int
    n_occurrences: int
    seconds: float


def _skips(store: Store) -> dict[str, list[tuple[int, int]]]:
    if "passages" not in store.table_names():
        return {}
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for doc_id, start, end in store.con.execute(
        'SELECT doc_id, start, "end" FROM passages'
    ).fetchall():
        out[doc_id].append((start, end))
    return out


_COLUMNS = {"hash": "uint64", "doc": "int32", "start": "int32", "end": "int32"}


def find_phrases(
    store: Store,
    *,
    settings: PhrasesSettings | None = None,
    progress: ProgressFactory = no_progress,
) -> PhrasesSummary:
    """Replace ``phrases`` and ``phrase_occurrences`` with the phrases of the stored
    documents."""
    settings = settings or PhrasesSettings()
    started = time.perf_counter()
    docs = store.con.execute(
        "SELECT doc_id, source, published_at FROM documents ORDER BY doc_id"
    ).fetchall()
    index = {d: i for i, (d, _, _) in enumerate(docs)}
    source_number = {s: i for i, s in enumerate(sorted({s for _, s, _ in docs}))}
    source_of = np.asarray([source_number[s] for _, s, _ in docs], dtype=np.int64)
    n_chars = int(scalar(store.con, "SELECT coalesce(sum(length(text)), 0) FROM documents"))
    bands = settings.bands_for(n_chars)
    max_docs = (
        len(docs)
        if len(docs) < settings.min_docs_for_share
        else max(settings.min_sources, int(settings.max_doc_share * len(docs)))
    )
    with tempfile.TemporaryDirectory(prefix="chorus-phrases-") as tmp:
        files = BandFiles(Path(tmp), "grams", bands, _COLUMNS)
        _map_grams(store, files, settings, index, progress)
        shared = _reduce_bands(files, source_of, settings, max_docs, progress)
    phrase_rows, occurrences = _phrases(store, shared, docs)
    _write(store, phrase_rows, occurrences, settings)
    summary = PhrasesSummary(
        n_documents=len(docs),
        n_phrases=phrase_rows.num_rows,
        n_occurrences=occurrences.num_rows,
        seconds=time.perf_counter() - started,
    )
    log.info("phrases: %d phrases, %d occurrences", summary.n_phrases, summary.n_occurrences)
    return summary


def _map_grams(
    store: Store,
    files: BandFiles,
    settings: PhrasesSettings,
    index: dict[str, int],
    progress: ProgressFactory,
) -> None:
    """Every document's phrase n-grams into the band files, a batch of documents at a time."""
    skips = _skips(store)
    words = WordHashes()
    reader = store.con.sql("SELECT doc_id, text FROM documents").to_arrow_reader(_BATCH_DOCS)
    with closing(progress(desc="phrases: hash", total=len(index), unit="doc")) as bar:
        for batch in reader:
            doc_ids = batch.column(0).to_pylist()
            grams = batch_grams(
                batch.column(1).to_pylist(),
                min_words=settings.min_words,
                max_words=settings.max_words,
                skip=[skips.get(d, []) for d in doc_ids],
                words=words,
            )
            numbers = np.asarray([index[d] for d in doc_ids], dtype=np.int32)
            files.append(
                band_of_hash(grams.hashes, files.bands),
                {
                    "hash": grams.hashes,
                    "doc": numbers[grams.docs],
                    "start": grams.starts,
                    "end": grams.ends,
                },
            )
            bar.update(len(doc_ids))
    files.close()


def _reduce_bands(
    files: BandFiles,
    source_of: np.ndarray,
    settings: PhrasesSettings,
    max_docs: int,
    progress: ProgressFactory,
) -> dict[str, np.ndarray]:
    """The occurrences of the n-grams several sources share, one band at a time."""
    kept: list[dict[str, np.ndarray]] = []
    with closing(progress(desc="phrases: count", total=files.bands, unit="band")) as bar:
        for band in range(files.bands):
            rows = files.read(band)
            shared = shared_hashes(
                rows["hash"],
                source_of[rows["doc"]],
                rows["doc"],
                min_sources=settings.min_sources,
                max_docs=max_docs,
            )
            keep = np.isin(rows["hash"], shared)
            kept.append({k: v[keep] for k, v in rows.items()})
            files.remove(band)
            bar.update(1)
    return {k: np.concatenate([part[k] for part in kept]) for k in _COLUMNS}


def _phrases(
    store: Store,
    shared: dict[str, np.ndarray],
    docs: list[tuple[str, str, dt.datetime | None]],
) -> tuple[pa.Table, pa.Table]:
    """Rows of ``phrases`` and ``phrase_occurrences`` from the shared n-grams' occurrences,
    keeping only maximal phrases. Texts are read a batch of documents at a time: only the
    occurrences' own words are kept."""
    order = np.lexsort((shared["start"], shared["doc"]))
    doc_rows = shared["doc"][order]
    by_key: dict[str, set[tuple[str, int, int, str]]] = defaultdict(set)
    key_of: dict[int, str] = {}
    bounds = np.flatnonzero(np.diff(doc_rows)) + 1
    groups = np.split(np.arange(doc_rows.size), bounds) if doc_rows.size else []
    for lo in range(0, len(groups), _BATCH_DOCS):
        batch = groups[lo : lo + _BATCH_DOCS]
        wanted = [docs[int(doc_rows[g[0]])][0] for g in batch]
        texts = dict(
            store.con.execute(
                "SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))",
                [wanted],
            ).fetchall()
        )
        for doc_id, rows in zip(wanted, batch, strict=True):
            text = texts[doc_id]
            for row in order[rows].tolist():
                h = int(shared["hash"][row])
                s, e = int(shared["start"][row]), int(shared["end"][row])
                key = key_of.setdefault(h, phrase_key(text[s:e]))
                s, e = widen(text, s, e)
                by_key[key].add((doc_id, s, e, text[s:e]))
    kept = maximal({k: len(v) for k, v in by_key.items()})
    info = {d: (s, p) for d, s, p in docs}
    far_future = dt.datetime.max
    phrase_rows: list[dict[str, object]] = []
    occurrences: dict[str, list[object]] = {name: [] for name in OCCURRENCE_SCHEMA.names}
    for key in kept:
        places = sorted(by_key[key])
        doc_set = sorted({d for d, _, _, _ in places})
        origin = min(doc_set, key=lambda d: (info[d][1] or far_future, d))
        dates = [p for p in (info[d][1] for d in doc_set) if p is not None]
        phrase_id = "ph_" + hashlib.blake2b(key.encode("utf-8"), digest_size=6).hexdigest()
        phrase_rows.append(
            {
                "phrase_id": phrase_id,
                "phrase": next(t for d, _, _, t in places if d == origin),
                "n_words": len(key.split()),
                "n_occurrences": len(places),
                "n_docs": len(doc_set),
                "n_sources": len({info[d][0] for d in doc_set}),
                "first_seen": min(dates, default=None),
                "origin_doc_id": origin,
                "origin_source": info[origin][0],
            }
        )
        for place in places:
            for name, value in zip(OCCURRENCE_SCHEMA.names, (phrase_id, *place), strict=True):
                occurrences[name].append(value)
    phrase_rows.sort(
        key=lambda r: (
            -int(r["n_sources"]),  # type: ignore[call-overload]
            -int(r["n_docs"]),  # type: ignore[call-overload]
            -int(r["n_occurrences"]),  # type: ignore[call-overload]
            str(r["phrase_id"]),
        )
    )
    return (
        pa.Table.from_pylist(phrase_rows, schema=PHRASE_SCHEMA),
        pa.table(occurrences, schema=OCCURRENCE_SCHEMA),
    )


PHRASE_SCHEMA = TABLES["phrases"].arrow_schema()
OCCURRENCE_SCHEMA = TABLES["phrase_occurrences"].arrow_schema()


def _write(
    store: Store, phrases: pa.Table, occurrences: pa.Table, settings: PhrasesSettings
) -> None:
    with store.transaction():
        for table in ("phrase_occurrences", "phrases", "phrases_runs"):
            store.con.execute(f"DELETE FROM {table}")
        store.insert_arrow("phrases", phrases)
        store.insert_arrow(
            "phrase_occurrences",
            occurrences.sort_by(
                [("phrase_id", "ascending"), ("doc_id", "ascending"), ("start", "ascending")]
            ),
        )
        store.record_run(
            "phrases_runs",
            settings,
            stats={"n_phrases": phrases.num_rows, "n_occurrences": occurrences.num_rows},
        )
