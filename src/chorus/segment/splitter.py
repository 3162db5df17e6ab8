"""A rule-based sentence splitter for news and web text that keeps exact character offsets.

Why rules and not a model: it must run over hundreds of millions of characters in seconds, be
deterministic, and never alter the text (``text[start:end]`` is the sentence, always).

Boundaries are proposed at runs of terminal punctuation followed by space (Latin and
Arabic-script stops alike), after full-width stops (Chinese, Japanese), and at line breaks;
each proposal is then judged from the word before it (abbreviations, initials, list numbers)
and the character after it (a lowercase letter continues the sentence; letters of scripts
without case start one).
"""

from __future__ import annotations

import re
from typing import NamedTuple


class SentenceSpan(NamedTuple):
    """A sentence as character offsets into its text: ``text[start:end]``."""

    start: int
    end: int


# Titles and other abbreviations that never end a sentence before a name or number.
_NEVER_FINAL = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "messrs",
        "mme",
        "mlle",
        "dr",
        "prof",
        "sen",
        "sens",
        "rep",
        "reps",
        "gov",
        "govs",
        "gen",
        "lt",
        "col",
        "maj",
        "capt",
        "cmdr",
        "adm",
        "sgt",
        "cpl",
        "pvt",
        "st",
        "ste",
        "rev",
        "fr",
        "hon",
        "pres",
        "supt",
        "det",
        "insp",
        "atty",
        "amb",
        "sec",
        "gens",
        "no",
        "nos",
        "vol",
        "vols",
        "pp",
        "p",
        "fig",
        "figs",
        "art",
        "arts",
        "para",
        "ch",
        "chs",
        "approx",
        "dept",
        "univ",
        "assn",
        "bros",
        "ave",
        "blvd",
        "rd",
        "mt",
        "ft",
        "vs",
        "v",
        "cf",
        "al",
        "op",
        "ed",
        "eds",
        "repr",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    ]
)
# Abbreviations that often end a sentence too ("... at Apple Inc. The company ...").
_SOMETIMES_FINAL = frozenset(["inc", "corp", "co", "ltd", "llc", "plc", "jr", "sr", "etc", "esq"])

# Words that start sentences far more often than they follow an abbreviation mid-sentence.
_STARTERS = frozenset(
    [
        "the",
        "a",
        "an",
        "he",
        "she",
        "it",
        "they",
        "we",
        "i",
        "you",
        "his",
        "her",
        "its",
        "their",
        "our",
        "this",
        "that",
        "these",
        "those",
        "there",
        "but",
        "and",
        "so",
        "yet",
        "or",
        "nor",
        "if",
        "when",
        "while",
        "after",
        "before",
        "as",
        "in",
        "on",
        "at",
        "for",
        "from",
        "with",
        "by",
        "to",
        "of",
        "however",
        "meanwhile",
        "still",
        "also",
        "then",
        "now",
        "today",
        "yesterday",
        "last",
        "next",
        "some",
        "many",
        "most",
        "one",
        "two",
        "what",
        "who",
        "why",
        "how",
        "where",
        "which",
        "according",
        "mr",
        "mrs",
        "ms",
        "dr",
        "president",
        "officials",
    ]
)

# Terminal punctuation: Latin and Arabic-script stops ("?" is "؟" in Arabic and Persian, "۔"
# the Urdu full stop, "।" the Devanagari danda) before a space; the full-width stops of
# scripts written without spaces (Chinese, Japanese: "。", "！", "？") before anything.
_CANDIDATE = re.compile(r"[.!?…‽؟۔।]+['\"”’»)\]]*(?=\s)|[。！？｡]+[」』”’）〕】\"'»)\]]*|\n")
_WIDE_STOPS = "。！？｡"
_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]\.?$")
_OPENERS = "\"'“‘«([¿¡-–—•*#"
_LEADING_PUNCT = "\"'“‘«(["
_WORD_END = re.compile(r"[\s\"'“”‘’«»()\[\]]")


def _next_visible(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos].isspace():
        pos += 1
    return pos


def _word_before(text: str, end: int) -> str:
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end].lstrip(_LEADING_PUNCT)


def _word_after(text: str, pos: int) -> str:
    m = _WORD_END.search(text, pos, pos + 40)
    return text[pos : m.start() if m else pos + 40].rstrip(".,;:!?").lower()


def _starts_sentence(ch: str) -> bool:
    # Anything but a lower-case letter: capitals, digits, openers, and the letters of
    # scripts without case (Arabic, Persian, Hebrew, Chinese...).
    return not ch.islower()


