"""What kind of reuse a cluster is: boilerplate, syndication (attributed wire copy) or reuse.

These are heuristics with stated rules, so a reader can check each label:
- boilerplate: one outlet (sections like "X - News" and "X - Opinion" count as one) carries
  at least 80% of its copies, in three or more documents; or, across outlets, it is page
  furniture: at least 80% of the copies sit in the first or last fifth of their document and
  at least half of its sentences speak of following, subscribing, sharing, newsletters,
  disclaimers or copyright (a claim followed by "Share this before it disappears." is a
  claim, not a footer).
- syndication: at least half the documents carrying it credit a wire service or are published
  by one (the credits are listed in :mod:`chorus.reuse.credit`: datelines with the agency in
  parentheses, bylines, a closing "— Associated Press", "contributed to this report",
  copyright lines, "Reporting by ... Editing by"); or its text is no more than a dateline or
  a credit line, shared by several sources ("The Associated Press contributed to this
  report.").
- reuse: everything else.
"""

from __future__ import annotations

import re
from collections import Counter
from enum import StrEnum

from chorus.reuse.credit import is_credit_line, outlet

_FURNITURE = re.compile(
    r"\b(?:follow|subscribe|unsubscribe|newsletters?|sign\s+up|share\s+this|copyright"
    r"|all\s+rights\s+reserved|click\s+here|read\s+more|advertisement|do\s+not\s+necessarily"
    r"|views\s+expressed|opinions\s+expressed|disclaimer)\b|©",
    re.IGNORECASE,
)
# A platform's name is furniture in share buttons ("Facebook Twitter Pinterest"), not in a
# sentence about "a Twitter user": two names or more.
_PLATFORMS = re.compile(
    r"\b(?:twitter|facebook|youtube|instagram|telegram|pinterest|whatsapp)\b", re.IGNORECASE
)


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def is_furniture(text: str) -> bool:
    """Whether at least half of ``text`` (by characters) is sentences of page furniture:
    following, subscribing, sharing, newsletters, disclaimers, copyright, share buttons.

    >>> is_furniture("Follow us on Twitter. Sign up for our newsletter.")
    True
    >>> is_furniture("Facebook Twitter Pinterest Email. The article continues below.")
    True
    >>> is_furniture("A Twitter user lost her NASA internship over a post. Share this now.")
    False
    """
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s]
    furniture = sum(
        len(s) for s in sentences if _FURNITURE.search(s) or len(_PLATFORMS.findall(s)) >= 2
    )
    return bool(sentences) and furniture * 2 >= sum(len(s) for s in sentences)


class ReuseKind(StrEnum):
    BOILERPLATE = "boilerplate"
    SYNDICATION = "syndication"
    REUSE = "reuse"


def classify(
    *,
    sources: list[str],
    wire: list[bool],
    at_edge: list[bool],
    text: str,
) -> ReuseKind:
    """The kind of a cluster from its copies: their documents' sources, whether each document
    credits a wire service, whether each copy sits at its document's edge, and its text."""
    outlets = Counter(outlet(s) for s in sources)
    top = outlets.most_common(1)[0][1] if outlets else 0
    if len(sources) >= 3 and top >= 0.8 * len(sources):
        return ReuseKind.BOILERPLATE
    if sum(at_edge) >= 0.8 * len(at_edge) and is_furniture(text):
        return ReuseKind.BOILERPLATE
    if len(set(sources)) > 1 and (sum(wire) * 2 >= len(wire) or is_credit_line(text)):
        return ReuseKind.SYNDICATION
    return ReuseKind.REUSE
