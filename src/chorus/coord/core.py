"""The model-free core: sharing events in, source-pair edges with weights, evidence and a
significance test out.

An event is (source, object, time): a document of a source shared an object (a talking
point, a copied passage, a link) at a time. Two sources co-act on an object when two of
their documents on it fall within ``window`` hours of each other. A document without a date
co-acts with nothing while there is a window: when it appeared is unknown, and news corpora
have undated archives that would otherwise join every outlet to every other. With no window
(a corpus with too few dates), sharing at any time counts. An edge's weight sums, over the
objects its two sources co-act on, how rare each object is (log of sources over sources
sharing it): an object everyone shares is weak evidence.

Two null models keep every source's activity and every object's popularity. ``time``: each
source's times are shuffled among its own objects (permutation p-values); it asks whether
two sources' timing on the same objects is tighter than chance, and has no power for
sources that are only active for a few hours, as campaigns are. ``configuration`` (the
default): who shares which object is random given those counts (analytic, Poisson); it asks
whether two sources share more than sources that busy would by chance. q-values are
Benjamini-Hochberg across the edges tested.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Events:
    """One row per document sharing an object. ``time`` in hours (NaN when undated); ``doc``
    numbers the document. Evidence refers to events by their position here."""

    source: np.ndarray
    obj: np.ndarray
    time: np.ndarray
    doc: np.ndarray


@dataclass(frozen=True)
class Pairs:
    """Every pair of events on one object by two sources (``a`` < ``b`` by source number)."""

    a: np.ndarray
    b: np.ndarray


@dataclass(frozen=True)
class Edges:
    """Source-pair edges: ``weight``, ``n_objects``, ``n_independent`` (the objects that are
    separate evidence: at most the distinct documents on either side), ``median_lag`` (hours;
    NaN if undated), ``p_value`` and ``q_value`` (NaN when no test ran), and for each
    co-action kept: ``evidence_edge`` (its edge), ``evidence_a`` and ``evidence_b`` (its two
    events)."""

    source_a: np.ndarray
    source_b: np.ndarray
    weight: np.ndarray
    n_objects: np.ndarray
    n_independent: np.ndarray
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
    out: np.ndarray = lag <= window  # NaN (an undated side) is never within
    return out


def _incidences(events: Events) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (source, object) pairs: a source sharing an object in ten documents
    shares it once."""
    width = int(events.obj.max()) + 1 if events.obj.size else 1
    distinct = np.unique(events.source * width + events.obj)
    return distinct // width, distinct % width


def idf(events: Events, n_sources: int) -> np.ndarray:
    """Per object: log(sources / sources sharing it)."""
    _, objects = _incidences(events)
    size = int(events.obj.max()) + 1 if events.obj.size else 0
    popularity = np.bincount(objects, minlength=size)
    out: np.ndarray = np.log(max(n_sources, 1) / np.maximum(popularity, 1))
    return out


@dataclass(frozen=True)
class _PairObjects:
    """Candidate pairs grouped by (source pair, object): ``group[i]`` for pair i; per
    group, its edge key and its object."""

    group: np.ndarray
    key: np.ndarray
    obj: np.ndarray


