"""The shared-phrases stage: documents → word n-grams, hashed into bands on disk → the
n-grams several sources share, kept where no longer phrase covers them → ``phrases`` and
``phrase_occurrences``.

Copied passages (the reuse stage's) are skipped: a phrase inside a copy is part of the copy.
Memory is bounded by one batch of documents while hashing, one band while counting, and the
shared occurrences (not their documents' texts) while writing. The bands on disk are the reuse
stage's (:class:`~chorus.reuse.candidates.BandFiles`).

A store whose phrases were found is updated instead (:mod:`chorus.phrases.state`): the
n-grams of the documents added, replaced or with new copied passages since, and those inside
the phrases of documents replaced or removed, are the only phrases that can change. The update
splits only the changed documents into n-grams and finds those n-grams' other occurrences in
every document's stored n-grams (:mod:`chorus.phrases.grams`, a join), decides them as a run
from scratch would, and replaces only their phrases. A store without stored n-grams, or an
update that changes more than ``_REREAD_SHARE`` of the documents, reads every document once
instead (array operations, no Python step per word) and stores the n-grams again. Phrases no
changed document holds keep the ``max_doc_share`` limit of the run that found them; the stage
starts over once the corpus has grown by ``restart_growth``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from chorus.phrases.grams import (
    append_grams,
    drop_documents,
    grams_table,
    keep_only,
    next_generation,
    occurrences_of,
)
from chorus.phrases.kernels import (
    ContentWords,
    Grams,
    batch_grams,
    key_grams,
    maximal,
    phrase_key,
    shared_hashes,
    widen,
)
from chorus.phrases.settings import PhrasesSettings
from chorus.phrases.state import (
    PhrasesState,
    read_state,
    settings_key,
    skips_digest,
    write_marks,
    write_scalars,
)
from chorus.progress import ProgressFactory, no_progress
from chorus.reuse.candidates import BandFiles, band_of_hash
from chorus.store import Store, scalar
from chorus.store.tables import TABLES

log = logging.getLogger(__name__)

_BATCH_DOCS = 500
# An update changing more documents than this share reads them all and stores every n-gram
# again in committed chunks: its own transaction would otherwise hold all their n-grams.
_REREAD_SHARE = 0.1


@dataclass(frozen=True)
class PhrasesSummary:
    n_documents: int
    n_phrases: int
    n_occurrences: int
    seconds: float
    # Documents read again by an update (added, replaced, or with new copied passages);
    # ``None``: the phrases were found from scratch.
    n_changed_documents: int | None = None


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


@dataclass(frozen=True)
class _Corpus:
    docs: list[tuple[str, str, dt.datetime | None]]
    index: dict[str, int]
    source_of: np.ndarray
    max_docs: int
    skips: dict[str, list[tuple[int, int]]]
    # Each document's (text hash, digest of its skipped spans).
    marks: dict[str, tuple[str, str]]


def _corpus(store: Store, settings: PhrasesSettings) -> _Corpus:
    docs = store.con.execute(
        "SELECT doc_id, source, published_at FROM documents ORDER BY doc_id"
    ).fetchall()
    source_number = {s: i for i, s in enumerate(sorted({s for _, s, _ in docs}))}
    skips = _skips(store)
    return _Corpus(
        docs=docs,
        index={d: i for i, (d, _, _) in enumerate(docs)},
        source_of=np.asarray([source_number[s] for _, s, _ in docs], dtype=np.int64),
        max_docs=(
            len(docs)
            if len(docs) < settings.min_docs_for_share
            else max(settings.min_sources, int(settings.max_doc_share * len(docs)))
        ),
        skips=skips,
        marks={
            d: (t, skips_digest(skips.get(d, [])))
            for d, t in store.con.execute("SELECT doc_id, text_hash FROM documents").fetchall()
        },
    )


def find_phrases(
    store: Store,
    *,
    settings: PhrasesSettings | None = None,
    rebuild: bool = False,
    progress: ProgressFactory = no_progress,
) -> PhrasesSummary:
    """Bring ``phrases`` and ``phrase_occurrences`` up to date with the stored documents:
    updated with the documents changed since the last run, or found from scratch (no earlier
    run, other settings, a corpus grown past ``restart_growth``, or ``rebuild``)."""
    settings = settings or PhrasesSettings()
    started = time.perf_counter()
    corpus = _corpus(store, settings)
    stored = read_state(store.con)
    state = None if rebuild else stored
    if state is not None and _can_update(state, settings, len(corpus.docs)):
        n_changed = _update(store, corpus, state, settings, progress)
    else:
        n_changed = None
        _find_all(store, corpus, settings, progress, None if stored is None else stored.grams_gen)
    n_phrases, n_occurrences = store.con.execute(
        "SELECT (SELECT count(*) FROM phrases), (SELECT count(*) FROM phrase_occurrences)"
    ).fetchall()[0]
    summary = PhrasesSummary(
        n_documents=len(corpus.docs),
        n_phrases=int(n_phrases),
        n_occurrences=int(n_occurrences),
        seconds=time.perf_counter() - started,
        n_changed_documents=n_changed,
    )
    log.info("phrases: %d phrases, %d occurrences", summary.n_phrases, summary.n_occurrences)
    return summary


def _can_update(state: PhrasesState, settings: PhrasesSettings, n_docs: int) -> bool:
    small_then = state.full_docs < settings.min_docs_for_share
    small_now = n_docs < settings.min_docs_for_share
    return (
        state.settings == settings_key(settings)
        and small_then == small_now
        and n_docs <= state.full_docs * (1 + settings.restart_growth)
    )


def _find_all(
    store: Store,
    corpus: _Corpus,
    settings: PhrasesSettings,
    progress: ProgressFactory,
    stored_gen: int | None,
) -> None:
    n_chars = int(scalar(store.con, "SELECT coalesce(sum(length(text)), 0) FROM documents"))
    bands = settings.bands_for(n_chars)
    gen = next_generation(store, stored_gen)
    with tempfile.TemporaryDirectory(prefix="chorus-phrases-") as tmp:
        files = BandFiles(Path(tmp), "grams", bands, _COLUMNS)
        for numbers, doc_ids, grams in _doc_grams(store, settings, corpus, progress):
            append_grams(store, grams_table(gen, doc_ids, grams))
            files.append(
                band_of_hash(grams.hashes, files.bands),
                {
                    "hash": grams.hashes,
                    "doc": numbers[grams.docs],
                    "start": grams.starts,
                    "end": grams.ends,
                },
            )
        files.close()
        shared = _reduce_bands(files, corpus.source_of, settings, corpus.max_docs, progress)
    phrase_rows, occurrences, keys = _phrases(store, shared, corpus.docs)
    with store.transaction():
        for table in ("phrase_occurrences", "phrases", "_phrase_keys"):
            store.con.execute(f"DELETE FROM {table}")
        _insert(store, phrase_rows, occurrences, keys, settings)
        write_marks(store.con, corpus.marks)
        write_scalars(store.con, settings, full_docs=len(corpus.docs), grams_gen=gen)
        keep_only(store, gen)


def _update(
    store: Store,
    corpus: _Corpus,
    state: PhrasesState,
    settings: PhrasesSettings,
    progress: ProgressFactory,
) -> int:
    """Update the phrases with the documents changed since the state; returns how many were
    read again."""
    changed = sorted(d for d, mark in corpus.marks.items() if state.marks.get(d) != mark)
    left = sorted(d for d, mark in state.marks.items() if corpus.marks.get(d) != mark)
    if not changed and not left:
        return 0
    new_rows = _changed_grams(store, corpus, settings, changed)
    touched = _touched_hashes(store, settings, new_rows["hash"], left)
    gen = state.grams_gen
    if gen is None or len(changed) > _REREAD_SHARE * len(corpus.docs):
        gen = next_generation(store, state.grams_gen)
        rows = _scan(store, corpus, settings, progress, touched, gen)
        store_all = True
    else:
        found = occurrences_of(store, gen, touched, except_docs=sorted({*changed, *left}))
        index = corpus.index
        rows = {
            "hash": np.concatenate([found.column("hash").to_numpy(), new_rows["hash"]]),
            "doc": np.concatenate(
                [
                    np.fromiter(
                        (index[d] for d in found.column("doc_id").to_pylist()),
                        dtype=np.int32,
                        count=found.num_rows,
                    ),
                    new_rows["doc"],
                ]
            ),
            "start": np.concatenate([found.column("start").to_numpy(), new_rows["start"]]),
            "end": np.concatenate([found.column("end").to_numpy(), new_rows["end"]]),
        }
        store_all = False
    if rows["hash"].size:
        shared_now = shared_hashes(
            rows["hash"],
            corpus.source_of[rows["doc"]],
            rows["doc"],
            min_sources=settings.min_sources,
            max_docs=corpus.max_docs,
        )
        keep = np.isin(rows["hash"], shared_now)
        rows = {k: v[keep] for k, v in rows.items()}
    phrase_rows, occurrences, keys = _phrases(store, rows, corpus.docs)
    with store.transaction():
        con = store.con
        con.register("_phrases_touched", pa.table({"key_hash": pa.array(touched, pa.uint64())}))
        con.register("_phrases_new", keys)
        try:
            gone = """
                SELECT phrase_id FROM _phrase_keys WHERE key_hash IN
                    (SELECT key_hash FROM _phrases_touched)
                UNION SELECT phrase_id FROM _phrases_new
            """
            con.execute(f"DELETE FROM phrase_occurrences WHERE phrase_id IN ({gone})")
            con.execute(f"DELETE FROM phrases WHERE phrase_id IN ({gone})")
            con.execute(f"DELETE FROM _phrase_keys WHERE phrase_id IN ({gone})")
        finally:
            con.unregister("_phrases_touched")
            con.unregister("_phrases_new")
        _insert(store, phrase_rows, occurrences, keys, settings)
        write_marks(con, corpus.marks)
        if store_all:
            con.execute("UPDATE _phrase_state SET grams_gen = ?", [gen])
            keep_only(store, gen)
        else:
            drop_documents(store, gen, sorted({*changed, *left}))
            names = [doc_id for doc_id, _, _ in corpus.docs]
            append_grams(
                store,
                grams_table(
                    gen,
                    names,
                    Grams(new_rows["hash"], new_rows["doc"], new_rows["start"], new_rows["end"]),
                ),
            )
    return len(changed)


def _scan(
    store: Store,
    corpus: _Corpus,
    settings: PhrasesSettings,
    progress: ProgressFactory,
    touched: np.ndarray,
    gen: int,
) -> dict[str, np.ndarray]:
    """Every document's occurrences of the ``touched`` n-grams, read from the texts; every
    n-gram is stored under ``gen`` on the way (committed batch by batch)."""
    kept: list[dict[str, np.ndarray]] = []
    is_touched = _HashSet(touched)
    for numbers, doc_ids, grams in _doc_grams(
        store, settings, corpus, progress, desc="phrases: scan"
    ):
        append_grams(store, grams_table(gen, doc_ids, grams))
        keep = is_touched.contains(grams.hashes)
        kept.append(
            {
                "hash": grams.hashes[keep],
                "doc": numbers[grams.docs[keep]],
                "start": grams.starts[keep],
                "end": grams.ends[keep],
            }
        )
    if not kept:
        return {k: np.zeros(0, dtype=t) for k, t in _COLUMNS.items()}
    return {k: np.concatenate([part[k] for part in kept]) for k in _COLUMNS}


_FILTER_BITS = 27


class _HashSet:
    """Membership of uint64 hashes in a fixed sorted set, for batches of millions of them: a
    byte map of the hashes' top 27 bits (128 MiB) rules most out with one lookup each, and a
    binary search decides the rest (a binary search for every hash costs several cache
    misses)."""

    def __init__(self, sorted_values: np.ndarray) -> None:
        self._values = sorted_values
        self._bits = np.zeros(1 << _FILTER_BITS, dtype=bool)
        self._bits[(sorted_values >> np.uint64(64 - _FILTER_BITS)).astype(np.int64)] = True

    def contains(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(values.size, dtype=bool)
        if self._values.size == 0:
            return out
        maybe = np.flatnonzero(
            self._bits[(values >> np.uint64(64 - _FILTER_BITS)).astype(np.int64)]
        )
        at = np.minimum(np.searchsorted(self._values, values[maybe]), self._values.size - 1)
        out[maybe] = self._values[at] == values[maybe]
        return out


def _changed_grams(
    store: Store, corpus: _Corpus, settings: PhrasesSettings, changed: list[str]
) -> dict[str, np.ndarray]:
    """Every n-gram of the changed documents as they are now (``doc``: their numbers in
    ``corpus.index``)."""
    parts = [{k: np.zeros(0, dtype=t) for k, t in _COLUMNS.items()}]
    words = ContentWords()
    for lo in range(0, len(changed), _BATCH_DOCS):
        batch = changed[lo : lo + _BATCH_DOCS]
        texts = dict(
            store.con.execute(
                "SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))",
                [batch],
            ).fetchall()
        )
        grams = batch_grams(
            [texts[d] for d in batch],
            min_words=settings.min_words,
            max_words=settings.max_words,
            skip=[corpus.skips.get(d, []) for d in batch],
            words=words,
        )
        numbers = np.asarray([corpus.index[d] for d in batch], dtype=np.int32)
        parts.append(
            {
                "hash": grams.hashes,
                "doc": numbers[grams.docs],
                "start": grams.starts,
                "end": grams.ends,
            }
        )
    return {k: np.concatenate([part[k] for part in parts]).astype(t) for k, t in _COLUMNS.items()}


def _touched_hashes(
    store: Store, settings: PhrasesSettings, changed_hashes: np.ndarray, left: list[str]
) -> np.ndarray:
    """The n-gram hashes whose phrases an update decides again: every n-gram of the changed
    documents (as they are now), and every n-gram inside a phrase found in a document as it
    was (replaced, removed, or with other copied passages). Sorted."""
    held = store.con.execute(
        """SELECT DISTINCT p.phrase FROM phrases p JOIN phrase_occurrences o USING (phrase_id)
           WHERE o.doc_id IN (SELECT unnest(?::VARCHAR[]))""",
        [left],
    ).fetchall()
    inside = [
        h
        for (phrase,) in held
        for h in key_grams(
            phrase_key(phrase), min_words=settings.min_words, max_words=settings.max_words
        )
    ]
    return np.unique(np.concatenate([changed_hashes, np.asarray(inside, dtype=np.uint64)]))


def _doc_grams(
    store: Store,
    settings: PhrasesSettings,
    corpus: _Corpus,
    progress: ProgressFactory,
    *,
    desc: str = "phrases: hash",
) -> Iterator[tuple[np.ndarray, list[str], Grams]]:
    """Every document's phrase n-grams, a batch of documents at a time, with the documents'
    numbers (``corpus.index``) and ids for the batch's positions."""
    words = ContentWords()
    # Its own cursor: the caller stores each batch's n-grams while the texts stream.
    cursor = store.con.cursor()
    reader = cursor.sql("SELECT doc_id, text FROM documents").to_arrow_reader(_BATCH_DOCS)
    with closing(cursor), closing(progress(desc=desc, total=len(corpus.index), unit="doc")) as bar:
        for batch in reader:
            doc_ids = batch.column(0).to_pylist()
            grams = batch_grams(
                batch.column(1).to_pylist(),
                min_words=settings.min_words,
                max_words=settings.max_words,
                skip=[corpus.skips.get(d, []) for d in doc_ids],
                words=words,
            )
            numbers = np.asarray([corpus.index[d] for d in doc_ids], dtype=np.int32)
            yield numbers, doc_ids, grams
            bar.update(len(doc_ids))


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
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Rows of ``phrases`` and ``phrase_occurrences`` from the shared n-grams' occurrences,
    keeping only maximal phrases, and each phrase's n-gram hash (``_phrase_keys``). Texts are
    read a batch of documents at a time: only the occurrences' own words are kept."""
    order = np.lexsort((shared["start"], shared["doc"]))
    doc_rows = shared["doc"][order]
    # Plain lists: indexing arrays one element at a time costs more than the work per row.
    hashes = shared["hash"][order].tolist()
    starts = shared["start"][order].tolist()
    ends = shared["end"][order].tolist()
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
            for row in range(int(rows[0]), int(rows[-1]) + 1):
                h, s, e = hashes[row], starts[row], ends[row]
                key = key_of.get(h)
                if key is None:
                    key = key_of[h] = phrase_key(text[s:e])
                s, e = widen(text, s, e)
                by_key[key].add((doc_id, s, e, text[s:e]))
    kept = maximal({k: len(v) for k, v in by_key.items()})
    hash_of = {k: h for h, k in key_of.items()}
    info = {d: (s, p) for d, s, p in docs}
    far_future = dt.datetime.max
    phrase_rows: list[dict[str, object]] = []
    occurrences: dict[str, list[object]] = {name: [] for name in OCCURRENCE_SCHEMA.names}
    keys: dict[str, list[object]] = {"phrase_id": [], "key_hash": []}
    for key in kept:
        places = sorted(by_key[key])
        doc_set = sorted({d for d, _, _, _ in places})
        origin = min(doc_set, key=lambda d: (info[d][1] or far_future, d))
        dates = [p for p in (info[d][1] for d in doc_set) if p is not None]
        phrase_id = "ph_" + hashlib.blake2b(key.encode("utf-8"), digest_size=6).hexdigest()
        keys["phrase_id"].append(phrase_id)
        keys["key_hash"].append(hash_of[key])
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
        # Column by column: appending field by field cost more than finding the phrases.
        occurrences["phrase_id"].extend([phrase_id] * len(places))
        columns = zip(*places, strict=True)
        for name, values in zip(OCCURRENCE_SCHEMA.names[1:], columns, strict=True):
            occurrences[name].extend(values)
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
        pa.table(keys, schema=KEY_SCHEMA),
    )


PHRASE_SCHEMA = TABLES["phrases"].arrow_schema()
OCCURRENCE_SCHEMA = TABLES["phrase_occurrences"].arrow_schema()
KEY_SCHEMA = TABLES["_phrase_keys"].arrow_schema()


def _insert(
    store: Store,
    phrases: pa.Table,
    occurrences: pa.Table,
    keys: pa.Table,
    settings: PhrasesSettings,
) -> None:
    """Add phrases, their occurrences and keys, and record the run (inside the caller's
    transaction)."""
    store.insert_arrow("phrases", phrases)
    store.insert_arrow(
        "phrase_occurrences",
        occurrences.sort_by(
            [("phrase_id", "ascending"), ("doc_id", "ascending"), ("start", "ascending")]
        ),
    )
    store.insert_arrow("_phrase_keys", keys)
    store.con.execute("DELETE FROM phrases_runs")
    n_phrases, n_occurrences = store.con.execute(
        "SELECT (SELECT count(*) FROM phrases), (SELECT count(*) FROM phrase_occurrences)"
    ).fetchall()[0]
    store.record_run(
        "phrases_runs",
        settings,
        stats={"n_phrases": int(n_phrases), "n_occurrences": int(n_occurrences)},
    )
