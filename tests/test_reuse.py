from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.ingest import ingest_paths
from chorus.reuse import ReuseSettings, find_reuse, is_wire_document
from chorus.reuse.tokens import char_offsets, tokenize
from chorus.store import Store, open_store

from .conftest import SEEDS, write_jsonl

WORD = re.compile(r"[A-Za-z0-9]+")


def _store_with(tmp_path: Path, docs: list[dict[str, object]], name: str = "r") -> Store:
    path = write_jsonl(tmp_path / f"{name}.jsonl", [json.dumps(d) for d in docs])
    store = open_store(tmp_path / f"{name}.duckdb")
    ingest_paths(store, [path])
    return store


def _passages(store: Store) -> list[tuple[str, str, int, int, str]]:
    return store.con.execute(
        'SELECT cluster_id, doc_id, start, "end", text FROM passages ORDER BY doc_id, start'
    ).fetchall()


# -- tokens
@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abcXYZ09 ,.'’é—\n", max_size=60), min_size=1, max_size=5))
def test_tokens_are_word_runs_with_exact_offsets(texts: list[str]) -> None:
    tokens = tokenize(texts)
    for i, text in enumerate(texts):
        lo, hi = int(tokens.doc_first_token[i]), int(tokens.doc_first_token[i + 1])
        chars = char_offsets(text)
        got = [
            text[chars[s] : chars[e]]
            for s, e in zip(tokens.start[lo:hi], tokens.end[lo:hi], strict=True)
        ]
        assert got == re.findall(r"[A-Za-z0-9é]+", text)


def test_token_hashes_ignore_case_and_punctuation() -> None:
    tokens = tokenize(
        [
            "The regime’s “talking points,” said OFFICIALS.",
            "the regime's talking-points said officials",
        ]
    )
    a, b = tokens.hash[: tokens.doc_first_token[1]], tokens.hash[tokens.doc_first_token[1] :]
    assert np.array_equal(a, b)


# -- the brute-force oracle
def _oracle_coverage(texts: list[str], min_words: int) -> list[set[int]]:
    """Word characters of each text inside an exact common run of >= min_words words with any
    text (itself included, elsewhere), by dynamic programming over all pairs."""
    toks = [[(m.group().lower(), m.start(), m.end()) for m in WORD.finditer(t)] for t in texts]
    covered: list[set[int]] = [set() for _ in texts]

    def mark(i: int, lo: int, hi: int) -> None:
        for _, s, e in toks[i][lo:hi]:
            covered[i].update(c for c in range(s, e))

    for i in range(len(texts)):
        for j in range(i, len(texts)):
            a, b = [w for w, _, _ in toks[i]], [w for w, _, _ in toks[j]]
            run = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
            for x in range(len(a) - 1, -1, -1):
                for y in range(len(b) - 1, -1, -1):
                    if a[x] == b[y] and not (i == j and x == y):
                        run[x][y] = run[x + 1][y + 1] + 1
            for x in range(len(a)):
                for y in range(len(b)):
                    n = run[x][y]
                    starts_here = x == 0 or y == 0 or run[x - 1][y - 1] == 0
                    if n >= min_words and starts_here and not (i == j and abs(x - y) < n):
                        mark(i, x, x + n)
                        mark(j, y, y + n)
    return covered


def _random_corpus(seed: int) -> list[str]:
    rng = random.Random(seed)
    vocab = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 8)))
        for _ in range(400)
    ]
    words = [[rng.choice(vocab) for _ in range(rng.randint(15, 120))] for _ in range(7)]
    for _ in range(4):
        src, dst = rng.randrange(7), rng.randrange(7)
        length = rng.randint(20, 35)
        if len(words[src]) < length:
            continue
        at = rng.randrange(len(words[src]) - length + 1)
        piece = words[src][at : at + length]
        where = rng.randrange(len(words[dst]) + 1)
        words[dst][where:where] = piece
    return [" ".join(w).capitalize() + "." for w in words]


