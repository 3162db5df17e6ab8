"""What of a sentence is embedded: the claim, without links, handles and the names every
document of the corpus repeats."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence

_URL = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S+", re.IGNORECASE)
# "— Name (@handle) January 6, 2020" at the end of a pasted tweet.
_ATTRIBUTION = re.compile(
    r"\s*[—–-]+\s*[^—–\n]{0,80}\(@\w+\)\s*[A-Z][a-z]+\.?\s+\d{1,2},\s+\d{4}\s*$"
)
_SIGIL = re.compile(r"[@#](\w)")
_HASHTAG = re.compile(r"#(\w+)")
# Inside a hashtag, a word starts at a capital after two small letters ("DefundThe", not
# "iPhone") or at the last capital of a run ("CBCNews" -> "CBC News").
_CAMEL = re.compile(r"(?<=[a-z]{2})(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPACE = re.compile(r"\s+")
_EMPTY_BRACKETS = re.compile(r"\(\s*[/,\s]*\)")
# Chinese and Japanese are written without spaces: each of their characters counts as a word
# (a sentence of twelve characters is about six words), so a claim in them is long enough.
_SPACELESS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD = re.compile(rf"[{_SPACELESS}]|[^\W{_SPACELESS}]+(?:['’][^\W{_SPACELESS}]+)?")
# The same words for DuckDB (RE2), to count them in SQL: any script's letters, digits and
# marks (RE2's ``\w`` is ASCII only, and would find no word in Persian or Arabic).
WORD_SQL = r"[\p{Han}\p{Hiragana}\p{Katakana}]|[\pL\pN\pM_]+"


def _content_stop() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    # Contractions count as their stop word ("it's", "don't"), curly apostrophes as straight.
    contracted = {
        "it's",
        "don't",
        "doesn't",
        "isn't",
        "aren't",
        "wasn't",
        "can't",
        "won't",
        "i'm",
        "we're",
        "they're",
        "you're",
        "he's",
        "she's",
        "that's",
        "there's",
    }
    return frozenset(ENGLISH_STOP_WORDS | contracted | {w.replace("'", "’") for w in contracted})


_CONTENT_STOP = _content_stop()

# Common English words are never masked: they are not names.
_STOP = frozenset(
    [
        "a",
        "about",
        "after",
        "all",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "may",
        "more",
        "most",
        "no",
        "not",
        "of",
        "on",
        "one",
        "or",
        "our",
        "out",
        "she",
        "so",
        "some",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "up",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
    ]
)


def claim_text(text: str) -> str:
    """The sentence without URLs, a trailing tweet attribution, and @/# sigils; hashtags are
    split into their words.

    >>> claim_text("#DefundTheCBC now! https://t.co/x — Brad (@brad) December 26, 2019")
    'Defund The CBC now!'
    """
    text = _ATTRIBUTION.sub("", text)
    text = _URL.sub(" ", text)
    text = _HASHTAG.sub(lambda m: _CAMEL.sub(" ", m.group(1)), text)
    text = _SIGIL.sub(r"\1", text)
    return _SPACE.sub(" ", text).strip()


def unit_key(text: str) -> str:
    """Sentences equal up to case and spacing are one unit, embedded once."""
    return _SPACE.sub(" ", text.casefold()).strip()


def unit_digest(claim: str) -> bytes:
    """The key a claim's unit is filed under in both engines: a digest of its
    :func:`unit_key`, so millions of keys stay small."""
    return hashlib.blake2b(unit_key(claim).encode("utf-8"), digest_size=12).digest()


def content_words(text: str) -> int:
    """How many words of ``text`` carry content: not English stop words (scikit-learn's
    list, which holds "going", "never", "nothing" but not "happen")."""
    return sum(1 for word in WORD.findall(text) if word.casefold() not in _CONTENT_STOP)


def claim_unit(text: str, names: set[str], *, min_content_words: int) -> str | None:
    """What of a sentence is embedded (:func:`claim_text` with the shared ``names``
    masked), or ``None`` when too little is left to make a claim: a stock phrase ("It's
    not going to happen") or a sentence of names. Both engines build units with this."""
    claim = mask_names(claim_text(text), names)
    if not unit_key(claim) or content_words(claim) < min_content_words:
        return None
    return claim


# Names are counted over an even sample of this many documents: a name in 60% of them is in
# about 60% of all, and the count stays cheap on any corpus.
NAME_SAMPLE_DOCS = 2000


def name_sample(doc_ids: Sequence[str]) -> list[str]:
    """The documents (every k-th of ``doc_ids`` sorted) whose names both engines count."""
    ordered = sorted(doc_ids)
    return ordered[:: max(1, len(ordered) // NAME_SAMPLE_DOCS)]


def shared_names(
    docs: Iterable[Sequence[str]], *, share: float = 0.6, minimum: int = 3
) -> set[str]:
    """Capitalised words (names) found in at least ``share`` of the documents (and at least
    ``minimum`` of them). In a one-topic corpus these are the organisation and country every
    article names; they make every sentence look alike, so they are masked."""
    doc_freq: Counter[str] = Counter()
    capitalised: Counter[str] = Counter()
    total: Counter[str] = Counter()
    n_docs = 0
    for sentences in docs:
        n_docs += 1
        seen: set[str] = set()
        for sentence in sentences:
            for word in WORD.findall(sentence):
                lower = word.casefold()
                seen.add(lower)
                total[lower] += 1
                capitalised[lower] += word[0].isupper()
        doc_freq.update(seen)
    cut = max(minimum, share * n_docs)
    return {
        word
        for word, count in doc_freq.items()
        if count >= cut and word not in _STOP and capitalised[word] >= 0.8 * total[word]
    }


def mask_names(text: str, names: set[str]) -> str:
    if not names:
        return text
    masked = WORD.sub(lambda m: "" if m.group(0).casefold() in names else m.group(0), text)
    masked = _EMPTY_BRACKETS.sub("", masked)
    return _SPACE.sub(" ", masked).strip()
