"""The shared-phrases stage: documents → word n-grams, hashed into bands on disk → the
n-grams several sources share, kept where no longer phrase covers them → ``phrases`` and
``phrase_occurrences``.

Copied passages (the reuse stage's) are skipped: a phrase inside a copy is part of the copy.
Memory is bounded by one batch of documents while hashing and one band while counting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from chorus.phrases.kernels import (
    WordHashes,
    band_of,
    batch_grams,
    maximal,
    phrase_key,
    shared_hashes,
    widen,
)
from chorus.phrases.settings import PhrasesSettings
from chorus.progress import ProgressFactory, no_progress
from chorus.store import Store

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
    con = store.con
    docs = con.execute(
        "SELECT doc_id, source, published_at FROM documents ORDER BY doc_id"
    ).fetchall()
    doc_ids = [d for d, _, _ in docs]
    source_names = sorted({s for _, s, _ in docs})
    source_number = {s: i for i, s in enumerate(source_names)}
    source_of = np.asarray([source_number[s] for _, s, _ in docs], dtype=np.int64)
    n_chars = int(con.execute("SELECT coalesce(sum(length(text)), 0) FROM documents").fetchone()[0])  # type: ignore[index]
    bands = settings.bands_for(n_chars)
    max_docs = (
        len(docs)
        if len(docs) < settings.min_docs_for_share
        else max(settings.min_sources, int(settings.max_doc_share * len(docs)))
    )
    skips = _skips(store)
    words = WordHashes()
    occurrences: list[tuple[np.ndarray, ...]] = []
    with tempfile.TemporaryDirectory(prefix="chorus-phrases-") as tmp:
        folder = Path(tmp)
        bar = progress(desc="phrases: hash", total=len(docs), unit="doc")
        for lo in range(0, len(docs), _BATCH_DOCS):
            chunk = doc_ids[lo : lo + _BATCH_DOCS]
            texts = dict(
                con.execute(
                    "SELECT doc_id, text FROM documents WHERE doc_id IN "
                    "(SELECT unnest(?::VARCHAR[]))",
                    [chunk],
                ).fetchall()
            )
            grams = batch_grams(
                [texts[d] for d in chunk],
                min_words=settings.min_words,
                max_words=settings.max_words,
                skip=[skips.get(d, []) for d in chunk],
                words=words,
            )
            band = band_of(grams.hashes, bands)
            for b in np.unique(band).tolist():
                rows = band == b
                np.save(
                    folder / f"{b}-{lo}.npy",
                    np.stack(
                        [
                            grams.hashes[rows],
                            grams.docs[rows].astype(np.int64) + lo,
                            grams.starts[rows].astype(np.int64),
                            grams.ends[rows].astype(np.int64),
                        ]
                    ),
                )
            bar.update(len(chunk))
        bar.close()
        bar = progress(desc="phrases: count", total=bands, unit="band")
        for b in range(bands):
            parts = [np.load(p) for p in sorted(folder.glob(f"{b}-*.npy"))]
            bar.update(1)
            if not parts:
                continue
            rows = np.concatenate(parts, axis=1)
            shared = shared_hashes(
                rows[0],
                source_of[rows[1]],
                rows[1],
                min_sources=settings.min_sources,
                max_docs=max_docs,
            )
            keep = np.isin(rows[0], shared)
            occurrences.append(tuple(rows[:, keep]))
        bar.close()
    phrase_rows, occurrence_rows = _phrases(store, occurrences, docs)
    _write(store, phrase_rows, occurrence_rows, settings)
    summary = PhrasesSummary(
        n_documents=len(docs),
        n_phrases=phrase_rows.num_rows,
        n_occurrences=occurrence_rows.num_rows,
        seconds=time.perf_counter() - started,
    )
    log.info("phrases: %d phrases, %d occurrences", summary.n_phrases, summary.n_occurrences)
    return summary


def _phrases(
    store: Store,
    occurrences: list[tuple[np.ndarray, ...]],
    docs: list[tuple[str, str, dt.datetime | None]],
) -> tuple[pa.Table, pa.Table]:
    """Rows of ``phrases`` and ``phrase_occurrences`` from the shared n-grams' occurrences,
    keeping only maximal phrases."""
    if not occurrences:
        return PHRASE_SCHEMA.empty_table(), OCCURRENCE_SCHEMA.empty_table()
    hashes, doc_rows, starts, ends = (np.concatenate(c) for c in zip(*occurrences, strict=True))
    wanted = sorted({docs[int(d)][0] for d in np.unique(doc_rows).tolist()})
    texts = dict(
        store.con.execute(
            "SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))",
            [wanted],
        ).fetchall()
    )
    found: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    for h, d, s, e in zip(
        hashes.tolist(), doc_rows.tolist(), starts.tolist(), ends.tolist(), strict=True
    ):
        found[h].append((docs[d][0], s, e))
    by_key: dict[str, list[tuple[str, int, int]]] = {}
    for places in found.values():
        doc_id, s, e = min(places)
        by_key.setdefault(phrase_key(texts[doc_id][s:e]), []).extend(places)
    kept = maximal({k: len(set(v)) for k, v in by_key.items()})
    info = {d: (s, p) for d, s, p in docs}
    far_future = dt.datetime.max
    phrase_rows: list[dict[str, object]] = []
    occurrence_rows: list[tuple[str, str, int, int, str]] = []
    for key in kept:
        places = sorted(set(by_key[key]))
        doc_set = sorted({d for d, _, _ in places})
        origin = min(doc_set, key=lambda d: (info[d][1] or far_future, d))
        first = next(p for p in places if p[0] == origin)
        dates = [p for p in (info[d][1] for d in doc_set) if p is not None]
        phrase_id = "ph_" + hashlib.blake2b(key.encode("utf-8"), digest_size=6).hexdigest()
        phrase_rows.append(
            {
                "phrase_id": phrase_id,
                "phrase": texts[first[0]][slice(*widen(texts[first[0]], first[1], first[2]))],
                "n_words": len(key.split()),
                "n_occurrences": len(places),
                "n_docs": len(doc_set),
                "n_sources": len({info[d][0] for d in doc_set}),
                "first_seen": min(dates, default=None),
                "origin_doc_id": origin,
                "origin_source": info[origin][0],
            }
        )
        for d, s, e in places:
            s, e = widen(texts[d], s, e)
            occurrence_rows.append((phrase_id, d, s, e, texts[d][s:e]))
    phrase_rows.sort(
        key=lambda r: (
            -int(r["n_sources"]),  # type: ignore[call-overload]
            -int(r["n_docs"]),  # type: ignore[call-overload]
            -int(r["n_occurrences"]),  # type: ignore[call-overload]
            str(r["phrase_id"]),
        )
    )
    columns = list(zip(*occurrence_rows, strict=True)) if occurrence_rows else [()] * 5
    return (
        pa.Table.from_pylist(phrase_rows, schema=PHRASE_SCHEMA),
        pa.Table.from_arrays(
            [
                pa.array(list(c), type=f.type)
                for c, f in zip(columns, OCCURRENCE_SCHEMA, strict=True)
            ],
            schema=OCCURRENCE_SCHEMA,
        ),
    )


PHRASE_SCHEMA = pa.schema(
    [
        ("phrase_id", pa.string()),
        ("phrase", pa.string()),
        ("n_words", pa.int32()),
        ("n_occurrences", pa.int32()),
        ("n_docs", pa.int32()),
        ("n_sources", pa.int32()),
        ("first_seen", pa.timestamp("us")),
        ("origin_doc_id", pa.string()),
        ("origin_source", pa.string()),
    ]
)
OCCURRENCE_SCHEMA = pa.schema(
    [
        ("phrase_id", pa.string()),
        ("doc_id", pa.string()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("text", pa.string()),
    ]
)


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
        store.con.execute(
            "INSERT INTO phrases_runs VALUES (?, ?, ?)",
            [
                json.dumps(asdict(settings)),
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                json.dumps({"n_phrases": phrases.num_rows, "n_occurrences": occurrences.num_rows}),
            ],
        )
