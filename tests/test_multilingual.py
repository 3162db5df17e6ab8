"""Talking points across languages: one claim in English, French, Persian and Arabic is one
point; a Persian corpus gets points whose offsets round-trip; ``auto`` picks the model by the
documents' languages; per-language centring against a plain loop; a watchlist item and
"points like this" meet their translations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from chorus import views
from chorus.ingest import ingest_paths
from chorus.match import (
    MatchDocument,
    MatchSettings,
    WatchItem,
    add_watchlist,
    run_watch,
    watch_item_hits,
)
from chorus.match.stage import match_documents
from chorus.points import PointsSettings, find_points
from chorus.points.keyphrases import text_terms
from chorus.points.neighbours import LANGUAGE_PRIOR_ROWS, centre_by_language
from chorus.reuse import find_reuse
from chorus.search import build_label_index
from chorus.serve.similar import SimilarPoints
from chorus.store import Store, open_store

from .conftest import write_jsonl

# One claim, written in four languages, each beside sentences on other subjects.
CLAIM = {
    "en": "The regime executed thirty thousand political prisoners in the summer of 1988.",
    "fr": "Le régime a exécuté trente mille prisonniers politiques au cours de l'été 1988.",
    "fa": "رژیم در تابستان ۱۹۸۸ سی هزار زندانی سیاسی را اعدام کرد.",
    "ar": "أعدم النظام ثلاثين ألف سجين سياسي في صيف عام 1988.",
}
OTHERS = {
    "en": [
        "The city council approved a new budget for the public libraries on Tuesday.",
        "Heavy rain is expected across the northern coast later this week, forecasters said.",
    ],
    "fr": [
        "Le club de football a recruté un nouvel entraîneur venu d'Espagne cet hiver.",
        "Les prix du pain ont augmenté de dix pour cent dans les boulangeries de Lyon.",
    ],
    "fa": [
        "دانشجویان دانشگاه تهران برای امتحانات پایان ترم آماده می‌شوند.",
        "قیمت گوجه فرنگی در بازارهای شیراز در هفته گذشته کاهش یافت.",
    ],
    "ar": [
        "افتتحت البلدية حديقة عامة جديدة للأطفال في وسط المدينة.",
        "فاز المنتخب الوطني بكرة القدم في مباراة ودية أمس بعد أداء رائع.",
    ],
}


def _store(tmp_path: Path, docs: list[dict[str, str]]) -> Store:
    store = open_store(tmp_path / "x.duckdb")
    ingest_paths(store, [write_jsonl(tmp_path / "docs.jsonl", [json.dumps(d) for d in docs])])
    find_reuse(store)
    return store


def _points(store: Store) -> list[set[str]]:
    rows = store.con.execute(
        "SELECT point_id, list(text ORDER BY doc_id) FROM mentions GROUP BY point_id"
    ).fetchall()
    return [set(texts) for _, texts in rows]


def _round_trip(store: Store) -> None:
    rows = store.con.execute(
        'SELECT d.text, m.start, m."end", m.text FROM mentions m JOIN documents d USING (doc_id)'
    ).fetchall()
    assert rows
    for text, start, end, mention in rows:
        assert text[start:end] == mention


def test_one_claim_in_four_languages_is_one_point(tmp_path: Path) -> None:
    docs = [
        {"id": f"{lang}-1", "source": f"{lang}.example", "text": " ".join([CLAIM[lang], *rest])}
        for lang, rest in OTHERS.items()
    ]
    with _store(tmp_path, docs) as store:
        langs = store.con.execute("SELECT doc_id, lang FROM documents ORDER BY ALL").fetchall()
        assert [lang for _, lang in langs] == ["ar", "en", "fa", "fr"]
        summary = find_points(store)
        assert summary.n_points == 1
        assert _points(store) == [set(CLAIM.values())]
        settings = store.con.execute("SELECT settings FROM points_runs").fetchall()
        assert json.loads(settings[0][0])["model"] == "multilingual"
        _round_trip(store)

        # "Points like this": a sentence in any of the languages finds the point first.
        summary_labels = build_label_index(store)
        assert summary_labels.embedder == "multilingual-e5-small-q4"
        similar = SimilarPoints(store)
        point_id = store.con.execute("SELECT point_id FROM points").fetchall()[0][0]
        for lang in CLAIM:
            query = {
                "en": "Thirty thousand political prisoners were executed by the regime in 1988.",
                "fr": "En 1988, le régime a fait exécuter trente mille prisonniers politiques.",
                "fa": "سی هزار زندانی سیاسی در سال ۱۹۸۸ توسط رژیم اعدام شدند.",
                "ar": "في عام 1988 أعدم النظام ثلاثين ألف سجين سياسي.",
            }[lang]
            assert [h.point_id for h in similar.search(query, limit=1)] == [point_id]

        # A watchlist in English: every language's document shows the claim's sentence as
        # its evidence, and each outscores every document on other subjects.
        item = WatchItem("executions", CLAIM["en"])
        stored = [
            MatchDocument(doc_id, text)
            for doc_id, text in store.con.execute(
                "SELECT doc_id, text FROM documents ORDER BY doc_id"
            ).fetchall()
        ]
        others = [
            MatchDocument(f"{lang}-other-{i}", text)
            for lang, texts in OTHERS.items()
            for i, text in enumerate(texts)
        ]
        found = {
            r.id: r.matches[0]
            for r in match_documents(stored + others, [item], settings=MatchSettings(top_k=1))
        }
        assert {d.id: found[d.id].sentence for d in stored} == {
            f"{lang}-1": CLAIM[lang] for lang in CLAIM
        }
        assert min(found[d.id].score for d in stored) > max(found[d.id].score for d in others)

        # Stored, it runs with the multilingual model, and what it calls a hit is the claim.
        add_watchlist(store, "w", [item])
        run_watch(store, "w", settings=MatchSettings(min_score=0.7))
        hits = store.con.execute(
            "SELECT doc_id, sentence FROM watch_hits WHERE watchlist = 'w'"
        ).fetchall()
        assert hits and all(sentence == CLAIM[doc_id[:2]] for doc_id, sentence in hits)
        model = store.con.execute("SELECT settings FROM watch_runs").fetchall()[0][0]
        assert json.loads(model)["model"] == "multilingual"
        # The watchlist's views name the languages of the documents each item is found in.
        hit_langs = sorted({doc_id[:2] for doc_id, _ in hits})
        assert len(hit_langs) > 1
        assert watch_item_hits(store, "w").to_pylist()[0]["languages"] == hit_langs
        shown = views.watchlists(store)["watchlists"][0]["items"][0]
        assert shown["languages"] == hit_langs
        # The first mentions shown under a point (lists, "like this") carry their language.
        firsts = views.first_mentions(store, [point_id])[point_id]
        assert len(firsts) == 3
        assert all(m["lang"] == m["doc_id"][:2] for m in firsts)
        # As a store analysed before the index was filed there, its cache since cleared.
        store.con.execute("DELETE FROM _label_runs")
        store.con.execute("DELETE FROM _embeddings")

    # The app on a read-only store files the labels itself, with the points' model.
    with open_store(tmp_path / "x.duckdb", read_only=True) as store:
        hits = SimilarPoints(store).search(CLAIM["fa"], limit=1)
        assert [h.point_id for h in hits] == [point_id]


def test_matching_a_watchlist_across_languages_without_a_store() -> None:
    """``auto`` takes the multilingual model for French and Persian posts against an English
    watchlist; each post's best item is the one it translates."""
    items = [
        WatchItem("executions", CLAIM["en"]),
        WatchItem("budget", OTHERS["en"][0]),
        WatchItem("rain", OTHERS["en"][1]),
    ]
    posts = [
        MatchDocument("fr-claim", CLAIM["fr"]),
        MatchDocument("fa-claim", CLAIM["fa"]),
        MatchDocument("ar-claim", CLAIM["ar"]),
    ]
    found = match_documents(posts, items, settings=MatchSettings(top_k=1))
    assert [(r.id, [m.id for m in r.matches]) for r in found] == [
        ("fr-claim", ["executions"]),
        ("fa-claim", ["executions"]),
        ("ar-claim", ["executions"]),
    ]
    english_only = [MatchDocument("en", CLAIM["en"])]
    assert MatchSettings().for_languages({"en": 3}, {"en": 1}).model == "minilm"
    assert MatchSettings().for_languages({"en": 3}, {"fa": 1}).model == "multilingual"
    assert MatchSettings().for_languages({"fa": 1}, None).model == "multilingual"
    assert match_documents(english_only, items, settings=MatchSettings(top_k=1))[0].matches


