"""The coordination stage on Spark, with the single-machine code per object and per edge.

events (DataFrame unions, links found per document partition) → per object
(``groupBy(kind, object_id)``): its sharers' first-to-second spread (for the window) and its
closest co-acting pairs (:func:`~chorus.coord.core.closest_pairs` on the object's own events)
→ per source pair: weight, evidence, lag and independent objects, in the single-machine order
→ on the driver, the edges only (one row per source pair that co-acted on ``min_objects``):
the configuration-model p-values from degrees summed on the cluster, Benjamini-Hochberg and
Leiden communities → per source: originator and amplifier scores from the evidence.

The time-shuffle null permutes each source's times across all its objects at once, so it
cannot be split by object: its events (five narrow columns) are collected and the
single-machine test runs on the driver, as ``chorus coord --null time`` runs it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from chorus.coord.core import (
    Events,
    benjamini_hochberg,
    closest_pairs,
    co_action_edges,
    configuration_p,
    edge_sums,
    with_significance,
)
from chorus.coord.kernels import (
    RoleRows,
    communities,
    community_edges,
    community_table,
    edge_table,
    none_for_nan,
    number_events,
    object_spreads,
    role_rows,
    role_scores,
    window_from_spreads,
)
from chorus.coord.objects import EVENT_SCHEMA, URL_RE, event_queries, shared_link
from chorus.coord.settings import CoordSettings
from chorus.reuse.credit import credit_table
from chorus.store.store import run_row
from chorus.store.tables import TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


log = logging.getLogger(__name__)

_EPOCH = dt.datetime(1970, 1, 1)
CREDIT_COLUMNS = TABLES["credits"].spark_ddl()
_EVENT_COLUMNS = (
    "source STRING, kind STRING, object_id STRING, doc_id STRING, published_at TIMESTAMP_NTZ"
)
_PAIR_COLUMNS = (
    "source_a STRING, source_b STRING, kind STRING, object_id STRING, doc_a STRING, "
    "doc_b STRING, time_a TIMESTAMP_NTZ, time_b TIMESTAMP_NTZ, rarity DOUBLE"
)
_EDGE_COLUMNS = (
    "source_a STRING, source_b STRING, weight DOUBLE, n_objects INT, n_independent INT, "
    "median_lag_hours DOUBLE"
)


@dataclass(frozen=True)
class SparkCoordination:
    """DataFrames with the store's coordination tables' columns."""

    source_edges: DataFrame
    edge_evidence: DataFrame
    sources: DataFrame
    communities: DataFrame
    coord_runs: DataFrame
    credits: DataFrame
    window_hours: float | None


def _hours(value: dt.datetime | None) -> float:
    """Hours since 1970 as the store computes them (``epoch_us / 3600e6``); NaN undated."""
    if value is None:
        return float("nan")
    return ((value - _EPOCH) // dt.timedelta(microseconds=1)) / 3600e6


def _credits(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        yield from credit_table(batch).to_batches()


def credits_frame(documents: DataFrame) -> DataFrame:
    """The ``credits`` table, by the single-machine kernel on each partition."""
    return documents.select("doc_id", "source", "text").mapInArrow(_credits, CREDIT_COLUMNS)


def sharing_events(
    documents: DataFrame,
    mentions: DataFrame | None,
    passages: pa.Table,
    clusters: pa.Table,
    kinds: tuple[str, ...],
    credits: DataFrame,
) -> DataFrame:
    """(source, kind, object_id, doc_id, published_at): the single-machine rules
    (:func:`chorus.coord.objects.event_queries`, the same SQL) over these frames, each
    registered as the table the rules name; links found per document partition."""
    spark = documents.sparkSession
    frames = {
        "documents": documents,
        "credits": credits,
        "passages": spark.createDataFrame(
            passages.select(["cluster_id", "doc_id", "start", "end"])
        ),
        "reuse_clusters": spark.createDataFrame(
            clusters.select(["cluster_id", "kind", "n_sources"])
        ),
    }
    if mentions is not None:
        frames["mentions"] = mentions
        # A claim family is one object: the points' family ids, when the mentions carry them.
        frames["points"] = (
            mentions.select("point_id", "family_id").distinct()
            if "family_id" in mentions.columns
            else mentions.selectExpr("point_id", "CAST(NULL AS STRING) AS family_id").distinct()
        )
    for name, frame in frames.items():
        frame.createOrReplaceTempView(name)
    parts = [
        spark.sql(query)
        for query in event_queries(
            kinds,
            has_mentions=mentions is not None,
            has_clusters=True,
            quote=lambda name: f"`{name}`",
        )
    ]
    if "link" in kinds:
        wire_copy = credits.where("whole").select("doc_id").distinct()
        parts.append(
            documents.join(wire_copy, "doc_id", "left_anti")
            .select("source", "doc_id", "published_at", "url", "text")
            .mapInArrow(_links, _EVENT_COLUMNS)
        )
    if not parts:
        return spark.createDataFrame([], _EVENT_COLUMNS)
    events = parts[0]
    for part in parts[1:]:
        events = events.unionByName(part)
    return events.distinct()


def _links(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        out: dict[str, list[Any]] = {k: [] for k in EVENT_SCHEMA.names}
        for source, doc_id, published, page, text in zip(
            *(
                batch.column(c).to_pylist()
                for c in ("source", "doc_id", "published_at", "url", "text")
            ),
            strict=True,
        ):
            seen: set[str] = set()
            for link in URL_RE.findall(text or ""):
                canonical = shared_link(link, page)
                if canonical is None or canonical in seen:
                    continue
                seen.add(canonical)
                for key, value in zip(
                    out, (source, "link", canonical, doc_id, published), strict=True
                ):
                    out[key].append(value)
        yield pa.RecordBatch.from_pydict(out, schema=EVENT_SCHEMA)


def _local_events(table: pa.Table) -> tuple[pa.Table, Events]:
    """One object's events in the store's order (source, date, document), numbered."""
    table = table.sort_by(
        [
            ("source", "ascending", "at_end"),
            ("published_at", "ascending", "at_end"),
            ("doc_id", "ascending", "at_end"),
        ]
    )
    sources = table.column("source").to_pylist()
    docs = table.column("doc_id").to_pylist()
    source_no = {s: i for i, s in enumerate(sorted(set(sources)))}
    doc_no = {d: i for i, d in enumerate(sorted(set(docs)))}
    events = Events(
        source=np.array([source_no[s] for s in sources], dtype=np.int64),
        obj=np.zeros(len(sources), dtype=np.int64),
        time=np.array([_hours(t) for t in table.column("published_at").to_pylist()]),
        doc=np.array([doc_no[d] for d in docs], dtype=np.int64),
    )
    return table, events


def _spread(table: pa.Table) -> pa.Table:
    """How long the object took from its first dated source to its second (none if fewer)."""
    _, events = _local_events(table)
    return pa.table({"spread": pa.array(object_spreads(events), pa.float64())})


def _window(events: DataFrame) -> float | None:
    """The single-machine window (the median spread, within 1 h and 7 days): the two
    middle spreads found by a distributed sort, then averaged as ``np.median`` does."""
    from chorus.spark.frames import number_rows

    spreads = events.groupBy("kind", "object_id").applyInArrow(_spread, "spread DOUBLE").cache()
    m = spreads.count()
    if m == 0:
        return None
    ranked = number_rows(spreads, ["spread"], "place")
    middle = sorted(
        r[0]
        for r in ranked.where(ranked.place.isin([(m - 1) // 2, m // 2])).select("spread").collect()
    )
    return window_from_spreads(np.array(middle))


def _closest(table: pa.Table, window: float | None, n_sources: int) -> pa.Table:
    """The object's closest co-acting pair of documents per pair of sources."""
    table, events = _local_events(table)
    pairs = closest_pairs(events, window)
    rarity = float(np.log(max(n_sources, 1) / max(len(set(events.source.tolist())), 1)))
    a = pa.array(pairs.a, pa.int64())
    b = pa.array(pairs.b, pa.int64())
    return pa.table(
        {
            "source_a": table.column("source").take(a),
            "source_b": table.column("source").take(b),
            "kind": table.column("kind").take(a),
            "object_id": table.column("object_id").take(a),
            "doc_a": table.column("doc_id").take(a),
            "doc_b": table.column("doc_id").take(b),
            "time_a": table.column("published_at").take(a),
            "time_b": table.column("published_at").take(b),
            "rarity": pa.array(np.full(pairs.a.size, rarity), pa.float64()),
        }
    )


