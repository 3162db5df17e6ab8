"""The talking-points stage on Spark: the single-machine steps, each a DataFrame step over
partitions, calling the same functions.

claims (per sentence partition: the same masking and keys) → units numbered by first
appearance → vectors in the canonical embedding batches (``groupBy(batch)``; the model loaded
once per worker) → centred on the exact corpus mean (and filed under the model's reference
cells, :mod:`chorus.points.cells`) → k nearest neighbours (one exact search, or an inverted
file whose cells are groups) → lexical idf from summed document frequencies →
corpus-relative scores (each unit's hub from its own edges) → connected components of the
strong pairs (:mod:`chorus.spark.components`) → average linkage per component
(``groupBy(component)``) → points built per group (:func:`~chorus.points.stage.build_point`)
→ keyphrases from summed term counts.

Every step sees its rows in the order the single-machine stage does, so the floating-point
sums are the same and so are the points. The cascade (a fast model screening for the
accurate one) is single-machine only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from chorus.embed.cache import EMBED_BATCH, embed_batches, text_key
from chorus.points.cells import ReferenceCells, file_rows, reference_cells
from chorus.points.cluster import cluster_component
from chorus.points.families import family_ids
from chorus.points.keyphrases import claim_terms, rank_keyphrases
from chorus.points.neighbours import (
    PROBES,
    centre_rows,
    corpus_mean,
    document_frequency,
    floor_weak_pairs,
    hashed_counts,
    ivf_cells,
    ivf_probes,
    kmeans,
    kmeans_sample,
    lexical_idf,
    merge_best,
    nearest_neighbours,
    relative_to_hubs,
    search_cell,
    tfidf_rows,
    unit_hubs,
    vector_sum,
)
from chorus.points.settings import PointsSettings
from chorus.points.stage import MENTION_SCHEMA, DocInfo, PointSentences, build_point
from chorus.points.text import claim_unit, unit_digest
from chorus.spark.components import connected_components
from chorus.spark.embed import claim_sentences, corpus_names, embedder
from chorus.spark.frames import number_rows
from chorus.store.tables import TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


log = logging.getLogger(__name__)

_CLAIM_COLUMNS = (
    "doc_id STRING, sent_no INT, start INT, end INT, text STRING, "
    "ukey STRING, tkey STRING, claim STRING"
)
_EDGE_COLUMNS = "src LONG, dst LONG, score FLOAT"
_MENTIONS = TABLES["mentions"].select("doc_id", "sent_no", "start", "end", "similarity", "text")
_MENTION_TYPE = f"ARRAY<{_MENTIONS.spark_struct()}>"
_BUILT_COLUMNS = (
    "point_id STRING, label STRING, n_mentions INT, n_docs INT, n_sources INT, "
    "first_seen TIMESTAMP_NTZ, last_seen TIMESTAMP_NTZ, origin_doc_id STRING, "
    "origin_source STRING, score FLOAT, cohesion FLOAT, claims ARRAY<STRING>, "
    f"mentions {_MENTION_TYPE}, vector_sum BINARY, n_vectors INT"
)


@dataclass(frozen=True)
class SparkPoints:
    """DataFrames with the store's ``points`` and ``mentions`` columns, and the embedding
    cache (``_embeddings``) for the units."""

    points: DataFrame
    mentions: DataFrame
    embeddings: DataFrame
    n_units: int


def spark_points(
    sentences: DataFrame,
    documents: DataFrame,
    passages: pa.Table,
    clusters: pa.Table,
    *,
    settings: PointsSettings | None = None,
) -> SparkPoints:
    """Talking points from a sentences DataFrame (and the reuse stage's boilerplate)."""
    from pyspark.sql import functions as F

    settings = settings or PointsSettings()
    if settings.model == "auto":
        counts = documents.groupBy("lang").count().collect()
        settings = settings.for_languages({row[0] or "und": int(row[1]) for row in counts})
    if settings.model == "cascade":
        raise ValueError("the cascade runs on one machine only; on Spark use minilm")
    if settings.model == "multilingual":
        # Its vectors are centred per language, which the Spark job does not do yet.
        raise ValueError(
            "the multilingual model runs on one machine only; on Spark use minilm "
            "(English) or run 'chorus points --model multilingual' over a loaded store"
        )
    kept = claim_sentences(sentences, passages, clusters, settings.min_words).cache()
    names = corpus_names(kept)
    claims = kept.mapInArrow(
        lambda it: _unit_claims(it, names, settings.min_content_words), _CLAIM_COLUMNS
    ).cache()

    # Units: one per distinct claim, numbered (and placed in a document) by where it first
    # occurs in (document, sentence) order, as on one machine.
    firsts = claims.groupBy("ukey").agg(
        F.min(F.struct("doc_id", "sent_no", "tkey", "claim")).alias("f")
    )
    units = firsts.select(
        "ukey",
        F.col("f.doc_id").alias("first_doc"),
        F.col("f.sent_no").alias("first_sent"),
        F.col("f.tkey").alias("tkey"),
        F.col("f.claim").alias("claim"),
    )
    units = number_rows(units, ["first_doc", "first_sent"], "unit")
    doc_numbers = number_rows(documents.select("doc_id"), ["doc_id"], "group")
    units = units.join(doc_numbers.withColumnRenamed("doc_id", "first_doc"), "first_doc").cache()
    n = units.count()
    log.info("spark points: %d sentences, %d units", claims.count(), n)

    # Cached: the model is the costly part, and three steps read the vectors.
    vectors = _embedded(units, settings.model).cache()
    embeddings = units.join(vectors, "unit").select(
        F.lit(embedder(settings.model).name).alias("model"), F.col("tkey").alias("key"), "vector"
    )
    reference = reference_cells(embedder(settings.model).name)
    centred = _centred(units.join(vectors, "unit"), n, reference).cache()
    edges = _neighbours(centred, n, settings, reference).cache()
    if settings.lexical_weight:
        edges = _with_lexical(edges, units, n, settings).cache()
    edges = _relative(edges, settings)
    labels = _linkage(edges, units, settings)
    built = _build(claims, units, centred, labels, documents, settings).cache()
    points = _with_keyphrases(built)
    mentions = built.select("point_id", F.explode("mentions").alias("m")).select(
        "point_id", *(F.col(f"m.{name}").alias(name) for name in MENTION_SCHEMA.names[1:])
    )
    return SparkPoints(points=points, mentions=mentions, embeddings=embeddings, n_units=n)


def _unit_claims(
    batches: Iterator[pa.RecordBatch], names: set[str], min_content_words: int
) -> Iterator[pa.RecordBatch]:
    """Each sentence's claim and its unit key, as the single-machine stage makes them; a
    sentence with nothing left to claim is dropped."""
    columns = ["doc_id", "sent_no", "start", "end", "text"]
    for batch in batches:
        keep: list[int] = []
        ukeys: list[str] = []
        tkeys: list[str] = []
        texts: list[str] = []
        for row, text in enumerate(batch.column("text").to_pylist()):
            claim = claim_unit(text, names, min_content_words=min_content_words)
            if claim is None:
                continue
            keep.append(row)
            ukeys.append(unit_digest(claim).hex())
            tkeys.append(text_key(claim))
            texts.append(claim)
        rows = pa.array(keep, pa.int64())
        yield pa.RecordBatch.from_arrays(
            [
                *(batch.column(name).take(rows) for name in columns),
                pa.array(ukeys, pa.string()),
                pa.array(tkeys, pa.string()),
                pa.array(texts, pa.string()),
            ],
            names=[*columns, "ukey", "tkey", "claim"],
        )


def _embedded(units: DataFrame, model: str) -> DataFrame:
    """(unit, vector): float16 bytes, embedded in the canonical batches."""
    from pyspark.sql import functions as F

    ordered = number_rows(
        units.select("unit", "tkey", "claim").withColumn("length", F.length("claim")),
        [F.col("length").desc(), "tkey"],
        "place",
    ).withColumn("batch", (F.col("place") / EMBED_BATCH).cast("long"))

    def embed(table: pa.Table) -> pa.Table:
        table = table.sort_by("place")
        vectors = embed_batches(embedder(model), table.column("claim").to_pylist())
        return pa.table(
            {
                "unit": table.column("unit"),
                "vector": pa.array([v.tobytes() for v in vectors], pa.binary()),
            }
        )

    return ordered.groupBy("batch").applyInArrow(embed, "unit LONG, vector BINARY")


def _matrix(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """float16 vectors from a column of their bytes, one row each."""
    values = column.to_pylist()
    if not values:
        return np.zeros((0, 0), dtype=np.float16)
    return np.frombuffer(b"".join(values), dtype=np.float16).reshape(len(values), -1)


def _centred(units: DataFrame, n: int, reference: ReferenceCells | None) -> DataFrame:
    """``units`` with ``cvec``: each vector centred on the corpus mean and renormalised, as
    :func:`~chorus.points.neighbours.centre` does, with its kernels: partial sums per
    partition (exact, so the mean does not depend on the split), then each row centred.
    With ``reference`` cells past the exact search, also ``probes``: the cells each raw
    vector is filed and searched under (:func:`chorus.points.cells.file_rows`)."""

    def partial(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        total: np.ndarray | None = None
        for batch in batches:
            if batch.num_rows:
                part = vector_sum(_matrix(batch.column("vector")))
                total = part if total is None else total + part
        if total is not None:
            yield pa.RecordBatch.from_pydict({"sum": [total.tobytes()]})

    sums = [
        np.frombuffer(r[0], dtype=np.float64)
        for r in units.select("vector").mapInArrow(partial, "sum BINARY").collect()
    ]
    if not sums:
        return units.withColumn("cvec", units.vector)
    mean = corpus_mean(np.sum(sums, axis=0), n)
    n_cells = reference.cells_for(n) if reference is not None else 1
    filing = (
        (reference.mean, reference.level(n_cells))
        if reference is not None and n_cells > 1
        else None
    )

    def centre(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            raw = _matrix(batch.column("vector"))
            rows = centre_rows(raw, mean).astype(np.float16)
            columns = {
                "unit": batch.column("unit"),
                "group": batch.column("group"),
                "cvec": pa.array([r.tobytes() for r in rows], pa.binary()),
            }
            if filing is not None:
                found = file_rows(raw, *filing)
                columns["probes"] = pa.array(found.tolist(), pa.list_(pa.int64()))
            yield pa.RecordBatch.from_pydict(columns)

    schema = "unit LONG, group LONG, cvec BINARY"
    if filing is not None:
        schema += ", probes ARRAY<LONG>"
    return units.select("unit", "group", "vector").mapInArrow(centre, schema)


def _neighbours(
    centred: DataFrame, n: int, settings: PointsSettings, reference: ReferenceCells | None
) -> DataFrame:
    """Directed kNN edges (src, dst, score) among units of other documents."""
    from pyspark.sql import functions as F

    k = settings.neighbours
    cells = reference.cells_for(n) if reference is not None else ivf_cells(n)
    if cells == 1:
        # Small enough for the exact search: one group, the single-machine call itself.
        def exact(table: pa.Table) -> pa.Table:
            table = table.sort_by("unit")
            units = np.asarray(table.column("unit").to_numpy(), dtype=np.int64)
            found = nearest_neighbours(
                _matrix(table.column("cvec")),
                np.asarray(table.column("group").to_numpy(), dtype=np.int64),
                k=k,
                seed=settings.seed,
            )
            return _edge_table(units[found.src], units[found.dst], found.score)

        return (
            centred.withColumn("cell", F.lit(0)).groupBy("cell").applyInArrow(exact, _EDGE_COLUMNS)
        )
    if reference is not None:
        # Filed under the reference cells as the vectors were centred.
        return _search_cells(centred, k)
    # The inverted file: centroids from the same seeded sample, cells as groups.
    sample = kmeans_sample(n, cells, seed=settings.seed)
    spark = centred.sparkSession
    picked = spark.createDataFrame([(int(u),) for u in sample], "unit LONG")
    rows = centred.join(F.broadcast(picked), "unit").select("unit", "cvec").toArrow()
    rows = rows.sort_by("unit")
    centroids = kmeans(_matrix(rows.column("cvec")), cells, seed=settings.seed)

    def probe(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            found = ivf_probes(_matrix(batch.column("cvec")), centroids, PROBES)
            yield pa.RecordBatch.from_pydict(
                {
                    "unit": batch.column("unit"),
                    "group": batch.column("group"),
                    "cvec": batch.column("cvec"),
                    "probes": pa.array(found.tolist(), pa.list_(pa.int64())),
                }
            )

    probed = centred.mapInArrow(
        probe, "unit LONG, group LONG, cvec BINARY, probes ARRAY<LONG>"
    ).cache()
    return _search_cells(probed, k)


def _search_cells(probed: DataFrame, k: int) -> DataFrame:
    """kNN edges of units filed under cells (``probes``: each unit's, its home first): the
    cells are groups, each searched with :func:`~chorus.points.neighbours.search_cell`."""
    from pyspark.sql import functions as F

    # One frame of both roles (a cogroup of two views of one frame is ambiguous to Spark).
    members = probed.select(
        F.col("probes")[0].alias("cell"), F.lit(True).alias("member"), "unit", "group", "cvec"
    )
    queries = probed.select(
        F.explode("probes").alias("cell"), F.lit(False).alias("member"), "unit", "group", "cvec"
    )

    def search(table: pa.Table) -> pa.Table:
        role = np.asarray(table.column("member").to_numpy(zero_copy_only=False), dtype=bool)
        members = table.filter(pa.array(role)).sort_by("unit")
        queries = table.filter(pa.array(~role)).sort_by("unit")
        ids, scores = search_cell(
            _matrix(queries.column("cvec")),
            np.asarray(queries.column("group").to_numpy(), dtype=np.int64),
            _matrix(members.column("cvec")),
            np.asarray(members.column("unit").to_numpy(), dtype=np.int64),
            np.asarray(members.column("group").to_numpy(), dtype=np.int64),
            k,
        )
        src = np.repeat(np.asarray(queries.column("unit").to_numpy(), dtype=np.int64), k)
        keep = np.isfinite(scores.ravel())
        return _edge_table(src[keep], ids.ravel()[keep], scores.ravel()[keep])

    candidates = members.unionByName(queries).groupBy("cell").applyInArrow(search, _EDGE_COLUMNS)

    def best(table: pa.Table) -> pa.Table:
        ids = np.asarray(table.column("dst").to_numpy(), dtype=np.int64)[None, :]
        scores = np.asarray(table.column("score").to_numpy(), dtype=np.float32)[None, :]
        none = np.zeros((1, 0), dtype=np.int64)
        top, top_scores = merge_best(none, none.astype(np.float32), ids, scores, k)
        src = table.column("src")[0].as_py()
        return _edge_table(np.full(top.shape[1], src, dtype=np.int64), top[0], top_scores[0])

    return candidates.groupBy("src").applyInArrow(best, _EDGE_COLUMNS)


def _edge_table(src: np.ndarray, dst: np.ndarray, score: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "src": pa.array(src, pa.int64()),
            "dst": pa.array(dst, pa.int64()),
            "score": pa.array(np.asarray(score, dtype=np.float32), pa.float32()),
        }
    )


def _with_lexical(
    edges: DataFrame, units: DataFrame, n: int, settings: PointsSettings
) -> DataFrame:
    """``score`` plus ``lexical_weight`` times the TF-IDF cosine of the pair's claims; the
    idf from document frequencies summed over partitions."""
    from pyspark.sql import functions as F

    def frequencies(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            df = document_frequency(hashed_counts(batch.column("claim").to_pylist()))
            seen = np.flatnonzero(df)
            yield pa.RecordBatch.from_pydict({"feature": seen, "df": df[seen]})

    df_rows = (
        units.select("claim")
        .mapInArrow(frequencies, "feature LONG, df LONG")
        .groupBy("feature")
        .agg(F.sum("df").alias("df"))
        .toArrow()
    )
    df = np.zeros(document_frequency(hashed_counts([""])).size, dtype=np.int64)
    df[np.asarray(df_rows.column("feature").to_numpy(), dtype=np.int64)] = df_rows.column(
        "df"
    ).to_numpy()
    idf = lexical_idf(df, n)
    weight = settings.lexical_weight
    texts = units.select("unit", "claim")
    paired = edges.join(
        texts.withColumnRenamed("unit", "src").withColumnRenamed("claim", "a"), "src"
    ).join(texts.withColumnRenamed("unit", "dst").withColumnRenamed("claim", "b"), "dst")

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            a = tfidf_rows(hashed_counts(batch.column("a").to_pylist()), idf)
            b = tfidf_rows(hashed_counts(batch.column("b").to_pylist()), idf)
            cosine = np.asarray(a.multiply(b).sum(axis=1), dtype=np.float32).ravel()
            base = np.asarray(batch.column("score").to_numpy(), dtype=np.float32)
            yield pa.RecordBatch.from_pydict(
                {
                    "src": batch.column("src"),
                    "dst": batch.column("dst"),
                    "score": pa.array(base + weight * cosine, pa.float32()),
                }
            )

    return paired.select("src", "dst", "score", "a", "b").mapInArrow(score, _EDGE_COLUMNS)


def _relative(edges: DataFrame, settings: PointsSettings) -> DataFrame:
    """The corpus-relative score of :func:`~chorus.points.neighbours.relative_scores`, each
    unit's hub from its own out-edges; pairs below ``min_similarity`` get ``floor``."""
    from pyspark.sql import functions as F

    hubness_k = settings.hubness_k

    def hub(table: pa.Table) -> pa.Table:
        base = np.asarray(table.column("score").to_numpy(), dtype=np.float32)
        value = unit_hubs(np.zeros(base.size, dtype=np.int64), base, n=1, hubness_k=hubness_k)
        return pa.table(
            {
                "unit": pa.array([table.column("src")[0].as_py()], pa.int64()),
                "hub": pa.array(value, pa.float64()),
            }
        )

    hubs = edges.groupBy("src").applyInArrow(hub, "unit LONG, hub DOUBLE").cache()
    joined = (
        edges.join(
            hubs.select(F.col("unit").alias("src"), F.col("hub").alias("hub_a")), "src", "left"
        )
        .join(hubs.select(F.col("unit").alias("dst"), F.col("hub").alias("hub_b")), "dst", "left")
        .fillna(0.0, subset=["hub_a", "hub_b"])
    )
    floor, min_similarity = settings.floor, settings.min_similarity

    def relative(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            base = np.asarray(batch.column("score").to_numpy(), dtype=np.float32)
            a = np.asarray(batch.column("hub_a").to_numpy(), dtype=np.float64)
            b = np.asarray(batch.column("hub_b").to_numpy(), dtype=np.float64)
            scores = floor_weak_pairs(
                base,
                relative_to_hubs(base, a, b),
                min_similarity=min_similarity,
                floor=floor,
            )
            yield pa.RecordBatch.from_pydict(
                {"src": batch.column("src"), "dst": batch.column("dst"), "score": scores}
            )

    return joined.select("src", "dst", "score", "hub_a", "hub_b").mapInArrow(
        relative, _EDGE_COLUMNS
    )


def _linkage(edges: DataFrame, units: DataFrame, settings: PointsSettings) -> DataFrame:
    """(unit, label) for every unit in a cluster of more than one: average linkage run per
    connected component of the pairs at or above ``threshold``."""
    from pyspark.sql import functions as F

    pairs = (
        edges.select(
            F.least("src", "dst").alias("lo"),
            F.greatest("src", "dst").alias("hi"),
            F.col("score").cast("double").alias("w"),
        )
        .where(F.col("lo") != F.col("hi"))
        .groupBy("lo", "hi")
        .agg(F.max("w").alias("w"))
        .cache()
    )
    strong = pairs.where(F.col("w") >= settings.threshold)
    component = connected_components(strong, src="lo", dst="hi").cache()
    group = units.select("unit", "group")
    inside = (
        pairs.join(component.select(F.col("node").alias("lo"), F.col("component")), "lo")
        .join(component.select(F.col("node").alias("hi"), F.col("component").alias("c_hi")), "hi")
        .where(F.col("component") == F.col("c_hi"))
        .join(group.select(F.col("unit").alias("lo"), F.col("group").alias("g_lo")), "lo")
        .join(group.select(F.col("unit").alias("hi"), F.col("group").alias("g_hi")), "hi")
        .select("component", "lo", "hi", "w", "g_lo", "g_hi")
    )
    threshold, floor = settings.threshold, settings.floor

    def link(table: pa.Table) -> pa.Table:
        table = table.sort_by([("lo", "ascending"), ("hi", "ascending")])
        lo = table.column("lo").to_pylist()
        hi = table.column("hi").to_pylist()
        groups = dict(zip(lo, table.column("g_lo").to_pylist(), strict=True))
        groups.update(zip(hi, table.column("g_hi").to_pylist(), strict=True))
        members: list[int] = []
        labels: list[int] = []
        for cluster in cluster_component(
            lo, hi, table.column("w").to_pylist(), groups, threshold, floor
        ):
            members.extend(cluster)
            labels.extend([min(cluster)] * len(cluster))
        return pa.table(
            {"unit": pa.array(members, pa.int64()), "label": pa.array(labels, pa.int64())}
        )

    return inside.groupBy("component").applyInArrow(link, "unit LONG, label LONG")


def _build(
    claims: DataFrame,
    units: DataFrame,
    centred: DataFrame,
    labels: DataFrame,
    documents: DataFrame,
    settings: PointsSettings,
) -> DataFrame:
    """One row per point: :func:`~chorus.points.stage.build_point` on each group's
    sentences, with its mentions and its claims."""
    from pyspark.sql import functions as F

    labelled = (
        units.select("ukey", "unit", "claim")
        .join(centred.select("unit", "cvec"), "unit")
        .join(labels, "unit", "left")
        .withColumn("label", F.coalesce("label", "unit"))
    )
    rows = (
        claims.select("doc_id", "sent_no", "start", "end", "text", "ukey")
        .join(labelled, "ukey")
        .join(documents.select("doc_id", "source", "published_at"), "doc_id")
        .drop("ukey")
    )

    def build(table: pa.Table) -> pa.Table:
        table = table.sort_by([("doc_id", "ascending"), ("sent_no", "ascending")])
        column = {name: table.column(name).to_pylist() for name in table.column_names}
        group = PointSentences(
            doc_ids=column["doc_id"],
            sent_nos=column["sent_no"],
            starts=column["start"],
            ends=column["end"],
            texts=column["text"],
            units=column["unit"],
        )
        unit_texts = dict(zip(column["unit"], column["claim"], strict=True))
        unit_vectors = {
            u: np.frombuffer(v, dtype=np.float16)
            for u, v in zip(column["unit"], column["cvec"], strict=True)
        }
        docs = {
            d: DocInfo(s, p)
            for d, s, p in zip(
                column["doc_id"], column["source"], column["published_at"], strict=True
            )
        }
        point = build_point(
            group, unit_texts=unit_texts, unit_vectors=unit_vectors, docs=docs, settings=settings
        )
        if point is None:
            return _BUILT_SCHEMA.empty_table()
        names = MENTION_SCHEMA.names[1:]
        mentions = [dict(zip(names, m[1:], strict=True)) for m in point.mentions]
        vector_sum = (
            None
            if point.vector_sum is None
            else np.asarray(point.vector_sum, dtype=np.float32).tobytes()
        )
        return pa.Table.from_pylist(
            [
                {
                    **point.row,
                    "claims": point.claims,
                    "mentions": mentions,
                    "vector_sum": vector_sum,
                    "n_vectors": point.n_vectors,
                }
            ],
            schema=_BUILT_SCHEMA,
        )

    return rows.groupBy("label").applyInArrow(build, _BUILT_COLUMNS)


_BUILT_SCHEMA = pa.schema(
    [
        ("point_id", pa.string()),
        ("label", pa.string()),
        ("n_mentions", pa.int32()),
        ("n_docs", pa.int32()),
        ("n_sources", pa.int32()),
        ("first_seen", pa.timestamp("us")),
        ("last_seen", pa.timestamp("us")),
        ("origin_doc_id", pa.string()),
        ("origin_source", pa.string()),
        ("score", pa.float32()),
        ("cohesion", pa.float32()),
        ("claims", pa.list_(pa.string())),
        # Spark's struct fields are nullable whatever the store declares.
        (
            "mentions",
            pa.list_(pa.struct([f.with_nullable(True) for f in _MENTIONS.arrow_schema()])),
        ),
        ("vector_sum", pa.binary()),
        ("n_vectors", pa.int32()),
    ]
)


def _with_keyphrases(built: DataFrame) -> DataFrame:
    """The points with their keyphrases by the single-machine kernels: each point's
    :func:`~chorus.points.keyphrases.claim_terms`, every term's count summed over the points
    (a shuffle), then :func:`~chorus.points.keyphrases.rank_keyphrases` per point."""
    from pyspark.sql import functions as F

    def terms(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            ids: list[str] = []
            found: list[str] = []
            counts: list[int] = []
            sizes: list[int] = []
            for point_id, claims in zip(
                batch.column("point_id").to_pylist(),
                batch.column("claims").to_pylist(),
                strict=True,
            ):
                for term, count in claim_terms(claims).items():
                    ids.append(point_id)
                    found.append(term)
                    counts.append(count)
                    sizes.append(len(claims))
            yield pa.RecordBatch.from_pydict(
                {"point_id": ids, "term": found, "count": counts, "size": sizes},
                schema=_TERM_SCHEMA,
            )

    counted = built.select("point_id", "claims").mapInArrow(terms, _TERM_COLUMNS).cache()
    n_points = built.count()
    n_claims = built.agg(F.sum(F.size("claims"))).collect()[0][0] or 0
    # As the single-machine mean: a sum of whole numbers, exact in any order.
    average = max(float(n_claims) / n_points, 1.0) if n_points else 1.0
    totals = counted.groupBy("term").agg(F.sum("count").alias("total"))

    def top(table: pa.Table) -> pa.Table:
        words = table.column("term").to_pylist()
        phrases = rank_keyphrases(
            dict(zip(words, table.column("count").to_pylist(), strict=True)),
            int(table.column("size")[0].as_py()),
            dict(zip(words, table.column("total").to_pylist(), strict=True)),
            average,
        )
        return pa.table(
            {
                "point_id": [table.column("point_id")[0].as_py()],
                "keyphrases": pa.array([phrases], pa.list_(pa.string())),
            }
        )

    phrases = (
        counted.join(totals, "term")
        .groupBy("point_id")
        .applyInArrow(top, "point_id STRING, keyphrases ARRAY<STRING>")
    )
    columns = [
        "point_id",
        "label",
        "keyphrases",
        "n_mentions",
        "n_docs",
        "n_sources",
        "first_seen",
        "last_seen",
        "origin_doc_id",
        "origin_source",
        "score",
        "cohesion",
        "family_id",
    ]
    return (
        built.join(phrases, "point_id", "left")
        .join(_families(built), "point_id", "left")
        .withColumn("keyphrases", F.coalesce("keyphrases", F.array().cast("array<string>")))
        .select(*columns)
    )


def _families(built: DataFrame) -> DataFrame:
    """(point_id, family_id) by :func:`~chorus.points.families.family_ids` on the driver:
    one summed vector per point is collected (the points, not the sentences)."""
    rows = built.select("point_id", "n_mentions", "vector_sum", "n_vectors").collect()
    families = family_ids(
        [r["point_id"] for r in rows],
        [int(r["n_mentions"]) for r in rows],
        [
            None if r["vector_sum"] is None else np.frombuffer(r["vector_sum"], dtype=np.float32)
            for r in rows
        ],
        [int(r["n_vectors"]) for r in rows],
    )
    pairs = list(zip([r["point_id"] for r in rows], families, strict=True))
    spark = built.sparkSession
    # From an RDD, not local rows: a local relation carries every row in the query plan,
    # and Spark prints the plan (out of heap on a large corpus).
    slices = max(1, min(len(pairs) // 50_000 + 1, spark.sparkContext.defaultParallelism))
    return spark.createDataFrame(
        spark.sparkContext.parallelize(pairs, slices), "point_id STRING, family_id STRING"
    )


_TERM_SCHEMA = pa.schema(
    [("point_id", pa.string()), ("term", pa.string()), ("count", pa.int64()), ("size", pa.int64())]
)
_TERM_COLUMNS = "point_id STRING, term STRING, count LONG, size LONG"
