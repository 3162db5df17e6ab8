"""Build the reference cells the points stage files MiniLM vectors under
(``src/chorus/points/reference/all-MiniLM-L6-v2.npz``; see :mod:`chorus.points.cells`).

    python bench/reference_cells.py [--articles 3000] [--cache STORE]
    python bench/reference_cells.py --check     # the shipped cells on text that is not news

The cells are a fixed partition of the model's vector space, so that which cells a sentence
is compared in does not depend on the corpus it arrives in (an update and a run from
scratch then search alike). They are trained once, on claims of news articles drawn with a
fixed seed from outside the first 6,000 by date (the slice ``bench/update.py`` and
``bench/update_design.py`` measure on): the mean of their vectors, and spherical k-means
centroids of the vectors centred on it. ``--cache`` seeds the embedding cache from a store
(every claim not in it is embedded, at about 100 a second on a laptop's two cores).

``--check`` builds nothing: it searches CLEF 2020 task 2's verified claims and tweets (each
its own document) in the shipped cells and in cells trained on them, and prints each
search's recall of the exact top-5 lists and how unevenly its cells fill (the sum of squared
cell sizes against a balanced file's: what the search costs beyond the balanced case).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CLEF, machine, read_tsv
from chorus.embed.cache import cached_embed
from chorus.embed.models import load_embedder
from chorus.points import neighbours as nb
from chorus.points.cells import FINEST_CELLS, REFERENCE_DIR, reference_cells
from chorus.points.settings import PointsSettings
from chorus.points.text import claim_text, claim_unit
from chorus.segment.splitter import split_sentences
from chorus.store import open_store
from update import copy_cache, news_in_date_order

# The slice the update benchmarks measure on stays out of the training sample.
HELD_OUT = 6000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=3000, help="articles to draw")
    parser.add_argument("--cache", type=Path, action="append", default=[], help="cache store")
    parser.add_argument("--iterations", type=int, default=25, help="k-means iterations")
    parser.add_argument("--check", action="store_true", help="measure the shipped cells on CLEF")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.check:
        check_clef()
        return
    print("# reference cells for all-MiniLM-L6-v2")
    print(f"# machine: {machine()}")
    rows = news_in_date_order(None)[HELD_OUT:]
    rng = np.random.default_rng(0)
    picked = sorted(rng.choice(len(rows), size=min(args.articles, len(rows)), replace=False))
    settings = PointsSettings()
    claims: set[str] = set()
    for i in picked:
        text = str(rows[i].get("text") or "")
        for span in split_sentences(text):
            sentence = text[span.start : span.end]
            if len(sentence.split()) < settings.min_words:
                continue
            claim = claim_unit(sentence, set(), min_content_words=settings.min_content_words)
            if claim is not None:
                claims.add(claim)
    texts = sorted(claims)
    print(f"articles: {len(picked):,} of {len(rows):,}; distinct claims: {len(texts):,}")
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "cache.duckdb")
        for source in args.cache:
            copy_cache(source, store)
        started = time.perf_counter()
        raw = cached_embed(store, load_embedder("minilm", device="cpu"))(texts)
        print(f"embedded (through the cache) in {time.perf_counter() - started:.0f} s")
        store.close()
    mean = nb.corpus_mean(nb.vector_sum(raw), raw.shape[0])
    centred = nb.centre_rows(raw, mean)
    started = time.perf_counter()
    centroids = nb.kmeans(centred, FINEST_CELLS, seed=0, iterations=args.iterations)
    home = nb.ivf_probes(centred, centroids, 1)[:, 0]
    sizes = np.bincount(home, minlength=FINEST_CELLS)
    print(
        f"k-means: {FINEST_CELLS} cells in {time.perf_counter() - started:.0f} s; "
        f"training claims per cell: median {int(np.median(sizes))}, max {sizes.max()}, "
        f"empty {(sizes == 0).sum()}"
    )
    REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
    target = REFERENCE_DIR / "all-MiniLM-L6-v2.npz"
    np.savez(
        target,
        mean=mean.astype(np.float32),
        centroids=centroids.astype(np.float16),
        claims=np.asarray(len(texts)),
    )
    print(f"written: {target} ({target.stat().st_size:,} bytes)")


def check_clef() -> None:
    print("# reference cells against cells trained on the corpus: CLEF claims and tweets")
    print(f"# machine: {machine()}")
    texts = [claim_text(r[1]) for r in read_tsv(CLEF / "verified_claims.docs.tsv")]
    for split in ("train", "dev"):
        texts += [claim_text(r[1]) for r in read_tsv(CLEF / split / "tweets.queries.tsv")]
    texts = sorted({t for t in texts if t})
    n = len(texts)
    embedder = load_embedder("minilm", device="cpu")
    raw = embedder.embed(texts)
    reference = reference_cells(embedder.name)
    assert reference is not None
    groups = np.arange(n)
    centred = nb.centre_rows(raw, nb.corpus_mean(nb.vector_sum(raw), n))
    exact = nb.nearest_neighbours(centred, groups, k=5)
    wanted = set(zip(exact.src.tolist(), exact.dst.tolist(), strict=True))
    print(f"texts: {n:,} (searched in cells although few enough for the exact search)")

    def report(name: str, found: nb.Edges, cells: int) -> None:
        assert found.home is not None
        sizes = np.bincount(found.home, minlength=cells).astype(float)
        got = set(zip(found.src.tolist(), found.dst.tolist(), strict=True))
        print(
            f"{name}: recall {len(got & wanted) / len(wanted):.4f}; "
            f"cost vs balanced {(sizes**2).sum() / (sizes.mean() ** 2 * cells):.2f}; "
            f"largest cell {int(sizes.max())} of {n}"
        )

    for cells in (64, 128):
        filed = nb.Cells(reference.probes(raw, cells), reference.level(cells))
        found = nb.search_probed(centred, groups, 5, filed)
        report(f"reference {cells} cells, 24 probes", found, cells)
        trained = nb.kmeans(centred[nb.kmeans_sample(n, cells, seed=0)], cells, seed=0)
        found = nb.search_ivf(centred, groups, 5, trained)
        report(f"trained {cells} cells, 16 probes", found, cells)


if __name__ == "__main__":
    main()
