"""The talking-points stage: sentences → distinct claims → groups → ``points`` and
``mentions``.

Sentences too short to carry a claim, and sentences inside boilerplate the reuse stage found,
are skipped. Equal sentences (up to case and spacing) are embedded once, and the accurate
model's vectors are cached in the store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from chorus.changes.record import record_point_changes, snapshot_points
from chorus.embed.cache import cached_embed
from chorus.embed.models import load_embedder
from chorus.embed.scales import CENTRED_SCALES, same_language
from chorus.points.cells import reference_cells
from chorus.points.core import ClaimGroups, group_claims
from chorus.points.families import family_ids
from chorus.points.keyphrases import keyphrases_and_totals
from chorus.points.lineage import LineageRow, carry_ids, gone_ids
from chorus.points.nearest_live import gone_sentences, record_point_lineage
from chorus.points.pages import write_point_pages
from chorus.points.score import cohesion, point_score
from chorus.points.settings import PointsSettings
from chorus.points.state import FullRun, clear_state, write_state
from chorus.points.text import WORD_SQL, claim_unit, name_sample, shared_names, unit_digest
from chorus.points.update_counts import UpdateCounts
from chorus.progress import ProgressFactory, no_progress
from chorus.store import Store, scalar
from chorus.store.tables import TABLES

log = logging.getLogger(__name__)

_DUCKDB_MEMORY = "512MB"


@dataclass(frozen=True)
class PointsSummary:
    n_sentences: int
    n_units: int
    n_screened: int
    n_points: int
    n_mentions: int
    masked_names: tuple[str, ...]
    seconds: float
    # Why there are no (or few trustworthy) points, in a sentence a user can act on.
    note: str | None = None
    # What an update changed; ``None`` for a run from scratch.
    update: UpdateCounts | None = None


@dataclass(frozen=True)
class DocInfo:
    source: str
    published_at: dt.datetime | None
    lang: str = "und"


def eligible_sentences_sql(store: Store, settings: PointsSettings) -> str:
    """The sentences that can carry a claim (``doc_id, sent_no, start, "end", text``): long
    enough, and outside boilerplate the reuse stage found."""
    has_reuse = "reuse_clusters" in store.table_names()
    boilerplate = (
        """AND NOT EXISTS (
               SELECT 1 FROM passages p JOIN reuse_clusters c USING (cluster_id)
               WHERE c.kind = 'boilerplate' AND p.doc_id = s.doc_id
                 AND p.start < s."end" AND p."end" > s.start)"""
        if has_reuse
        else ""
    )
    return f"""SELECT s.doc_id, s.sent_no, s.start, s."end", s.text FROM sentences s
               WHERE len(regexp_extract_all(s.text, '{WORD_SQL}')) >= {int(settings.min_words)}
               {boilerplate}"""


def _sentences(store: Store, settings: PointsSettings) -> pa.Table:
    return store.con.sql(
        f"{eligible_sentences_sql(store, settings)} ORDER BY s.doc_id, s.sent_no"
    ).to_arrow_table()


def _documents(store: Store) -> dict[str, DocInfo]:
    table = store.con.sql(
        "SELECT doc_id, source, published_at, coalesce(lang, 'und') FROM documents"
    ).to_arrow_table()
    return {
        d: DocInfo(s, p, lang)
        for d, s, p, lang in zip(
            table.column(0).to_pylist(),
            table.column(1).to_pylist(),
            table.column(2).to_pylist(),
            table.column(3).to_pylist(),
            strict=True,
        )
    }


def find_points(
    store: Store,
    *,
    settings: PointsSettings | None = None,
    rebuild: bool = False,
    progress: ProgressFactory = no_progress,
) -> PointsSummary:
    """Rebuild ``points`` and ``mentions`` from the stored sentences. A point that continues
    one of the points stored before keeps its id (:mod:`chorus.points.lineage`; what no point
    keeps is recorded in ``point_lineage``); with ``rebuild``, every point takes the id its
    content gives it, as in a new store."""
    settings = (settings or PointsSettings()).for_languages(store.languages())
    started = time.perf_counter()
    if not rebuild:
        updated = _try_update(store, settings, progress, started)
        if updated is not None:
            return updated
    sentences = _sentences(store, settings)
    doc_ids: list[str] = sentences.column("doc_id").to_pylist()
    raw: list[str] = sentences.column("text").to_pylist()
    sentences = sentences.drop_columns(["text"])  # ``raw`` holds the texts from here on
    docs = _documents(store)

    by_doc: dict[str, list[str]] = defaultdict(list)
    for d, t in zip(doc_ids, raw, strict=True):
        by_doc[d].append(t)
    sample = name_sample(list(by_doc))
    names = shared_names(by_doc[d] for d in sample)
    log.info("points: masking names every document repeats: %s", sorted(names))

    # One unit per distinct claim text; its group (document) is the first that has it.
    unit_of_key: dict[bytes, int] = {}
    unit_texts: list[str] = []
    unit_groups: list[int] = []
    doc_number = {d: i for i, d in enumerate(sorted(docs))}
    sentence_unit = np.empty(len(raw), dtype=np.int64)
    for row, (d, text) in enumerate(zip(doc_ids, raw, strict=True)):
        claim = claim_unit(text, names, min_content_words=settings.min_content_words)
        if claim is None:  # a stock phrase, or nothing left once links and names are gone
            sentence_unit[row] = -1
            continue
        key = unit_digest(claim)
        unit = unit_of_key.get(key)
        if unit is None:
            unit = unit_of_key[key] = len(unit_texts)
            unit_texts.append(claim)
            unit_groups.append(doc_number[d])
        sentence_unit[row] = unit

    blocking = _blocking_note(store, settings, n_docs=len(docs), n_units=len(unit_texts))
    if blocking is not None:
        log.info("points: %s", blocking)
        stats: dict[str, float] = {"n_texts": len(unit_texts), "n_screened": 0}
        _write(
            store,
            POINT_SCHEMA.empty_table(),
            mentions_table([]),
            settings,
            stats,
            carry=not rebuild,
        )
        return PointsSummary(
            n_sentences=len(raw),
            n_units=len(unit_texts),
            n_screened=0,
            n_points=0,
            n_mentions=0,
            masked_names=tuple(sorted(names)),
            seconds=time.perf_counter() - started,
            note=blocking,
        )
    fast = load_embedder("wordllama") if settings.model in ("cascade", "wordllama") else None
    accurate_name = {"cascade": "minilm", "minilm": "minilm"}.get(settings.model, settings.model)
    accurate = load_embedder(accurate_name, device=settings.device)
    embed = (
        cached_embed(store, accurate, progress=progress)
        if accurate_name in ("minilm", "multilingual")
        else (accurate.embed)
    )
    languages = None
    if settings.model == "multilingual":
        lang_of = dict(
            store.con.execute("SELECT doc_id, coalesce(lang, 'und') FROM documents").fetchall()
        )
        ordered = sorted(docs)
        languages = [lang_of[ordered[g]] for g in unit_groups]
    # The vectors need the memory more than DuckDB's cache does while they are in use.
    with store.memory_limit(_DUCKDB_MEMORY):
        groups = group_claims(
            unit_texts,
            np.asarray(unit_groups, dtype=np.int64),
            settings=settings,
            embed=embed,
            embed_fast=fast.embed if settings.model == "cascade" and fast is not None else None,
            languages=languages,
            reference=reference_cells(accurate.name),
        )
    unit_keys = list(unit_of_key)
    del unit_of_key
    terms: Counter[str] = Counter()
    points, mentions, average_claims = _tables(
        sentences, raw, sentence_unit, groups, unit_texts, docs, settings, terms=terms
    )
    ordered_docs = sorted(docs)
    full = FullRun(
        unit_keys=unit_keys,
        unit_texts=unit_texts,
        unit_docs=[ordered_docs[g] for g in unit_groups],
        sentence_docs=doc_ids,
        sentence_nos=sentences.column("sent_no").to_pylist(),
        sentence_unit=sentence_unit,
        groups=groups,
        names=frozenset(names),
        terms=terms,
        average_claims=average_claims,
    )
    _write(store, points, mentions, settings, groups.stats, carry=not rebuild, full=full)
    return PointsSummary(
        n_sentences=len(raw),
        n_units=len(unit_texts),
        n_screened=int(groups.stats["n_screened"]),
        n_points=points.num_rows,
        n_mentions=mentions.num_rows,
        masked_names=tuple(sorted(names)),
        seconds=time.perf_counter() - started,
        note=(
            None
            if points.num_rows
            else f"nothing recurs: no claim is made in {settings.min_span} or more {settings.span}"
        ),
    )


def _try_update(
    store: Store, settings: PointsSettings, progress: ProgressFactory, started: float
) -> PointsSummary | None:
    """The summary of an update of the stored points (:mod:`chorus.points.update`), or
    ``None`` when a full run is needed."""
    from chorus.points.update import can_update, update_points

    state = can_update(store, settings)
    if state is None:
        return None
    counts = update_points(
        store,
        state,
        settings=settings,
        eligible_sql=eligible_sentences_sql(store, settings),
        progress=progress,
    )
    if counts is None:
        return None
    con = store.con
    n_points = int(scalar(con, "SELECT count(*) FROM points"))
    return PointsSummary(
        n_sentences=int(scalar(con, "SELECT count(*) FROM _point_sentences")),
        n_units=int(scalar(con, "SELECT count(*) FROM _point_units")),
        n_screened=counts.n_new_units,
        n_points=n_points,
        n_mentions=int(scalar(con, "SELECT count(*) FROM mentions")),
        masked_names=tuple(sorted(state.names)),
        seconds=time.perf_counter() - started,
        note=None if n_points else "nothing recurs yet",
        update=counts,
    )


# MiniLM and WordLlama read English; the language detector labels what it cannot tell "und".
_MODEL_LANGUAGES = {"en"}


def _blocking_note(
    store: Store, settings: PointsSettings, *, n_docs: int, n_units: int
) -> str | None:
    """Why no point can be found at all, before any model runs; ``None`` when some can."""
    if n_docs == 0:
        return "the store holds no documents: run 'chorus ingest' first"
    if n_docs < settings.min_span:
        return (
            f"a talking point needs sentences in at least {settings.min_span} documents; "
            f"the store holds {n_docs}"
        )
    if n_units == 0:
        return (
            f"no sentence can carry a claim: none has {settings.min_words} words with "
            f"{settings.min_content_words} outside the stop list (outside boilerplate)"
        )
    if settings.model in ("hashing", "multilingual"):
        return None
    known = {lang: n for lang, n in store.languages().items() if lang != "und"}
    if known and not set(known) & _MODEL_LANGUAGES:
        found = ", ".join(f"{lang} {n:,}" for lang, n in sorted(known.items()))
        return (
            f"the documents are in languages the models do not read ({found}); "
            "all-MiniLM-L6-v2 and WordLlama read English, so restated claims in these "
            "languages would be found by chance; use --model multilingual (or auto)"
        )
    return None


def _tables(
    sentences: pa.Table,
    texts: list[str],
    sentence_unit: np.ndarray,
    groups: ClaimGroups,
    unit_texts: list[str],
    docs: dict[str, DocInfo],
    settings: PointsSettings,
    *,
    terms: Counter[str] | None = None,
) -> tuple[pa.Table, pa.Table, float]:
    """The points and mentions of ``groups``, and the mean claims per point; ``terms`` is
    filled with the keyphrase term counts."""
    labels = groups.labels
    row_of_unit = {int(u): r for r, u in enumerate(groups.screened.tolist())}
    doc_ids = sentences.column("doc_id").to_pylist()
    starts = sentences.column("start").to_pylist()
    ends = sentences.column("end").to_pylist()
    sent_nos = sentences.column("sent_no").to_pylist()
    sentence_rows: dict[int, list[int]] = defaultdict(list)
    for row, unit in enumerate(sentence_unit.tolist()):
        if unit >= 0:
            sentence_rows[int(labels[unit])].append(row)

    built: list[BuiltPoint] = []
    for rows in sentence_rows.values():
        units = sorted({int(sentence_unit[r]) for r in rows})
        point = build_point(
            PointSentences(
                doc_ids=[doc_ids[r] for r in rows],
                sent_nos=[sent_nos[r] for r in rows],
                starts=[starts[r] for r in rows],
                ends=[ends[r] for r in rows],
                texts=[texts[r] for r in rows],
                units=[int(sentence_unit[r]) for r in rows],
            ),
            unit_texts={u: unit_texts[u] for u in units},
            unit_vectors={u: groups.vectors[row_of_unit[u]] for u in units if u in row_of_unit},
            docs=docs,
            settings=settings,
        )
        if point is not None:
            built.append(point)
    points, mentions = points_tables(built, terms=terms)
    return points, mentions, _average_claims(built)


def _average_claims(built: list[BuiltPoint]) -> float:
    return max(sum(len(p.claims) for p in built) / len(built), 1.0) if built else 1.0


@dataclass(frozen=True)
class PointSentences:
    """The sentences of one group (a candidate point), in (document, sentence) order, with
    the unit (distinct claim) each one states."""

    doc_ids: list[str]
    sent_nos: list[int]
    starts: list[int]
    ends: list[int]
    texts: list[str]
    units: list[int]


@dataclass(frozen=True)
class BuiltPoint:
    """One point's row, its mention rows (tuples: millions of them), its claims, and the sum
    of its mentions' vectors (``None`` when its one sentence was never embedded) over
    ``n_vectors`` mentions: what claim families are found from."""

    row: dict[str, object]
    mentions: list[tuple[object, ...]]
    claims: list[str]
    vector_sum: np.ndarray | None = None
    n_vectors: int = 0


def build_point(
    group: PointSentences,
    *,
    unit_texts: dict[int, str],
    unit_vectors: dict[int, np.ndarray],
    docs: Mapping[str, DocInfo],
    settings: PointsSettings,
) -> BuiltPoint | None:
    """A group's point, or ``None`` when it spans too few documents (or sources). One group
    at a time, so either engine can build points wherever a group's sentences are."""
    spanned = set(group.doc_ids)
    if settings.span == "sources":
        spanned = {docs[d].source for d in spanned}
    if len(spanned) < settings.min_span:
        return None
    units = sorted(set(group.units))
    if len(units) == 1:
        # One sentence repeated word for word (the screen may have skipped embedding it).
        label_unit = units[0]
        similarity = {label_unit: 1.0}
        least_alike = 1.0
    else:
        vectors = np.stack([unit_vectors[u] for u in units]).astype(np.float32)
        central = vectors @ vectors.mean(axis=0)
        # The most central sentence labels the point; ties go to the smaller unit.
        label_at = int(np.lexsort((np.array(units), -central))[0])
        label_unit = units[label_at]
        to_label = vectors @ vectors[label_at]
        scale = CENTRED_SCALES.get(settings.model)
        if scale is None:
            least_alike = cohesion(vectors)
        else:
            # Read on MiniLM's scale, so that loose and tight mean what they mean in English.
            lang_of: dict[int, str] = {}
            for doc_id, unit in zip(group.doc_ids, group.units, strict=True):
                lang_of.setdefault(unit, docs[doc_id].lang)
            langs = [lang_of[u] for u in units]
            to_label = scale.read(to_label, same_language(langs, [langs[label_at]])[:, 0])
            least_alike = cohesion(vectors, scale=scale, languages=langs)
        similarity = dict(zip(units, to_label.tolist(), strict=True))
    rows = range(len(group.units))
    label_row = min(r for r in rows if group.units[r] == label_unit)
    point_id = (
        "tp_" + hashlib.blake2b(unit_texts[label_unit].encode("utf-8"), digest_size=6).hexdigest()
    )
    docs_here = sorted(set(group.doc_ids))
    dates = [p for p in (docs[d].published_at for d in docs_here) if p is not None]
    far_past = dt.datetime.max
    origin = min(docs_here, key=lambda d: (docs[d].published_at or far_past, d))
    n_sources = len({docs[d].source for d in docs_here})
    first_seen, last_seen = min(dates, default=None), max(dates, default=None)
    row: dict[str, object] = {
        "point_id": point_id,
        "label": group.texts[label_row],
        "keyphrases": [],
        "n_mentions": len(group.units),
        "n_docs": len(docs_here),
        "n_sources": n_sources,
        "first_seen": first_seen,
        "last_seen": last_seen,
        "origin_doc_id": origin,
        "origin_source": docs[origin].source,
        "score": point_score(
            n_sources=n_sources, first_seen=first_seen, last_seen=last_seen, cohesion=least_alike
        ),
        "cohesion": round(least_alike, 4),
    }
    mentions: list[tuple[object, ...]] = [
        (
            point_id,
            group.doc_ids[r],
            group.sent_nos[r],
            group.starts[r],
            group.ends[r],
            round(float(similarity[group.units[r]]), 4),
            group.texts[r],
        )
        for r in sorted(rows, key=lambda r: (group.doc_ids[r], group.sent_nos[r]))
    ]
    embedded = [u for u in group.units if u in unit_vectors]
    vector_sum = (
        np.sum([np.asarray(unit_vectors[u], dtype=np.float32) for u in embedded], axis=0)
        if embedded
        else None
    )
    return BuiltPoint(row, mentions, [unit_texts[u] for u in units], vector_sum, len(embedded))


