"""Wire credits: where a document says its text (or one sentence of it) comes from a news
agency, in the forms agencies are really credited across the news corpus.

Whole-document credits (the document is the agency's copy):
- ``dateline``: the agency in parentheses after a place, near the top, with or without a
  dash: "WASHINGTON (AFP) The ...", "BEIRUT, Lebanon (AP) — ...", "(Reuters) - ...";
- ``byline``: "By Jane Roe, Associated Press", "By The Associated Press", near the top;
- ``closing``: a last line "— Associated Press" or "- Reuters";
- ``copyright``: "Copyright 2019 The Associated Press", "© 2020 Reuters";
- ``reporting by``: Reuters' "Reporting by ... Editing by ...".

Partial credits (some of the document is wire copy, which part is not said):
- ``contributed``: "The Associated Press contributed to this report".

Sentence credits (that sentence is the agency's):
- ``reported``: "..., Reuters reported", "according to the Associated Press", "AP said";
- ``photo``: a caption credit "(AP Photo/Evan Vucci)".

A document "credits a wire" (what a reuse cluster's label counts) when it has a whole or a
partial credit. A credit to the source itself (Reuters' dateline on Reuters' pages, an AP
writer on AP's) credits nobody: those pages are what others credit.

Measured on the news corpus (37,554 articles): see ``bench/RESULTS.md``, "Wire credits".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyarrow as pa

from chorus.store.tables import TABLES

# Canonical agency name: the names and short forms it is credited with.
AGENCIES: dict[str, tuple[str, ...]] = {
    "Associated Press": ("The Associated Press", "Associated Press", "AP"),
    "Reuters": ("Thomson Reuters", "Reuters"),
    "AFP": ("Agence France-Presse", "Agence France Presse", "AFP"),
    "UPI": ("United Press International", "UPI"),
    "Bloomberg": ("Bloomberg News", "Bloomberg"),
    "dpa": ("Deutsche Presse-Agentur", "dpa", "DPA"),
    "Xinhua": ("Xinhua News Agency", "Xinhua"),
    "Press Association": ("Press Association", "PA Media"),
    "Canadian Press": ("The Canadian Press", "Canadian Press"),
    "EFE": ("EFE",),
    "ANSA": ("ANSA",),
    "Kyodo": ("Kyodo News", "Kyodo"),
    "Yonhap": ("Yonhap News Agency", "Yonhap"),
    "TASS": ("TASS",),
    "CNN": ("CNN Wire", "CNN"),
}
_CANONICAL = {name.casefold(): agency for agency, names in AGENCIES.items() for name in names}
# "Bloomberg said" is mostly Michael Bloomberg and "CNN reported" is one outlet citing
# another: neither passes a sentence to an agency.
_NOT_REPORTERS = {"Bloomberg", "CNN", "CNN Wire"}


def _alternation(names: set[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=lambda n: (-len(n), n)))


_ALL = {n for names in AGENCIES.values() for n in names}
_AGENCY = rf"(?P<agency>{_alternation(_ALL)})"
_REPORTER = rf"(?P<agency>{_alternation(_ALL - _NOT_REPORTERS)})"

# How far from the top a dateline or byline may sit, and from the end a closing line.
_HEAD = 400
_TAIL = 300

# At a line's start or after a sentence (a headline run into the text before it), with the
# story going on in the same line: "(Reuters)" closing a line is a caption's credit.
_DATELINE_BODY = (
    rf"(?:^|(?<=[.!?\"”’]\s))[^\S\n]*(?:[A-Z][\w.'’-]*(?:,?[^\S\n]+[A-Z][\w.'’-]*){{0,5}},?[^\S\n]*)?"
    rf"\({_AGENCY}\)(?:[^\S\n]*[-—–:]+)?(?=[^\S\n]*\S)"
)
_DATELINE = re.compile(_DATELINE_BODY, re.MULTILINE)
_BYLINE = re.compile(
    rf"^[^\S\n]*By[^\S\n]+(?:[^\n]{{1,80}}?(?:,|\||/|\bof\b)[^\S\n]*)?{_AGENCY}[^\S\n]*\.?$",
    re.MULTILINE,
)
_CLOSING = re.compile(rf"^[^\S\n]*[-—–]{{1,2}}[^\S\n]*{_AGENCY}[^\S\n]*\.?[^\S\n]*$", re.MULTILINE)
_NAME = r"[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}"
# "contributed to this report", "contributed reporting": not "Bloomberg contributed $1m".
_CONTRIBUTED = re.compile(
    rf"{_REPORTER}(?:\s+(?:writers?|reporters?|staff|correspondents?)"
    rf"(?:\s+{_NAME}(?:\s*(?:,|and|,\s*and)\s*{_NAME})*)?)?\s+contributed"
    rf"\s+(?:reporting\b|to\s+(?:this|the)\s+(?:report|story|article)\b)"
)
_COPYRIGHT = re.compile(rf"(?:©|\([cC]\)|Copyright)[^\S\n]*(?:\d{{4}}[^\S\n]*)?{_AGENCY}\b")
_REPORTING_BY = re.compile(r"\bReporting by\b[^\n]{0,300}?\bEditing by\b")
_REPORTED_AFTER = re.compile(
    rf"\b{_REPORTER},? (?:reported|reports|said|says|wrote|writes|quoted)\b"
)
_REPORTED_BEFORE = re.compile(rf"\b(?:according to (?:the )?|told ){_REPORTER}\b")
_PHOTO = re.compile(rf"\({_AGENCY} Photos?(?:/[^)\n]{{0,80}})?\)")
_SENTENCE_END = re.compile(r"[.!?\n]")

# What a dateline or credit line is made of, when a template is judged.
_CREDIT_LINE = re.compile(
    "|".join(
        (
            _DATELINE_BODY,
            _CONTRIBUTED.pattern,
            _COPYRIGHT.pattern,
            _PHOTO.pattern,
            r"All rights reserved|\bReporting by\b|\bEditing by\b|\bBy\b",
        )
    ).replace("(?P<agency>", "(?:")
    + "|"
    + _AGENCY.replace("(?P<agency>", "(?:")
)
_WORD = re.compile(r"\w+")

WHOLE_FORMS = ("dateline", "byline", "closing", "copyright", "reporting by")
SENTENCE_FORMS = ("reported", "photo")
WIRE_FORMS = (*WHOLE_FORMS, "contributed")

CREDITS_SCHEMA = TABLES["credits"].arrow_schema()


@dataclass(frozen=True)
class Credit:
    """One credit: the agency (canonical name), its form, where it is (for a sentence credit,
    the sentence around it), and whether it makes the whole document the agency's copy."""

    agency: str
    form: str
    start: int
    end: int
    whole: bool