def _edge(table: pa.Table, min_objects: int) -> pa.Table:
    """One source pair's edge, summed in the single-machine order (by object); none below
    ``min_objects``."""
    n = table.num_rows
    if n < min_objects or n == 0:
        return _EDGE_SCHEMA.empty_table()
    table = table.sort_by([("kind", "ascending"), ("object_id", "ascending")])
    sums = edge_sums(
        np.zeros(n, dtype=np.int64),
        1,
        np.asarray(table.column("rarity").to_numpy(), dtype=np.float64),
        np.array([_hours(t) for t in table.column("time_a").to_pylist()]),
        np.array([_hours(t) for t in table.column("time_b").to_pylist()]),
        np.array(table.column("doc_a").to_pylist(), dtype=object),
        np.array(table.column("doc_b").to_pylist(), dtype=object),
    )
    return pa.table(
        {
            "source_a": [table.column("source_a")[0].as_py()],
            "source_b": [table.column("source_b")[0].as_py()],
            "weight": [float(sums.weight[0])],
            "n_objects": pa.array([int(sums.n_objects[0])], pa.int32()),
            "n_independent": pa.array([int(sums.n_independent[0])], pa.int32()),
            "median_lag_hours": none_for_nan(sums.median_lag),
        },
        schema=_EDGE_SCHEMA,
    )


