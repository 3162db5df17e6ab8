"""One declaration per stored table: its columns as DuckDB declares them. The Arrow schema the
stages build their batches with and the Spark schema the cluster engine writes are derived
from it, and a test checks that a store migrated from any version holds exactly these
columns. (The migrations in :mod:`chorus.store.schema` are the history that leads here; a
new one must land a store on these declarations.)

>>> TABLES["credits"].arrow_schema().names
['doc_id', 'agency', 'form', 'start', 'end', 'whole']
>>> TABLES["credits"].spark_ddl()
'doc_id STRING, agency STRING, form STRING, start INT, end INT, whole BOOLEAN'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

_ARROW: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "UBIGINT": pa.uint64(),
    "FLOAT": pa.float32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
    "BLOB": pa.binary(),
    "VARCHAR[]": pa.list_(pa.string()),
}
_SPARK: dict[str, str] = {
    "VARCHAR": "STRING",
    "JSON": "STRING",
    "INTEGER": "INT",
    "BIGINT": "LONG",
    "UBIGINT": "DECIMAL(20,0)",
    "FLOAT": "FLOAT",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP_NTZ",
    "BLOB": "BINARY",
    "VARCHAR[]": "ARRAY<STRING>",
}
_COLUMN = re.compile(
    r'^"?(?P<name>\w+)"?\s+(?P<type>[A-Z]+(?:\[\])?)'
    r"(?:\s+USING COMPRESSION (?P<compression>\w+))?(?P<required>\s+NOT NULL)?$"
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    compression: str | None = None

    def ddl(self) -> str:
        name = f'"{self.name}"' if self.name == "end" else self.name
        compression = f" USING COMPRESSION {self.compression}" if self.compression else ""
        return f"{name} {self.type}{compression}{'' if self.nullable else ' NOT NULL'}"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def select(self, *names: str) -> Table:
        """These columns only, in this order (what a stage builds before adding the rest)."""
        by_name = {c.name: c for c in self.columns}
        return Table(self.name, tuple(by_name[n] for n in names))

    def ddl(self) -> str:
        """``CREATE TABLE`` as DuckDB takes it."""
        body = ",\n    ".join(c.ddl() for c in self.columns)
        return f"CREATE TABLE {self.name} (\n    {body}\n)"

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, _ARROW[c.type], c.nullable) for c in self.columns])

    def spark_ddl(self) -> str:
        """The schema as ``createDataFrame``, ``mapInArrow`` and ``applyInArrow`` take it."""
        return ", ".join(f"{c.name} {_SPARK[c.type]}" for c in self.columns)

    def spark_struct(self) -> str:
        """The row as a Spark struct type (a table nested in another's column)."""
        return "STRUCT<" + ", ".join(f"{c.name}: {_SPARK[c.type]}" for c in self.columns) + ">"


def _parse(name: str, declaration: str) -> Table:
    columns = []
    for part in (p.strip() for p in declaration.split(",")):
        found = _COLUMN.match(part)
        if found is None:
            raise ValueError(f"table {name}: cannot read the column {part!r}")
        columns.append(
            Column(
                found["name"],
                found["type"],
                nullable=not found["required"],
                compression=found["compression"],
            )
        )
    return Table(name, tuple(columns))


_DECLARED = {
    # Ingest: every batch, and the rows it landed (read through the documents, sentences
    # and rejects views, which hide a batch still pending).
    "batches": """
        batch_id INTEGER NOT NULL,
        state VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        paths VARCHAR[] NOT NULL,
        n_read BIGINT,
        n_new BIGINT,
        n_replaced BIGINT,
        n_unchanged BIGINT,
        n_rejected BIGINT,
        n_bad_dates BIGINT,
        settings JSON
    """,
    "documents_all": """
        doc_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        url VARCHAR,
        title VARCHAR,
        published_at TIMESTAMP,
        lang VARCHAR,
        text VARCHAR USING COMPRESSION uncompressed NOT NULL,
        text_hash VARCHAR NOT NULL,
        ingested_at TIMESTAMP NOT NULL,
        batch_id INTEGER NOT NULL,
        origin VARCHAR,
        extra JSON,
        seq BIGINT NOT NULL
    """,
    "sentences_all": """
        doc_id VARCHAR NOT NULL,
        sent_no INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        text VARCHAR NOT NULL,
        batch_id INTEGER NOT NULL,
        seq BIGINT NOT NULL
    """,
    "rejects_all": """
        batch_id INTEGER NOT NULL,
        file VARCHAR,
        line BIGINT,
        field VARCHAR,
        reason VARCHAR NOT NULL,
        raw VARCHAR
    """,
    # Reuse: copied passages and their clusters; credited wire copy.
    "passages": """
        passage_id VARCHAR NOT NULL,
        cluster_id VARCHAR NOT NULL,
        doc_id VARCHAR NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        text VARCHAR NOT NULL
    """,
    "reuse_clusters": """
        cluster_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        n_passages INTEGER NOT NULL,
        n_docs INTEGER NOT NULL,
        n_sources INTEGER NOT NULL,
        n_words INTEGER NOT NULL,
        first_seen TIMESTAMP,
        origin_doc_id VARCHAR NOT NULL,
        origin_source VARCHAR NOT NULL,
        representative VARCHAR NOT NULL
    """,
    "credits": """
        doc_id VARCHAR NOT NULL,
        agency VARCHAR NOT NULL,
        form VARCHAR NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        whole BOOLEAN NOT NULL
    """,
    # The documents whose credits are in ``credits``, as they were read, and the version of
    # the rules that read them: an update reads only the documents added or changed since.
    "_credit_docs": """
        doc_id VARCHAR NOT NULL,
        text_hash VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        rules VARCHAR NOT NULL
    """,
    "reuse_runs": """
        settings JSON,
        finished_at TIMESTAMP,
        stats JSON
    """,
    # A reuse cluster id no cluster keeps after an analysis, and why (as point_lineage).
    "reuse_lineage": """
        recorded_at TIMESTAMP NOT NULL,
        cluster_id VARCHAR NOT NULL,
        event VARCHAR NOT NULL,
        other_id VARCHAR
    """,
    # Talking points, their sentences, the embedding cache and what their pages show.
    "points": """
        point_id VARCHAR NOT NULL,
        label VARCHAR NOT NULL,
        keyphrases VARCHAR[] NOT NULL,
        n_mentions INTEGER NOT NULL,
        n_docs INTEGER NOT NULL,
        n_sources INTEGER NOT NULL,
        first_seen TIMESTAMP,
        last_seen TIMESTAMP,
        origin_doc_id VARCHAR NOT NULL,
        origin_source VARCHAR NOT NULL,
        score FLOAT,
        cohesion FLOAT,
        family_id VARCHAR
    """,
    "mentions": """
        point_id VARCHAR NOT NULL,
        doc_id VARCHAR NOT NULL,
        sent_no INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        similarity FLOAT NOT NULL,
        text VARCHAR NOT NULL
    """,
    "points_runs": """
        settings JSON,
        finished_at TIMESTAMP,
        stats JSON
    """,
    "_embeddings": """
        model VARCHAR NOT NULL,
        key VARCHAR NOT NULL,
        vector BLOB NOT NULL
    """,
    "_point_pages": """
        point_id VARCHAR NOT NULL,
        by_score INTEGER NOT NULL,
        by_sources INTEGER NOT NULL,
        by_documents INTEGER NOT NULL,
        by_first_seen INTEGER NOT NULL,
        by_label INTEGER NOT NULL,
        months VARCHAR NOT NULL,
        n_undated_docs BIGINT NOT NULL,
        first_mentions VARCHAR NOT NULL
    """,
    "_source_points": """
        source VARCHAR NOT NULL,
        point_id VARCHAR NOT NULL,
        n_mentions BIGINT NOT NULL,
        score DOUBLE NOT NULL,
        n_sources INTEGER NOT NULL,
        n_docs INTEGER NOT NULL,
        first_seen TIMESTAMP
    """,
    # Shared phrases.
    "phrases": """
        phrase_id VARCHAR NOT NULL,
        phrase VARCHAR NOT NULL,
        n_words INTEGER NOT NULL,
        n_occurrences INTEGER NOT NULL,
        n_docs INTEGER NOT NULL,
        n_sources INTEGER NOT NULL,
        first_seen TIMESTAMP,
        origin_doc_id VARCHAR NOT NULL,
        origin_source VARCHAR NOT NULL
    """,
    "phrase_occurrences": """
        phrase_id VARCHAR NOT NULL,
        doc_id VARCHAR NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        text VARCHAR NOT NULL
    """,
    "phrases_runs": """
        settings JSON,
        finished_at TIMESTAMP,
        stats JSON
    """,
    # Watchlists of known talking points and their hits.
    "watchlists": """
        watchlist VARCHAR NOT NULL,
        item_no INTEGER NOT NULL,
        item_id VARCHAR NOT NULL,
        text VARCHAR NOT NULL,
        metadata JSON,
        added_at TIMESTAMP NOT NULL
    """,
    "watch_hits": """
        watchlist VARCHAR NOT NULL,
        item_id VARCHAR NOT NULL,
        doc_id VARCHAR NOT NULL,
        rank INTEGER NOT NULL,
        score FLOAT NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        sentence VARCHAR NOT NULL,
        run_no INTEGER NOT NULL
    """,
    "watch_runs": """
        watchlist VARCHAR NOT NULL,
        settings JSON,
        finished_at TIMESTAMP,
        n_docs INTEGER,
        run_no INTEGER NOT NULL,
        n_new_docs INTEGER,
        n_new_hits INTEGER
    """,
    "point_lineage": """
        recorded_at TIMESTAMP NOT NULL,
        point_id VARCHAR NOT NULL,
        event VARCHAR NOT NULL,
        other_id VARCHAR
    """,
    # What an update of the talking points starts from (chorus.points.state): every unit
    # (distinct claim) with its group, hub and inverted-file cell; which unit each sentence
    # states; the kNN edges; the documents the points were found in; the corpus mean,
    # centroids and masked names; the keyphrase term counts.
    "_point_units": """
        unit_no BIGINT NOT NULL,
        unit_key BLOB NOT NULL,
        claim VARCHAR NOT NULL,
        embed_key VARCHAR NOT NULL,
        doc_group BIGINT NOT NULL,
        cluster BIGINT NOT NULL,
        hub FLOAT NOT NULL,
        cell INTEGER NOT NULL
    """,
    "_point_sentences": """
        doc_id VARCHAR NOT NULL,
        sent_no INTEGER NOT NULL,
        unit_no BIGINT NOT NULL
    """,
    "_point_edges": """
        src BIGINT NOT NULL,
        dst BIGINT NOT NULL,
        cosine FLOAT NOT NULL,
        base FLOAT NOT NULL
    """,
    "_point_docs": """
        doc_id VARCHAR NOT NULL,
        text_hash VARCHAR NOT NULL
    """,
    "_point_state": """
        name VARCHAR NOT NULL,
        value BLOB NOT NULL
    """,
    "_point_terms": """
        term VARCHAR NOT NULL,
        n INTEGER NOT NULL
    """,
    # What each analysis changed (chorus.changes): talking points that are new or reach more
    # sources or documents, source pairs whose edge is new or stronger; and the analyses.
    "point_changes": """
        recorded_at TIMESTAMP NOT NULL,
        point_id VARCHAR NOT NULL,
        change VARCHAR NOT NULL,
        n_sources_before INTEGER,
        n_sources INTEGER NOT NULL,
        n_docs_before INTEGER,
        n_docs INTEGER NOT NULL
    """,
    "edge_changes": """
        recorded_at TIMESTAMP NOT NULL,
        source_a VARCHAR NOT NULL,
        source_b VARCHAR NOT NULL,
        change VARCHAR NOT NULL,
        weight_before DOUBLE,
        weight DOUBLE NOT NULL,
        q_value_before DOUBLE,
        q_value DOUBLE
    """,
    "analysis_runs": """
        run_no INTEGER NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        n_documents INTEGER NOT NULL
    """,
    "_watch_matched": """
        watchlist VARCHAR NOT NULL,
        doc_id VARCHAR NOT NULL,
        text_hash VARCHAR NOT NULL,
        run_no INTEGER NOT NULL
    """,
    # Coordination: the source network, its evidence, roles and communities.
    "source_edges": """
        source_a VARCHAR NOT NULL,
        source_b VARCHAR NOT NULL,
        weight DOUBLE NOT NULL,
        n_objects INTEGER NOT NULL,
        median_lag_hours DOUBLE,
        p_value DOUBLE,
        q_value DOUBLE
    """,
    "edge_evidence": """
        source_a VARCHAR NOT NULL,
        source_b VARCHAR NOT NULL,
        object_kind VARCHAR NOT NULL,
        object_id VARCHAR NOT NULL,
        doc_a VARCHAR NOT NULL,
        doc_b VARCHAR NOT NULL,
        time_a TIMESTAMP,
        time_b TIMESTAMP
    """,
    "sources": """
        source VARCHAR NOT NULL,
        n_docs INTEGER NOT NULL,
        n_objects INTEGER NOT NULL,
        community INTEGER,
        originator DOUBLE,
        amplifier DOUBLE,
        median_follow_hours DOUBLE
    """,
    # A community number no community keeps after an analysis, and why (as point_lineage).
    "community_lineage": """
        recorded_at TIMESTAMP NOT NULL,
        community INTEGER NOT NULL,
        event VARCHAR NOT NULL,
        other INTEGER
    """,
    "communities": """
        community INTEGER NOT NULL,
        n_sources INTEGER NOT NULL,
        sources VARCHAR[] NOT NULL
    """,
    "coord_runs": """
        settings JSON,
        window_hours DOUBLE,
        finished_at TIMESTAMP,
        n_objects INTEGER
    """,
    "_edge_evidence_text": """
        object_kind VARCHAR NOT NULL,
        object_id VARCHAR NOT NULL,
        label VARCHAR,
        source_a VARCHAR NOT NULL,
        doc_a VARCHAR NOT NULL,
        time_a TIMESTAMP,
        start_a INTEGER,
        end_a INTEGER,
        text_a VARCHAR,
        source_b VARCHAR NOT NULL,
        doc_b VARCHAR NOT NULL,
        time_b TIMESTAMP,
        start_b INTEGER,
        end_b INTEGER,
        text_b VARCHAR
    """,
    # The app's indexes: words of every sentence, vectors of every label.
    # doc_no: a document's number in the index, given once; read_no: its place in reading
    # order, renumbered when documents are added (the words table keeps doc_no).
    "_search_docs": """
        doc_no INTEGER NOT NULL,
        doc_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        published_at TIMESTAMP,
        read_no INTEGER NOT NULL,
        batch_id INTEGER
    """,
    "_search_sentences": """
        doc_no INTEGER NOT NULL,
        sent_no INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL
    """,
    "_search_words": """
        word VARCHAR NOT NULL,
        doc_no INTEGER NOT NULL,
        sent_no INTEGER NOT NULL
    """,
    "_search_runs": """
        finished_at TIMESTAMP NOT NULL,
        n_documents BIGINT NOT NULL,
        n_sentences BIGINT NOT NULL,
        n_words BIGINT NOT NULL,
        fingerprint VARCHAR NOT NULL,
        seconds DOUBLE NOT NULL,
        n_appended BIGINT NOT NULL
    """,
    "_label_cells": """
        cell INTEGER NOT NULL,
        centroid BLOB,
        point_ids VARCHAR[] NOT NULL,
        vectors BLOB NOT NULL
    """,
    # Which label each filed point had (a hash of it) and its cell: an update files only
    # the points whose label changed.
    "_label_points": """
        point_id VARCHAR NOT NULL,
        label_hash UBIGINT NOT NULL,
        cell INTEGER NOT NULL
    """,
    "_phrase_docs": """
        doc_id VARCHAR NOT NULL,
        text_hash VARCHAR NOT NULL,
        skips VARCHAR NOT NULL
    """,
    "_phrase_keys": """
        phrase_id VARCHAR NOT NULL,
        key_hash UBIGINT NOT NULL
    """,
    "_phrase_state": """
        settings VARCHAR NOT NULL,
        full_docs INTEGER NOT NULL,
        grams_gen INTEGER
    """,
    # Every document's phrase n-grams (outside its copied passages), of the generation
    # ``_phrase_state.grams_gen`` names; rows of other generations are a run's leftovers.
    "_phrase_grams": """
        gen INTEGER NOT NULL,
        hash UBIGINT NOT NULL,
        doc_id VARCHAR NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL
    """,
    "_label_runs": """
        finished_at TIMESTAMP NOT NULL,
        embedder VARCHAR NOT NULL,
        dim INTEGER NOT NULL,
        n_points BIGINT NOT NULL,
        n_cells INTEGER NOT NULL,
        fingerprint VARCHAR NOT NULL,
        seconds DOUBLE NOT NULL
    """,
}

TABLES: dict[str, Table] = {name: _parse(name, text) for name, text in _DECLARED.items()}