PERSIAN = [
    # Two claims, each restated across documents, among sentences on other subjects.
    [
        "رژیم ایران در تابستان ۱۹۸۸ هزاران زندانی سیاسی را اعدام کرد.",
        "تیم ملی فوتبال ایران در یک بازی دوستانه پیروز شد.",
    ],
    [
        "در تابستان ۱۹۸۸ رژیم ایران هزاران زندانی سیاسی را به دار آویخت.",
        "قیمت نان در تهران در ماه گذشته دو برابر شده است.",
    ],
    [
        "هزاران زندانی سیاسی در تابستان ۱۹۸۸ به دستور رژیم ایران اعدام شدند.",
        "باران شدید در شمال کشور باعث سیل در چند روستا شد.",
    ],
    [
        "در ماه گذشته قیمت نان در شهر تهران دو برابر شد.",
        "کتابخانه جدید شهر هفته آینده برای همه مردم باز می‌شود.",
    ],
]


def test_a_persian_corpus_gets_points_whose_offsets_round_trip(tmp_path: Path) -> None:
    docs = [
        {"id": f"fa-{i}", "source": f"s{i}.example", "text": " ".join(sentences)}
        for i, sentences in enumerate(PERSIAN)
    ]
    with _store(tmp_path, docs) as store:
        find_points(store)
        found = _points(store)
        executions = {PERSIAN[0][0], PERSIAN[1][0], PERSIAN[2][0]}
        bread = {PERSIAN[1][1], PERSIAN[3][0]}
        assert sorted(found, key=len) == [bread, executions]
        _round_trip(store)