_EDGE_SCHEMA = pa.schema(
    [
        ("source_a", pa.string()),
        ("source_b", pa.string()),
        ("weight", pa.float64()),
        ("n_objects", pa.int32()),
        ("n_independent", pa.int32()),
        ("median_lag_hours", pa.float64()),
    ]
)


def spark_coordination(
    documents: DataFrame,
    mentions: DataFrame | None,
    passages: pa.Table,
    clusters: pa.Table,
    *,
    settings: CoordSettings | None = None,
) -> SparkCoordination:
    """The coordination tables from documents, talking-point mentions and reuse results."""
    from pyspark.sql import functions as F

    settings = settings or CoordSettings()
    spark = documents.sparkSession
    credits = credits_frame(documents).cache()
    events = sharing_events(
        documents, mentions, passages, clusters, settings.kinds, credits
    ).cache()
    sources = sorted(r[0] for r in documents.select("source").distinct().collect())
    n_sources = len(sources)
    window = settings.window_hours if settings.window_hours else _window(events)
    if events.where(F.col("published_at").isNotNull()).limit(1).count() == 0:
        window = None
    log.info("spark coord: window %s hours", window)
    pairs = (
        events.groupBy("kind", "object_id")
        .applyInArrow(lambda t: _closest(t, window, n_sources), _PAIR_COLUMNS)
        .cache()
    )
    min_objects = settings.min_objects
    edge_rows = (
        pairs.groupBy("source_a", "source_b")
        .applyInArrow(lambda t: _edge(t, min_objects), _EDGE_COLUMNS)
        .toArrow()
        .sort_by([("source_a", "ascending"), ("source_b", "ascending")])
    )
    evidence = pairs.join(
        spark.createDataFrame(edge_rows.select(["source_a", "source_b"])),
        ["source_a", "source_b"],
        "left_semi",
    ).select(
        "source_a",
        "source_b",
        F.col("kind").alias("object_kind"),
        "object_id",
        "doc_a",
        "doc_b",
        "time_a",
        "time_b",
    )

    # The configuration null from degrees summed on the cluster; the edges are few (one per
    # source pair), so their test and their communities run on the driver.
    incidences = events.select("source", "kind", "object_id").distinct().cache()
    degree: dict[str, int] = {
        r[0]: int(r[1]) for r in incidences.groupBy("source").count().collect()
    }
    totals = (
        incidences.groupBy("kind", "object_id")
        .count()
        .agg(F.sum(F.col("count") * (F.col("count") - 1)), F.sum("count"))
        .collect()[0]  # an aggregate over the whole frame: one row
    )
    pairs_per_object, total = float(totals[0] or 0), float(totals[1] or 0)
    source_no = {s: i for i, s in enumerate(sources)}
    a_names = edge_rows.column("source_a").to_pylist()
    b_names = edge_rows.column("source_b").to_pylist()
    shared = np.asarray(edge_rows.column("n_independent").to_numpy(), dtype=np.float64)
    if settings.null == "time":
        p_value, q_value = _time_shuffle(events, sources, a_names, b_names, window, settings)
    else:
        p_value = (
            configuration_p(
                np.array([degree[s] for s in a_names], dtype=np.float64),
                np.array([degree[s] for s in b_names], dtype=np.float64),
                pairs_per_object,
                total,
                shared,
            )
            if a_names
            else np.zeros(0)
        )
        q_value = benjamini_hochberg(p_value)
    weight = np.asarray(edge_rows.column("weight").to_numpy(), dtype=np.float64)
    keep, _ = community_edges(q_value, settings.fdr)
    community = communities(
        np.array([source_no[s] for s in a_names], dtype=np.int64),
        np.array([source_no[s] for s in b_names], dtype=np.int64),
        weight,
        keep,
        n_sources,
        settings,
    )
    lag = edge_rows.column("median_lag_hours").to_pylist()
    edge_table_out = edge_table(
        a_names,
        b_names,
        weight,
        np.asarray(edge_rows.column("n_objects").to_numpy(), dtype=np.int64),
        np.array([np.nan if v is None else v for v in lag], dtype=np.float64),
        p_value,
        q_value,
    )
    n_objects = events.select("kind", "object_id").distinct().count()
    runs = pa.Table.from_pylist(
        [run_row(settings, window_hours=window, n_objects=n_objects)],
        schema=TABLES["coord_runs"].arrow_schema(),
    )
    source_table = _sources(documents, events, evidence, sources, community)
    return SparkCoordination(
        source_edges=spark.createDataFrame(edge_table_out),
        edge_evidence=evidence,
        sources=source_table,
        communities=spark.createDataFrame(community_table(sources, community)),
        coord_runs=spark.createDataFrame(runs),
        credits=credits,
        window_hours=window,
    )


