"""The store's schema, as an ordered list of migrations.

A store records the version it is at in ``chorus_meta``; opening it applies the migrations it
has not seen, in one transaction each. Never edit a released migration: add a new one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


# Rows land in the *_all tables in committed chunks, tagged with their batch; the views users
# query show only batches whose state is 'done'. A batch becomes visible in one small
# transaction, so it lands whole or not at all while memory stays bounded: DuckDB holds a
# transaction's uncommitted rows in memory, so a whole batch must never be copied in one.
_VISIBLE = "batch_id IN (SELECT batch_id FROM batches WHERE state = 'done')"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        description="documents, sentences, ingest batches and rejects",
        statements=(
            """
            CREATE TABLE batches (
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
            )
            """,
            """
            CREATE TABLE documents_all (
                doc_id VARCHAR NOT NULL,
                source VARCHAR NOT NULL,
                url VARCHAR,
                title VARCHAR,
                published_at TIMESTAMP,
                lang VARCHAR,
                text VARCHAR NOT NULL,
                text_hash VARCHAR NOT NULL,
                ingested_at TIMESTAMP NOT NULL,
                batch_id INTEGER NOT NULL,
                origin VARCHAR,
                extra JSON,
                seq BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE sentences_all (
                doc_id VARCHAR NOT NULL,
                sent_no INTEGER NOT NULL,
                start INTEGER NOT NULL,
                "end" INTEGER NOT NULL,
                text VARCHAR NOT NULL,
                batch_id INTEGER NOT NULL,
                seq BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE rejects_all (
                batch_id INTEGER NOT NULL,
                file VARCHAR,
                line BIGINT,
                field VARCHAR,
                reason VARCHAR NOT NULL,
                raw VARCHAR
            )
            """,
            f"""
            CREATE VIEW documents AS
            SELECT doc_id, source, url, title, published_at, lang, text, text_hash, ingested_at,
                   batch_id, origin, extra
            FROM documents_all WHERE {_VISIBLE}
            """,
            f"""
            CREATE VIEW sentences AS
            SELECT doc_id, sent_no, start, "end", text FROM sentences_all WHERE {_VISIBLE}
            """,
            f"CREATE VIEW rejects AS SELECT * FROM rejects_all WHERE {_VISIBLE}",
        ),
    ),
    Migration(
        version=2,
        description="reuse: passages and their clusters",
        statements=(
            """
            CREATE TABLE reuse_clusters (
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
            )
            """,
            """
            CREATE TABLE passages (
                passage_id VARCHAR NOT NULL,
                cluster_id VARCHAR NOT NULL,
                doc_id VARCHAR NOT NULL,
                start INTEGER NOT NULL,
                "end" INTEGER NOT NULL,
                text VARCHAR NOT NULL
            )
            """,
            "CREATE TABLE reuse_runs (settings JSON, finished_at TIMESTAMP, stats JSON)",
        ),
    ),
    Migration(
        version=3,
        description="talking points, their mentions, and the embedding cache",
        statements=(
            """
            CREATE TABLE points (
                point_id VARCHAR NOT NULL,
                label VARCHAR NOT NULL,
                keyphrases VARCHAR[] NOT NULL,
                n_mentions INTEGER NOT NULL,
                n_docs INTEGER NOT NULL,
                n_sources INTEGER NOT NULL,
                first_seen TIMESTAMP,
                last_seen TIMESTAMP,
                origin_doc_id VARCHAR NOT NULL,
                origin_source VARCHAR NOT NULL
            )
            """,
            """
            CREATE TABLE mentions (
                point_id VARCHAR NOT NULL,
                doc_id VARCHAR NOT NULL,
                sent_no INTEGER NOT NULL,
                start INTEGER NOT NULL,
                "end" INTEGER NOT NULL,
                similarity FLOAT NOT NULL,
                text VARCHAR NOT NULL
            )
            """,
            "CREATE TABLE points_runs (settings JSON, finished_at TIMESTAMP, stats JSON)",
            "CREATE TABLE _embeddings (model VARCHAR NOT NULL, key VARCHAR NOT NULL, "
            "vector BLOB NOT NULL)",
        ),
    ),
    Migration(
        version=4,
        description="watchlists of known talking points, and their hits in the corpus",
        statements=(
            """
            CREATE TABLE watchlists (
                watchlist VARCHAR NOT NULL,
                item_no INTEGER NOT NULL,
                item_id VARCHAR NOT NULL,
                text VARCHAR NOT NULL,
                metadata JSON,
                added_at TIMESTAMP NOT NULL
            )
            """,
            """
            CREATE TABLE watch_hits (
                watchlist VARCHAR NOT NULL,
                item_id VARCHAR NOT NULL,
                doc_id VARCHAR NOT NULL,
                rank INTEGER NOT NULL,
                score FLOAT NOT NULL,
                start INTEGER NOT NULL,
                "end" INTEGER NOT NULL,
                sentence VARCHAR NOT NULL
            )
            """,
            "CREATE TABLE watch_runs (watchlist VARCHAR NOT NULL, settings JSON, "
            "finished_at TIMESTAMP, n_docs INTEGER)",
        ),
    ),
    Migration(
        version=5,
        description="coordination: source edges with evidence, sources, communities",
        statements=(
            """
            CREATE TABLE source_edges (
                source_a VARCHAR NOT NULL,
                source_b VARCHAR NOT NULL,
                weight DOUBLE NOT NULL,
                n_objects INTEGER NOT NULL,
                median_lag_hours DOUBLE,
                p_value DOUBLE,
                q_value DOUBLE
            )
            """,
            """
            CREATE TABLE edge_evidence (
                source_a VARCHAR NOT NULL,
                source_b VARCHAR NOT NULL,
                object_kind VARCHAR NOT NULL,
                object_id VARCHAR NOT NULL,
                doc_a VARCHAR NOT NULL,
                doc_b VARCHAR NOT NULL,
                time_a TIMESTAMP,
                time_b TIMESTAMP
            )
            """,
            """
            CREATE TABLE sources (
                source VARCHAR NOT NULL,
                n_docs INTEGER NOT NULL,
                n_objects INTEGER NOT NULL,
                community INTEGER,
                originator DOUBLE,
                amplifier DOUBLE,
                median_follow_hours DOUBLE
            )
            """,
            """
            CREATE TABLE communities (
                community INTEGER NOT NULL,
                n_sources INTEGER NOT NULL,
                sources VARCHAR[] NOT NULL
            )
            """,
            "CREATE TABLE coord_runs (settings JSON, window_hours DOUBLE, "
            "finished_at TIMESTAMP, n_objects INTEGER)",
        ),
    ),
    Migration(
        version=6,
        description="talking points ranked (score, cohesion); shared phrases and where they occur",
        statements=(
            "ALTER TABLE points ADD COLUMN score FLOAT DEFAULT 0",
            "ALTER TABLE points ADD COLUMN cohesion FLOAT DEFAULT 0",
            """
            CREATE TABLE phrases (
                phrase_id VARCHAR NOT NULL,
                phrase VARCHAR NOT NULL,
                n_words INTEGER NOT NULL,
                n_occurrences INTEGER NOT NULL,
                n_docs INTEGER NOT NULL,
                n_sources INTEGER NOT NULL,
                first_seen TIMESTAMP,
                origin_doc_id VARCHAR NOT NULL,
                origin_source VARCHAR NOT NULL
            )
            """,
            """
            CREATE TABLE phrase_occurrences (
                phrase_id VARCHAR NOT NULL,
                doc_id VARCHAR NOT NULL,
                start INTEGER NOT NULL,
                "end" INTEGER NOT NULL,
                text VARCHAR NOT NULL
            )
            """,
            "CREATE TABLE phrases_runs (settings JSON, finished_at TIMESTAMP, stats JSON)",
        ),
    ),
    Migration(
        version=7,
        description="wire credits: where a document credits a news agency",
        statements=(
            """
            CREATE TABLE credits (
                doc_id VARCHAR NOT NULL,
                agency VARCHAR NOT NULL,
                form VARCHAR NOT NULL,
                start INTEGER NOT NULL,
                "end" INTEGER NOT NULL,
                whole BOOLEAN NOT NULL
            )
            """,
        ),
    ),
    Migration(
        version=8,
        description="claim families: the talking points that restate one claim",
        statements=("ALTER TABLE points ADD COLUMN family_id VARCHAR",),
    ),
    Migration(
        version=9,
        description="a word index over every sentence, and document text stored for reading "
        "one document at a time",
        statements=(
            # DuckDB compresses long strings with zstd in groups of rows, so reading one
            # document's text decompressed thousands (0.3-0.5 s for 50 documents of the news
            # corpus); stored plainly, the app reads a page's documents in milliseconds.
            """
            CREATE TABLE documents_all_v9 (
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
            )
            """,
            "INSERT INTO documents_all_v9 SELECT * FROM documents_all",
            "DROP TABLE documents_all",
            "ALTER TABLE documents_all_v9 RENAME TO documents_all",
            # The word index (chorus.search): documents numbered in reading order (earliest
            # first), each sentence's span, and every word of every sentence, sorted by word so
            # that a word's rows sit together and the rest of the table is skipped.
            """
            CREATE TABLE _search_docs (
                doc_no INTEGER NOT NULL,
                doc_id VARCHAR NOT NULL,
                source VARCHAR NOT NULL,
                published_at TIMESTAMP
            )
            """,
            """
            CREATE TABLE _search_sentences (
                doc_no INTEGER NOT NULL,
                sent_no INTEGER NOT NULL,
                start INTEGER NOT NULL,
                "end" INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE _search_words (
                word VARCHAR NOT NULL,
                doc_no INTEGER NOT NULL,
                sent_no INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE _search_runs (
                finished_at TIMESTAMP NOT NULL,
                n_documents BIGINT NOT NULL,
                n_sentences BIGINT NOT NULL,
                n_words BIGINT NOT NULL,
                fingerprint VARCHAR NOT NULL,
                seconds DOUBLE NOT NULL
            )
            """,
        ),
    ),
    Migration(
        version=10,
        description="what the pages of points and edges show, written with the points and "
        "the evidence",
        statements=(
            # chorus.points.pages: per point its rank in each order a list is read in, its
            # mentions per month and first mentions (JSON text: a list column costs a
            # vector's decoding per row read) and undated documents; per source the points
            # it mentions, with what pages sort them by. Sorted by their key; a store
            # analysed before this version has them empty, and its pages read the mentions
            # until the points are rebuilt.
            """
            CREATE TABLE _point_pages (
                point_id VARCHAR NOT NULL,
                by_score INTEGER NOT NULL,
                by_sources INTEGER NOT NULL,
                by_documents INTEGER NOT NULL,
                by_first_seen INTEGER NOT NULL,
                by_label INTEGER NOT NULL,
                months VARCHAR NOT NULL,
                n_undated_docs BIGINT NOT NULL,
                first_mentions VARCHAR NOT NULL
            )
            """,
            """
            CREATE TABLE _source_points (
                source VARCHAR NOT NULL,
                point_id VARCHAR NOT NULL,
                n_mentions BIGINT NOT NULL,
                score DOUBLE NOT NULL,
                n_sources INTEGER NOT NULL,
                n_docs INTEGER NOT NULL,
                first_seen TIMESTAMP
            )
            """,
            # A point's page looks it up by id among hundreds of thousands.
            "CREATE INDEX points_point_id ON points (point_id)",
            # chorus.coord.evidence: each edge's evidence resolved to its label and the two
            # documents' spans, written with the evidence, sorted by edge.
            """
            CREATE TABLE _edge_evidence_text (
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
            )
            """,
        ),
    ),
    Migration(
        version=11,
        description="the labels' vectors for 'points like this', filed at analysis time",
        statements=(
            # chorus.search.labels: one row per inverted-file cell: its centroid (float32;
            # NULL when one cell holds every label), its points, and their vectors (float16
            # rows in the same order). Per cell, not per point: the app reads ~700 rows at
            # start instead of half a million.
            """
            CREATE TABLE _label_cells (
                cell INTEGER NOT NULL,
                centroid BLOB,
                point_ids VARCHAR[] NOT NULL,
                vectors BLOB NOT NULL
            )
            """,
            """
            CREATE TABLE _label_runs (
                finished_at TIMESTAMP NOT NULL,
                embedder VARCHAR NOT NULL,
                dim INTEGER NOT NULL,
                n_points BIGINT NOT NULL,
                n_cells INTEGER NOT NULL,
                fingerprint VARCHAR NOT NULL,
                seconds DOUBLE NOT NULL
            )
            """,
        ),
    ),
    Migration(
        version=12,
        description="point pages looked up by id",
        statements=(
            # "Points like this" reads the first mentions of 20 points by id: without an
            # index each lookup scans half a million rows' keys (42 ms on the news corpus;
            # 3 ms with it).
            "CREATE INDEX point_pages_point_id ON _point_pages (point_id)",
        ),
    ),
    Migration(
        version=13,
        description="watchlist runs that match only documents not matched before",
        statements=(
            # chorus.match.watch: the documents each watchlist has matched, with the text
            # they had (a document replaced since is matched again), and the run that did.
            """
            CREATE TABLE _watch_matched (
                watchlist VARCHAR NOT NULL,
                doc_id VARCHAR NOT NULL,
                text_hash VARCHAR NOT NULL,
                run_no INTEGER NOT NULL
            )
            """,
            # Which run found a hit (earlier hits: run 1), and what each run added.
            "ALTER TABLE watch_hits ADD COLUMN run_no INTEGER NOT NULL DEFAULT 1",
            "ALTER TABLE watch_runs ADD COLUMN run_no INTEGER NOT NULL DEFAULT 1",
            "ALTER TABLE watch_runs ADD COLUMN n_new_docs INTEGER",
            "ALTER TABLE watch_runs ADD COLUMN n_new_hits INTEGER",
        ),
    ),
    Migration(
        version=14,
        description="talking points keep their ids across analyses; what changed is recorded",
        statements=(
            # chorus.points.lineage: an id no new point keeps, and why (merged into
            # other_id; a new point split from other_id; gone), each analysis appending.
            """
            CREATE TABLE point_lineage (
                recorded_at TIMESTAMP NOT NULL,
                point_id VARCHAR NOT NULL,
                event VARCHAR NOT NULL,
                other_id VARCHAR
            )
            """,
        ),
    ),
    Migration(
        version=15,
        description="talking points update with new documents instead of starting over",
        statements=(
            # chorus.points.state: what an update of the points starts from.
            """
            CREATE TABLE _point_units (
                unit_no BIGINT NOT NULL,
                unit_key BLOB NOT NULL,
                claim VARCHAR NOT NULL,
                embed_key VARCHAR NOT NULL,
                doc_group BIGINT NOT NULL,
                cluster BIGINT NOT NULL,
                hub FLOAT NOT NULL,
                cell INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE _point_sentences (
                doc_id VARCHAR NOT NULL, sent_no INTEGER NOT NULL, unit_no BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE _point_edges (
                src BIGINT NOT NULL, dst BIGINT NOT NULL, cosine FLOAT NOT NULL, base FLOAT NOT NULL
            )
            """,
            "CREATE TABLE _point_docs (doc_id VARCHAR NOT NULL, text_hash VARCHAR NOT NULL)",
            "CREATE TABLE _point_state (name VARCHAR NOT NULL, value BLOB NOT NULL)",
            "CREATE TABLE _point_terms (term VARCHAR NOT NULL, n INTEGER NOT NULL)",
        ),
    ),
    Migration(
        version=16,
        description="what each analysis changed: new and growing points, new and stronger edges",
        statements=(
            """
            CREATE TABLE point_changes (
                recorded_at TIMESTAMP NOT NULL,
                point_id VARCHAR NOT NULL,
                change VARCHAR NOT NULL,
                n_sources_before INTEGER,
                n_sources INTEGER NOT NULL,
                n_docs_before INTEGER,
                n_docs INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE edge_changes (
                recorded_at TIMESTAMP NOT NULL,
                source_a VARCHAR NOT NULL,
                source_b VARCHAR NOT NULL,
                change VARCHAR NOT NULL,
                weight_before DOUBLE,
                weight DOUBLE NOT NULL,
                q_value_before DOUBLE,
                q_value DOUBLE
            )
            """,
            """
            CREATE TABLE analysis_runs (
                run_no INTEGER NOT NULL,
                started_at TIMESTAMP NOT NULL,
                finished_at TIMESTAMP NOT NULL,
                n_documents INTEGER NOT NULL
            )
            """,
        ),
    ),
    Migration(
        version=17,
        description="the 'like this' index files only the labels that changed",
        statements=(
            """
            CREATE TABLE _label_points (
                point_id VARCHAR NOT NULL, label_hash UBIGINT NOT NULL, cell INTEGER NOT NULL
            )
            """,
        ),
    ),
    Migration(
        version=18,
        description="shared phrases are updated with the documents added, not found again",
        statements=(
            """
            CREATE TABLE _phrase_docs (
                doc_id VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, skips VARCHAR NOT NULL
            )
            """,
            "CREATE TABLE _phrase_keys (phrase_id VARCHAR NOT NULL, key_hash UBIGINT NOT NULL)",
            "CREATE TABLE _phrase_state (settings VARCHAR NOT NULL, full_docs INTEGER NOT NULL)",
        ),
    ),
    Migration(
        version=19,
        description="the word index takes the documents added, not built again",
        statements=(
            # Index numbers were given in reading order until now; batch ids are unknown, so
            # the next build starts over.
            "ALTER TABLE _search_docs ADD COLUMN read_no INTEGER NOT NULL DEFAULT 0",
            "UPDATE _search_docs SET read_no = doc_no",
            "ALTER TABLE _search_docs ADD COLUMN batch_id INTEGER",
            "ALTER TABLE _search_runs ADD COLUMN n_appended BIGINT NOT NULL DEFAULT 0",
        ),
    ),
    Migration(
        version=20,
        description="wire credits are read from the documents added or changed, not all again",
        statements=(
            """
            CREATE TABLE _credit_docs (
                doc_id VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, source VARCHAR NOT NULL,
                rules VARCHAR NOT NULL
            )
            """,
        ),
    ),
    Migration(
        version=21,
        description="shared phrases keep every document's n-grams, so an update reads no text "
        "but the added documents'",
        statements=(
            """
            CREATE TABLE _phrase_grams (
                gen INTEGER NOT NULL, hash UBIGINT NOT NULL, doc_id VARCHAR NOT NULL,
                start INTEGER NOT NULL, "end" INTEGER NOT NULL
            )
            """,
            # NULL: the n-grams are not stored yet; the next run stores them.
            "ALTER TABLE _phrase_state ADD COLUMN grams_gen INTEGER",
        ),
    ),
    Migration(
        version=22,
        description="the reuse cluster ids and community numbers nothing keeps are recorded, "
        "as talking points' are",
        statements=(
            # chorus.reuse.finish: merged into other_id; a new cluster split from other_id;
            # gone. Each analysis appends.
            """
            CREATE TABLE reuse_lineage (
                recorded_at TIMESTAMP NOT NULL,
                cluster_id VARCHAR NOT NULL,
                event VARCHAR NOT NULL,
                other_id VARCHAR
            )
            """,
            # chorus.coord.kernels.carry_communities, the same events.
            """
            CREATE TABLE community_lineage (
                recorded_at TIMESTAMP NOT NULL,
                community INTEGER NOT NULL,
                event VARCHAR NOT NULL,
                other INTEGER
            )
            """,
        ),
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1].version
