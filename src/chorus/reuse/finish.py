"""The reuse stage's last step: from aligned runs to the ``passages`` and ``reuse_clusters``
tables, in memory bounded by the runs found, not by the corpus.

One streaming pass over the documents that have runs keeps, for each end of each run, the
token hashes and character offsets of a small window of words around it (an extension
cannot usefully reach further than a couple of gaps). Runs are extended within those windows,
merged, clustered and labelled; passage texts are cut from the stored documents by DuckDB
when the rows are written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, replace
from typing import NamedTuple

import duckdb
import numpy as np
import pyarrow as pa

from chorus.progress import ProgressFactory
from chorus.reuse.align import Run, extend, merge_adjacent
from chorus.reuse.classify import classify
from chorus.reuse.cluster import Span, cluster_runs
from chorus.reuse.credit import SENTENCE_FORMS, Credit, find_credits, is_wire_document
from chorus.reuse.settings import ReuseSettings
from chorus.reuse.tokens import char_offsets, iter_batches, tokenize
from chorus.store import Store, scalar
from chorus.store.tables import TABLES

_EDGE_SHARE = 0.2
# Closing punctuation right after a passage's last word belongs to it (applied in SQL).
_CLOSERS_SQL = r"""length(regexp_extract(substring(d.text, p."end" + 1, 3), '^[.!?…"'')\]”’]*'))"""


@dataclass(frozen=True)
class ClusterRow:
    """A row of ``reuse_clusters``."""

    cluster_id: str
    kind: str
    n_passages: int
    n_docs: int
    n_sources: int
    n_words: int
    first_seen: dt.datetime | None
    origin_doc_id: str
    origin_source: str
    representative: str


@dataclass(frozen=True)
class PassageRow:
    """A row of ``passages`` before its text is cut from the document."""

    passage_id: str
    cluster_id: str
    doc_id: str
    start: int
    end: int


@dataclass(frozen=True)
class DocInfo:
    doc_id: str
    source: str
    published_at: dt.datetime | None
    wire: bool
    n_tokens: int
    # Character spans of the sentences credited to an agency in the text ("..., Reuters
    # reported"): a copy touching one is the agency's text.
    credited: tuple[tuple[int, int], ...] = ()

    def credits_span(self, start: int, end: int) -> bool:
        return any(a < end and b > start for a, b in self.credited)


@dataclass(frozen=True)
class EndWindow:
    """Tokens ``lo .. lo + len(hashes) - 1`` of a document around one end of a run, with the
    character offset of each token's start (left ends) or end (right ends)."""

    lo: int
    hashes: np.ndarray
    chars: np.ndarray

    def hash_at(self, i: int) -> int | None:
        k = i - self.lo
        return int(self.hashes[k]) if 0 <= k < len(self.hashes) else None

    def char_at(self, i: int) -> int:
        return int(self.chars[i - self.lo])


def _stable_id(prefix: str, *parts: object) -> str:
    key = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return prefix + hashlib.blake2b(key, digest_size=8).hexdigest()


