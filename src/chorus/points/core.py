"""The model-free core: texts in, groups of sentences that make the same claim out.

    score(a, b) = cos(centred embeddings) + lexical_weight * tfidf_cos(a, b)
    relative(a, b) = score(a, b) - (hub(a) + hub(b)) / 2

``hub(x)`` is x's mean score to its ``hubness_k`` best matches in other documents. The
relative score is what clusters: in a one-topic corpus every sentence is close to every other,
and only a pair closer than each usually is to anything stands out. Clustering is average
linkage on the kNN graph (``chorus.points.cluster``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from chorus.embed.models import EmbedFn
from chorus.points.cells import ReferenceCells
from chorus.points.cluster import average_linkage
from chorus.points.neighbours import (
    Cells,
    Edges,
    centre,
    centre_by_language,
    corpus_mean,
    document_frequency,
    floor_weak_pairs,
    hashed_counts,
    lexical_idf,
    nearest_neighbours,
    pair_cosines,
    relative_to_hubs,
    tfidf_rows,
    unit_hubs,
    vector_sum,
)
from chorus.points.settings import PointsSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimGroups:
    """``labels[i]``: the group of text i (its smallest member's index; a text the screen
    dropped is alone in its group). ``vectors``: the accurate embedding of each screened
    text (rows of ``screened``), centred on the corpus mean, for labels and mention
    similarities."""

    labels: np.ndarray
    screened: np.ndarray
    vectors: np.ndarray
    stats: dict[str, float] = field(default_factory=dict)
    # What an update of the store's points starts from (``chorus.points.update``): the
    # graph the groups were cut from and the mean the vectors were centred on.
    graph: ScoredGraph | None = None
    mean: np.ndarray | None = None


@dataclass(frozen=True)
class ScoredGraph:
    """The kNN graph of the screened texts: ``knn`` (cosines, and the inverted file when the
    search used one), each edge's ``base`` score (cosine plus the lexical term), each text's
    ``hub``, the lexical document frequencies ``df``, and ``edges``: what clusters (the
    corpus-relative score, floored for weak pairs; the plain ``base`` when not relative)."""

    knn: Edges
    base: np.ndarray
    hub: np.ndarray
    df: np.ndarray | None
    edges: Edges


def score_graph(
    vectors: np.ndarray,
    texts: Sequence[str],
    groups: np.ndarray,
    settings: PointsSettings,
    *,
    relative: bool = True,
    cells: Cells | None = None,
) -> ScoredGraph:
    """kNN edges across groups with every score along the way. ``vectors`` must be centred
    (``centre``); ``cells``: where each is searched (reference cells), when not exactly."""
    knn = nearest_neighbours(
        vectors, groups, k=settings.neighbours, seed=settings.seed, cells=cells
    )
    base = knn.score
    df = None
    if settings.lexical_weight:
        counts = hashed_counts(texts)
        df = document_frequency(counts)
        lexical = tfidf_rows(counts, lexical_idf(df, len(texts)))
        del counts
        base = base + settings.lexical_weight * pair_cosines(lexical, knn.src, knn.dst)
    if not relative:
        return ScoredGraph(knn, base, np.zeros(0), df, Edges(knn.src, knn.dst, base))
    hub = unit_hubs(knn.src, base, n=len(texts), hubness_k=settings.hubness_k)
    scores = relative_to_hubs(base, hub[knn.src], hub[knn.dst])
    scores = floor_weak_pairs(
        base, scores, min_similarity=settings.min_similarity, floor=settings.floor
    )
    return ScoredGraph(knn, base, hub, df, Edges(knn.src, knn.dst, scores))


def scored_edges(
    vectors: np.ndarray,
    texts: Sequence[str],
    groups: np.ndarray,
    settings: PointsSettings,
    *,
    relative: bool = True,
) -> Edges:
    """kNN edges across groups, scored by the corpus-relative score (or the plain score).
    ``vectors`` must be centred (``centre``)."""
    return score_graph(vectors, texts, groups, settings, relative=relative).edges


def screen(
    texts: Sequence[str], groups: np.ndarray, embed_fast: EmbedFn, settings: PointsSettings
) -> np.ndarray:
    """Indices of texts whose fast-model score to some text of another group reaches
    ``screen_threshold`` (the plain score, not the relative one: every text is about as
    close to its best match as it usually is, so the relative score cannot screen), best
    first and at most ``accurate_budget`` of them: the only ones worth the accurate model."""
    fast = centre(embed_fast(texts), in_place=True)
    edges = scored_edges(fast, texts, groups, settings, relative=False)
    del fast
    best = np.full(len(texts), -np.inf, dtype=np.float32)
    np.maximum.at(best, edges.src, edges.score)
    np.maximum.at(best, edges.dst, edges.score)
    passed = np.flatnonzero(best >= settings.screen_threshold)
    if passed.size > settings.accurate_budget:
        order = np.lexsort((passed, -best[passed]))
        passed = np.sort(passed[order[: settings.accurate_budget]])
    return passed


def group_claims(
    texts: Sequence[str],
    groups: np.ndarray,
    *,
    settings: PointsSettings,
    embed: EmbedFn,
    embed_fast: EmbedFn | None = None,
    languages: Sequence[str] | None = None,
    reference: ReferenceCells | None = None,
) -> ClaimGroups:
    """Group ``texts`` (one per distinct sentence; ``groups[i]`` is its document number) by
    the claim they make. With ``embed_fast`` the cascade runs: the fast model screens, the
    accurate ``embed`` sees only what passed. With ``languages`` (each text's) the vectors
    are centred per language (:func:`~chorus.points.neighbours.centre_by_language`), for a
    multilingual model on a corpus of several languages. With ``reference`` (the accurate
    model's reference cells, :mod:`chorus.points.cells`) a large corpus is searched in them
    instead of in cells trained on it."""
    n = len(texts)
    groups = np.asarray(groups, dtype=np.int64)
    if embed_fast is not None:
        kept = screen(texts, groups, embed_fast, settings)
    else:
        kept = np.arange(n, dtype=np.int64)
    log.info("points: %d of %d sentences go to the accurate model", kept.size, n)
    kept_texts = [texts[i] for i in kept.tolist()]
    vectors = np.zeros((0, 1), dtype=np.float32)
    mean = None
    cells = None
    if kept.size:
        vectors = embed(kept_texts)
        mean = corpus_mean(vector_sum(vectors), vectors.shape[0])
        if languages is not None and len(set(languages)) > 1:
            vectors = centre_by_language(vectors, [languages[i] for i in kept.tolist()])
        else:
            # Filed by the raw vectors, before they are centred on this corpus's mean.
            cells = reference.cells(vectors) if reference is not None else None
            vectors = centre(vectors, in_place=True)
    labels = np.arange(n, dtype=np.int64)
    graph = None
    if kept.size:
        graph = score_graph(vectors, kept_texts, groups[kept], settings, cells=cells)
        edges = graph.edges
        local = average_linkage(
            kept.size,
            edges.src,
            edges.dst,
            edges.score,
            groups[kept],
            threshold=settings.threshold,
            floor=settings.floor,
        )
        labels[kept] = kept[local]
    return ClaimGroups(
        labels=labels,
        screened=kept,
        vectors=vectors,
        stats={"n_texts": n, "n_screened": int(kept.size)},
        graph=graph,
        mean=mean,
    )
