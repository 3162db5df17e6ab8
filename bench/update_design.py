"""Design study for issue 21's equivalence target: why an updated store's talking points
differ from a run from scratch, and what an update that agrees would need.

    python bench/update_design.py --docs 6000 --cache STORE           # IVF only (minutes)
    python bench/update_design.py --docs 6000 --cache STORE --exact   # + exact search (~1 h)

The first ``--docs`` news articles in date order are B; the first 90% of them are A. The
points core (``chorus.points.neighbours``, ``chorus.points.cluster``) runs on A's and B's
claims as a full run would, and again with one corpus-wide quantity of B's run taken from
A's run instead ("frozen"): the corpus mean, the inverted file's centroids, the lexical
document frequencies. Mention pairs in one point are compared (precision, recall, F1), on A's
mentions for A against B, on all of B's otherwise.

The update prototype starts from A's clusters and B's graph (with A's frozen quantities):
``resume`` continues average linkage from A's clusters (what ``chorus.points.update`` does);
``dissolve`` first breaks every cluster holding a unit whose neighbour pairs changed into
single units. Each is compared with the run from scratch on B with the same frozen quantities
(how exact the update is) and, with ``--exact``, with B's own exact run (the target's
comparison, for a search that does not depend on corpus-trained centroids).

``--hnsw`` (needs ``pip install hnswlib``, not a dependency of chorus) measures a graph
index's recall of the exact lists on B, and how much its lists move when the index holds A
first and then B's new units, against one built on B at once: what an update would meet.

``--cache`` seeds the embedding cache from a store (every claim not in it is embedded, at
about 100 a second on this machine).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine
from chorus.embed.cache import cached_embed
from chorus.embed.models import load_embedder
from chorus.points import neighbours as nb
from chorus.points.cells import ReferenceCells, reference_cells
from chorus.points.cluster import average_linkage, continue_clusters
from chorus.points.settings import PointsSettings
from chorus.points.stage import _sentences
from chorus.points.text import claim_unit, name_sample, shared_names
from chorus.reuse import find_reuse
from chorus.segment.stage import segment_store
from chorus.store import open_store
from update import copy_cache, ingest, news_in_date_order, write


@dataclass
class Corpus:
    """One corpus's claim units: ``texts``, ``groups`` (document numbers), and per eligible
    sentence its unit (-1: no claim) and document."""

    texts: list[str]
    groups: np.ndarray
    sentence_unit: np.ndarray
    sentence_doc: list[str]


@dataclass
class Run:
    labels: np.ndarray
    knn: nb.Edges
    score: np.ndarray
    mean: np.ndarray
    centroids: np.ndarray | None
    df: tuple[np.ndarray, int]


def build_corpus(
    doc_ids: list[str], texts: list[str], keep: set[str] | None, s: PointsSettings
) -> Corpus:
    by_doc: dict[str, list[str]] = defaultdict(list)
    for d, t in zip(doc_ids, texts, strict=True):
        if keep is None or d in keep:
            by_doc[d].append(t)
    names = shared_names(by_doc[d] for d in name_sample(list(by_doc)))
    number = {d: i for i, d in enumerate(sorted(by_doc))}
    unit_of: dict[str, int] = {}
    out = Corpus([], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [])
    groups: list[int] = []
    units: list[int] = []
    for d, t in zip(doc_ids, texts, strict=True):
        if d not in number:
            continue
        claim = claim_unit(t, names, min_content_words=s.min_content_words)
        out.sentence_doc.append(d)
        if claim is None:
            units.append(-1)
            continue
        if claim not in unit_of:
            unit_of[claim] = len(out.texts)
            out.texts.append(claim)
            groups.append(number[d])
        units.append(unit_of[claim])
    out.groups = np.asarray(groups, dtype=np.int64)
    out.sentence_unit = np.asarray(units, dtype=np.int64)
    return out


def full_run(
    c: Corpus,
    vectors: np.ndarray,
    s: PointsSettings,
    *,
    exact: bool = False,
    frozen: Run | None = None,
    freeze: Iterable[str] = (),
    reference: ReferenceCells | None = None,
) -> Run:
    """``chorus.points.core.group_claims`` without the store, taking each quantity named in
    ``freeze`` (mean, centroids, df) from ``frozen``; with ``reference``, searching in its
    cells (as chorus does for MiniLM) instead of cells trained on the corpus."""
    freeze = set(freeze)
    n = len(c.texts)
    mean = frozen.mean if frozen and "mean" in freeze else nb.corpus_mean(nb.vector_sum(vectors), n)
    v = np.empty(vectors.shape, dtype=np.float32)
    for lo in range(0, n, 100_000):
        v[lo : lo + 100_000] = nb.centre_rows(vectors[lo : lo + 100_000], mean)
    centroids = None
    filed = reference.cells(vectors) if reference is not None else None
    if exact:
        knn = nb._exact(v, c.groups, s.neighbours)
    elif filed is not None:
        centroids = filed.centroids
        knn = nb.search_probed(v, c.groups, s.neighbours, filed)
    else:
        if frozen and "centroids" in freeze and frozen.centroids is not None:
            centroids = frozen.centroids
        else:
            cells = nb.ivf_cells(n)
            centroids = nb.kmeans(v[nb.kmeans_sample(n, cells, seed=s.seed)], cells, seed=s.seed)
        knn = nb.search_ivf(v, c.groups, s.neighbours, centroids)
    counts = nb.hashed_counts(c.texts)
    df = (nb.document_frequency(counts), n)
    used_df = frozen.df if frozen and "df" in freeze else df
    lexical = nb.tfidf_rows(counts, nb.lexical_idf(*used_df))
    base = knn.score + s.lexical_weight * nb.pair_cosines(lexical, knn.src, knn.dst)
    hub = nb.unit_hubs(knn.src, base, n=n, hubness_k=s.hubness_k)
    score = nb.floor_weak_pairs(
        base,
        nb.relative_to_hubs(base, hub[knn.src], hub[knn.dst]),
        min_similarity=s.min_similarity,
        floor=s.floor,
    )
    labels = average_linkage(
        n, knn.src, knn.dst, score, c.groups, threshold=s.threshold, floor=s.floor
    )
    return Run(labels, knn, score, mean, centroids, used_df)


def mention_points(c: Corpus, labels: np.ndarray) -> np.ndarray:
    """Each sentence's point (-1: none): its unit's cluster, when the cluster's mentions
    span two documents or more."""
    out = np.where(c.sentence_unit >= 0, labels[np.maximum(c.sentence_unit, 0)], -1)
    docs: dict[int, set[str]] = defaultdict(set)
    for label, d in zip(out.tolist(), c.sentence_doc, strict=True):
        if label >= 0:
            docs[label].add(d)
    return np.asarray([x if x >= 0 and len(docs[x]) >= 2 else -1 for x in out.tolist()])


def _pairs(labels: Iterable[object]) -> int:
    return sum(n * (n - 1) // 2 for n in Counter(labels).values())


def agreement(a: np.ndarray, b: np.ndarray) -> str:
    """Mention pairs in one point under ``a`` and under ``b`` (same sentences)."""
    in_a, in_b = _pairs(a[a >= 0].tolist()), _pairs(b[b >= 0].tolist())
    both = (a >= 0) & (b >= 0)
    shared = _pairs(zip(a[both].tolist(), b[both].tolist(), strict=True))
    p = shared / in_a if in_a else 1.0
    r = shared / in_b if in_b else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return f"F1 {f1:.4f} (precision {p:.4f}, recall {r:.4f})"


def distinct_pairs(
    run: Run, groups: np.ndarray, n: int, to_b: np.ndarray | None = None
) -> dict[int, float]:
    """Undirected pairs across documents with their best score, keyed ``lo * n + hi`` in B's
    unit numbers (``n``: B's units; ``to_b`` maps A's units to B's)."""
    src = run.knn.src if to_b is None else to_b[run.knn.src]
    dst = run.knn.dst if to_b is None else to_b[run.knn.dst]
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    keep = lo != hi
    if to_b is None:
        keep &= groups[lo] != groups[hi]
    out: dict[int, float] = {}
    for key, w in zip((lo[keep] * n + hi[keep]).tolist(), run.score[keep].tolist(), strict=True):
        out[key] = max(w, out.get(key, -np.inf))
    return out


def update_prototype(
    a: Corpus, b: Corpus, run_a: Run, run_b: Run, s: PointsSettings, *, dissolve: bool
) -> tuple[np.ndarray, int, float]:
    """B's labels by linkage continued from A's clusters over B's graph; with ``dissolve``
    every A cluster holding a unit whose pairs changed starts again as single units.
    Returns the labels, how many units of A's clusters were dissolved and the seconds
    linkage took."""
    n = len(b.texts)
    number = {t: i for i, t in enumerate(b.texts)}
    to_b = np.asarray([number[t] for t in a.texts], dtype=np.int64)
    pairs_b = distinct_pairs(run_b, b.groups, n)
    is_new = np.ones(n, dtype=bool)
    is_new[to_b] = False
    changed = is_new.copy()
    if dissolve:
        pairs_a = distinct_pairs(run_a, a.groups, n, to_b)
        for key in pairs_b.keys() ^ pairs_a.keys():
            changed[key // n] = changed[key % n] = True
    members: dict[int, list[int]] = defaultdict(list)
    for unit, label in zip(to_b.tolist(), to_b[run_a.labels].tolist(), strict=True):
        members[label].append(unit)
    clusters: dict[int, list[int]] = {}
    dissolved = 0
    for xs in members.values():
        if len(xs) > 1 and not changed[xs].any():
            clusters[min(xs)] = xs
        else:
            dissolved += len(xs) if len(xs) > 1 else 0
            clusters.update({x: [x] for x in xs})
    clusters.update({x: [x] for x in np.flatnonzero(is_new).tolist()})
    keys = np.fromiter(pairs_b.keys(), dtype=np.int64, count=len(pairs_b))
    weights = np.fromiter(pairs_b.values(), dtype=np.float64, count=len(pairs_b))
    order = np.argsort(keys)
    keys, weights = keys[order], weights[order]
    started = time.perf_counter()
    after = continue_clusters(
        clusters,
        (keys // n).tolist(),
        (keys % n).tolist(),
        weights.tolist(),
        b.groups,
        threshold=s.threshold,
        floor=s.floor,
    )
    seconds = time.perf_counter() - started
    labels = np.arange(n, dtype=np.int64)
    for xs in after.values():
        labels[xs] = min(xs)
    return labels, dissolved, seconds


def hnsw_lists(
    v: np.ndarray, groups: np.ndarray, k: int, *, first: np.ndarray | None = None
) -> set[tuple[int, int]]:
    """Each row's ``k`` best rows of other groups by an HNSW index (M 16, construction and
    search breadth 100, two threads); with ``first``, those rows are added before the rest."""
    import hnswlib

    n = v.shape[0]
    index = hnswlib.Index(space="ip", dim=v.shape[1])
    index.init_index(max_elements=n, ef_construction=100, M=16, random_seed=0)
    order = (
        np.arange(n)
        if first is None
        else np.concatenate([first, np.setdiff1d(np.arange(n), first)])
    )
    for lo in range(0, n, 100_000):
        rows = order[lo : lo + 100_000]
        index.add_items(v[rows], rows, num_threads=2)
    index.set_ef(100)
    ids, distances = index.knn_query(v, k=8 * k, num_threads=2)
    sims = (1 - distances).astype(np.float32)
    sims[groups[ids] == groups[:, None]] = -np.inf
    best = np.lexsort((ids, -sims), axis=1)[:, :k]
    ids, sims = np.take_along_axis(ids, best, 1), np.take_along_axis(sims, best, 1)
    ok = np.isfinite(sims).ravel()
    src = np.repeat(np.arange(n), k)[ok]
    return set(zip(src.tolist(), ids.ravel()[ok].tolist(), strict=True))


def frozen_update(
    a: Corpus,
    b: Corpus,
    vb: np.ndarray,
    run_a: Run,
    points_b: np.ndarray,
    s: PointsSettings,
    *,
    exact: bool = False,
    reference: ReferenceCells | None = None,
) -> None:
    """Print how far B's run moves with A's mean and lexical weights, and how far the
    dissolving update lands from B's run (``points_b``), under one search."""
    frozen = full_run(
        b, vb, s, exact=exact, frozen=run_a, freeze=("mean", "df"), reference=reference
    )
    moved = agreement(mention_points(b, frozen.labels), points_b)
    print(f"  B with A's mean+df against B: {moved}")
    labels, dissolved, seconds = update_prototype(a, b, run_a, frozen, s, dissolve=True)
    print(
        f"  update, dissolve ({dissolved:,} clustered units dissolved, linkage {seconds:.0f} s): "
        f"against B {agreement(mention_points(b, labels), points_b)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=6000)
    parser.add_argument("--cache", type=Path, default=None, help="store to seed the cache from")
    parser.add_argument("--exact", action="store_true", help="also run the exact search")
    parser.add_argument("--hnsw", action="store_true", help="also measure an HNSW index")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print("# update design study: news corpus in date order")
    print(f"# machine: {machine()}")
    rows = news_in_date_order(args.docs)
    a_ids = {str(r["id"]) for r in rows[: int(len(rows) * 0.9)]}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = open_store(folder / "S.duckdb")
        ingest(store, write(folder / "docs.jsonl", rows))
        if args.cache:
            copy_cache(args.cache, store)
        segment_store(store)
        find_reuse(store)
        s = PointsSettings(model="minilm")
        table = _sentences(store, s)
        doc_ids, texts = table.column("doc_id").to_pylist(), table.column("text").to_pylist()
        a = build_corpus(doc_ids, texts, a_ids, s)
        b = build_corpus(doc_ids, texts, None, s)
        claims = sorted(set(a.texts) | set(b.texts))
        row = {t: i for i, t in enumerate(claims)}
        vectors = cached_embed(store, load_embedder("minilm", device="cpu"))(claims)
        store.close()
    va = vectors[[row[t] for t in a.texts]]
    vb = vectors[[row[t] for t in b.texts]]
    in_a = np.asarray([d in a_ids for d in b.sentence_doc])
    print(f"documents: A {len(a_ids):,}, B {len(rows):,}", end="; ")
    print(f"units: A {len(a.texts):,}, B {len(b.texts):,}")

    run_a, run_b = full_run(a, va, s), full_run(b, vb, s)
    points_b = mention_points(b, run_b.labels)
    print("inverted file, cells trained on the corpus (before reference cells):")
    stability = agreement(mention_points(a, run_a.labels), points_b[in_a])
    print(f"  A against B on A's mentions: {stability}")
    for freeze in (("mean",), ("centroids",), ("df",), ("mean", "centroids", "df")):
        frozen = full_run(b, vb, s, frozen=run_a, freeze=freeze)
        moved = agreement(mention_points(b, frozen.labels), points_b)
        print(f"  B with A's {'+'.join(freeze)} against B: {moved}")
    frozen_b = full_run(b, vb, s, frozen=run_a, freeze=("mean", "centroids", "df"))
    for dissolve in (False, True):
        labels, dissolved, seconds = update_prototype(a, b, run_a, frozen_b, s, dissolve=dissolve)
        points = mention_points(b, labels)
        print(
            f"  update, {'dissolve' if dissolve else 'resume'} "
            f"({dissolved:,} clustered units dissolved, linkage {seconds:.0f} s): "
            "against B with A's quantities "
            f"{agreement(points, mention_points(b, frozen_b.labels))}; "
            f"against B {agreement(points, points_b)}"
        )
    reference = reference_cells(load_embedder("minilm", device="cpu").name)
    assert reference is not None
    print(f"reference cells ({reference.cells_for(len(b.texts))} for B):")
    ref_a = full_run(a, va, s, reference=reference)
    started = time.perf_counter()
    ref_b = full_run(b, vb, s, reference=reference)
    print(f"  B's run {time.perf_counter() - started:.0f} s")
    points_ref = mention_points(b, ref_b.labels)
    stability = agreement(mention_points(a, ref_a.labels), points_ref[in_a])
    print(f"  A against B on A's mentions: {stability}")
    frozen_update(a, b, vb, ref_a, points_ref, s, reference=reference)
    if not args.exact:
        return
    print("exact search:")
    exact_a, exact_b = full_run(a, va, s, exact=True), full_run(b, vb, s, exact=True)
    exact_pairs = set(zip(exact_b.knn.src.tolist(), exact_b.knn.dst.tolist(), strict=True))
    points_exact = mention_points(b, exact_b.labels)
    for name, run, points in (("trained", run_b, points_b), ("reference", ref_b, points_ref)):
        found = set(zip(run.knn.src.tolist(), run.knn.dst.tolist(), strict=True))
        recall = len(found & exact_pairs) / len(exact_pairs)
        print(f"  {name} cells' recall of B's exact lists: {recall:.4f}")
        print(f"  B ({name} cells) against B (exact): {agreement(points, points_exact)}")
    frozen_update(a, b, vb, exact_a, points_exact, s, exact=True)
    if args.hnsw:
        v = np.empty(vb.shape, dtype=np.float32)
        v[:] = nb.centre_rows(vb, exact_b.mean)
        started = time.perf_counter()
        fresh = hnsw_lists(v, b.groups, s.neighbours)
        seconds = time.perf_counter() - started
        number = {t: i for i, t in enumerate(b.texts)}
        grown = hnsw_lists(
            v, b.groups, s.neighbours, first=np.asarray([number[t] for t in a.texts])
        )
        total = len(exact_pairs)
        print(
            f"HNSW ({seconds:.0f} s): recall of B's exact lists "
            f"{len(fresh & exact_pairs) / total:.4f}; "
            f"A first, then B's new units: recall {len(grown & exact_pairs) / total:.4f}, "
            f"lists shared with the index built at once {len(fresh & grown) / len(fresh):.4f}"
        )


if __name__ == "__main__":
    main()
