"""The reuse stage: every passage two or more documents share word for word or nearly so.

documents → (map) n-gram hashes by band → (reduce) matches by document pair → aligned runs →
(final, on the documents involved only) extended runs, clusters, kinds → ``passages`` and
``reuse_clusters``. Memory holds one band at a time plus the runs found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa

from chorus.progress import ProgressFactory, no_progress
from chorus.reuse.align import Run, chain, extend, merge_adjacent
from chorus.reuse.candidates import (
    MATCH_COLUMNS,
    SHINGLE_COLUMNS,
    BandFiles,
    Matches,
    band_of_hash,
    band_of_pair,
    matches_in_band,
)
from chorus.reuse.classify import classify, is_wire_document
from chorus.reuse.cluster import Span, cluster_runs
from chorus.reuse.settings import ReuseSettings
from chorus.reuse.tokens import Shingles, char_offsets, iter_batches, shingle, tokenize
from chorus.store import Store, scalar

log = logging.getLogger(__name__)

_EDGE_SHARE = 0.2
_WORKERS = max(1, min(2, os.cpu_count() or 1))
_CLOSERS = frozenset(".!?…\"'”’)]")


@dataclass(frozen=True)
class ReuseSummary:
    n_documents: int
    n_shingles: int
    n_matches: int
    n_runs: int
    n_clusters: int
    n_passages: int
    kinds: dict[str, int]
    seconds: float


@dataclass(frozen=True)
class ClusterRow:
    """A row of ``reuse_clusters``."""

    cluster_id: str
    kind: str
    n_passages: int
    n_docs: int
    n_sources: int
    n_words: int
    first_seen: dt.datetime | None
    origin_doc_id: str
    origin_source: str
    representative: str


@dataclass(frozen=True)
class PassageRow:
    """A row of ``passages``: ``text`` is ``documents.text[start:end]`` of ``doc_id``."""

    passage_id: str
    cluster_id: str
    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Doc:
    doc_id: str
    source: str
    published_at: dt.datetime | None
    text: str
    wire: bool
    tok_start: np.ndarray  # byte offsets
    tok_end: np.ndarray
    tok_hash: np.ndarray

    @property
    def n_tokens(self) -> int:
        return len(self.tok_hash)

    @cached_property
    def _chars(self) -> np.ndarray | None:
        return None if self.text.isascii() else char_offsets(self.text)

    def char_span(self, start_tok: int, end_tok: int) -> tuple[int, int]:
        b0, b1 = int(self.tok_start[start_tok]), int(self.tok_end[end_tok - 1])
        chars = self._chars
        start, end = (b0, b1) if chars is None else (int(chars[b0]), int(chars[b1]))
        # Closing punctuation right after the last word belongs to the passage.
        n = len(self.text)
        while end < n and end - b1 < 3 and self.text[end] in _CLOSERS:
            end += 1
        return start, end


def _stable_id(prefix: str, *parts: object) -> str:
    key = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return prefix + hashlib.blake2b(key, digest_size=8).hexdigest()


def _map_shingles(
    store: Store,
    files: BandFiles,
    settings: ReuseSettings,
    index: dict[str, int],
    progress: ProgressFactory,
) -> int:
    bands = files.bands
    """Hash every document's n-grams into the band files. Documents are read in storage order
    (no sort of the texts) and numbered by their place in doc_id order, so results do not
    depend on the order documents were ingested in."""
    total = 0
    reader = store.con.sql("SELECT doc_id, text FROM documents").to_arrow_reader(2000)

    def hash_batch(texts: list[str]) -> Shingles:
        return shingle(tokenize(texts), settings.ngram)

    with (
        closing(progress(desc="reuse: hash n-grams", total=len(index), unit="doc")) as bar,
        ThreadPoolExecutor(max_workers=_WORKERS) as pool,
    ):
        for batch in reader:
            ids = np.fromiter((index[i] for i in batch.column(0).to_pylist()), dtype=np.int32)
            texts = batch.column(1).to_pylist()
            slices = iter_batches(texts)
            # numpy releases the GIL, so batches hash on both cores; results come in order.
            hashed = pool.map(hash_batch, [texts[sl] for sl in slices])
            for sl, sh in zip(slices, hashed, strict=True):
                docs = ids[sl][sh.doc]
                files.append(
                    band_of_hash(sh.hash, bands),
                    {"hash": sh.hash, "doc": docs, "pos": sh.pos},
                )
                total += len(sh.hash)
            bar.update(len(texts))
    files.close()
    return total


def runs_from_shingle_files(
    shingles: BandFiles, workdir: Path, settings: ReuseSettings, progress: ProgressFactory
) -> tuple[list[Run], int]:
    """The reduce steps: matches per hash band, then runs per document-pair band."""
    bands = shingles.bands
    pairs = BandFiles(workdir, "matches", bands, MATCH_COLUMNS)
    n_matches = 0

    def match_band(band: int) -> Matches:
        cols = shingles.read(band)
        shingles.remove(band)
        return matches_in_band(
            Shingles(cols["hash"], cols["doc"], cols["pos"]),
            max_copies=settings.max_copies,
            min_self_distance=settings.min_span,
        )

    def align_band(band: int) -> list[Run]:
        cols = pairs.read(band)
        pairs.remove(band)
        matches = Matches(cols["doc_a"], cols["pos_a"], cols["doc_b"], cols["pos_b"])
        return chain(matches, settings)

    # Bands are independent (a Spark engine runs each as a task); here two at a time, with
    # results taken in band order so the output does not depend on timing.
    runs: list[Run] = []
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        with closing(progress(desc="reuse: match", total=bands, unit="band")) as bar:
            for m in pool.map(match_band, range(bands)):
                n_matches += len(m)
                pairs.append(
                    band_of_pair(m.doc_a, m.doc_b, bands),
                    {"doc_a": m.doc_a, "pos_a": m.pos_a, "doc_b": m.doc_b, "pos_b": m.pos_b},
                )
                bar.update(1)
        pairs.close()
        with closing(progress(desc="reuse: align", total=bands, unit="band")) as bar:
            for found in pool.map(align_band, range(bands)):
                runs.extend(found)
                bar.update(1)
    return runs, n_matches


def _load_docs(store: Store, doc_ids: list[str]) -> dict[str, _Doc]:
    if not doc_ids:
        return {}
    con = store.con
    con.register("_reuse_ids", pa.table({"doc_id": pa.array(doc_ids, pa.string())}))
    rows = con.execute(
        """SELECT d.doc_id, d.source, d.published_at, d.text FROM documents d
           JOIN _reuse_ids USING (doc_id) ORDER BY d.doc_id"""
    ).fetchall()
    con.unregister("_reuse_ids")
    out: dict[str, _Doc] = {}
    texts = [r[3] for r in rows]
    for sl in iter_batches(texts):
        tokens = tokenize(texts[sl])
        for k, (doc_id, source, published_at, text) in enumerate(rows[sl]):
            lo, hi = int(tokens.doc_first_token[k]), int(tokens.doc_first_token[k + 1])
            out[doc_id] = _Doc(
                doc_id,
                source,
                published_at,
                text,
                is_wire_document(text, source),
                tokens.start[lo:hi],
                tokens.end[lo:hi],
                tokens.hash[lo:hi],
            )
    return out


def find_reuse(
    store: Store,
    *,
    settings: ReuseSettings | None = None,
    progress: ProgressFactory = no_progress,
    workdir: str | None = None,
) -> ReuseSummary:
    """Find reused passages across the stored documents and replace the ``passages`` and
    ``reuse_clusters`` tables with them."""
    settings = settings or ReuseSettings()
    started = time.monotonic()
    con = store.con
    doc_ids = [r[0] for r in con.execute("SELECT doc_id FROM documents ORDER BY doc_id").fetchall()]
    n_chars = int(scalar(con, "SELECT coalesce(sum(length(text)), 0) FROM documents"))
    bands = settings.bands_for(n_chars)
    index = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    with tempfile.TemporaryDirectory(prefix="chorus-reuse-", dir=workdir) as tmp:
        folder = Path(tmp)
        shingles = BandFiles(folder, "shingles", bands, SHINGLE_COLUMNS)
        n_shingles = _map_shingles(store, shingles, settings, index, progress)
        runs, n_matches = runs_from_shingle_files(shingles, folder, settings, progress)

    involved = sorted({r.doc_a for r in runs} | {r.doc_b for r in runs})
    docs = _load_docs(store, [doc_ids[i] for i in involved])
    extended = [
        extend(r, docs[doc_ids[r.doc_a]].tok_hash, docs[doc_ids[r.doc_b]].tok_hash, settings)
        for r in runs
    ]
    clusters = cluster_runs(merge_adjacent(extended, settings))
    passages, cluster_rows = _tables(clusters, doc_ids, docs)
    kinds = dict(sorted(Counter(row.kind for row in cluster_rows).items()))
    summary = ReuseSummary(
        n_documents=len(doc_ids),
        n_shingles=n_shingles,
        n_matches=n_matches,
        n_runs=len(runs),
        n_clusters=len(cluster_rows),
        n_passages=len(passages),
        kinds=kinds,
        seconds=time.monotonic() - started,
    )
    _write(store, passages, cluster_rows, settings, summary)
    log.info("reuse: %d clusters, %d passages", summary.n_clusters, summary.n_passages)
    return summary


def _tables(
    clusters: list[list[Span]], doc_ids: list[str], docs: dict[str, _Doc]
) -> tuple[list[PassageRow], list[ClusterRow]]:
    passages: list[PassageRow] = []
    cluster_rows: list[ClusterRow] = []
    for spans in clusters:
        located = []
        for s in spans:
            doc = docs[doc_ids[s.doc]]
            start, end = doc.char_span(s.start, s.end)
            located.append((doc, s, start, end))
        # Origin: the earliest dated copy; undated copies after dated ones; then by id, offset.
        origin = min(
            located,
            key=lambda x: (
                x[0].published_at is None,
                x[0].published_at or dt.datetime.min,
                x[0].doc_id,
                x[2],
            ),
        )
        o_doc, o_span, o_start, o_end = origin
        cluster_id = _stable_id("c", o_doc.doc_id, o_start, o_end)
        text = o_doc.text[o_start:o_end]
        per_doc: dict[str, _Doc] = {d.doc_id: d for d, _, _, _ in located}
        wire = [d.wire for d in per_doc.values()]
        at_edge = [
            (s.start <= _EDGE_SHARE * d.n_tokens) or (s.end >= (1 - _EDGE_SHARE) * d.n_tokens)
            for d, s, _, _ in located
        ]
        kind = classify(
            sources=[d.source for d in per_doc.values()], wire=wire, at_edge=at_edge, text=text
        )
        dates = [d.published_at for d in per_doc.values() if d.published_at is not None]
        cluster_rows.append(
            ClusterRow(
                cluster_id=cluster_id,
                kind=kind.value,
                n_passages=len(located),
                n_docs=len(per_doc),
                n_sources=len({d.source for d in per_doc.values()}),
                n_words=o_span.end - o_span.start,
                first_seen=min(dates) if dates else None,
                origin_doc_id=o_doc.doc_id,
                origin_source=o_doc.source,
                representative=text,
            )
        )
        for doc, _, start, end in located:
            passages.append(
                PassageRow(
                    passage_id=_stable_id("p", cluster_id, doc.doc_id, start),
                    cluster_id=cluster_id,
                    doc_id=doc.doc_id,
                    start=start,
                    end=end,
                    text=doc.text[start:end],
                )
            )
    cluster_rows.sort(key=lambda r: (-r.n_docs, r.cluster_id))
    passages.sort(key=lambda r: (r.cluster_id, r.doc_id, r.start))
    return passages, cluster_rows


_CLUSTER_SCHEMA = pa.schema(
    [
        ("cluster_id", pa.string()),
        ("kind", pa.string()),
        ("n_passages", pa.int32()),
        ("n_docs", pa.int32()),
        ("n_sources", pa.int32()),
        ("n_words", pa.int32()),
        ("first_seen", pa.timestamp("us")),
        ("origin_doc_id", pa.string()),
        ("origin_source", pa.string()),
        ("representative", pa.string()),
    ]
)
_PASSAGE_SCHEMA = pa.schema(
    [
        ("passage_id", pa.string()),
        ("cluster_id", pa.string()),
        ("doc_id", pa.string()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("text", pa.string()),
    ]
)


def _write(
    store: Store,
    passages: list[PassageRow],
    clusters: list[ClusterRow],
    settings: ReuseSettings,
    summary: ReuseSummary,
) -> None:
    con = store.con
    with store.transaction():
        con.execute("DELETE FROM passages")
        con.execute("DELETE FROM reuse_clusters")
        con.execute("DELETE FROM reuse_runs")
        con.register(
            "_new_clusters",
            pa.Table.from_pylist([asdict(c) for c in clusters], schema=_CLUSTER_SCHEMA),
        )
        con.register(
            "_new_passages",
            pa.Table.from_pylist([asdict(p) for p in passages], schema=_PASSAGE_SCHEMA),
        )
        con.execute("INSERT INTO reuse_clusters SELECT * FROM _new_clusters")
        con.execute("INSERT INTO passages SELECT * FROM _new_passages")
        con.unregister("_new_clusters")
        con.unregister("_new_passages")
        con.execute(
            "INSERT INTO reuse_runs VALUES (?, ?, ?)",
            [
                json.dumps(asdict(settings)),
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                json.dumps({k: v for k, v in asdict(summary).items()}),
            ],
        )
