"""Keyphrases: the words and word pairs a talking point's restatements share, weighted by
how rare they are across all points (class-based TF-IDF, as BERTopic, counted by claims).

Two kernels that both engines call: :func:`claim_terms` per point (which terms, in how many
of its claims), then :func:`rank_keyphrases` per point once every point's counts are summed.
A term counts once per claim, so a word one restatement repeats does not outweigh a word
three of them share; a pair is two adjacent words of the text (never two words a stop word
stood between); with two claims or more, a keyphrase is held by at least two of them.

Stop words are per language: a text's language is the one whose stop list holds most of its
words (stopwords-iso, 58 languages; English, and a text with none of them, keep
scikit-learn's English list). Words of scripts written without spaces (Chinese, Japanese,
Thai) are no terms: a run of them is a clause, not a word, so those texts step aside.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import chain

# Letters first, then letters, digits, apostrophes or hyphens: "mek's", "so-called".
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]{2,}")
_POSSESSIVE = re.compile(r"['’]s$")
_ELIDED = re.compile(r"^[^\W\d_]{1,2}['’]")
# Han, kana, Thai, Lao, Khmer, Myanmar: scripts written without spaces between words.
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@lru_cache(maxsize=1)
def _stop_lists() -> tuple[dict[str, frozenset[str]], dict[str, tuple[str, ...]]]:
    """Each language's stop words, and for each stop word the languages that list it."""
    import stopwordsiso

    lists = {lang: frozenset(stopwordsiso.stopwords(lang)) for lang in sorted(stopwordsiso.langs())}
    listing: dict[str, list[str]] = {}
    for lang, words in lists.items():
        for word in words:
            listing.setdefault(word, []).append(lang)
    return lists, {word: tuple(langs) for word, langs in listing.items()}


def stop_words_for(words: Sequence[str]) -> tuple[str, frozenset[str]]:
    """The language of a text of these (lower-case) words and its stop list: the language
    whose stop list holds most of them, if twice as many as English's (and three at least
    when some word is in Latin script); else English (scikit-learn's list).

    >>> stop_words_for(["les", "prisonniers", "ont", "été", "exécutés"])[0]
    'fr'
    >>> stop_words_for(["the", "prisoners", "were", "executed"])[0]
    'en'
    """
    lists, listing = _stop_lists()
    votes = Counter(chain.from_iterable([listing[w] for w in words if w in listing]))
    best = max(votes.values(), default=0)
    # In Latin script, three stop words at least, and twice English's: a heading or a name
    # ("Muslim ban?", "Tim Marchman") says nothing of its language, and lists overlap ("in"
    # and "to" are Slovenian stop words, "december" too). English's list is no help to a
    # text without a Latin word.
    floor = 3 if any(w.isascii() for w in words) else 1
    if best < max(floor, 2 * votes["en"]):
        return "en", _stop_words()
    lang = min(lang for lang, n in votes.items() if n == best)
    return lang, lists[lang]


def text_terms(text: str) -> set[str]:
    """The terms of one text: its words and adjacent word pairs with no stop word and no
    punctuation between them, lower-case, possessives cut.

    >>> sorted(text_terms("Support for the Resistance has grown around the world"))
    ['grown', 'resistance', 'support', 'world']
    >>> sorted(text_terms("Free Iran's world, foreign dignitaries"))
    ['dignitaries', 'foreign', 'foreign dignitaries', 'free', 'free iran', 'iran', 'world']
    """
    lowered = text.lower()
    matches = list(_TOKEN.finditer(lowered))
    lang, stop = stop_words_for([m.group() for m in matches])
    terms: set[str] = set()
    previous, previous_end = "", -1
    for match in matches:
        word = _POSSESSIVE.sub("", match.group()) if lang == "en" else match.group()
        if lang != "en":
            word = _ELIDED.sub("", word)  # French, Italian, Catalan: "l'été" is "été"
        joined = previous_end >= 0 and not lowered[previous_end : match.start()].strip()
        if word in stop or len(word) < 2 or _UNSPACED.search(word):
            previous, previous_end = "", -1
            continue
        terms.add(word)
        if previous and joined:
            terms.add(f"{previous} {word}")
        # "world's foreign": a possessive ends a phrase as well as a word.
        ends = lang == "en" and match.group() != word
        previous, previous_end = ("", -1) if ends else (word, match.end())
    return terms


def claim_terms(claims: Sequence[str]) -> Counter[str]:
    """Per term, how many of the point's claims hold it."""
    counted: Counter[str] = Counter()
    for claim in claims:
        counted.update(text_terms(claim))
    return counted


def rank_keyphrases(
    terms: Mapping[str, int],
    n_claims: int,
    totals: Mapping[str, int],
    average: float,
    *,
    top: int = 5,
) -> list[str]:
    """The ``top`` keyphrases of one point from its :func:`claim_terms` (``n_claims`` claims),
    every term's count summed over all points (``totals``) and the mean claims per point.

    Weight: the share of the point's claims holding the term times ``log(1 + average /
    total)``. A word inside a kept pair is not listed again; ties go alphabetically."""
    floor = 2 if n_claims >= 2 else 1
    weight = {
        term: count / max(n_claims, 1) * math.log1p(average / max(totals.get(term, count), 1))
        for term, count in terms.items()
        if count >= floor
    }
    kept: list[str] = []
    inside: set[str] = set()
    for term in sorted(weight, key=lambda t: (-weight[t], t)):
        if len(kept) == top:
            break
        if term in inside:
            continue
        parts = term.split(" ")
        if len(parts) == 2 and any(p in kept for p in parts):
            # The pair says more than the word already listed: list it in the word's place.
            kept = [k for k in kept if k not in parts]
        kept.append(term)
        inside.update(parts if len(parts) == 2 else ())
    return kept


def keyphrases(
    classes: Sequence[Sequence[str]],
    *,
    top: int = 5,
    totals: Mapping[str, int] | None = None,
    average: float | None = None,
) -> list[list[str]]:
    """The ``top`` keyphrases of each class of texts (a point's claims). ``totals`` (every
    term's count over all points) and ``average`` (claims per point) are counted from
    ``classes`` unless given: an update ranks the points it changed against the counts of
    the whole store."""
    return keyphrases_and_totals(classes, top=top, totals=totals, average=average)[0]


def keyphrases_and_totals(
    classes: Sequence[Sequence[str]],
    *,
    top: int = 5,
    totals: Mapping[str, int] | None = None,
    average: float | None = None,
) -> tuple[list[list[str]], Mapping[str, int]]:
    """:func:`keyphrases`, and the term counts they were ranked with."""
    counted = [claim_terms(texts) for texts in classes]
    if totals is None:
        summed: Counter[str] = Counter()
        for terms in counted:
            summed.update(terms)
        totals = summed
    if average is None:
        average = max(sum(len(texts) for texts in classes) / len(classes), 1.0) if classes else 1.0
    ranked = [
        rank_keyphrases(terms, len(texts), totals, average, top=top)
        for terms, texts in zip(counted, classes, strict=True)
    ]
    return ranked, totals