def points_tables(
    built: list[BuiltPoint], *, terms: Counter[str] | None = None
) -> tuple[pa.Table, pa.Table]:
    """The ``points`` table (with keyphrases, which compare every point's claims, so come
    last) and the ``mentions`` table. ``terms``, given empty, is filled with the keyphrase
    term counts over all points."""
    point_rows = [dict(p.row) for p in built]
    phrases_of, totals = keyphrases_and_totals([p.claims for p in built])
    if terms is not None:
        terms.update(totals)
    for point_row, phrases in zip(point_rows, phrases_of, strict=True):
        point_row["keyphrases"] = phrases
    families = family_ids(
        [str(r["point_id"]) for r in point_rows],
        [int(p.row["n_mentions"]) for p in built],  # type: ignore[call-overload]
        [p.vector_sum for p in built],
        [p.n_vectors for p in built],
    )
    for point_row, family in zip(point_rows, families, strict=True):
        point_row["family_id"] = family
    point_rows.sort(key=lambda r: (-float(r["score"]), -int(r["n_docs"]), str(r["point_id"])))  # type: ignore[arg-type,call-overload]
    mention_rows = [m for p in built for m in p.mentions]
    return (
        pa.Table.from_pylist(point_rows, schema=POINT_SCHEMA),
        mentions_table(mention_rows),
    )