@pytest.mark.parametrize("seed", range(6))
def test_fast_path_agrees_with_brute_force_oracle(tmp_path: Path, seed: int) -> None:
    texts = _random_corpus(seed)
    docs = [{"id": f"d{i}", "source": f"s{i}", "text": t} for i, t in enumerate(texts)]
    with _store_with(tmp_path, docs) as store:
        find_reuse(store, settings=ReuseSettings(min_words=20, edit_tolerance=0.0))
        got: list[set[int]] = [set() for _ in texts]
        for _, doc_id, start, end, _ in _passages(store):
            i = int(doc_id[1:])
            got[i].update(c for c in range(start, end) if texts[i][c].isalnum())
    assert got == _oracle_coverage(texts, 20)


# -- edge cases
PASSAGE = (
    "The committee voted late on Thursday to send the measure to the full chamber, where "
    "leaders expect a close vote after weeks of negotiation over spending levels and oversight"
)


def _filler(rng: random.Random, n: int) -> str:
    words = [
        "river",
        "stone",
        "lamp",
        "quiet",
        "orbit",
        "mango",
        "velvet",
        "cedar",
        "pixel",
        "harbor",
        "tulip",
        "ember",
    ]
    return " ".join(rng.choice(words) + str(rng.randint(0, 99)) for _ in range(n)) + "."


def test_one_passage_in_fifty_documents(tmp_path: Path) -> None:
    rng = random.Random(1)
    docs = [
        {
            "id": f"d{i:02d}",
            "source": f"outlet{i}",
            "published_at": f"2020-01-{i % 28 + 1:02d}",
            "text": f"{_filler(rng, 40)} {PASSAGE}. {_filler(rng, 30)}",
        }
        for i in range(50)
    ]
    with _store_with(tmp_path, docs) as store:
        summary = find_reuse(store)
        assert summary.n_clusters == 1
        rows = _passages(store)
        assert len(rows) == 50 and all(text == PASSAGE + "." for *_, text in rows)
        origin = store.con.execute(
            "SELECT origin_doc_id, n_docs, n_sources, kind FROM reuse_clusters"
        ).fetchall()
        # d00 and d28 both fall on 2020-01-01: ties go to the smaller id.
        assert origin == [("d00", 50, 50, "reuse")]


def test_document_reusing_itself(tmp_path: Path) -> None:
    rng = random.Random(2)
    text = f"{_filler(rng, 30)} {PASSAGE}. {_filler(rng, 30)} {PASSAGE}. {_filler(rng, 10)}"
    with _store_with(tmp_path, [{"id": "solo", "source": "s", "text": text}]) as store:
        find_reuse(store)
        rows = _passages(store)
    assert [(r[1], r[4]) for r in rows] == [("solo", PASSAGE + "."), ("solo", PASSAGE + ".")]
    assert rows[0][2] < rows[1][2] and rows[0][0] == rows[1][0]


def test_unicode_text_offsets(tmp_path: Path) -> None:
    passage = (
        "Le comité a voté jeudi soir pour envoyer la mesure à l’assemblée plénière, où "
        "les dirigeants s’attendent à un vote serré après des semaines de négociations — "
        "今日は 東京で 会議が ありました"
    )
    rng = random.Random(3)
    docs = [
        {
            "id": f"u{i}",
            "source": f"s{i}",
            "text": f"« Intro » {'é' * i} {_filler(rng, 12)} {passage} {_filler(rng, 12)}",
        }
        for i in range(3)
    ]
    with _store_with(tmp_path, docs) as store:
        find_reuse(store)
        rows = _passages(store)
        texts = dict(store.con.execute("SELECT doc_id, text FROM documents").fetchall())
    assert len(rows) == 3
    for _, doc_id, start, end, text in rows:
        assert texts[doc_id][start:end] == text
        assert text.startswith("Le comité") and text.endswith("ありました")


def test_documents_shorter_than_the_minimum(tmp_path: Path) -> None:
    short = "Too short to count as a passage."
    docs = [{"id": f"s{i}", "source": f"x{i}", "text": short} for i in range(5)]
    with _store_with(tmp_path, docs) as store:
        assert find_reuse(store).n_clusters == 0


