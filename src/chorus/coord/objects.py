"""What sources share, read from the store: talking points (a claim family counts once:
points that restate one claim are one object, ``chorus.points.families``), copied passages
(reuse clusters of kind ``reuse``), links in the text, and page templates several sources
share. Syndication (credited wire copy) and one source's own boilerplate are never objects.

A copied passage that is no more than one sentence of a talking point is not a second object
beside the point: the same words would count twice (a claim copied word for word by two
sites would make an edge alone).

Credited wire copy brings nothing with it (the ``credits`` table, :mod:`chorus.reuse.credit`):
a document that is an agency's copy (its dateline, byline, closing line or copyright credits
the agency) shares no object at all; a sentence credited in the text ("..., Reuters
reported", a photo credit) and a passage of a syndication cluster carry no talking point.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa

from chorus.store import Store

log = logging.getLogger(__name__)

_URL_PATTERN = r"""https?://[^\s<>"'()\[\]{}]+"""
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|mc_cid|mc_eid|igshid|ref_src|ref)$", re.I)
_TRAILING = ".,;:!?»”’"


def canonical_url(url: str) -> str | None:
    """A link as an object: scheme and ``www.`` dropped, host lower-cased, tracking parameters
    and the fragment removed, no trailing slash. ``None`` for what is not a usable link.

    >>> canonical_url("https://www.Example.com/a/b/?utm_source=x&id=3#top")
    'example.com/a/b?id=3'
    """
    url = url.rstrip(_TRAILING)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    if "." not in host:
        return None
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)])
    path = parts.path.rstrip("/")
    return urlunsplit(("", host, path, query, "")).removeprefix("//")


# A passage lying within one mention: 80% of its characters inside it.
WITHIN_MENTION_SHARE = 0.8


def event_queries(
    kinds: tuple[str, ...],
    *,
    has_mentions: bool,
    has_clusters: bool,
    quote: Callable[[str], str] = lambda name: f'"{name}"',
) -> list[str]:
    """The rules of what counts as sharing an object, as SQL over the tables ``documents``,
    ``mentions``, ``points``, ``passages``, ``reuse_clusters`` and ``credits``: one query
    per object kind (links aside: they are found in the text by :func:`shared_link`), each
    giving (source, kind, object_id, doc_id, published_at). Written in the SQL DuckDB and
    Spark share, so both engines run these same rules; ``quote`` quotes the column ``end``
    (a reserved word): double quotes in DuckDB, backticks in Spark."""
    end = quote("end")
    not_wire_copy = "NOT EXISTS (SELECT 1 FROM credits w WHERE w.whole AND w.doc_id = d.doc_id)"
    queries: list[str] = []
    if "point" in kinds and has_mentions:
        # A mention inside credited wire copy is the wire's claim, not the outlet's: it
        # never joins two sources.
        syndicated = (
            f"""AND NOT EXISTS (
                   SELECT 1 FROM passages s JOIN reuse_clusters c ON c.cluster_id = s.cluster_id
                   WHERE c.kind = 'syndication' AND s.doc_id = m.doc_id
                     AND s.start < m.{end} AND s.{end} > m.start)"""
            if has_clusters
            else ""
        )
        # A claim family is one object: its points restate one claim.
        queries.append(
            f"""SELECT DISTINCT d.source, 'point' AS kind,
                       coalesce(p.family_id, m.point_id) AS object_id, m.doc_id, d.published_at
                FROM mentions m JOIN documents d ON d.doc_id = m.doc_id
                LEFT JOIN points p ON p.point_id = m.point_id
                WHERE {not_wire_copy} {syndicated}
                  AND NOT EXISTS (
                      SELECT 1 FROM credits w
                      WHERE NOT w.whole AND w.form IN ('reported', 'photo')
                        AND w.doc_id = m.doc_id AND w.start < m.{end} AND w.{end} > m.start)"""
        )
    if has_clusters:
        for kind, label in (("reuse", "reuse"), ("boilerplate", "template")):
            if label not in kinds:
                continue
            # A template counts only when several sources share it: one site's own footer
            # says nothing about anyone else.
            extra = "" if kind == "reuse" else "AND c.n_sources >= 2"
            if kind == "reuse" and "point" in kinds and has_mentions:
                # A copied passage that is (most of) one sentence of a talking point is
                # that point's evidence again: counted once, as the point.
                extra = f"""AND NOT EXISTS (
                    SELECT 1 FROM mentions m WHERE m.doc_id = s.doc_id
                      AND least(s.{end}, m.{end}) - greatest(s.start, m.start)
                          >= {WITHIN_MENTION_SHARE} * (s.{end} - s.start))"""
            queries.append(
                f"""SELECT DISTINCT d.source, '{label}' AS kind, s.cluster_id AS object_id,
                           s.doc_id, d.published_at
                    FROM passages s JOIN reuse_clusters c ON c.cluster_id = s.cluster_id
                    JOIN documents d ON d.doc_id = s.doc_id
                    WHERE c.kind = '{kind}' {extra} AND {not_wire_copy}"""
            )
    return queries


EVENT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("kind", pa.string()),
        ("object_id", pa.string()),
        ("doc_id", pa.string()),
        ("published_at", pa.timestamp("us")),
    ]
)


def sharing_events(store: Store, kinds: tuple[str, ...]) -> pa.Table:
    """(source, kind, object_id, doc_id, published_at), one row per document sharing an
    object. Reads the ``credits`` table: write it first
    (:func:`chorus.reuse.credits_table.write_credits`)."""
    names = set(store.table_names())
    queries = event_queries(
        kinds, has_mentions="mentions" in names, has_clusters="reuse_clusters" in names
    )
    tables = [store.con.sql(sql).to_arrow_table() for sql in queries]
    if "link" in kinds:
        tables.append(_links(store))
    tables = [t.cast(EVENT_SCHEMA) for t in tables if t.num_rows]
    return pa.concat_tables(tables) if tables else EVENT_SCHEMA.empty_table()


def _links(store: Store) -> pa.Table:
    rows = store.con.execute(
        """SELECT source, doc_id, published_at, url AS page,
                  unnest(regexp_extract_all(text, ?)) AS link
           FROM documents d
           WHERE NOT EXISTS (SELECT 1 FROM credits w WHERE w.whole AND w.doc_id = d.doc_id)""",
        [_URL_PATTERN],
    ).fetchall()
    out: dict[str, list[object]] = {k: [] for k in ("source", "kind", "object_id", "doc_id")}
    times: list[object] = []
    seen: set[tuple[str, str]] = set()
    for source, doc_id, published_at, page, link in rows:
        canonical = shared_link(link, page)
        if canonical is None or (doc_id, canonical) in seen:
            continue
        seen.add((doc_id, canonical))
        out["source"].append(source)
        out["kind"].append("link")
        out["object_id"].append(canonical)
        out["doc_id"].append(doc_id)
        times.append(published_at)
    return pa.table({**out, "published_at": pa.array(times, pa.timestamp("us"))})


# ``_URL_PATTERN`` for Python's ``re``, whose ``\s`` is wider than DuckDB's (RE2: ASCII).
URL_RE = re.compile(r"""https?://[^\t\n\f\r <>"'()\[\]{}]+""")


def shared_link(link: str, page: str | None) -> str | None:
    """A link found in a document as an object, or ``None``: not usable, or pointing to the
    document's own site (navigation, not something shared)."""
    canonical = canonical_url(link)
    if canonical is None:
        return None
    own = canonical_url(page) if page else None
    if own and canonical.split("/", 1)[0] == own.split("/", 1)[0]:
        return None
    return canonical
