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


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        description="documents, sentences, ingest batches and rejects",
        statements=(
            """
            CREATE TABLE batches (
                batch_id INTEGER NOT NULL,
                started_at TIMESTAMP NOT NULL,
                finished_at TIMESTAMP NOT NULL,
                paths VARCHAR[] NOT NULL,
                n_read BIGINT NOT NULL,
                n_new BIGINT NOT NULL,
                n_replaced BIGINT NOT NULL,
                n_unchanged BIGINT NOT NULL,
                n_rejected BIGINT NOT NULL,
                n_bad_dates BIGINT NOT NULL,
                settings JSON
            )
            """,
            """
            CREATE TABLE documents (
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
                extra JSON
            )
            """,
            """
            CREATE TABLE sentences (
                doc_id VARCHAR NOT NULL,
                sent_no INTEGER NOT NULL,
                start INTEGER NOT NULL,
                "end" INTEGER NOT NULL,
                text VARCHAR NOT NULL
            )
            """,
            """
            CREATE TABLE rejects (
                batch_id INTEGER NOT NULL,
                file VARCHAR,
                line BIGINT,
                field VARCHAR,
                reason VARCHAR NOT NULL,
                raw VARCHAR
            )
            """,
        ),
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1].version

# Tables users may export; later stages add theirs here.
USER_TABLES: tuple[str, ...] = ("documents", "sentences", "batches", "rejects")
