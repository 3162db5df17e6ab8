"""Corpus statistics: counts by source and by month, languages, and the undated share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chorus.store import Store, scalar


@dataclass(frozen=True)
class SourceCount:
    source: str
    n_documents: int
    n_undated: int
    first: dt.datetime | None
    last: dt.datetime | None


@dataclass(frozen=True)
class MonthCount:
    month: str  # YYYY-MM
    n_documents: int


@dataclass(frozen=True)
class CorpusStats:
    n_documents: int
    n_sentences: int
    n_sources: int
    n_characters: int
    n_undated: int
    n_rejects: int
    first: dt.datetime | None
    last: dt.datetime | None
    by_source: list[SourceCount]
    by_month: list[MonthCount]
    languages: dict[str, int]

    @property
    def share_undated(self) -> float:
        return self.n_undated / self.n_documents if self.n_documents else 0.0


def corpus_stats(store: Store) -> CorpusStats:
    """Counts over the whole store, computed in DuckDB."""
    con = store.con
    (head,) = con.execute(
        """SELECT count(*), count(DISTINCT source), coalesce(sum(length(text)), 0),
                  count(*) FILTER (WHERE published_at IS NULL), min(published_at),
                  max(published_at)
           FROM documents"""
    ).fetchall()
    n_docs, n_sources, n_chars, n_undated, first, last = head
    n_sentences = int(scalar(con, "SELECT count(*) FROM sentences"))
    n_rejects = int(scalar(con, "SELECT count(*) FROM rejects"))
    by_source = [
        SourceCount(*row)
        for row in con.execute(
            """SELECT source, count(*) AS n, count(*) FILTER (WHERE published_at IS NULL),
                      min(published_at), max(published_at)
               FROM documents GROUP BY source ORDER BY n DESC, source"""
        ).fetchall()
    ]
    by_month = [
        MonthCount(*row)
        for row in con.execute(
            """SELECT strftime(published_at, '%Y-%m') AS month, count(*) FROM documents
               WHERE published_at IS NOT NULL GROUP BY month ORDER BY month"""
        ).fetchall()
    ]
    languages = dict(
        con.execute(
            "SELECT coalesce(lang, 'und'), count(*) AS n FROM documents GROUP BY 1 "
            "ORDER BY n DESC, 1"
        ).fetchall()
    )
    return CorpusStats(
        n_documents=int(n_docs),
        n_sentences=n_sentences,
        n_sources=int(n_sources),
        n_characters=int(n_chars),
        n_undated=int(n_undated),
        n_rejects=n_rejects,
        first=first,
        last=last,
        by_source=by_source,
        by_month=by_month,
        languages={str(k): int(v) for k, v in languages.items()},
    )