def collect_windows(
    store: Store,
    runs: list[Run],
    doc_ids: Sequence[str] | Mapping[int, str],
    width: int,
    progress: ProgressFactory,
    credits: Mapping[str, Sequence[Credit]] | None = None,
) -> tuple[dict[int, DocInfo], list[list[EndWindow]]]:
    """Per run, windows [a left, a right, b left, b right]; per document, what labels need.
    ``credits``: each document's, when the store keeps them (the ``credits`` table); read
    from the text otherwise."""
    wanted: dict[int, list[tuple[int, int, int, bool]]] = defaultdict(list)
    for k, r in enumerate(runs):
        wanted[r.doc_a].append((k, 0, r.a_start, True))
        wanted[r.doc_a].append((k, 1, r.a_end, False))
        wanted[r.doc_b].append((k, 2, r.b_start, True))
        wanted[r.doc_b].append((k, 3, r.b_end, False))
    windows: list[list[EndWindow]] = [[] for _ in runs]
    slots: list[dict[int, EndWindow]] = [{} for _ in runs]
    info: dict[int, DocInfo] = {}
    con = store.con
    con.register(
        "_reuse_docs",
        pa.table(
            {
                "idx": pa.array(sorted(wanted), pa.int64()),
                "doc_id": pa.array([doc_ids[i] for i in sorted(wanted)], pa.string()),
            }
        ),
    )
    reader = con.sql(
        """SELECT i.idx, d.source, d.published_at, d.text FROM documents d
           JOIN _reuse_docs i USING (doc_id)"""
    ).to_arrow_reader(2000)
    with closing(progress(desc="reuse: passages", total=len(wanted), unit="doc")) as bar:
        for batch in reader:
            idxs = batch.column(0).to_pylist()
            sources = batch.column(1).to_pylist()
            dates = batch.column(2).to_pylist()
            texts = batch.column(3).to_pylist()
            for sl in iter_batches(texts):
                tokens = tokenize(texts[sl])
                for k in range(sl.stop - sl.start):
                    i = sl.start + k
                    lo, hi = int(tokens.doc_first_token[k]), int(tokens.doc_first_token[k + 1])
                    text = texts[i]
                    chars = None if text.isascii() else char_offsets(text)
                    starts = tokens.start[lo:hi]
                    ends = tokens.end[lo:hi]
                    hashes = tokens.hash[lo:hi]
                    n = hi - lo
                    doc = idxs[i]
                    found = (
                        find_credits(text, sources[i])
                        if credits is None
                        else list(credits.get(doc_ids[doc], ()))
                    )
                    info[doc] = DocInfo(
                        doc_ids[doc],
                        sources[i],
                        dates[i],
                        is_wire_document(text, sources[i], found),
                        n,
                        tuple((c.start, c.end) for c in found if c.form in SENTENCE_FORMS),
                    )
                    for run_k, slot, t, is_left in wanted[doc]:
                        if is_left:
                            w0, w1 = max(0, t - width), min(n, t + 1)
                            offs = starts[w0:w1]
                        else:
                            w0, w1 = max(0, t - 1), min(n, t + width)
                            offs = ends[w0:w1]
                        as_chars = offs.astype(np.int64) if chars is None else chars[offs]
                        slots[run_k][slot] = EndWindow(w0, hashes[w0:w1].copy(), as_chars)
            bar.update(len(texts))
    con.unregister("_reuse_docs")
    for k, got in enumerate(slots):
        windows[k] = [got[0], got[1], got[2], got[3]]
    return info, windows


def finish(
    store: Store,
    runs: list[Run],
    doc_ids: Sequence[str] | Mapping[int, str],
    settings: ReuseSettings,
    progress: ProgressFactory,
    *,
    credits: Mapping[str, Sequence[Credit]] | None = None,
) -> tuple[list[ClusterRow], list[PassageRow]]:
    """Extend, merge, cluster and label the runs; returns the rows to write. ``credits``:
    the documents' wire credits when already read (else found in their texts)."""
    width = settings.max_gap + 8
    info, windows = collect_windows(store, runs, doc_ids, width, progress, credits)
    extended: list[Run] = []
    for r, (a_left, a_right, b_left, b_right) in zip(runs, windows, strict=True):
        e = extend(r, (a_left, b_left), (a_right, b_right), settings)
        extended.append(
            Run(
                e.doc_a,
                e.a_start,
                e.a_end,
                e.doc_b,
                e.b_start,
                e.b_end,
                e.matches,
                a_left.char_at(e.a_start),
                a_right.char_at(e.a_end - 1),
                b_left.char_at(e.b_start),
                b_right.char_at(e.b_end - 1),
            )
        )
    clusters = cluster_runs(merge_adjacent(extended, settings))
    representatives = _origin_texts(store, clusters, info)
    return _rows(clusters, info, representatives)


def _origin(spans: list[Span], info: dict[int, DocInfo]) -> Span:
    # The earliest dated copy; undated copies after dated ones; then by id and offset.
    return min(
        spans,
        key=lambda s: (
            info[s.doc].published_at is None,
            info[s.doc].published_at or dt.datetime.min,
            info[s.doc].doc_id,
            s.start_char,
        ),
    )


