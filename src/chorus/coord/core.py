"""The model-free core: sharing events in, source-pair edges with weights, evidence and a
significance test out.

An event is (source, object, time): a source shared an object (a talking point, a copied
passage, a link) at a time, its earliest document on that object. Two sources co-act on an
object when both shared it within ``window`` hours of each other (any time apart, when either
is undated). An edge's weight sums, over the objects its two sources co-act on, how rare each
object is (log of sources over sources sharing it): an object everyone shares is weak
evidence. Significance comes from a null model that keeps every source's activity and every
object's popularity: each source's times are shuffled among its own objects, so only the
alignment in time between sources is broken. p-values are permutation p-values, q-values
Benjamini-Hochberg across the edges tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Events:
    """One row per (source, object): the source's first sharing of it. ``time`` in hours
    (NaN when undated); ``row`` indexes the caller's table, for evidence."""

    source: np.ndarray
    obj: np.ndarray
    time: np.ndarray
    row: np.ndarray


@dataclass(frozen=True)
class Pairs:
    """Every pair of events on one object by two sources (``a`` < ``b`` by source number)."""

    a: np.ndarray
    b: np.ndarray


@dataclass(frozen=True)
class Edges:
    """Source-pair edges: ``weight``, ``n_objects``, ``median_lag`` (hours; NaN if undated),
    ``p_value`` and ``q_value`` (NaN when no test ran), and ``pair_rows``: for each co-action
    kept, (edge index, event a, event b)."""

    source_a: np.ndarray
    source_b: np.ndarray
    weight: np.ndarray
    n_objects: np.ndarray
    median_lag: np.ndarray
    p_value: np.ndarray
    q_value: np.ndarray
    evidence_edge: np.ndarray
    evidence_a: np.ndarray
    evidence_b: np.ndarray


def candidate_pairs(events: Events) -> Pairs:
    """All pairs of events on the same object by different sources, oriented so that
    ``source[a] < source[b]``. Quadratic per object only: an object's sharers, not the
    corpus."""
    order = np.lexsort((events.source, events.obj))
    obj = events.obj[order]
    bounds = np.flatnonzero(np.diff(obj)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [obj.size]])
    a_parts, b_parts = [], []
    for size in np.unique(ends - starts):
        if size < 2:
            continue
        group_starts = starts[(ends - starts) == size]
        i, j = np.triu_indices(int(size), k=1)
        a_parts.append(order[(group_starts[:, None] + i[None, :]).ravel()])
        b_parts.append(order[(group_starts[:, None] + j[None, :]).ravel()])
    if not a_parts:
        empty = np.zeros(0, dtype=np.int64)
        return Pairs(empty, empty)
    a = np.concatenate(a_parts)
    b = np.concatenate(b_parts)
    keep = events.source[a] != events.source[b]
    a, b = a[keep], b[keep]
    swap = events.source[a] > events.source[b]
    return Pairs(np.where(swap, b, a), np.where(swap, a, b))


def _within(time_a: np.ndarray, time_b: np.ndarray, window: float | None) -> np.ndarray:
    if window is None:
        return np.ones(time_a.size, dtype=bool)
    lag = np.abs(time_a - time_b)
    # An undated event co-acts at any distance: its time is unknown, not far.
    out: np.ndarray = np.isnan(lag) | (lag <= window)
    return out


def idf(events: Events, n_sources: int) -> np.ndarray:
    """Per object: log(sources / sources sharing it)."""
    popularity = np.bincount(events.obj)
    out: np.ndarray = np.log(max(n_sources, 1) / np.maximum(popularity, 1))
    return out