def _period_ends_sentence(text: str, m_start: int, m_end: int, nxt: int) -> bool:
    """Judge a single '.' (maybe with closing quotes) followed by ``text[nxt]``."""
    ch = text[nxt]
    if not _starts_sentence(ch):
        return False
    punct = text[m_start:m_end]
    if punct != ".":
        # A quote or bracket closes after the period: the period is the speaker's full stop.
        return True
    word = _word_before(text, m_start)
    lower = word.lower()
    if lower in _NEVER_FINAL:
        return False
    if len(word) == 1 and word.isalpha():
        # An initial ("J. K. Rowling"); a one-letter sentence end is rarer than initials.
        return False
    if word.isdigit() and len(word) <= 3:
        line_start = m_start - len(word)
        if line_start == 0 or text[line_start - 1] == "\n":
            return False  # "1. First item" in a numbered list
    if lower in _SOMETIMES_FINAL or _ACRONYM.match(word + "."):
        # "U.S." or "Inc." end a sentence only if a typical sentence opener follows.
        return _word_after(text, nxt) in _STARTERS
    return True


def _line_break_ends_sentence(text: str, pos: int, nxt: int) -> bool:
    """A line break ends a sentence unless it is a soft wrap inside running text."""
    if nxt >= len(text):
        return True
    if text.count("\n", pos, nxt) > 1:
        return True  # blank line: paragraph break
    prev = pos - 1
    while prev >= 0 and text[prev] in " \t\r":
        prev -= 1
    if prev < 0:
        return True
    before = text[prev]
    after = text[nxt]
    return not ((before.isalnum() or before in ",;") and after.islower())


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# Where an over-long run is cut first: after a clause mark (Latin, Arabic-script, CJK).
_CLAUSE_BREAKS = ("; ", ", ", "، ", "؛ ", "，", "、", "；")


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[SentenceSpan]:
    """Split an over-long run (lists, tables, unpunctuated text) at clause or word breaks."""
    spans: list[SentenceSpan] = []
    while end - start > max_chars:
        window = text[start : start + max_chars]
        cut = max(window.rfind(mark) for mark in _CLAUSE_BREAKS)
        if cut < max_chars // 2:
            cut = window.rfind(" ")
        cut = max_chars if cut <= 0 else cut + 1
        s, e = _trimmed(text, start, start + cut)
        if s < e:
            spans.append(SentenceSpan(s, e))
        start += cut
    s, e = _trimmed(text, start, end)
    if s < e:
        spans.append(SentenceSpan(s, e))
    return spans


def split_sentences(text: str, *, max_chars: int = 1000) -> list[SentenceSpan]:
    """Split ``text`` into sentences, returned as offsets into ``text``.

    Every sentence is stripped of surrounding whitespace and non-empty, the spans are in order
    and do not overlap, and every non-space character of ``text`` lies in exactly one span.
    Sentences longer than ``max_chars`` are cut at a clause or word break.

    >>> text = "Mr. Smith went to Washington. He arrived at 5 p.m. on Monday."
    >>> [text[s.start:s.end] for s in split_sentences(text)]
    ['Mr. Smith went to Washington.', 'He arrived at 5 p.m. on Monday.']
    """
    spans: list[SentenceSpan] = []
    start = 0
    n = len(text)
    for m in _CANDIDATE.finditer(text):
        m_start, m_end = m.span()
        nxt = _next_visible(text, m_end)
        if text[m_start] == "\n":
            if not _line_break_ends_sentence(text, m_start, nxt):
                continue
            cut = m_start
        elif text[m_start] in _WIDE_STOPS:
            # No case, no abbreviations, no space: the stop ends the sentence, unless it
            # closes a quotation the sentence goes on after (「…です。」と言った).
            quoted = text[m_end - 1] not in _WIDE_STOPS
            if (
                quoted
                and m_end < n
                and not text[m_end].isspace()
                and text[m_end] not in "「『“（(【"
            ):
                continue
            cut = m_end
        else:
            if nxt >= n:
                break
            punct = text[m_start:m_end]
            if punct[0] == "." and punct.count(".") == 1 and not punct.startswith("..."):
                if not _period_ends_sentence(text, m_start, m_end, nxt):
                    continue
            elif text[nxt].islower():
                continue  # '"Why?" he asked.' / "wait... then"
            cut = m_end
        s, e = _trimmed(text, start, cut)
        if s < e:
            if e - s > max_chars:
                spans.extend(_cut_long(text, s, e, max_chars))
            else:
                spans.append(SentenceSpan(s, e))
        start = cut
    s, e = _trimmed(text, start, n)
    if s < e:
        if e - s > max_chars:
            spans.extend(_cut_long(text, s, e, max_chars))
        else:
            spans.append(SentenceSpan(s, e))
    return spans
