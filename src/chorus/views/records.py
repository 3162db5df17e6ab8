"""The shape of every view: what the report embeds, what the app's JSON API answers (its
OpenAPI document is generated from these) and what the CLI summaries read.

Values are plain JSON: dates and times are ISO 8601 strings (``None`` when unknown), a URL is
present only when it is a plain http(s) address. ``typing_extensions.TypedDict``: pydantic
reads these on Python 3.11 only from there.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict


class StageCounts(TypedDict):
    documents: int
    undated_documents: int
    sources: int
    sentences: int
    talking_points: int
    reuse_clusters: int
    communities: int
    source_edges: int


class Overview(TypedDict):
    counts: StageCounts
    first: str | None
    last: str | None
    settings: dict[str, dict[str, Any]]
    coord_window_hours: float | None


class MonthCount(TypedDict):
    month: str
    n: int


class PointItem(TypedDict):
    """A talking point in a list: its label (a representative sentence), how far it spread,
    its first dated mention (``origin_*``: None when no mention is dated) and its months."""

    point_id: str
    label: str
    n_mentions: int
    n_docs: int
    n_sources: int
    first_seen: str | None
    last_seen: str | None
    origin_doc_id: str | None
    origin_source: str | None
    score: float
    cohesion: float
    months: list[MonthCount]
    n_undated_docs: int


class PointsPage(TypedDict):
    total: int
    offset: int
    items: list[PointItem]


class Mention(TypedDict):
    """A sentence of a talking point, in its document, with text either side."""

    doc_id: str
    source: str
    title: str | None
    url: str | None
    published_at: str | None
    # The document's detected language ("und": not detected).
    lang: str | None
    start: int
    end: int
    similarity: float | None
    before: str
    sentence: str
    after: str


class PointDetail(TypedDict):
    point_id: str
    label: str
    keyphrases: list[str]
    n_mentions: int
    n_docs: int
    n_sources: int
    first_seen: str | None
    last_seen: str | None
    origin_doc_id: str | None
    origin_source: str | None
    score: float
    cohesion: float
    family_id: str | None
    n_undated_docs: int
    offset: int
    mentions: list[Mention]


class LineageStep(TypedDict):
    point_id: str
    event: str  # merged, dissolved, boilerplate, gone
    other_id: str | None
    recorded_at: str


class PointHistory(TypedDict):
    """Where a talking point id that names no point now went: the lineage records followed
    from it to what exists (``live_kind``: ``point``, ``cluster`` or None when nothing
    does)."""

    point_id: str
    steps: list[LineageStep]
    live_kind: str | None
    live_id: str | None
    live_label: str | None


class FirstMention(TypedDict):
    doc_id: str
    source: str
    published_at: str | None
    start: int
    end: int
    sentence: str
    # The document's language as detected at ingest ("und": none detected).
    lang: str | None


class ReuseItem(TypedDict):
    cluster_id: str
    kind: str
    n_passages: int
    n_docs: int
    n_sources: int
    n_words: int
    first_seen: str | None
    origin_doc_id: str | None
    origin_source: str | None
    representative: str


class ReusePage(TypedDict):
    """``partial`` (the report only): the report holds the first of ``total`` clusters."""

    kind: str
    total: int
    offset: int
    items: list[ReuseItem]
    partial: NotRequired[bool]


class DiffRun(TypedDict):
    op: Literal["same", "added", "removed"]
    text: str


class Copy(TypedDict):
    doc_id: str
    source: str
    url: str | None
    published_at: str | None
    start: int
    end: int
    text: str
    diff: list[DiffRun]


class ReuseDetail(ReuseItem):
    """A cluster as its list shows it, with every copy."""

    copies: list[Copy]


class DocumentSpan(TypedDict):
    """A sentence of a talking point (``kind`` point) or a copied passage (the cluster's
    kind) in the document: character offsets into its text."""

    kind: str
    id: str
    start: int
    end: int
    label: str | None
    n_sources: int


class DocumentDetail(TypedDict):
    doc_id: str
    source: str
    title: str | None
    url: str | None
    published_at: str | None
    lang: str | None
    text: str
    spans: list[DocumentSpan]


class NetworkNode(TypedDict, total=False):
    source: str
    n_docs: int
    n_objects: int
    community: int | None
    originator: float | None
    amplifier: float | None
    median_follow_hours: float | None
    x: float
    y: float


class SourceEdge(TypedDict):
    """A pair of sources that co-acted, as ``source_edges`` holds it."""

    source_a: str
    source_b: str
    weight: float
    n_objects: int
    median_lag_hours: float | None
    p_value: float | None
    q_value: float | None


class NetworkEdge(SourceEdge):
    significant: bool


class Network(TypedDict):
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    window_hours: float | None
    fdr: float


class Evidence(TypedDict):
    """One shared object of an edge: the passage in each of the two sources' documents."""

    object_kind: str
    object_id: str
    label: str | None
    source_a: str
    doc_a: str
    time_a: str | None
    start_a: int | None
    end_a: int | None
    text_a: str | None
    source_b: str
    doc_b: str
    time_b: str | None
    start_b: int | None
    end_b: int | None
    text_b: str | None