def mentions_table(mention_rows: list[tuple[object, ...]]) -> pa.Table:
    return pa.Table.from_arrays(
        [
            pa.array(list(column), type=field.type)
            for column, field in zip(
                zip(*mention_rows, strict=True) if mention_rows else [()] * 7,
                MENTION_SCHEMA,
                strict=True,
            )
        ],
        schema=MENTION_SCHEMA,
    )


POINT_SCHEMA = TABLES["points"].arrow_schema()
MENTION_SCHEMA = TABLES["mentions"].arrow_schema()


def _write(
    store: Store,
    points: pa.Table,
    mentions: pa.Table,
    settings: PointsSettings,
    stats: dict[str, float],
    *,
    carry: bool,
    full: FullRun | None = None,
) -> None:
    con = store.con
    lineage: list[LineageRow] = []
    if carry:
        points, mentions, lineage = _carry_ids(store, points, mentions)
    with store.transaction():
        # write_state replaces the state (and clears it when no update could continue it).
        updatable = write_state(con, full, settings) if full is not None else clear_state(con)
        stats = {**stats, "updatable": float(updatable)}
        snapshot_points(con)
        left = gone_sentences(con, gone_ids(lineage))
        for table in ("mentions", "points", "points_runs"):
            con.execute(f"DELETE FROM {table}")
        store.insert_arrow("points", points)
        record_point_changes(con)
        # Stored in point order: DuckDB's per-row-group min/max then skip straight to one
        # point's mentions, which is what the report and the app ask for.
        store.insert_arrow(
            "mentions",
            mentions.sort_by(
                [("point_id", "ascending"), ("doc_id", "ascending"), ("sent_no", "ascending")]
            ),
        )
        record_point_lineage(con, lineage, left)  # after the state and the mentions
        write_point_pages(con)
        store.record_run("points_runs", settings, stats=stats)