def test_light_edits_are_one_passage(tmp_path: Path) -> None:
    edited = (
        "the committee voted late Thursday to send this measure to the full chamber — where "
        "leaders expect a very close vote after weeks of negotiations over spending levels and "
        "oversight"
    )
    rng = random.Random(4)
    docs = [
        {"id": "a", "source": "A", "text": f"{_filler(rng, 30)} {PASSAGE}. {_filler(rng, 30)}"},
        {"id": "b", "source": "B", "text": f"{_filler(rng, 20)} {edited}. {_filler(rng, 20)}"},
    ]
    with _store_with(tmp_path, docs) as store:
        find_reuse(store)
        rows = _passages(store)
    assert len(rows) == 2
    assert rows[0][4] == PASSAGE + "." and rows[1][4] == edited + "."


def test_same_output_every_run_and_any_ingest_order(tmp_path: Path) -> None:
    texts = _random_corpus(7)
    docs = [{"id": f"d{i}", "source": f"s{i}", "text": t} for i, t in enumerate(texts)]
    with _store_with(tmp_path, docs, "fwd") as a:
        find_reuse(a)
        first = _passages(a)
        find_reuse(a)
        assert _passages(a) == first
    with _store_with(tmp_path, list(reversed(docs)), "rev") as b:
        find_reuse(b)
        assert _passages(b) == first and first


# -- kinds
def _kinds_corpus(*, credited: bool = True) -> list[dict[str, object]]:
    """Page furniture, wire copy (credited in a dateline and a closing line, or with
    ``credited`` false the same words with no credit) and a newsroom's own footer, on
    three sites each; a sentence crediting an agency copied by three more."""
    rng = random.Random(5)
    footer = (
        "Follow us on Twitter and Facebook for more stories like this one and sign up for "
        "our daily newsletter to get the news delivered to your inbox every morning"
    )
    wire = (
        "The central bank held interest rates steady on Wednesday and "
        "signalled it would stay patient as inflation cooled faster than many economists "
        "had expected earlier this year"
    )
    own = (
        "This article was produced by the Example Daily newsroom and edited by our standards "
        "desk before it was published on the site for all of our readers to enjoy"
    )
    reported = (
        "The port authority closed two terminals for the weekend while engineers inspected "
        "the cranes that failed during the storm on Friday night, Reuters reported"
    )
    docs: list[dict[str, object]] = []
    for i in range(3):
        docs.append({"id": f"f{i}", "source": f"Site{i}", "text": f"{_filler(rng, 60)} {footer}."})
        text = (
            f"WASHINGTON (Reuters) - {wire}. {_filler(rng, 40)} "
            "Reporting by Ann Lee; Editing by Bo."
            if credited
            else f"{wire}. {_filler(rng, 40)}"
        )
        docs.append({"id": f"w{i}", "source": f"Paper{i}", "text": text})
        docs.append(
            {
                "id": f"o{i}",
                "source": f"Example Daily - Section{i}",
                "text": f"{_filler(rng, 40)} {own}. {_filler(rng, 40)}",
            }
        )
        docs.append(
            {
                "id": f"r{i}",
                "source": f"Blog{i}",
                "text": f"{_filler(rng, 40)} {reported}. {_filler(rng, 40)}",
            }
        )
    return docs


def _kinds(store: Store) -> dict[str, str]:
    return dict(
        store.con.execute("SELECT left(representative, 12), kind FROM reuse_clusters").fetchall()
    )


def test_kinds(tmp_path: Path) -> None:
    with _store_with(tmp_path, _kinds_corpus()) as store:
        find_reuse(store)
        kinds = _kinds(store)
    assert kinds == {
        "Follow us on": "boilerplate",
        "WASHINGTON (": "syndication",
        "This article": "boilerplate",
        "The port aut": "syndication",
    }


