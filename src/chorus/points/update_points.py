"""The points an update built again, put in place of the ones their sentences were in
(:mod:`chorus.points.update`): ids carried, keyphrases ranked against the store's counts."""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from chorus.changes.record import record_point_changes, snapshot_points
from chorus.points.keyphrases import claim_terms, rank_keyphrases
from chorus.points.lineage import carry_ids, gone_ids
from chorus.points.nearest_live import gone_sentences, record_point_lineage
from chorus.points.settings import PointsSettings
from chorus.points.state import PointsState
from chorus.points.update_graph import Units
from chorus.store import Store


class Rebuilt(NamedTuple):
    """What :func:`rebuild_points` did: points built, earlier points that left, and the ids
    of every point it wrote or removed."""

    n_built: int
    n_removed: int
    point_ids: list[str]


def rebuild_points(
    store: Store,
    units: Units,
    changed_clusters: set[int],
    settings: PointsSettings,
    state: PointsState,
) -> Rebuilt:
    """Build the points of ``changed_clusters`` again and put them in place of the points
    their sentences were in."""
    from chorus.points.stage import (
        POINT_SCHEMA,
        DocInfo,
        PointSentences,
        build_point,
        mentions_table,
    )

    con = store.con
    clusters = np.asarray(sorted(changed_clusters), dtype=np.int64)
    con.register("_upd_clusters", pa.table({"cluster": pa.array(clusters)}))
    try:
        rows = con.sql(
            """SELECT u.cluster, ps.doc_id, ps.sent_no, s.start, s."end", s.text, ps.unit_no,
                      u.claim
               FROM _point_sentences ps JOIN _point_units u USING (unit_no)
               JOIN sentences s USING (doc_id, sent_no)
               WHERE u.cluster IN (SELECT cluster FROM _upd_clusters)
               ORDER BY u.cluster, ps.doc_id, ps.sent_no"""
        ).to_arrow_table()
    finally:
        con.unregister("_upd_clusters")
    doc_ids = sorted(set(rows.column("doc_id").to_pylist()))
    con.register("_upd_docs", pa.table({"doc_id": pa.array(doc_ids, pa.string())}))
    try:
        docs = {
            d: DocInfo(s, p, lang)
            for d, s, p, lang in con.execute(
                """SELECT doc_id, source, published_at, coalesce(lang, 'und') FROM documents
                   JOIN _upd_docs USING (doc_id)"""
            ).fetchall()
        }
    finally:
        con.unregister("_upd_docs")
    cluster_col = rows.column("cluster").to_numpy()
    bounds = np.flatnonzero(np.diff(cluster_col)) + 1
    starts = np.concatenate([[0], bounds]).tolist()
    ends = np.concatenate([bounds, [len(cluster_col)]]).tolist()
    cols = {name: rows.column(name).to_pylist() for name in rows.column_names}
    built = []
    for lo, hi in zip(starts, ends, strict=True):
        if lo == hi:
            continue
        unit_list = cols["unit_no"][lo:hi]
        distinct = sorted(set(unit_list))
        vectors = units.vectors[units.row(np.asarray(distinct, dtype=np.int64))]
        point = build_point(
            PointSentences(
                doc_ids=cols["doc_id"][lo:hi],
                sent_nos=cols["sent_no"][lo:hi],
                starts=cols["start"][lo:hi],
                ends=cols["end"][lo:hi],
                texts=cols["text"][lo:hi],
                units=unit_list,
            ),
            unit_texts={u: c for u, c in zip(unit_list, cols["claim"][lo:hi], strict=True)},
            unit_vectors={u: vectors[i].astype(np.float32) for i, u in enumerate(distinct)},
            docs=docs,
            settings=settings,
        )
        if point is not None:
            built.append(point)

    # The earlier points these sentences were in, or that lost sentences.
    sentence_keys = pa.table(
        {
            "doc_id": pa.array(cols["doc_id"], pa.string()),
            "sent_no": pa.array(cols["sent_no"], pa.int32()),
        }
    )
    con.register("_upd_sentences", sentence_keys)
    try:
        old_ids = [
            r[0]
            for r in con.execute(
                """SELECT DISTINCT m.point_id FROM mentions m
                   WHERE EXISTS (SELECT 1 FROM _upd_sentences k
                                 WHERE k.doc_id = m.doc_id AND k.sent_no = m.sent_no)
                      OR EXISTS (SELECT 1 FROM _upd_removed r
                                 WHERE r.doc_id = m.doc_id AND r.sent_no = m.sent_no)
                   ORDER BY 1"""
            ).fetchall()
        ]
    finally:
        con.unregister("_upd_sentences")

    # Each point's terms are counted once: they give the totals and then its ranking.
    counted = [claim_terms(p.claims) for p in built]
    totals = Counter(
        dict(
            con.execute(
                "SELECT term, n FROM _point_terms WHERE term IN (SELECT unnest(?))",
                [sorted({t for terms in counted for t in terms})],
            ).fetchall()
        )
    )
    for terms in counted:
        totals.update(terms)
    phrases = [
        rank_keyphrases(terms, len(p.claims), totals, state.average_claims)
        for terms, p in zip(counted, built, strict=True)
    ]
    point_rows = [{**p.row, "keyphrases": ph} for p, ph in zip(built, phrases, strict=True)]
    mention_rows = [m for p in built for m in p.mentions]
    new_mentions = mentions_table(mention_rows)

    con.register("_upd_old_ids", pa.table({"point_id": pa.array(old_ids, pa.string())}))
    con.register(
        "_upd_new_mentions", new_mentions.select(["point_id", "doc_id", "sent_no", "text"])
    )
    try:
        shared = con.execute(
            """SELECT o.point_id, n.point_id, count(*)
               FROM mentions o JOIN _upd_new_mentions n
                 ON o.doc_id = n.doc_id AND o.sent_no = n.sent_no AND o.text = n.text
               WHERE o.point_id IN (SELECT point_id FROM _upd_old_ids)
               GROUP BY ALL"""
        ).fetchall()
        families = dict(
            con.execute(
                "SELECT point_id, family_id FROM points JOIN _upd_old_ids USING (point_id)"
            ).fetchall()
        )
        # A point left as it was may hold the id a new point's label gives (an id it
        # carried from a point that had that label): the new one must take another.
        reserved = [
            r[0]
            for r in con.execute(
                """SELECT point_id FROM points
                   WHERE split_part(point_id, '-', 1) IN
                         (SELECT DISTINCT point_id FROM _upd_new_mentions)
                     AND point_id NOT IN (SELECT point_id FROM _upd_old_ids)"""
            ).fetchall()
        ]
    finally:
        con.unregister("_upd_new_mentions")
    carried = carry_ids(
        shared, old_ids, [str(r["point_id"]) for r in point_rows], reserved=reserved
    )
    for r in point_rows:
        r["point_id"] = carried.ids[str(r["point_id"])]
        # A point that continues an earlier one stays in its family; a new one starts its own.
        r["family_id"] = families.get(str(r["point_id"])) or r["point_id"]
    renamed = [(carried.ids[str(m[0])], *m[1:]) for m in mention_rows]
    points = pa.Table.from_pylist(point_rows, schema=POINT_SCHEMA)
    mentions = mentions_table(renamed).sort_by(
        [("point_id", "ascending"), ("doc_id", "ascending"), ("sent_no", "ascending")]
    )
    snapshot_points(con, old_ids)
    left = gone_sentences(con, gone_ids(carried.lineage))
    try:
        con.execute("DELETE FROM mentions WHERE point_id IN (SELECT point_id FROM _upd_old_ids)")
        con.execute("DELETE FROM points WHERE point_id IN (SELECT point_id FROM _upd_old_ids)")
    finally:
        con.unregister("_upd_old_ids")
    store.insert_arrow("points", points)
    store.insert_arrow("mentions", mentions)
    record_point_changes(con, points.column("point_id").to_pylist())
    # The state (sentences, kNN edges) is the updated one: written before the points.
    record_point_lineage(con, carried.lineage, left)
    # The keyphrase counts grow with what the changed points hold.
    con.register(
        "_upd_terms",
        pa.table(
            {
                "term": pa.array(list(totals), pa.string()),
                "n": pa.array(list(totals.values()), pa.int32()),
            }
        ),
    )
    try:
        con.execute("DELETE FROM _point_terms WHERE term IN (SELECT term FROM _upd_terms)")
        con.execute("INSERT INTO _point_terms SELECT term, n FROM _upd_terms")
    finally:
        con.unregister("_upd_terms")
    written = points.column("point_id").to_pylist()
    return Rebuilt(
        n_built=len(built),
        n_removed=len(set(old_ids) - set(written)),
        point_ids=sorted({*old_ids, *written}),
    )