def agency_of(name: str) -> str | None:
    """The canonical agency a name stands for.

    >>> agency_of("The Associated Press"), agency_of("thomson reuters"), agency_of("Fox News")
    ('Associated Press', 'Reuters', None)
    """
    return _CANONICAL.get(name.strip().casefold())


# A section after a spaced separator ("X - Opinion", "X | World", "X: Politics") or in
# parentheses ("X (Web News)"); a hyphen inside a name ("news-site.com", "b1-post-3") is
# part of the name.
_SECTION = re.compile(r"\s*\(.*\)$|\s+[-–—|]\s.*$|:\s.*$")


def outlet(source: str) -> str:
    """The outlet a source name belongs to: "New York Times - Opinion" and "New York Times -
    News" are sections of one outlet, whose template they share.

    >>> outlet("New York Times - Opinion"), outlet("CNN (Web News)"), outlet("news-site.com")
    ('new york times', 'cnn', 'news-site.com')
    """
    return _SECTION.sub("", source).strip().casefold() or source.casefold()


def source_agency(source: str) -> str | None:
    """The agency a source is, if it is one ("Reuters", "Associated Press", "AFP - World",
    "CNN (Web News)")."""
    return agency_of(outlet(source)) or agency_of(source)


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    lo = max(0, start - 400)
    left = max((m.end() for m in _SENTENCE_END.finditer(text, lo, start)), default=lo)
    found = _SENTENCE_END.search(text, end)
    right = found.end() if found else len(text)
    return left, right


