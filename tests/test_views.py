"""The views the report and the web app share: read from an analysed seed store and checked
against the store itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chorus import views
from chorus.points.pages import POINT_SORTS
from chorus.report.html import data_block
from chorus.store import open_store


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://example.org/a?b=1", True),
        ("http://example.org", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,<script>", False),
        ('https://example.org/"><script>', False),
        (" https://example.org", False),
        (None, False),
    ],
)
def test_only_plain_http_urls_are_kept(url: str | None, kept: bool) -> None:
    assert (views.safe_url(url) is not None) is kept


@pytest.mark.parametrize(
    ("origin", "copy", "want"),
    [
        ("a b c", "a b c", [("same", "a b c")]),
        ("a b c", "a x c", [("same", "a"), ("removed", "b"), ("added", "x"), ("same", "c")]),
        ("a b c", "a b c d", [("same", "a b c"), ("added", "d")]),
        ("a b c d", "b c", [("removed", "a"), ("same", "b c"), ("removed", "d")]),
    ],
)
def test_word_diff(origin: str, copy: str, want: list[tuple[str, str]]) -> None:
    assert [(r["op"], r["text"]) for r in views.word_diff(origin, copy)] == want


def test_data_block_cannot_close_its_script() -> None:
    text = data_block({"t": "</script><!-- & <b>"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"t": "</script><!-- & <b>"}


def test_views_of_the_seeds(analysed_seeds: Path) -> None:
    with open_store(analysed_seeds, read_only=True) as store:
        o = views.overview(store)
        assert o["counts"]["documents"] == 5 and o["counts"]["communities"] == 1
        assert set(o["settings"]) == {"reuse", "points", "coord"}

        page = views.points_page(store, limit=5)
        assert page["total"] == store.count("points") and len(page["items"]) == 5
        sources = [i["n_sources"] for i in page["items"]]
        assert sources == sorted(sources, reverse=True)
        rest = views.points_page(store, offset=5, limit=500)
        ids = [i["point_id"] for i in page["items"] + rest["items"]]
        assert len(ids) == len(set(ids)) == page["total"]  # pages neither skip nor repeat
        one = views.points_page(store, source="004_7d8a5bfdc9a4184b", limit=500)
        assert 0 < one["total"] < page["total"]
        # Two words of a stored label (which sentence labels a point moves with the model's
        # build, so the words are read from the store): every label found holds both.
        label = str(page["items"][0]["label"])
        pair = sorted({w.strip(".,;:()“”\"'’").lower() for w in label.split()}, key=len)[-2:]
        words = views.points_page(store, query=" ".join(pair).upper())
        assert words["total"] >= 1
        assert all(all(w in i["label"].lower() for w in pair) for i in words["items"])
        assert views.points_page(store, query=f"{pair[0]} zzqxv")["total"] == 0

        point = views.point_detail(store, page["items"][0]["point_id"])
        assert point is not None and len(point["mentions"]) == point["n_mentions"]
        texts = dict(store.con.execute("SELECT doc_id, text FROM documents").fetchall())
        for m in point["mentions"]:
            text = texts[m["doc_id"]]
            assert text[m["start"] : m["end"]] == m["sentence"]
            assert text[: m["start"]].endswith(m["before"])
            assert text[m["end"] :].startswith(m["after"])
        assert views.point_detail(store, "nope") is None

        net = views.network(store)
        assert len(net["nodes"]) == 5 and net["window_hours"] is None
        assert all(0 <= n["x"] <= 1 and 0 <= n["y"] <= 1 for n in net["nodes"])
        assert views.network(store) == net  # the layout is seeded
        e = net["edges"][0]
        edge = views.edge_detail(store, e["source_b"], e["source_a"])
        assert edge is not None and len(edge["evidence"]) == e["n_objects"]

        source = views.source_detail(store, "001_3446158c2f518966")
        assert source is not None and source["community"] == 0 and source["points"]
        assert views.source_detail(store, "nope") is None

        heat = views.heatmap(store)
        assert len(heat["sources"]) == 5 and heat["cells"]
        line = views.timeline(store)
        assert all(p["arrivals"] for p in line["points"])

        boiler = views.reuse_page(store, kind="boilerplate")
        cluster = views.reuse_detail(store, boiler["items"][0]["cluster_id"])
        assert cluster is not None and len(cluster["copies"]) == 2
        assert views.search_sentences(store, "uprising")["items"]


def test_document_view_marks_what_was_found(analysed_seeds: Path) -> None:
    with open_store(analysed_seeds, read_only=True) as store:
        mentioned = dict(
            store.con.execute(
                "SELECT doc_id, count(*) FROM mentions GROUP BY doc_id ORDER BY doc_id"
            ).fetchall()
        )
        copied = dict(
            store.con.execute("SELECT doc_id, count(*) FROM passages GROUP BY doc_id").fetchall()
        )
        for doc_id, n_mentions in mentioned.items():
            doc = views.document_detail(store, doc_id)
            assert doc is not None
            spans = doc["spans"]
            kinds = [s["kind"] for s in spans]
            assert kinds.count("point") == n_mentions
            assert len(spans) - kinds.count("point") == copied.get(doc_id, 0)
            assert [s["start"] for s in spans] == sorted(s["start"] for s in spans)
            # Offsets index the very text returned, and a point's sentence is one of its own.
            for s in spans:
                assert 0 <= s["start"] < s["end"] <= len(doc["text"])
                if s["kind"] == "point":
                    (sentence,) = store.con.execute(
                        "SELECT text FROM mentions WHERE point_id = ? AND doc_id = ? AND start = ?",
                        [s["id"], doc_id, s["start"]],
                    ).fetchall()[0]
                    assert doc["text"][s["start"] : s["end"]] == sentence
        assert views.document_detail(store, "no such document") is None


def test_point_pages_equal_what_the_mentions_say(analysed_seeds: Path, tmp_path: Path) -> None:
    """The per-point tables written with the points give the pages the mentions give: a
    store from before them (tables empty) reads the mentions, with the same answers."""
    from chorus.points.pages import point_pages_ready

    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(analysed_seeds.read_bytes())

    def pages() -> list[object]:
        with open_store(copy, read_only=True) as store:
            found = store.con.sql("SELECT DISTINCT source FROM documents").fetchall()
            sources = [r[0] for r in found]
            out: list[object] = [point_pages_ready(store.con)]
            for sort in POINT_SORTS:
                out.append(views.points_page(store, sort=sort, limit=500))
                out.append(views.points_page(store, sort=sort, offset=7, limit=5))
            ids = [r[0] for r in store.con.sql("SELECT point_id FROM points").fetchall()]
            out.append(views.first_mentions(store, ids))
            out.append(views.first_mentions(store, ids, per_point=1))
            for source in sorted(sources):
                out.append(views.points_page(store, source=source))
                out.append(views.source_detail(store, source))
            point = store.con.execute("SELECT point_id FROM points LIMIT 1").fetchall()[0][0]
            out.append(views.point_detail(store, point))
        return out

    written = pages()
    with open_store(copy) as store:
        store.con.execute("DELETE FROM _point_pages")
        store.con.execute("DELETE FROM _source_points")
    read = pages()
    assert written[0] is True and read[0] is False
    assert written[1:] == read[1:]
    assert any(i["months"] for i in written[1]["items"])  # type: ignore[index]


def test_resolved_evidence_equals_the_evidence_resolved_live(
    analysed_seeds: Path, tmp_path: Path
) -> None:
    """Every edge's evidence read from the table written with it equals the evidence
    resolved from the mentions and passages (what a store from before the table reads)."""
    from chorus.coord import read_edge_evidence

    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(analysed_seeds.read_bytes())

    def every_edge() -> dict[tuple[str, str], list[dict[str, object]]]:
        with open_store(copy, read_only=True) as store:
            edges = store.con.sql("SELECT source_a, source_b FROM source_edges").fetchall()
            return {(a, b): read_edge_evidence(store, b, a).to_pylist() for a, b in edges}

    written = every_edge()
    with open_store(copy) as store:
        assert store.count("edge_evidence") > 0
        store.con.execute("DELETE FROM _edge_evidence_text")
    live = every_edge()
    assert written == live
    assert sum(len(v) for v in written.values()) > 0
