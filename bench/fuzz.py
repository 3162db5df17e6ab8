"""Fuzzing every reader and the app's query parameters: no uncaught exception, and no store
changed by a batch that was refused.

    python bench/fuzz.py [--cases 100000] [--only jsonl,csv,...] [--seed 0]

Targets: ``jsonl``, ``csv``, ``tsv``, ``parquet``, ``html``, ``txt``, ``warc`` (each case a
file ingested into a store, half the time with ``on_error="raise"``, half with
``"skip"``), ``dates`` (the date parser alone) and ``app`` (random query strings on every
endpoint of ``chorus serve``, through its ASGI app). Inputs are drawn by Hypothesis
(derandomised from ``--seed``): mostly near-valid records with hostile values (odd types,
NaN, deep nesting, control characters, huge numbers, broken quoting, truncation, random
bytes), so that cases reach the code past the first parse.

Every case goes through the reader, the field mapping and the segmenter; every
``--store-every``-th (default 10) through ``ingest_paths`` into a store (a store write costs
tens of milliseconds, the rest well under one). Counted per target: cases, cases stored,
uncaught exceptions (anything but a :class:`ChorusError`), refused batches, and refused
batches that changed the store (row counts of documents, sentences, batches and rejects
before and after). The first example of each exception is
printed. ``tests/test_fuzz.py`` runs a short derandomised slice of the same targets in CI.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

TARGETS = ("jsonl", "csv", "tsv", "parquet", "html", "txt", "warc", "dates", "app")

# -- what a hostile file holds -----------------------------------------------------------------
# Hypothesis draws a seed per case; the content is built from it with ``random`` (drawing
# every character through Hypothesis costs ~25 ms a case, which 100,000 cases cannot pay).
_ODD = [
    "",
    " ",
    "\x00",
    "\ufeff",
    "\u202e",
    "\ud7ff",
    "a\tb",
    "line\nbreak",
    "<script>alert(1)</script>",
    "%s%n",
    "😀" * 50,
    "x" * 5000,
    "2020-01-01T00:00:00+25:00",
    "0000-00-00",
    "Monday",
    "5",
    "NaN",
    "1e309",
    "2020-02-30",
    "Wed, 01 Jan 2020 00:00:00 +9900",
    "9/6/17",
]
_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ.,;:!?'\"-\n\t\\/<>&%_{}[]()0123456789"
    "éüñß€—“”‘’…\u00a0\u200b\ufeff\u202eالعربيةفارسی中文日本語😀\x00\x07\x1b"
)
_FIELDS = ("id", "source", "text", "date", "url", "title", "published_at", "extra")


def _text(r: random.Random, size: int) -> str:
    if r.random() < 0.15:
        return r.choice(_ODD)
    n = r.randrange(size + 1)
    return "".join(r.choice(_ALPHABET) for _ in range(n))


def _value(r: random.Random, depth: int = 0) -> Any:
    roll = r.randrange(10)
    if roll == 0:
        return None
    if roll == 1:
        return r.random() < 0.5
    if roll == 2:
        return r.randint(-(2**70), 2**70)
    if roll == 3:
        return r.choice([float("nan"), float("inf"), -float("inf"), r.uniform(-1e20, 1e20), 1e308])
    if roll in (4, 5) and depth < 3:
        return [_value(r, depth + 1) for _ in range(r.randrange(4))]
    if roll == 6 and depth < 3:
        return {_text(r, 6): _value(r, depth + 1) for _ in range(r.randrange(4))}
    return _text(r, 60)


def _record(r: random.Random) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name in _FIELDS:
        roll = r.randrange(10)
        if roll < 5 and name in ("id", "source", "text"):
            record[name] = _text(r, 400 if name == "text" else 80) or "x"
        elif roll < 8:
            record[name] = _value(r)
    return record


def _json_line(r: random.Random) -> str:
    kind = r.randrange(10)
    if kind < 6:
        return json.dumps(_record(r), allow_nan=True, default=str)
    if kind == 6:
        depth = r.randrange(1, 3000)
        return "[" * depth + "]" * r.randrange(depth + 1)
    if kind == 7:
        line = json.dumps(_record(r), default=str)
        return line[: r.randrange(len(line) + 1)]
    if kind == 8:
        return _text(r, 200)
    return json.dumps(_value(r), default=str)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _junk(r: random.Random) -> bytes:
    return bytes(r.randrange(256) for _ in range(r.randrange(300)))


def jsonl_file(r: random.Random) -> bytes:
    if r.random() < 0.1:
        return _junk(r)
    return _encode("\n".join(_json_line(r) for _ in range(r.randrange(7))))


def delimited_file(r: random.Random, delimiter: str) -> bytes:
    import csv

    if r.random() < 0.1:
        return _junk(r)
    header = [r.choice([*_FIELDS, "", '"q"', "a,b"]) for _ in range(r.randrange(7))]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    for _ in range(r.randrange(6)):
        writer.writerow(
            [
                _text(r, 60) if r.random() < 0.9 else '"unclosed'
                for _ in range(r.randrange(len(header) + 3))
            ]
        )
    text = out.getvalue()
    if r.random() < 0.5:
        text = text[: r.randrange(len(text) + 1)]
    return _encode(text)


def parquet_file(r: random.Random) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if r.random() < 0.1:
        return _junk(r)
    n = r.randrange(5)
    columns: dict[str, Any] = {}
    for name in r.sample(_FIELDS, r.randrange(7)):
        kind = r.choice(["str", "int", "float", "list", "ts", "null"])
        if kind == "str":
            columns[name] = pa.array([_text(r, 80) for _ in range(n)], pa.string())
        elif kind == "int":
            columns[name] = pa.array([r.randint(-(2**63), 2**63 - 1) for _ in range(n)])
        elif kind == "float":
            columns[name] = pa.array([r.uniform(-1e300, 1e300) for _ in range(n)])
        elif kind == "list":
            columns[name] = pa.array([[_text(r, 5)] for _ in range(n)])
        elif kind == "ts":
            columns[name] = pa.array(
                [r.randint(-(2**62), 2**62) for _ in range(n)], pa.timestamp("us")
            )
        else:
            columns[name] = pa.nulls(n)
    buf = io.BytesIO()
    pq.write_table(pa.table(columns) if columns else pa.table({"x": pa.nulls(n)}), buf)
    data = buf.getvalue()
    if r.random() < 0.5:
        data = data[: r.randrange(len(data) + 1)]
    return data


_TAGS = [
    "html",
    "head",
    "title",
    "body",
    "article",
    "p",
    "div",
    "script",
    "style",
    "meta",
    "time",
    "h1",
    "br",
    "a",
    "iframe",
    "svg",
]
_ATTRS = ['property="article:published_time" content=', "href=", "charset=", "datetime="]


def html_file(r: random.Random) -> bytes:
    if r.random() < 0.1:
        return _junk(r)
    parts = []
    for _ in range(r.randrange(21)):
        roll = r.randrange(5)
        tag = r.choice(_TAGS)
        if roll == 0:
            parts.append(f"<{tag}>")
        elif roll == 1:
            parts.append(f"</{tag}>")
        elif roll == 2:
            parts.append(f'<{tag} {r.choice(_ATTRS)}"{_text(r, 20)}">')
        else:
            parts.append(_text(r, 120))
    return _encode("".join(parts))


def text_file(r: random.Random) -> bytes:
    if r.random() < 0.5:
        return _junk(r)
    return _text(r, 400).encode(r.choice(["utf-8", "utf-16", "latin-1"]), "replace")


def warc_file(r: random.Random) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=r.random() < 0.5)
    for k in range(r.randrange(4)):
        body = html_file(r)
        ctype = r.choice(
            ["text/html; charset=utf-8", "text/html", "text/plain", "text/html; charset=bogus", ""]
        )
        headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.0")
        rec_type = r.choice(["response", "response", "resource", "metadata"])
        writer.write_record(
            writer.create_warc_record(
                f"http://example.com/{k}",
                rec_type,
                payload=io.BytesIO(body),
                http_headers=headers if rec_type == "response" else None,
            )
        )
    data = buf.getvalue()
    roll = r.randrange(6)
    if roll == 0 and data:
        data = data[: r.randrange(len(data) + 1)]
    elif roll == 1 and data:
        i = r.randrange(len(data))
        data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
    elif roll == 2:
        data = _junk(r)
    return data


def _seeded(make: Callable[[random.Random], bytes]) -> Any:
    return st.integers(0, 2**63).map(lambda seed: make(random.Random(seed)))


FILES: dict[str, tuple[str, Callable[[random.Random], bytes]]] = {
    "jsonl": (".jsonl", jsonl_file),
    "csv": (".csv", lambda r: delimited_file(r, ",")),
    "tsv": (".tsv", lambda r: delimited_file(r, "\t")),
    "parquet": (".parquet", parquet_file),
    "html": (".html", html_file),
    "txt": (".txt", text_file),
    "warc": (".warc", warc_file),
}


@dataclass
class Tally:
    cases: int = 0
    stored: int = 0
    refused: int = 0
    changed: int = 0
    uncaught: Counter[str] = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)

    def crash(self, exc: BaseException, example: object) -> None:
        key = f"{type(exc).__name__}: {str(exc)[:80]}"
        self.uncaught[key] += 1
        if key not in self.first:
            tb = "".join(traceback.format_exception(exc)[-3:])
            self.first[key] = f"{repr(example)[:300]}\n{tb}"


def _counts(store: Any) -> tuple[int, ...]:
    row = store.con.execute(
        "SELECT (SELECT count(*) FROM documents_all), (SELECT count(*) FROM sentences_all), "
        "(SELECT count(*) FROM batches), (SELECT count(*) FROM rejects_all)"
    ).fetchone()
    return tuple(row)


def fuzz_reader(target: str, cases: int, seed: int, tally: Tally, store_every: int) -> None:
    """Every case through the reader, the field mapping and the segmenter (what ingest does
    before it writes); every ``store_every``-th through ``ingest_paths`` into a store, to
    count refused batches that changed it."""
    import chorus
    from chorus.errors import BatchRefusedError, ChorusError
    from chorus.ingest import FieldMap, NoLanguageDetector
    from chorus.ingest.formats import read_path
    from chorus.ingest.mapping import to_document
    from chorus.ingest.records import RawRecord
    from chorus.segment.splitter import split_sentences

    suffix, strategy = FILES[target]
    detector = NoLanguageDetector()
    fields = FieldMap()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"case{suffix}"
        with chorus.open_store(Path(tmp) / "fuzz.duckdb") as store:

            @settings(
                max_examples=cases,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(data=_seeded(strategy), skip=st.booleans(), seed_=st.just(seed))
            def case(data: bytes, skip: bool, seed_: int) -> None:
                tally.cases += 1
                path.write_bytes(data)
                if tally.cases % store_every:
                    try:
                        for item in read_path(path):
                            if isinstance(item, RawRecord):
                                row = to_document(item, fields=fields, detector=detector)
                                if not isinstance(row, chorus.errors.InputProblem):
                                    split_sentences(row.text)
                    except ChorusError:
                        pass
                    except Exception as exc:
                        tally.crash(exc, data)
                    return
                tally.stored += 1
                before = _counts(store)
                try:
                    chorus.ingest_paths(
                        store,
                        [path],
                        on_error="skip" if skip else "raise",
                        language_detector=detector,
                    )
                except BatchRefusedError:
                    tally.refused += 1
                    if _counts(store) != before:
                        tally.changed += 1
                except ChorusError:
                    pass
                except Exception as exc:
                    tally.crash(exc, data)

            case()


def fuzz_dates(cases: int, tally: Tally) -> None:
    from chorus.ingest.dates import parse_date

    @settings(
        max_examples=cases,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        value=st.one_of(
            st.integers(0, 2**63).map(lambda seed: _value(random.Random(seed))),
            st.sampled_from(_ODD),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-(2**70), 2**70),
            st.datetimes(),
            st.dates(),
            st.from_regex(
                r"\A[0-9]{1,4}[-/. ][0-9]{1,2}[-/. ][0-9]{1,4}"
                r"([T ][0-9:]{1,8})?([+-][0-9]{2}:?[0-9]{2})?\Z"
            ),
        )
    )
    def case(value: object) -> None:
        tally.cases += 1
        try:
            parsed = parse_date(value)
            if parsed.value is not None and not (1800 <= parsed.value.year <= 9999):
                raise AssertionError(f"implausible date kept: {parsed.value}")
        except Exception as exc:
            tally.crash(exc, value)

    case()


_ENDPOINTS = {
    "/api/points": ["offset", "limit", "sort", "source", "since", "until", "q"],
    "/api/point": ["id", "offset", "limit"],
    "/api/reuse": ["kind", "offset", "limit"],
    "/api/cluster": ["id"],
    "/api/network": ["max_edges"],
    "/api/edge": ["a", "b", "limit"],
    "/api/sources": ["offset", "limit"],
    "/api/source": ["name"],
    "/api/search": ["q", "limit"],
    "/api/overview": [],
}
_PARAM = st.one_of(
    st.integers(-(2**80), 2**80).map(str),
    st.integers(0, 2**63).map(lambda seed: _text(random.Random(seed), 30)),
    st.sampled_from(_ODD),
    st.sampled_from(["0000-00-00", "2020-13-45", "2020-02-29", "9999-12-31", "%", "_", "'", ";"]),
)


def fuzz_app(cases: int, tally: Tally, db: Path) -> None:
    from fastapi.testclient import TestClient

    from chorus.serve import create_app

    client = TestClient(create_app(db), base_url="http://127.0.0.1:8000")

    @settings(
        max_examples=cases,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(endpoint=st.sampled_from(sorted(_ENDPOINTS)), data=st.data())
    def case(endpoint: str, data: Any) -> None:
        tally.cases += 1
        names = _ENDPOINTS[endpoint]
        params = {
            name: data.draw(_PARAM)
            for name in (data.draw(st.lists(st.sampled_from(names), unique=True)) if names else [])
        }
        try:
            response = client.get(endpoint, params=params)
            if response.status_code >= 500:
                raise AssertionError(f"{response.status_code} on {endpoint} {params}")
        except Exception as exc:
            tally.crash(exc, (endpoint, params))

    case()


def _seed_store(tmp: Path) -> Path:
    import chorus
    from chorus.analyze import analyze
    from chorus.ingest import NoLanguageDetector

    seeds = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "seeds" / "seeds.jsonl"
    db = tmp / "seeds.duckdb"
    with chorus.open_store(db) as store:
        chorus.ingest_paths(store, [seeds], language_detector=NoLanguageDetector())
        analyze(store)
    return db


def run(targets: list[str], cases: int, seed: int, store_every: int = 10) -> dict[str, Tally]:
    out: dict[str, Tally] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for target in targets:
            tally = out[target] = Tally()
            if target == "dates":
                fuzz_dates(cases, tally)
            elif target == "app":
                fuzz_app(cases, tally, _seed_store(Path(tmp)))
            else:
                fuzz_reader(target, cases, seed, tally, store_every)
    return out


def main() -> None:
    from _common import machine

    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--only", default=",".join(TARGETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--store-every", type=int, default=10, help="every Nth case is ingested into a store"
    )
    args = parser.parse_args()
    targets = [t for t in args.only.split(",") if t]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown targets {sorted(unknown)}; choose from {TARGETS}")
    print(f"# fuzz: {args.cases:,} cases per target, derandomised, seed {args.seed}")
    print(f"# machine: {machine()}")
    print(
        f"{'target':8} {'cases':>8} {'stored':>8} {'refused':>8} {'changed':>8} "
        f"{'uncaught':>9} {'s':>8}"
    )
    total_bad = 0
    for target in targets:
        started = time.perf_counter()
        tally = run([target], args.cases, args.seed, args.store_every)[target]
        seconds = time.perf_counter() - started
        bad = sum(tally.uncaught.values())
        total_bad += bad + tally.changed
        print(
            f"{target:8} {tally.cases:8,} {tally.stored:8,} {tally.refused:8,} "
            f"{tally.changed:8,} {bad:9,} "
            f"{seconds:8.1f}",
            flush=True,
        )
        for key, example in tally.first.items():
            print(f"  {tally.uncaught[key]}x {key}\n    {example}")
    print("result: " + ("0 uncaught, 0 stores changed" if not total_bad else "FAILURES above"))
    if not math.isfinite(total_bad) or total_bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