def _time_shuffle(
    events: DataFrame,
    sources: list[str],
    a_names: list[str],
    b_names: list[str],
    window: float | None,
    settings: CoordSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """The edges' p- and q-values under the time-shuffle null: the events collected, numbered
    and tested on the driver by the single-machine kernels (the permutations draw from one
    generator over every event in the stage's order, so a split would draw differently)."""
    import duckdb

    table = events.select("source", "kind", "object_id", "doc_id", "published_at").toArrow()
    with duckdb.connect() as con:
        _, numbered, _ = number_events(con, table, sources)
    tested = with_significance(
        numbered,
        co_action_edges(
            numbered, n_sources=len(sources), window=window, min_objects=settings.min_objects
        ),
        n_sources=len(sources),
        window=window,
        null="time",
        permutations=settings.permutations,
        seed=settings.seed,
    )
    place = {
        (sources[a], sources[b]): i
        for i, (a, b) in enumerate(zip(tested.source_a, tested.source_b, strict=True))
    }
    missing = [pair for pair in zip(a_names, b_names, strict=True) if pair not in place]
    if missing:  # the two edge builders disagree: a bug, never a result to write
        raise RuntimeError(f"the time-shuffle test found no edge for {missing[:3]}")
    rows = np.array([place[pair] for pair in zip(a_names, b_names, strict=True)], dtype=np.int64)
    if rows.size != len(place):
        raise RuntimeError(
            f"{len(place)} edges on the driver, {rows.size} on the cluster: the builders differ"
        )
    return tested.p_value[rows], tested.q_value[rows]


def _sources(
    documents: DataFrame,
    events: DataFrame,
    evidence: DataFrame,
    sources: list[str],
    community: list[int],
) -> DataFrame:
    """Per source, as the single-machine ``sources`` table: documents, objects, community,
    and from the dated evidence how often it went first or followed, and its median lag."""
    from pyspark.sql import functions as F

    def roles(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = role_rows(
                np.array(batch.column("source_a").to_pylist(), dtype=object),
                np.array(batch.column("source_b").to_pylist(), dtype=object),
                np.array([_hours(t) for t in batch.column("time_a").to_pylist()]),
                np.array([_hours(t) for t in batch.column("time_b").to_pylist()]),
            )
            yield pa.RecordBatch.from_pydict(
                {
                    "source": pa.array(rows.source.tolist(), pa.string()),
                    "first": pa.array(rows.first, pa.bool_()),
                    "follow": pa.array(rows.follow, pa.bool_()),
                    "lag": pa.array(rows.lag, pa.float64()),
                }
            )

    def scores(table: pa.Table) -> pa.Table:
        one = role_scores(
            RoleRows(
                source=np.zeros(table.num_rows, dtype=np.int64),
                first=np.asarray(table.column("first").to_numpy(zero_copy_only=False), bool),
                follow=np.asarray(table.column("follow").to_numpy(zero_copy_only=False), bool),
                lag=np.asarray(table.column("lag").to_numpy(), dtype=np.float64),
            ),
            1,
        )
        return pa.table(
            {
                "source": pa.array([table.column("source")[0].as_py()], pa.string()),
                "originator": pa.array(none_for_nan(one.originator), pa.float64()),
                "amplifier": pa.array(none_for_nan(one.amplifier), pa.float64()),
                "median_follow_hours": pa.array(none_for_nan(one.median_follow), pa.float64()),
            }
        )

    spark = documents.sparkSession
    per_source = (
        evidence.select("source_a", "source_b", "time_a", "time_b")
        .mapInArrow(roles, "source STRING, first BOOLEAN, follow BOOLEAN, lag DOUBLE")
        .groupBy("source")
        .applyInArrow(
            scores,
            "source STRING, originator DOUBLE, amplifier DOUBLE, median_follow_hours DOUBLE",
        )
    )
    named = spark.createDataFrame(
        pa.table(
            {
                "source": pa.array(sources, pa.string()),
                "community": pa.array([c if c >= 0 else None for c in community], pa.int32()),
            }
        )
    )
    n_docs = documents.groupBy("source").agg(F.count("*").cast("int").alias("n_docs"))
    n_objects = events.groupBy("source").agg(F.count("*").cast("int").alias("n_objects"))
    return (
        named.join(n_docs, "source", "left")
        .join(n_objects, "source", "left")
        .join(per_source, "source", "left")
        .select(
            "source",
            F.coalesce("n_docs", F.lit(0)).alias("n_docs"),
            F.coalesce("n_objects", F.lit(0)).alias("n_objects"),
            "community",
            "originator",
            "amplifier",
            "median_follow_hours",
        )
    )