def _origin_texts(store: Store, clusters: list[list[Span]], info: dict[int, DocInfo]) -> list[str]:
    origins = [_origin(c, info) for c in clusters]
    if not origins:
        return []
    con = store.con
    con.register(
        "_reuse_origins",
        pa.table(
            {
                "k": pa.array(range(len(origins)), pa.int64()),
                "doc_id": pa.array([info[o.doc].doc_id for o in origins], pa.string()),
                "start": pa.array([o.start_char for o in origins], pa.int64()),
                "end": pa.array([o.end_char for o in origins], pa.int64()),
            }
        ),
    )
    rows = con.execute(
        f"""SELECT p.k, substring(d.text, p.start + 1, p."end" - p.start + {_CLOSERS_SQL})
            FROM _reuse_origins p JOIN documents d USING (doc_id) ORDER BY p.k"""
    ).fetchall()
    con.unregister("_reuse_origins")
    return [text for _, text in rows]


def _rows(
    clusters: list[list[Span]], info: dict[int, DocInfo], texts: list[str]
) -> tuple[list[ClusterRow], list[PassageRow]]:
    cluster_rows: list[ClusterRow] = []
    passages: list[PassageRow] = []
    for spans, text in zip(clusters, texts, strict=True):
        origin = _origin(spans, info)
        o_doc = info[origin.doc]
        cluster_id = _stable_id("c", o_doc.doc_id, origin.start_char, origin.end_char)
        docs = {s.doc: info[s.doc] for s in spans}
        # Touching the first or the last fifth, and under half the document: a passage
        # that is most of its document is the document (wire copy), not its furniture.
        at_edge = [
            (s.end - s.start) < 0.5 * info[s.doc].n_tokens
            and (
                (s.start <= _EDGE_SHARE * info[s.doc].n_tokens)
                or (s.end >= (1 - _EDGE_SHARE) * info[s.doc].n_tokens)
            )
            for s in spans
        ]
        kind = classify(
            sources=[d.source for d in docs.values()],
            wire=[
                info[doc].wire
                or any(
                    info[doc].credits_span(s.start_char, s.end_char) for s in spans if s.doc == doc
                )
                for doc in docs
            ],
            at_edge=at_edge,
            text=text,
        )
        dates = [d.published_at for d in docs.values() if d.published_at is not None]
        cluster_rows.append(
            ClusterRow(
                cluster_id=cluster_id,
                kind=kind.value,
                n_passages=len(spans),
                n_docs=len(docs),
                n_sources=len({d.source for d in docs.values()}),
                n_words=origin.end - origin.start,
                first_seen=min(dates) if dates else None,
                origin_doc_id=o_doc.doc_id,
                origin_source=o_doc.source,
                representative=text,
            )
        )
        for s in spans:
            doc_id = info[s.doc].doc_id
            passages.append(
                PassageRow(
                    _stable_id("p", cluster_id, doc_id, s.start_char),
                    cluster_id,
                    doc_id,
                    s.start_char,
                    s.end_char,
                )
            )
    cluster_rows.sort(key=lambda r: (-r.n_docs, r.cluster_id))
    passages.sort(key=lambda r: (r.cluster_id, r.doc_id, r.start))
    return cluster_rows, passages


def kinds_of(rows: Iterable[ClusterRow]) -> dict[str, int]:
    return dict(sorted(Counter(r.kind for r in rows).items()))


_CLUSTER_SCHEMA = TABLES["reuse_clusters"].arrow_schema()
# Their text is cut from the documents after (cut_passages).
_PASSAGE_SCHEMA = (
    TABLES["passages"].select("passage_id", "cluster_id", "doc_id", "start", "end").arrow_schema()
)


def cluster_table(clusters: list[ClusterRow]) -> pa.Table:
    return pa.Table.from_pylist([asdict(c) for c in clusters], schema=_CLUSTER_SCHEMA)


def cut_passages(con: duckdb.DuckDBPyConnection, passages: list[PassageRow]) -> pa.Table:
    """The ``passages`` rows with their text, cut from the ``documents`` ``con`` sees."""
    con.register(
        "_new_passages",
        pa.Table.from_pylist([asdict(p) for p in passages], schema=_PASSAGE_SCHEMA),
    )
    try:
        return con.sql(
            f"""SELECT p.passage_id, p.cluster_id, p.doc_id, p.start,
                       (p."end" + {_CLOSERS_SQL})::INTEGER AS "end",
                       substring(d.text, p.start + 1, p."end" + {_CLOSERS_SQL} - p.start) AS text
                FROM _new_passages p JOIN documents d USING (doc_id)
                ORDER BY p.cluster_id, p.doc_id, p.start"""
        ).to_arrow_table()
    finally:
        con.unregister("_new_passages")


