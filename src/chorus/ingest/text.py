"""Text clean-up at ingest: line endings, control characters, mojibake, Unicode NFC.

Only changes that do not alter meaning: curly quotes, dashes and ligatures are kept as written.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

# UTF-8 read as Windows-1252 or Latin-1 leaves a lead byte (Â..ô) followed by a continuation
# byte shown as a Latin-1 or cp1252 character. Checking for that pair first keeps the costly
# repair (ftfy) off the 99.9% of documents that do not need it.
_MOJIBAKE_HINT = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
    "\u02dc\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2021\u2022\u2026\u2030"
    "\u2039\u203a\u20ac\u2122]"
)
# C0/C1 controls other than tab and newline, and the byte-order mark.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff]")
_LINE_ENDINGS = re.compile("\r\n?|\u2028|\u2029")


def normalise_text(text: str) -> str:
    """Unify line endings, drop control characters, repair mojibake, compose to NFC."""
    if "\r" in text or "\u2028" in text or "\u2029" in text:
        text = _LINE_ENDINGS.sub("\n", text)
    text = _CONTROLS.sub("", text)
    if text.isascii():
        return text
    if _MOJIBAKE_HINT.search(text):
        # The repair can decode bytes into control characters; drop those too.
        text = _CONTROLS.sub("", ftfy.fix_encoding(text))
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def normalise_field(value: str) -> str:
    """Clean a short metadata field (title, source): as text, plus whitespace collapsed."""
    return " ".join(normalise_text(value).split())
