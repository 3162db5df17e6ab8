"""Readers for each input format. Each yields RawRecord, or InputProblem for what it cannot read.

Readers never raise on bad content: the pipeline decides whether a problem refuses the batch.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import json
import logging
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

from chorus.errors import ChorusError, InputProblem
from chorus.ingest.html import ExtractionError, extract_html
from chorus.ingest.records import RawRecord

log = logging.getLogger(__name__)

Format = Literal["jsonl", "csv", "tsv", "parquet", "folder", "txt", "md", "html", "warc"]
FORMATS: tuple[Format, ...] = (
    "jsonl",
    "csv",
    "tsv",
    "parquet",
    "folder",
    "txt",
    "md",
    "html",
    "warc",
)
Item = RawRecord | InputProblem

FOLDER_SUFFIXES = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}
_SUFFIX_FORMATS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".warc": "warc",
    ".arc": "warc",
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
}


def detect_format(path: Path) -> Format:
    """The format of ``path`` from its extension (``.gz`` looked through), or 'folder'."""
    if path.is_dir():
        return "folder"
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIX_FORMATS:
        return _SUFFIX_FORMATS[suffixes[-1]]
    raise ChorusError(
        f"{path}: cannot tell the format from the extension; pass --format ({', '.join(FORMATS)})"
    )


def _open_binary(path: Path) -> IO[bytes]:
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.open(raw)  # type: ignore[return-value]
    return raw


def decode_bytes(data: bytes, *, encoding: str | None) -> str | None:
    """Decode with ``encoding``, else UTF-8, else the best guess; None if nothing fits."""
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return None if best is None else str(best)


# -- JSON Lines
_STREAM_ERRORS = (OSError, EOFError, zlib.error)


def read_jsonl(path: Path, *, encoding: str | None = None) -> Iterator[Item]:
    name = str(path)
    line_no = 0
    try:
        with _open_binary(path) as fh:
            head = fh.read(4096)
            fh.seek(0)
            try:
                wide = _wide_encoding(head, encoding)
            except LookupError:
                yield InputProblem(f"unknown encoding {encoding!r}", name, None)
                return
            if wide:
                yield from _read_wide_jsonl(fh, name, wide)
                return
            if head.lstrip().startswith(b"["):
                yield from _read_json_array(fh, name, encoding)
                return
            for line_no, raw in enumerate(fh, start=1):
                item = _jsonl_line(raw, name, line_no, encoding)
                if item is not None:
                    yield item
    except _STREAM_ERRORS as exc:
        # A truncated or corrupt .gz: the lines before it were read; this one cannot be.
        yield InputProblem(f"cannot read the file: {exc}", name, line_no + 1)


def _wide_encoding(head: bytes, encoding: str | None) -> str | None:
    """The encoding when it is UTF-16 or UTF-32 (given, or told by a byte-order mark), whose
    lines cannot be split on the byte for a newline; else None."""
    if encoding:
        codec = codecs.lookup(encoding).name
        return codec if codec.startswith(("utf-16", "utf-32")) else None
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _read_wide_jsonl(fh: IO[bytes], name: str, encoding: str) -> Iterator[Item]:
    line_no = 0
    text = io.TextIOWrapper(fh, encoding=encoding)
    try:
        if text.read(4096).lstrip("\ufeff \t\r\n").startswith("["):
            text.seek(0)
            yield from _json_array(text.read(), name)
            return
        text.seek(0)
        for line_no, line in enumerate(text, start=1):
            item = _json_record(line.lstrip("\ufeff"), name, line_no)
            if item is not None:
                yield item
    except UnicodeError as exc:
        yield InputProblem(f"not valid {encoding} text: {exc}", name, line_no + 1)
    finally:
        text.detach()


JSON_TOO_DEEP = "malformed JSON: nested too deeply to read"


def json_message(exc: json.JSONDecodeError) -> str:
    """A JSON error as a reject reason (some of json's messages end in "at": "Invalid
    control character at")."""
    return f"malformed JSON: {exc.msg.removesuffix(' at')} at column {exc.colno}"


def _jsonl_line(raw: bytes, name: str, line_no: int, encoding: str | None) -> Item | None:
    if not raw.strip():
        return None
    try:
        text = raw.decode(encoding or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        return InputProblem(f"not valid {encoding or 'UTF-8'} text: {exc}", name, line_no)
    return _json_record(text, name, line_no)


def _json_record(text: str, name: str, line_no: int) -> Item | None:
    if not text.strip():
        return None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return InputProblem(json_message(exc), name, line_no)
    except RecursionError:
        return InputProblem(JSON_TOO_DEEP, name, line_no)
    if not isinstance(obj, dict):
        return InputProblem(f"expected a JSON object, got {type(obj).__name__}", name, line_no)
    return RawRecord(name, line_no, obj)


def _read_json_array(fh: IO[bytes], name: str, encoding: str | None) -> Iterator[Item]:
    text = decode_bytes(fh.read(), encoding=encoding)
    if text is None:
        yield InputProblem("cannot decode the file's text", name, None)
        return
    yield from _json_array(text, name)


def _json_array(text: str, name: str) -> Iterator[Item]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield InputProblem(json_message(exc), name, exc.lineno)
        return
    except RecursionError:
        yield InputProblem(JSON_TOO_DEEP, name, None)
        return
    if not isinstance(data, list):
        yield InputProblem(f"expected a JSON array, got {type(data).__name__}", name, None)
        return
    for i, obj in enumerate(data, start=1):
        if isinstance(obj, dict):
            yield RawRecord(name, i, obj)
        else:
            yield InputProblem(f"array item {i} is not a JSON object", name, i)


# -- CSV / TSV
def read_delimited(path: Path, *, delimiter: str, encoding: str | None = None) -> Iterator[Item]:
    name = str(path)
    csv.field_size_limit(2**31 - 1)
    try:
        with _open_binary(path) as fh:
            data = fh.read()
    except _STREAM_ERRORS as exc:
        yield InputProblem(f"cannot read the file: {exc}", name, None)
        return
    text = decode_bytes(data, encoding=encoding)
    if text is None:
        yield InputProblem("cannot decode the file's text (try --encoding)", name, None)
        return
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield InputProblem(f"malformed header: {exc}", name, 1)
        return
    header = [h.strip() for h in header]
    line_no = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield InputProblem(f"malformed row: {exc}", name, reader.line_num)
            continue
        row_line = line_no + 1
        line_no = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            yield InputProblem(
                f"has {len(row)} fields, the header has {len(header)}", name, row_line
            )
            continue
        yield RawRecord(name, row_line, dict(zip(header, row, strict=True)))


# -- Parquet
def read_parquet(path: Path, **_: Any) -> Iterator[Item]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = str(path)
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        yield InputProblem(f"not a readable Parquet file: {exc}", name, None)
        return
    row = 0
    try:
        for batch in parquet.iter_batches(batch_size=2048):
            try:
                rows = batch.to_pylist()
            except (OverflowError, ValueError, pa.ArrowException):
                # A value Python cannot hold (a timestamp past year 9999): find it, row by row.
                yield from _parquet_rows(batch, name, row)
            else:
                for i, obj in enumerate(rows, start=row + 1):
                    yield RawRecord(name, i, obj)
            row += batch.num_rows
    except (OSError, pa.ArrowException) as exc:
        yield InputProblem(f"not a readable Parquet file: {exc}", name, row + 1)


def _parquet_rows(batch: Any, name: str, before: int) -> Iterator[Item]:
    import pyarrow as pa

    for i in range(batch.num_rows):
        obj: dict[str, Any] = {}
        problem: InputProblem | None = None
        for column in batch.schema.names:
            try:
                obj[column] = batch.column(column)[i].as_py()
            except (OverflowError, ValueError, pa.ArrowException) as exc:
                problem = InputProblem(f"value cannot be read: {exc}", name, before + i + 1, column)
                break
        yield problem or RawRecord(name, before + i + 1, obj)


# -- Plain files and folders
def _read_text_file(path: Path, kind: str, *, root: Path | None, encoding: str | None) -> Item:
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return InputProblem(f"cannot read: {exc.strerror}", name, None)
    text = decode_bytes(data, encoding=encoding)
    if text is None:
        return InputProblem("cannot decode the file's text (try --encoding)", name, None)
    rel = path.relative_to(root).as_posix() if root else path.name
    implied: dict[str, Any] = {"id": rel}
    if kind == "html":
        try:
            fields = extract_html(text)
        except ExtractionError as exc:
            return InputProblem(f"cannot extract the page's text: {exc}", name, None)
    else:
        fields = {"text": text}
        first = text.lstrip().split("\n", 1)[0].strip().lstrip("#").strip()
        if first and len(first) <= 200:
            implied["title"] = first
    if root is not None:
        implied["source"] = root.name
    return RawRecord(name, 1, fields, implied)


def read_text_file(path: Path, *, encoding: str | None = None, kind: str = "txt") -> Iterator[Item]:
    yield _read_text_file(path, kind, root=None, encoding=encoding)


def read_folder(path: Path, *, encoding: str | None = None) -> Iterator[Item]:
    """Every .txt, .md and .html file under ``path``, in sorted order; ids are relative paths."""
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        kind = FOLDER_SUFFIXES.get(file.suffix.lower())
        if kind is None:
            log.debug("skipping %s: not .txt, .md or .html", file)
            continue
        yield _read_text_file(file, kind, root=path, encoding=encoding)


# -- WARC
def read_warc(path: Path, *, encoding: str | None = None) -> Iterator[Item]:
    """HTML responses of a WARC file; each record's number is its 'line'."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    name = str(path)
    # warcio writes its warnings (a record not followed by a newline) to stderr itself; the
    # library never prints, so they go to the log.
    noise = io.StringIO()
    with path.open("rb") as fh:
        number = 0
        try:
            with contextlib.redirect_stderr(noise):
                records = iter(ArchiveIterator(fh))
            while True:
                # Only warcio's own calls run with stderr caught: never the caller's code
                # between two records.
                with contextlib.redirect_stderr(noise):
                    record = next(records, None)
                    if record is not None and record.rec_type == "response":
                        body = record.content_stream().read()
                if record is None:
                    break
                number += 1
                if record.rec_type != "response":
                    continue
                headers = record.http_headers
                ctype = (headers.get_header("Content-Type") if headers else "") or ""
                if "html" not in ctype.lower():
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                missing = getattr(record.raw_stream, "limit", 0) or 0
                if missing > 0:
                    # The file ends inside this record: its page would be cut mid-word.
                    yield InputProblem(
                        f"record cut off: the file ends {missing:,} bytes before the record's "
                        f"end (Content-Length {record.length:,})",
                        name,
                        number,
                    )
                    continue
                charset = None
                if "charset=" in ctype.lower():
                    charset = ctype.lower().split("charset=", 1)[1].split(";")[0].strip()
                text = decode_bytes(body, encoding=encoding or charset)
                if text is None:
                    yield InputProblem("cannot decode the page's text", name, number)
                    continue
                try:
                    fields = extract_html(text, url=url)
                except ExtractionError as exc:
                    yield InputProblem(f"cannot extract the page's text: {exc}", name, number)
                    continue
                implied: dict[str, Any] = {"url": url, "id": url}
                crawl_date = record.rec_headers.get_header("WARC-Date")
                if crawl_date:
                    fields.setdefault("crawled_at", crawl_date)
                yield RawRecord(name, number, fields, implied)
        except ArchiveLoadFailed as exc:
            yield InputProblem(f"not a readable WARC file: {exc}", name, number or None)
            return
        except (*_STREAM_ERRORS, AttributeError, ValueError, TypeError) as exc:
            # warcio fails this way on a file cut inside a record's headers.
            yield InputProblem(
                f"not a readable WARC file (cut off or corrupt): {type(exc).__name__}: {exc}",
                name,
                number + 1,
            )
            return
        if number == 0:
            yield InputProblem(
                "no WARC record in the file (not a WARC file, or cut off before its first "
                "record ends)",
                name,
                None,
            )
    if noise.getvalue().strip():
        log.warning("%s: %s", name, " ".join(noise.getvalue().split())[:500])


def read_path(
    path: Path, *, format: Format | None = None, encoding: str | None = None
) -> Iterator[Item]:
    """Records from one file or folder, in a stable order."""
    if not path.exists():
        raise ChorusError(f"{path}: no such file or folder")
    fmt = format or detect_format(path)
    if fmt == "folder" and not path.is_dir():
        raise ChorusError(f"{path}: --format folder needs a folder")
    if fmt != "folder" and path.is_dir():
        return read_folder(path, encoding=encoding)
    if fmt == "jsonl":
        return read_jsonl(path, encoding=encoding)
    if fmt in ("csv", "tsv"):
        return read_delimited(path, delimiter="," if fmt == "csv" else "\t", encoding=encoding)
    if fmt == "parquet":
        return read_parquet(path)
    if fmt == "folder":
        return read_folder(path, encoding=encoding)
    if fmt == "warc":
        return read_warc(path, encoding=encoding)
    return read_text_file(path, encoding=encoding, kind=fmt)