def write_tables(
    store: Store,
    clusters: list[ClusterRow],
    passages: list[PassageRow],
    settings: ReuseSettings,
    stats: dict[str, object],
) -> None:
    """Replace the reuse tables in one transaction; passage texts are cut here, by DuckDB. A
    cluster that continues one stored before keeps its id (see :func:`carry_cluster_ids`)."""
    from chorus.points.lineage import record_lineage

    con = store.con
    clusters, passages, lineage = carry_cluster_ids(store, clusters, passages)
    with store.transaction():
        con.execute("DELETE FROM passages")
        con.execute("DELETE FROM reuse_clusters")
        con.execute("DELETE FROM reuse_runs")
        store.insert_arrow("reuse_clusters", cluster_table(clusters))
        store.insert_arrow("passages", cut_passages(con, passages))
        record_lineage(con, "reuse_lineage", lineage)
        store.record_run("reuse_runs", settings, stats=stats)


# Shared characters weigh more than any difference in size (the tie-break).
_CLOSER = 1 << 32


class CarriedClusters(NamedTuple):
    """The clusters and passages with the ids they keep, and the ids no cluster keeps
    (``(cluster_id, event, other_id)`` rows for ``reuse_lineage``)."""

    clusters: list[ClusterRow]
    passages: list[PassageRow]
    lineage: list[tuple[str, str, str | None]]


def carry_cluster_ids(
    store: Store, clusters: list[ClusterRow], passages: list[PassageRow]
) -> CarriedClusters:
    """The clusters with the ids of the clusters stored before that they continue: a
    cluster's id comes from its earliest passage, which a newly ingested earlier document
    changes; the cluster holding most of an earlier cluster's passages keeps its id, as
    talking points do (:func:`chorus.points.lineage.carry_ids`).

    "Most" is measured in characters of the same documents both cover, and between two that
    cover as much, the closer (fewer characters in one and not the other) wins: overlapping
    clusters of one pair of documents (one long copy aligned in pieces) each cover some of
    the other, and a count of overlapping passages ties there, which let a run on the same
    data hand their ids round."""
    from chorus.points.lineage import carry_ids

    con = store.con
    if not scalar(con, "SELECT count(*) FROM reuse_clusters"):
        return CarriedClusters(clusters, passages, [])
    old_ids = [r[0] for r in con.execute("SELECT cluster_id FROM reuse_clusters").fetchall()]
    if not clusters:
        return CarriedClusters(clusters, passages, carry_ids([], old_ids, []).lineage)
    con.register(
        "_new_spans",
        pa.table(
            {
                "cluster_id": [p.cluster_id for p in passages],
                "doc_id": [p.doc_id for p in passages],
                "start": pa.array([p.start for p in passages], pa.int64()),
                "end": pa.array([p.end for p in passages], pa.int64()),
            }
        ),
    )
    try:
        shared = con.execute(
            f"""WITH overlap AS (
                    SELECT o.cluster_id AS old, n.cluster_id AS new,
                           sum(least(o."end", n."end") - greatest(o.start, n.start)) AS chars
                    FROM passages o JOIN _new_spans n
                      ON o.doc_id = n.doc_id AND o.start < n."end" AND o."end" > n.start
                    GROUP BY ALL),
                old_size AS (SELECT cluster_id AS old, sum("end" - start) AS size
                             FROM passages GROUP BY ALL),
                new_size AS (SELECT cluster_id AS new, sum("end" - start) AS size
                             FROM _new_spans GROUP BY ALL)
                SELECT old, new,
                       chars * {_CLOSER} - (o.size + n.size - 2 * chars)
                FROM overlap JOIN old_size o USING (old) JOIN new_size n USING (new)"""
        ).fetchall()
    finally:
        con.unregister("_new_spans")
    carried = carry_ids(shared, old_ids, [c.cluster_id for c in clusters])
    ids = carried.ids
    if all(new == kept for new, kept in ids.items()):
        return CarriedClusters(clusters, passages, carried.lineage)
    return CarriedClusters(
        [replace(c, cluster_id=ids[c.cluster_id]) for c in clusters],
        [
            replace(
                p,
                passage_id=_stable_id("p", ids[p.cluster_id], p.doc_id, p.start),
                cluster_id=ids[p.cluster_id],
            )
            for p in passages
        ],
        carried.lineage,
    )
