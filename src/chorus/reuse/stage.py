"""The reuse stage: every passage two or more documents share word for word or nearly so.

documents → (map) n-gram hashes by band → (reduce) matches by document pair → aligned runs →
(final, on the documents involved only) extended runs, clusters, kinds → ``passages`` and
``reuse_clusters``. Memory holds one band at a time plus the runs found.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from chorus.progress import ProgressFactory, no_progress
from chorus.reuse.align import Run, chain
from chorus.reuse.candidates import (
    MATCH_COLUMNS,
    SHINGLE_COLUMNS,
    BandFiles,
    Matches,
    band_of_hash,
    band_of_pair,
    matches_in_band,
)
from chorus.reuse.credits_table import read_credits, write_credits
from chorus.reuse.finish import finish, kinds_of, write_tables
from chorus.reuse.settings import ReuseSettings
from chorus.reuse.tokens import Shingles, iter_batches, shingle, tokenize
from chorus.store import Store, scalar

log = logging.getLogger(__name__)

_WORKERS = max(1, min(2, os.cpu_count() or 1))


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

    # The credits table is brought up to date here rather than by coordination, which reads
    # it too: an update then reads only the new documents' credits, not every copy's again.
    write_credits(store, progress=progress)
    involved = sorted({r.doc_a for r in runs} | {r.doc_b for r in runs})
    credits = read_credits(store, [doc_ids[i] for i in involved])
    cluster_rows, passages = finish(store, runs, doc_ids, settings, progress, credits=credits)
    summary = ReuseSummary(
        n_documents=len(doc_ids),
        n_shingles=n_shingles,
        n_matches=n_matches,
        n_runs=len(runs),
        n_clusters=len(cluster_rows),
        n_passages=len(passages),
        kinds=kinds_of(cluster_rows),
        seconds=time.monotonic() - started,
    )
    write_tables(store, cluster_rows, passages, settings, asdict(summary))
    log.info("reuse: %d clusters, %d passages", summary.n_clusters, summary.n_passages)
    return summary
