"""Main text and metadata from an HTML page, with trafilatura."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class ExtractionError(ValueError):
    """The extractor failed on a page (malformed HTML it does not survive)."""


def extract_html(html: str, *, url: str | None = None) -> dict[str, Any]:
    """Main text, title, date, URL and site name of a page; ``text`` is '' when none is found.

    Menus, footers and comments are dropped; paragraphs are kept one to a line. Raises
    :class:`ExtractionError` when the extractor itself fails on the page.
    """
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_recall=True,
            deduplicate=False,
        )
    except (AssertionError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        # trafilatura and htmldate assert on some malformed trees (a dropped root element).
        raise ExtractionError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
    if doc is None:
        return {"text": ""}
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    fields: dict[str, Any] = {"text": data.get("text") or ""}
    for key in ("title", "date", "url", "author"):
        if data.get(key):
            fields[key] = data[key]
    site = data.get("sitename") or data.get("hostname")
    if site:
        fields["source"] = site
    return fields
