"""From a raw record to a document row: field mapping, defaults, clean-up and checks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pyarrow as pa

from chorus.errors import InputProblem
from chorus.ingest.dates import DateStatus, parse_date
from chorus.ingest.language import LanguageDetector
from chorus.ingest.records import RawRecord
from chorus.ingest.text import normalise_field, normalise_text

DEFAULT_DATE_FIELDS = ("published_at", "date")
DEFAULT_MAX_CHARS = 20_000_000


@dataclass(frozen=True)
class FieldMap:
    """Which input field holds what. ``date=None`` means 'published_at', else 'date'."""

    text: str = "text"
    source: str = "source"
    date: str | None = None
    id: str = "id"
    url: str = "url"
    title: str = "title"

    @property
    def date_fields(self) -> tuple[str, ...]:
        return (self.date,) if self.date else DEFAULT_DATE_FIELDS

    def mapped(self) -> frozenset[str]:
        return frozenset((self.text, self.source, self.id, self.url, self.title, *self.date_fields))


class DocumentRow(NamedTuple):
    doc_id: str
    source: str
    url: str | None
    title: str | None
    published_at: dt.datetime | None
    lang: str
    text: str
    text_hash: str
    origin: str
    extra: str | None
    date_status: DateStatus


# The Arrow types of a document row's stored fields (all of DocumentRow but date_status).
DOCUMENT_FIELDS = [
    ("doc_id", pa.string()),
    ("source", pa.string()),
    ("url", pa.string()),
    ("title", pa.string()),
    ("published_at", pa.timestamp("us")),
    ("lang", pa.string()),
    ("text", pa.string()),
    ("text_hash", pa.string()),
    ("origin", pa.string()),
    ("extra", pa.string()),
]


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as their names: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _json_text(fields: dict[str, Any]) -> str:
    """Fields kept beside a document, as valid JSON (an export must stay valid)."""
    return json.dumps(_finite(fields), ensure_ascii=False, default=str, allow_nan=False)


def _excerpt(record: RawRecord) -> str:
    return json.dumps(record.fields, ensure_ascii=False, default=str)[:500]


def _host(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname
    return host.removeprefix("www.") if host else None


def to_document(
    record: RawRecord,
    *,
    fields: FieldMap,
    detector: LanguageDetector,
    default_source: str | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> DocumentRow | InputProblem:
    """Map, clean and check one record. Returns the row, or the problem that rejects it."""
    got = record.fields

    def problem(field: str, reason: str) -> InputProblem:
        return InputProblem(reason, record.file, record.line, field, _excerpt(record))

    raw_text = got.get(fields.text)
    if raw_text is None:
        return problem(fields.text, "missing field (set another with --text-field)")
    if not isinstance(raw_text, str):
        return problem(fields.text, f"expected text, got {type(raw_text).__name__}")
    text = normalise_text(raw_text)
    if not text.strip():
        return problem(fields.text, "empty text")
    if len(text) > max_chars:
        return problem(
            fields.text,
            f"text has {len(text):,} characters, over the limit of "
            f"{max_chars:,} (raise it with --max-chars)",
        )

    url_value = got.get(fields.url) if _present(got.get(fields.url)) else record.implied.get("url")
    url = normalise_field(str(url_value)) if _present(url_value) else None

    source_value = got.get(fields.source)
    if _present(source_value):
        source = normalise_field(str(source_value))
    elif default_source:
        source = default_source
    elif _present(record.implied.get("source")):
        source = normalise_field(str(record.implied["source"]))
    elif _host(url):
        source = str(_host(url))
    else:
        return problem(
            fields.source, "missing field (set it with --source-field, or --source NAME for all)"
        )

    title_value = got.get(fields.title)
    if not _present(title_value):
        title_value = record.implied.get("title")
    title = normalise_field(str(title_value)) if _present(title_value) else None

    date_raw: Any = None
    for name in fields.date_fields:
        if _present(got.get(name)):
            date_raw = got[name]
            break
    parsed = parse_date(date_raw)

    hashed = text_hash(text)
    id_value = got.get(fields.id)
    if _present(id_value):
        if isinstance(id_value, dict | list):
            return problem(fields.id, f"expected a string or number, got {type(id_value).__name__}")
        doc_id = str(id_value).strip()
    elif _present(record.implied.get("id")):
        doc_id = str(record.implied["id"])
    else:
        # No id given: derive one from content, so ingesting the same rows again adds nothing.
        doc_id = "h" + text_hash(f"{source}\n{url or ''}\n{text}")[:16]

    extra_fields = {k: v for k, v in got.items() if k not in fields.mapped()}
    if parsed.status in (DateStatus.IMPOSSIBLE, DateStatus.UNPARSEABLE):
        extra_fields["published_at_raw"] = date_raw
    extra = _json_text(extra_fields) if extra_fields else None

    return DocumentRow(
        doc_id=doc_id,
        source=source,
        url=url,
        title=title,
        published_at=parsed.value,
        lang=detector.detect(text),
        text=text,
        text_hash=hashed,
        origin=record.origin,
        extra=extra,
        date_status=parsed.status,
    )