def _pair_objects(events: Events, pairs: Pairs) -> _PairObjects:
    n = int(events.source.max()) + 1 if events.source.size else 1
    width = int(events.obj.max()) + 1 if events.obj.size else 1
    keys = events.source[pairs.a] * n + events.source[pairs.b]
    unique, group = np.unique(keys * width + events.obj[pairs.a], return_inverse=True)
    return _PairObjects(group.astype(np.int64), unique // width, unique % width)


def _co_acted(
    grouped: _PairObjects, pairs: Pairs, times: np.ndarray, window: float | None
) -> np.ndarray:
    """Per (source pair, object): whether any two of their documents on it fall within the
    window."""
    within = _within(times[pairs.a], times[pairs.b], window)
    out: np.ndarray = np.bincount(grouped.group[within], minlength=grouped.key.size) > 0
    return out


def coordination_edges(
    events: Events,
    *,
    n_sources: int,
    window: float | None,
    min_objects: int,
    null: str = "configuration",
    permutations: int = 0,
    seed: int = 0,
) -> Edges:
    """Edges between sources that co-act on at least ``min_objects`` objects, with weights,
    evidence (per object, the two documents closest in time) and a test against the
    ``null`` model: ``configuration`` (analytic) or ``time`` (``permutations`` draws; needs
    dates). :func:`co_action_edges` then :func:`with_significance`."""
    edges = co_action_edges(events, n_sources=n_sources, window=window, min_objects=min_objects)
    return with_significance(
        events,
        edges,
        n_sources=n_sources,
        window=window,
        null=null,
        permutations=permutations,
        seed=seed,
    )


def co_action_edges(
    events: Events,
    *,
    n_sources: int,
    window: float | None,
    min_objects: int,
    chunk_pairs: int = 4_000_000,
) -> Edges:
    """The edges, their weights and evidence; p- and q-values left NaN. Memory is bounded by
    ``chunk_pairs`` candidate pairs at a time plus one row per co-acted (source pair,
    object)."""
    rarity = idf(events, n_sources)
    best = closest_pairs(events, window, chunk_pairs=chunk_pairs)
    n = int(events.source.max()) + 1 if events.source.size else 1
    keys = events.source[best.a] * n + events.source[best.b]
    unique, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.reshape(-1)
    kept = np.bincount(inverse, minlength=unique.size) >= min_objects
    edge_keys = unique[kept]
    edge_index = np.full(unique.size, -1, dtype=np.int64)
    edge_index[kept] = np.arange(int(kept.sum()))
    evidence_edge = edge_index[inverse]
    on_edge = evidence_edge >= 0
    evidence_a, evidence_b = best.a[on_edge], best.b[on_edge]
    evidence_edge = evidence_edge[on_edge]
    sums = edge_sums(
        evidence_edge,
        edge_keys.size,
        rarity[events.obj[evidence_a]],
        events.time[evidence_a],
        events.time[evidence_b],
        events.doc[evidence_a],
        events.doc[evidence_b],
    )
    nothing = np.full(edge_keys.size, np.nan)
    return Edges(
        source_a=edge_keys // n,
        source_b=edge_keys % n,
        weight=sums.weight,
        n_objects=sums.n_objects,
        n_independent=sums.n_independent,
        median_lag=sums.median_lag,
        p_value=nothing,
        q_value=nothing.copy(),
        evidence_edge=evidence_edge,
        evidence_a=evidence_a,
        evidence_b=evidence_b,
    )


@dataclass(frozen=True)
class EdgeSums:
    """Per edge: the summed rarity of its objects, how many, how many are separate evidence
    (at most the distinct documents on either side), and the median lag (NaN undated)."""

    weight: np.ndarray
    n_objects: np.ndarray
    n_independent: np.ndarray
    median_lag: np.ndarray


def edge_sums(
    edge: np.ndarray,
    n_edges: int,
    rarity: np.ndarray,
    time_a: np.ndarray,
    time_b: np.ndarray,
    doc_a: np.ndarray,
    doc_b: np.ndarray,
) -> EdgeSums:
    """From one row per co-action (its ``edge``, the object's ``rarity``, the two documents
    and their times), rows sorted by edge then object: bincount adds each edge's rarities in
    row order, so the weights are equal to the last bit whichever engine sums them."""
    n_objects = np.bincount(edge, minlength=n_edges)
    lag = np.abs(time_a - time_b)
    # Objects found in one pair of documents are one piece of evidence (two articles on one
    # story share several of its sentences).
    docs = np.minimum(_distinct(edge, doc_a, n_edges), _distinct(edge, doc_b, n_edges))
    return EdgeSums(
        weight=np.bincount(edge, weights=rarity, minlength=n_edges),
        n_objects=n_objects,
        n_independent=np.minimum(n_objects, docs),
        median_lag=group_nanmedian(lag, edge, n_edges),
    )


def _distinct(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    if groups.size == 0:
        return np.zeros(n_groups, dtype=np.int64)
    _, codes = np.unique(values, return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    width = int(codes.max()) + 1
    distinct = np.unique(groups * width + codes) // width
    out: np.ndarray = np.bincount(distinct, minlength=n_groups)
    return out


def closest_pairs(events: Events, window: float | None, *, chunk_pairs: int = 4_000_000) -> Pairs:
    """For every (source pair, object) co-acted within ``window``: the two events closest in
    time (ties: the lowest event numbers), oriented ``source[a] < source[b]``, sorted.

    Only pairs that can fall within the window are enumerated: on each object, events are
    sorted by time and each dated event meets the later ones up to ``window`` hours on; an
    undated event meets every other only when there is no window. Pairs are made
    ``chunk_pairs`` at a time and reduced to the closest per (source pair, object) as they
    go, so a story that a thousand documents cover over years costs its near-in-time pairs,
    not its square."""
    empty = np.zeros(0, dtype=np.int64)
    # With a window, an undated event meets nobody: leave it out. Without one, every event
    # of an object meets every later one.
    kept = np.arange(events.source.size)
    if window is not None:
        kept = kept[~np.isnan(events.time)]
    size = kept.size
    if size < 2:
        return Pairs(empty, empty)
    times = events.time[kept]
    inner = np.lexsort((np.nan_to_num(times), events.obj[kept]))
    order = kept[inner]
    obj = events.obj[order]
    times = times[inner]
    starts = np.flatnonzero(np.r_[True, obj[1:] != obj[:-1]])
    ends = np.r_[starts[1:], size]
    end = np.repeat(ends, ends - starts)
    lo = np.arange(size) + 1
    if window is None:
        hi = end
    else:
        # Search the (object, time) order for each event's time + window; the slack is
        # trimmed by the exact test below.
        base = float(times.min())
        stride = float(times.max()) - base + window + 2.0
        key = obj * stride + (times - base)
        slack = 4 * float(np.spacing(np.abs(key).max())) + 1e-9
        hi = np.minimum(np.searchsorted(key, key + window + slack, side="right"), end)
    count = np.maximum(hi - lo, 0)
    cumulative = np.cumsum(count)
    best_a: list[np.ndarray] = []
    best_b: list[np.ndarray] = []
    begin = 0
    while begin < size:
        done = int(cumulative[begin - 1]) if begin else 0
        stop = int(np.searchsorted(cumulative, done + chunk_pairs, side="right"))
        stop = max(stop, begin + 1)
        rows = np.arange(begin, stop)
        a, b = order[np.repeat(rows, count[rows])], order[_ranges(lo[rows], count[rows])]
        keep = events.source[a] != events.source[b]
        a, b = a[keep], b[keep]
        keep = _within(events.time[a], events.time[b], window)
        a, b = a[keep], b[keep]
        swap = events.source[a] > events.source[b]
        a, b = np.where(swap, b, a), np.where(swap, a, b)
        a, b = _closest_per_group(events, a, b)
        best_a.append(a)
        best_b.append(b)
        begin = stop
    a, b = _closest_per_group(events, np.concatenate(best_a), np.concatenate(best_b))
    return Pairs(a, b)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + c) for s, c in zip(starts, counts)])``, vectorised."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    out: np.ndarray = np.repeat(starts - offsets, counts) + np.arange(total)
    return out