def _carry_ids(
    store: Store, points: pa.Table, mentions: pa.Table
) -> tuple[pa.Table, pa.Table, list[LineageRow]]:
    """The new points and mentions with the ids of the points they continue
    (:mod:`chorus.points.lineage`), and the lineage rows to record. Sentences are matched by
    document, number and text (a document replaced since has other sentences)."""
    con = store.con
    if not scalar(con, "SELECT count(*) FROM points"):
        return points, mentions, []
    con.register("_new_mentions", mentions.select(["point_id", "doc_id", "sent_no", "text"]))
    try:
        shared = con.execute(
            """SELECT o.point_id, n.point_id, count(*)
               FROM mentions o JOIN _new_mentions n
                 ON o.doc_id = n.doc_id AND o.sent_no = n.sent_no AND o.text = n.text
               GROUP BY ALL"""
        ).fetchall()
    finally:
        con.unregister("_new_mentions")
    old_ids = [r[0] for r in con.execute("SELECT point_id FROM points").fetchall()]
    carried = carry_ids(shared, old_ids, points.column("point_id").to_pylist())
    if all(new == kept for new, kept in carried.ids.items()):
        return points, mentions, carried.lineage

    def renamed(column: pa.ChunkedArray) -> pa.Array:
        return pa.array(
            [None if v is None else carried.ids.get(v, v) for v in column.to_pylist()],
            pa.string(),
        )

    points = points.set_column(
        points.schema.get_field_index("point_id"), "point_id", renamed(points.column("point_id"))
    )
    points = points.set_column(
        points.schema.get_field_index("family_id"),
        "family_id",
        renamed(points.column("family_id")),
    )
    mentions = mentions.set_column(
        mentions.schema.get_field_index("point_id"),
        "point_id",
        renamed(mentions.column("point_id")),
    )
    log.info(
        "points: %d keep an earlier point's id; %d lineage events",
        sum(new != kept for new, kept in carried.ids.items()),
        len(carried.lineage),
    )
    return points, mentions, carried.lineage