def find_credits(text: str, source: str = "") -> list[Credit]:
    """Every wire credit in a document, in order of position."""
    own = source_agency(source) if source else None
    found: list[Credit] = []

    def add(m: re.Match[str], form: str, whole: bool) -> None:
        agency = agency_of(m.group("agency")) if "agency" in m.re.groupindex else "Reuters"
        if agency is None:
            return
        # A site's own dateline ("(CNN)" on CNN) credits nobody else.
        if agency == own:
            return
        start, end = m.start(), m.end()
        if form in SENTENCE_FORMS:
            start, end = _sentence_around(text, start, end)
        found.append(Credit(agency, form, start, end, whole))

    head = text[:_HEAD]
    for m in _DATELINE.finditer(head):
        add(m, "dateline", True)
    for m in _BYLINE.finditer(head):
        add(m, "byline", True)
    tail_at = max(0, len(text) - _TAIL)
    for m in _CLOSING.finditer(text, tail_at):
        add(m, "closing", True)
    # The full-text forms are rare: a substring test keeps the regexes off most documents.
    if "contributed" in text:
        for m in _CONTRIBUTED.finditer(text):
            add(m, "contributed", False)
    if "©" in text or "opyright" in text or "(c)" in text or "(C)" in text:
        for m in _COPYRIGHT.finditer(text):
            # At the end of the text it is the text's copyright; elsewhere it is a picture's
            # ("© 2013 Reuters" under a photo), which credits that caption only.
            if m.start() >= len(text) - _TAIL:
                add(m, "copyright", True)
            else:
                add(m, "photo", False)
    if "Editing by" in text:
        for m in _REPORTING_BY.finditer(text):
            add(m, "reporting by", True)
    for pattern in (_REPORTED_AFTER, _REPORTED_BEFORE):
        for m in pattern.finditer(text):
            add(m, "reported", False)
    if "Photo" in text:
        for m in _PHOTO.finditer(text):
            add(m, "photo", False)
    found.sort(key=lambda c: (c.start, c.end, c.form))
    return found


def is_wire_document(text: str, source: str, credits: list[Credit] | None = None) -> bool:
    """Whether a document is an agency's own page, or credits a wire service for all or part
    of its text (``credits``: its :func:`find_credits`, when already known)."""
    agency = source_agency(source)
    # CNN's own pages are a newsroom's, not a wire's; others crediting "(CNN)" are its copy.
    if agency is not None and agency != "CNN":
        return True
    found = find_credits(text, source) if credits is None else credits
    return any(c.form in WIRE_FORMS for c in found)


def is_credit_line(text: str, *, min_words: int = 5) -> bool:
    """Whether a passage is no more than a dateline or a credit line: fewer than
    ``min_words`` words are left once credits, datelines and agency names are taken out.

    >>> is_credit_line("The Associated Press contributed to this report.")
    True
    >>> is_credit_line("WASHINGTON (Reuters) - The Senate passed the bill on Tuesday night.")
    False
    """
    rest = _CREDIT_LINE.sub(" ", text)
    return len(_WORD.findall(rest)) < min_words


@cache
def credit_rules() -> str:
    """A digest of the rules as this module states them: credits stored under other rules
    are read again (the module is the rules, so any change to it counts)."""
    return hashlib.blake2b(Path(__file__).read_bytes(), digest_size=6).hexdigest()


def credit_table(documents: pa.Table | pa.RecordBatch) -> pa.Table:
    """(doc_id, source, text) → one ``credits`` row per credit found."""
    columns: dict[str, list[object]] = {name: [] for name in CREDITS_SCHEMA.names}
    for doc_id, source, text in zip(
        documents.column("doc_id").to_pylist(),
        documents.column("source").to_pylist(),
        documents.column("text").to_pylist(),
        strict=True,
    ):
        for c in find_credits(text or "", source or ""):
            for name, value in (
                ("doc_id", doc_id),
                ("agency", c.agency),
                ("form", c.form),
                ("start", c.start),
                ("end", c.end),
                ("whole", c.whole),
            ):
                columns[name].append(value)
    return pa.table(columns, schema=CREDITS_SCHEMA)