def _closest_per_group(events: Events, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Of the pairs (a, b), one per (source a, source b, object): the smallest lag, then the
    lowest a, then b; sorted by (source a, source b, object)."""
    if a.size == 0:
        return a, b
    lag = np.nan_to_num(np.abs(events.time[a] - events.time[b]), nan=np.inf)
    order = np.lexsort((b, a, lag, events.obj[a], events.source[b], events.source[a]))
    a, b = a[order], b[order]
    group = np.c_[events.source[a], events.source[b], events.obj[a]]
    first = np.r_[True, (group[1:] != group[:-1]).any(axis=1)]
    return a[first], b[first]


def with_significance(
    events: Events,
    edges: Edges,
    *,
    n_sources: int,
    window: float | None,
    null: str = "configuration",
    permutations: int = 0,
    seed: int = 0,
) -> Edges:
    """``edges`` with p-values against the ``null`` model and Benjamini-Hochberg q-values."""
    if null == "configuration":
        p_value = configuration_p_values(
            events, edges.source_a, edges.source_b, edges.n_independent.astype(np.float64)
        )
    else:
        p_value = _time_shuffle_p_values(events, edges, n_sources, window, permutations, seed)
        # An edge whose co-actions all lack a date cannot be tested: shuffling times moves
        # nothing there.
        lags = np.abs(events.time[edges.evidence_a] - events.time[edges.evidence_b])
        both = np.isfinite(lags)
        dated_edge = np.bincount(edges.evidence_edge[both], minlength=edges.weight.size) > 0
        p_value[~dated_edge] = np.nan
    return replace(edges, p_value=p_value, q_value=benjamini_hochberg(p_value))


def configuration_p_values(
    events: Events, source_a: np.ndarray, source_b: np.ndarray, shared: np.ndarray
) -> np.ndarray:
    """How surprising it is that two sources share ``shared`` objects, if every source kept
    its number of objects and every object its number of sources but who shares what were
    random (the bipartite configuration model). Two sources with d_a and d_b objects are
    expected to share d_a * d_b * sum_o k_o (k_o - 1) / M^2 objects (k_o: sources sharing
    object o; M: all sharings); the p-value is the Poisson tail at the observed count. Busy
    sources sharing popular objects expect many; small sites sharing rare ones, few."""

    if source_a.size == 0:
        return np.zeros(0)
    sources, objects = _incidences(events)
    degree = np.bincount(sources).astype(np.float64)
    popularity = np.bincount(objects).astype(np.float64)
    return configuration_p(
        degree[source_a],
        degree[source_b],
        float(np.sum(popularity * (popularity - 1))),
        float(sources.size),
        shared,
    )


def configuration_p(
    degree_a: np.ndarray,
    degree_b: np.ndarray,
    pairs_per_object: float,
    total: float,
    shared: np.ndarray,
) -> np.ndarray:
    """The Poisson tail of :func:`configuration_p_values`, from the sums it needs (each
    edge's two degrees, sum_o k_o (k_o - 1), M): what a cluster can add up in parts."""
    from scipy.stats import poisson

    expected = degree_a * degree_b * pairs_per_object / total**2
    out: np.ndarray = poisson.sf(shared - 1, np.maximum(expected, 1e-12))
    return out


def _time_shuffle_p_values(
    events: Events,
    edges: Edges,
    n_sources: int,
    window: float | None,
    permutations: int,
    seed: int,
) -> np.ndarray:
    """Permutation p-values: each source's times shuffled among its own documents."""
    p_value = np.full(edges.weight.size, np.nan)
    if not permutations or window is None or not edges.weight.size:
        return p_value
    if not np.isfinite(events.time).any():
        return p_value
    pairs = candidate_pairs(events)
    grouped = _pair_objects(events, pairs)
    n = int(events.source.max()) + 1
    edge_keys = edges.source_a * n + edges.source_b
    slot = np.minimum(np.searchsorted(edge_keys, grouped.key), edge_keys.size - 1)
    tested = edge_keys[slot] == grouped.key
    weight = idf(events, n_sources)[grouped.obj]
    exceed = np.zeros(edge_keys.size, dtype=np.int64)
    rng = np.random.default_rng(seed)
    for _ in range(permutations):
        acted = _co_acted(grouped, pairs, shuffle_within_sources(events, rng), window)
        null_total = np.bincount(
            slot[tested], weights=(weight * acted)[tested], minlength=edge_keys.size
        )
        exceed += null_total >= edges.weight - 1e-9
    out: np.ndarray = (1 + exceed) / (1 + permutations)
    return out


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
