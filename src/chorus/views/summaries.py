"""What the CLI lists after a stage runs: its strongest findings, a few lines each."""

from __future__ import annotations

from typing import cast

from typing_extensions import TypedDict

from chorus.store import Store, scalar


class ClusterLine(TypedDict):
    kind: str
    n_docs: int
    n_sources: int
    origin_source: str
    representative: str


class PointLine(TypedDict):
    score: float
    cohesion: float
    n_docs: int
    n_sources: int
    origin_source: str
    label: str


class PhraseLine(TypedDict):
    n_occurrences: int
    n_docs: int
    n_sources: int
    phrase: str


class EdgeLine(TypedDict):
    source_a: str
    source_b: str
    weight: float
    n_objects: int
    q_value: float | None


def _lines(store: Store, sql: str, limit: int) -> list[dict[str, object]]:
    cursor = store.con.execute(sql, [limit])
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def top_clusters(store: Store, *, limit: int = 10) -> list[ClusterLine]:
    """Copied-passage clusters, reuse before boilerplate and syndication, widest first."""
    return cast(
        list[ClusterLine],
        _lines(
            store,
            """SELECT kind, n_docs, n_sources, origin_source, representative
               FROM reuse_clusters
               ORDER BY kind = 'reuse' DESC, n_sources DESC, n_docs DESC, cluster_id LIMIT ?""",
            limit,
        ),
    )


def top_points(store: Store, *, limit: int = 10) -> list[PointLine]:
    """Talking points, highest score first."""
    return cast(
        list[PointLine],
        _lines(
            store,
            """SELECT score, cohesion, n_docs, n_sources, origin_source, label FROM points
               ORDER BY score DESC, n_docs DESC, point_id LIMIT ?""",
            limit,
        ),
    )


def n_tight_points(store: Store) -> int:
    """Points whose least alike sentences still make one claim (score above 0)."""
    return int(scalar(store.con, "SELECT count(*) FROM points WHERE score > 0") or 0)


def top_phrases(store: Store, *, limit: int = 10) -> list[PhraseLine]:
    """Shared phrases, most sources first."""
    return cast(
        list[PhraseLine],
        _lines(
            store,
            """SELECT n_occurrences, n_docs, n_sources, phrase FROM phrases
               ORDER BY n_sources DESC, n_docs DESC, n_occurrences DESC, phrase_id LIMIT ?""",
            limit,
        ),
    )


def top_edges(store: Store, *, limit: int = 10) -> list[EdgeLine]:
    """Coordination edges, heaviest first."""
    return cast(
        list[EdgeLine],
        _lines(
            store,
            """SELECT source_a, source_b, weight, n_objects, q_value FROM source_edges
               ORDER BY weight DESC, source_a, source_b LIMIT ?""",
            limit,
        ),
    )