def edge_weights(
    events: Events, pairs: Pairs, times: np.ndarray, window: float | None, rarity: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pair keys, weights, co-action mask) for the given times: the weight of each source
    pair is the summed rarity of the objects they co-act on."""
    within = _within(times[pairs.a], times[pairs.b], window)
    n = int(events.source.max()) + 1 if events.source.size else 1
    keys = events.source[pairs.a] * n + events.source[pairs.b]
    return keys, rarity[events.obj[pairs.a]] * within, within


def coordination_edges(
    events: Events,
    *,
    n_sources: int,
    window: float | None,
    min_objects: int,
    permutations: int,
    seed: int,
) -> Edges:
    """Edges between sources that co-act on at least ``min_objects`` objects, with weights,
    evidence and, when there are dates and ``permutations``, a permutation test."""
    pairs = candidate_pairs(events)
    rarity = idf(events, n_sources)
    keys, weights, within = edge_weights(events, pairs, events.time, window, rarity)
    keys, weights = keys[within], weights[within]
    a_rows, b_rows = pairs.a[within], pairs.b[within]
    unique, inverse = np.unique(keys, return_inverse=True)
    n_objects = np.bincount(inverse, minlength=unique.size)
    total = np.bincount(inverse, weights=weights, minlength=unique.size)
    kept = n_objects >= min_objects
    n = int(events.source.max()) + 1 if events.source.size else 1
    edge_keys = unique[kept]
    edge_index = np.full(unique.size, -1, dtype=np.int64)
    edge_index[kept] = np.arange(int(kept.sum()))
    evidence_edge = edge_index[inverse]
    on_edge = evidence_edge >= 0
    lags = np.abs(events.time[a_rows] - events.time[b_rows])
    median_lag = group_nanmedian(lags[on_edge], evidence_edge[on_edge], edge_keys.size)
    p_value = np.full(edge_keys.size, np.nan)
    dated = np.isfinite(events.time).any()
    if permutations and dated and window is not None and edge_keys.size:
        observed = total[kept]
        exceed = np.zeros(edge_keys.size, dtype=np.int64)
        rng = np.random.default_rng(seed)
        all_keys, _, _ = edge_weights(events, pairs, events.time, None, rarity)
        slot = np.minimum(np.searchsorted(edge_keys, all_keys), edge_keys.size - 1)
        tested = edge_keys[slot] == all_keys
        for _ in range(permutations):
            shuffled = shuffle_within_sources(events, rng)
            _, null_weights, _ = edge_weights(events, pairs, shuffled, window, rarity)
            null_total = np.bincount(
                slot[tested], weights=null_weights[tested], minlength=edge_keys.size
            )
            exceed += null_total >= observed - 1e-9
        p_value = (1 + exceed) / (1 + permutations)
        # An edge whose co-actions all lack a date cannot be tested: shuffling times moves
        # nothing there.
        both = np.isfinite(lags[on_edge])
        dated_edge = np.bincount(evidence_edge[on_edge][both], minlength=edge_keys.size) > 0
        p_value[~dated_edge] = np.nan
    return Edges(
        source_a=edge_keys // n,
        source_b=edge_keys % n,
        weight=total[kept],
        n_objects=n_objects[kept],
        median_lag=median_lag,
        p_value=p_value,
        q_value=benjamini_hochberg(p_value),
        evidence_edge=evidence_edge[on_edge],
        evidence_a=a_rows[on_edge],
        evidence_b=b_rows[on_edge],
    )


def group_nanmedian(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """The median of the finite ``values`` of each group (NaN for a group with none)."""
    out = np.full(n_groups, np.nan)
    finite = np.isfinite(values)
    values, groups = values[finite], groups[finite]
    order = np.lexsort((values, groups))
    values, groups = values[order], groups[order]
    starts = np.searchsorted(groups, np.arange(n_groups))
    ends = np.searchsorted(groups, np.arange(n_groups), side="right")
    has = ends > starts
    lo = (starts + ends - 1) // 2
    hi = (starts + ends) // 2
    out[has] = (values[lo[has]] + values[hi[has]]) / 2
    return out


def shuffle_within_sources(events: Events, rng: np.random.Generator) -> np.ndarray:
    """Each source's event times, permuted among that source's own events."""
    order = np.lexsort((rng.random(events.source.size), events.source))
    by_source = np.argsort(events.source, kind="stable")
    out = np.empty_like(events.time)
    out[by_source] = events.time[order]
    return out


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """q-values (Benjamini-Hochberg) for the finite p-values; NaN stays NaN."""
    q = np.full(p.size, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if finite.size == 0:
        return q
    order = finite[np.argsort(p[finite], kind="stable")]
    ranked = p[order] * finite.size / np.arange(1, finite.size + 1)
    q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return q
