"""The ingest stage: files of many formats in, clean documents and sentences in the store."""

from chorus.ingest.dates import DateStatus, ParsedDate, parse_date
from chorus.ingest.formats import FORMATS, Format, detect_format, read_path
from chorus.ingest.language import (
    FastTextLanguageDetector,
    LanguageDetector,
    NoLanguageDetector,
    default_language_detector,
)
from chorus.ingest.mapping import DocumentRow, FieldMap, to_document
from chorus.ingest.pipeline import IngestSummary, OnError, ingest_paths
from chorus.ingest.records import RawRecord
from chorus.ingest.text import normalise_text

__all__ = [
    "FORMATS",
    "DateStatus",
    "DocumentRow",
    "FastTextLanguageDetector",
    "FieldMap",
    "Format",
    "IngestSummary",
    "LanguageDetector",
    "NoLanguageDetector",
    "OnError",
    "ParsedDate",
    "RawRecord",
    "default_language_detector",
    "detect_format",
    "ingest_paths",
    "normalise_text",
    "parse_date",
    "read_path",
    "to_document",
]