def test_stored_credits_label_as_the_texts_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage reads the documents' credits from the ``credits`` table it keeps up to date
    (not from every copy's text again): the same clusters, passages and kinds as reading the
    texts, also once documents are replaced by uncredited ones (ids aside: a cluster an
    update finds again keeps its id)."""
    import chorus.reuse.stage as stage

    def rows(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        clusters = store.con.execute(
            "SELECT * EXCLUDE (cluster_id) FROM reuse_clusters ORDER BY ALL"
        ).fetchall()
        return clusters, [p[1:] for p in _passages(store)]

    docs = _kinds_corpus()
    with _store_with(tmp_path, docs) as store:
        find_reuse(store)
        stored = rows(store)
        assert store.con.execute("SELECT count(DISTINCT doc_id) FROM credits").fetchone() == (6,)
        with monkeypatch.context() as m:
            m.setattr(stage, "read_credits", lambda store, doc_ids: None)
            find_reuse(store)
        assert rows(store) == stored
        path = write_jsonl(
            tmp_path / "uncredited.jsonl",
            [json.dumps(d) for d in _kinds_corpus(credited=False) if str(d["id"])[0] == "w"],
        )
        ingest_paths(store, [path], replace=True)
        find_reuse(store)
        replaced = rows(store)
        assert _kinds(store)["The central "] == "reuse"
    with _store_with(tmp_path, _kinds_corpus(credited=False), "fresh") as fresh:
        find_reuse(fresh)
        assert rows(fresh) == replaced


def test_a_whole_document_copied_is_not_furniture(tmp_path: Path) -> None:
    """A passage that is most of its document sits at both ends of it; mentioning Twitter
    does not make it page furniture."""
    story = (
        "The mayor said on Twitter that the new bridge will open next spring after three "
        "years of delays, and council members who follow the project closely agreed that "
        "the schedule finally looks realistic for the city and its commuters"
    )
    docs = [{"id": f"d{i}", "source": f"Paper{i}", "text": f"{story}."} for i in range(3)]
    with _store_with(tmp_path, docs) as store:
        find_reuse(store)
        kinds = store.con.execute("SELECT kind FROM reuse_clusters").fetchall()
    assert kinds == [("reuse",)]


@pytest.mark.parametrize(
    ("text", "source", "wire"),
    [
        ("NEW YORK (AP) — Stocks fell.", "Daily", True),
        ("LONDON (Reuters) - Prices rose.", "Daily", True),
        ("The Associated Press contributed to this report.", "Daily", True),
        ("Reporting by A; Editing by B", "Daily", True),
        ("According to Reuters, prices rose.", "Daily", False),
        ("WASHINGTON (AFP) Prices rose.", "Daily", True),
        ("Prices rose.\n\n— Associated Press", "Daily", True),
        ("Anything at all.", "CNN (Web News)", False),
        ("Anything at all.", "Reuters", True),
    ],
)
def test_wire_attribution(text: str, source: str, wire: bool) -> None:
    assert is_wire_document(text, source) is wire


# -- the seed corpus (EXPECTED.md: V1 footer in 001 and 004, V2 paragraph repeated in 004) --------
def test_seeds(store: Store) -> None:
    ingest_paths(store, [SEEDS])
    find_reuse(store)
    clusters = store.con.execute(
        "SELECT cluster_id, kind, n_docs, n_sources, representative FROM reuse_clusters"
    ).fetchall()
    assert len(clusters) == 2, "no spurious clusters"
    by_kind = {kind: (cid, n_docs, text) for cid, kind, n_docs, _, text in clusters}
    footer_id, _, footer = by_kind["boilerplate"]
    assert footer.startswith("MEK Iran (follow them on Twitter and Facebook)")
    assert footer.rstrip().endswith("MEK IRAN – YouTube")
    repeat_id, n_docs, paragraph = by_kind["reuse"]
    assert n_docs == 1 and paragraph.startswith("The next administration would be wise")
    assert paragraph.endswith("so they are easy to identify.")
    places = store.con.execute(
        "SELECT cluster_id, doc_id FROM passages ORDER BY cluster_id, doc_id, start"
    ).fetchall()
    assert sorted(places) == sorted(
        [
            (footer_id, "001_3446158c2f518966"),
            (footer_id, "004_7d8a5bfdc9a4184b"),
            (repeat_id, "004_7d8a5bfdc9a4184b"),
            (repeat_id, "004_7d8a5bfdc9a4184b"),
        ]
    )
    texts = dict(store.con.execute("SELECT doc_id, text FROM documents").fetchall())
    for _, doc_id, start, end, text in _passages(store):
        assert texts[doc_id][start:end] == text