class EdgeDetail(SourceEdge):
    evidence: list[Evidence]


class SourceItem(TypedDict):
    source: str
    n_docs: int
    first: str | None
    last: str | None
    community: int | None
    n_objects: int | None
    originator: float | None
    amplifier: float | None
    median_follow_hours: float | None


class SourcesPage(TypedDict):
    total: int
    offset: int
    items: list[SourceItem]


class SourcePoint(TypedDict):
    point_id: str
    label: str
    n_sources: int
    n_docs: int
    first_seen: str | None
    n_mentions_here: int
    originated_here: bool | None


class Following(TypedDict):
    source: str
    n_objects: int
    median_lag_hours: float | None


class SourceDetail(TypedDict):
    source: str
    n_docs: int
    first: str | None
    last: str | None
    community: int | None
    originator: float | None
    amplifier: float | None
    points: list[SourcePoint]
    follows: list[Following]
    followed_by: list[Following]


class HeatmapPoint(TypedDict):
    point_id: str
    label: str
    n_sources: int


class HeatmapCell(TypedDict):
    source: str
    point_id: str
    n: int


class Heatmap(TypedDict):
    sources: list[str]
    points: list[HeatmapPoint]
    cells: list[HeatmapCell]


class Arrival(TypedDict):
    source: str
    arrived: str
    community: int | None


class TimelinePoint(TypedDict):
    point_id: str
    label: str
    n_sources: int
    arrivals: list[Arrival]


class Timeline(TypedDict):
    points: list[TimelinePoint]


class WatchItemHits(TypedDict):
    """A watchlist item: how many documents and sources repeat it, and its best match."""

    item_id: str
    text: str
    n_docs: int
    n_sources: int
    first_seen: str | None
    last_seen: str | None
    best_doc_id: str | None
    best_score: float | None
    languages: list[str]


class WatchSource(TypedDict):
    source: str
    n_docs: int
    n_docs_pushing: int
    share: float
    n_items: int


class WatchlistView(TypedDict):
    name: str
    matched: bool
    items: list[WatchItemHits]
    sources: list[WatchSource]


class Watchlists(TypedDict):
    watchlists: list[WatchlistView]


class SentenceItem(TypedDict):
    doc_id: str
    source: str
    published_at: str | None
    sent_no: int
    start: int
    end: int
    text: str


class SearchPage(TypedDict):
    """``index``: ``current`` when the word index answered, ``stale`` or ``missing`` when
    every sentence was scanned."""

    query: str
    words: list[str]
    total: int
    offset: int
    index: Literal["current", "stale", "missing"]
    items: list[SentenceItem]


class SimilarItem(TypedDict):
    point_id: str
    label: str
    n_sources: int
    n_docs: int
    score: float
    mentions: list[FirstMention]


class SimilarPage(TypedDict):
    query: str
    items: list[SimilarItem]


class AnalysisRun(TypedDict):
    run_no: int
    finished_at: str
    n_documents: int


class PointChangeItem(TypedDict):
    point_id: str
    change: Literal["new", "grew", "regrouped"]
    label: str
    n_sources: int
    n_sources_before: int | None
    n_docs: int
    n_docs_before: int | None
    first_seen: str | None
    last_seen: str | None
    n_new_docs: int
    split_from: str | None


class PassageChangeItem(TypedDict):
    passage_id: str
    cluster_id: str
    cluster_kind: str
    doc_id: str
    source: str
    start: int
    end: int
    text: str
    n_sources: int
    origin_doc_id: str


class EdgeChangeItem(TypedDict):
    source_a: str
    source_b: str
    change: Literal["new", "stronger"]
    weight: float
    weight_before: float | None
    n_objects: int
    q_value: float | None


class HitChangeItem(TypedDict):
    watchlist: str
    item_id: str
    doc_id: str
    source: str
    score: float
    sentence: str
    run_no: int


class ChangesView(TypedDict):
    """What changed since ``since_run`` (an analysis; ``None`` with ``since`` set: since the
    start). Each list holds at most ``limit`` rows (``points``: that many new or grown, and a
    quarter as many regrouped after them); ``totals`` counts them all (``regrouped`` apart,
    and within ``points``)."""

    since: str | None
    since_run: int | None
    runs: list[AnalysisRun]
    limit: int
    totals: dict[str, int]
    points: list[PointChangeItem]
    passages: list[PassageChangeItem]
    edges: list[EdgeChangeItem]
    hits: list[HitChangeItem]