@pytest.mark.parametrize(
    ("languages", "model"),
    [
        ({"en": 1000}, "minilm"),
        ({"und": 50}, "minilm"),
        ({"en": 990, "de": 10}, "minilm"),  # misdetected articles do not change the model
        ({"en": 900, "fa": 100}, "multilingual"),
        ({"fa": 5}, "multilingual"),
        ({"fr": 3, "und": 1000}, "multilingual"),
    ],
)
def test_auto_picks_the_model_by_language(languages: dict[str, int], model: str) -> None:
    assert PointsSettings().for_languages(languages).model == model
    assert PointsSettings(model="minilm").for_languages(languages).model == "minilm"


def test_the_multilingual_model_takes_its_own_defaults_unless_told() -> None:
    chosen = PointsSettings().for_languages({"fa": 5})
    assert (chosen.model, chosen.lexical_weight, chosen.threshold) == ("multilingual", 0.0, -0.08)
    asked = PointsSettings(model="multilingual", threshold=0.05).for_languages({"en": 5})
    assert (asked.lexical_weight, asked.threshold) == (0.0, 0.05)
    english = PointsSettings().for_languages({"en": 5})
    assert english == PointsSettings(model="minilm")


def test_centring_by_language_against_a_loop() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    langs = ["en"] * 20 + ["fa"] * 12 + ["ar"] * 3 + ["und"] * 5
    got = centre_by_language(x.copy(), langs)
    corpus = x.astype(np.float64).mean(axis=0)
    for i, lang in enumerate(langs):
        rows = [j for j, other in enumerate(langs) if other == lang]
        mean = corpus
        if lang != "und":
            own = x[rows].astype(np.float64).sum(axis=0)
            mean = (own + LANGUAGE_PRIOR_ROWS * corpus) / (len(rows) + LANGUAGE_PRIOR_ROWS)
        want = x[i] - mean.astype(np.float32)
        assert np.allclose(got[i], want / np.linalg.norm(want), atol=1e-5)


@pytest.mark.parametrize(
    ("text", "n_words"),
    [
        ("The regime executed prisoners in 1988.", 6),
        ("رژیم در تابستان ۱۹۸۸ زندانیان را اعدام کرد.", 8),
        ("أعدم النظام ثلاثين ألف سجين سياسي.", 6),
        ("政权处决了数千名政治犯。", 11),
        ("政権は数千人の政治犯を処刑した。", 15),
    ],
)
def test_words_are_counted_in_every_script_alike_in_python_and_sql(text: str, n_words: int) -> None:
    import duckdb

    from chorus.points.text import WORD, WORD_SQL, content_words

    assert len(WORD.findall(text)) == n_words
    found = duckdb.connect().execute("SELECT len(regexp_extract_all(?, ?))", [text, WORD_SQL])
    assert found.fetchall() == [(n_words,)]
    # Outside English every word carries content: the stop list is English only.
    assert content_words(text) == (4 if text.isascii() else n_words)


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        # Each language's function words leave; its content words and pairs stay.
        (PERSIAN[0][0], {"زندانی سیاسی", "اعدام"}, {"را", "در"}),
        (CLAIM["fr"], {"prisonniers politiques", "régime", "exécuté"}, {"de", "au", "l'été"}),
        (CLAIM["ar"], {"سجين سياسي", "النظام"}, {"في"}),
        (
            "Die Regierung hat gestern ein neues Gesetz gegen den Krieg angekündigt.",
            {"neues gesetz", "krieg"},
            {"die", "hat", "ein", "gegen", "den"},
        ),
        # English keeps scikit-learn's list, whatever other lists hold ("war" is German).
        ("The war in December killed thousands.", {"war", "december", "killed"}, {"the"}),
        ("Muslim ban?", {"muslim ban"}, set()),
        # Scripts written without spaces step aside: a run of them is a clause, not a word.
        ("政府は昨日新しい法律を発表した。", set(), {"政府は昨日新しい法律を発表した"}),
    ],
)
def test_keyphrase_terms_drop_each_languages_stop_words(
    text: str, present: set[str], absent: set[str]
) -> None:
    terms = text_terms(text)
    assert present <= terms
    assert not absent & terms
