from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.errors import ChorusError, InputProblem
from chorus.ingest import RawRecord, detect_format, ingest_paths
from chorus.ingest.formats import read_jsonl
from chorus.store import Store

ARTICLE = (
    "The council approved the budget on Monday. Critics said the plan was rushed. "
    "The mayor disagreed."
)
HTML = f"""<html><head><title>Budget &amp; the council</title>
<meta property="og:url" content="https://news.example.org/budget">
<meta property="og:site_name" content="Example News">
<meta name="date" content="2020-05-01"></head>
<body><nav>Home | World | Sport</nav><article><h1>Budget</h1>
<p>{ARTICLE} {ARTICLE}</p><p>A second paragraph follows with more reporting on the vote.</p>
</article><footer>Copyright Example News</footer></body></html>"""


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.jsonl.gz", "jsonl"),
        ("a.json", "jsonl"),
        ("a.csv", "csv"),
        ("a.TSV", "tsv"),
        ("a.csv.gz", "csv"),
        ("a.parquet", "parquet"),
        ("a.warc.gz", "warc"),
        ("a.warc", "warc"),
        ("a.txt", "txt"),
        ("a.md", "md"),
        ("a.html", "html"),
        ("a.htm", "html"),
    ],
)
def test_detect_format(tmp_path: Path, name: str, fmt: str) -> None:
    assert detect_format(tmp_path / name) == fmt


def test_detect_format_unknown(tmp_path: Path) -> None:
    with pytest.raises(ChorusError, match="--format"):
        detect_format(tmp_path / "a.xyz")


def _docs(store: Store) -> list[dict[str, object]]:
    return (
        store.con.sql(
            "SELECT doc_id, source, url, title, published_at, text FROM documents ORDER BY doc_id"
        )
        .to_arrow_table()
        .to_pylist()
    )


def _write_warc(path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, ctype in [
            ("https://news.example.org/budget", HTML, "text/html; charset=utf-8"),
            ("https://news.example.org/logo.png", "PNG", "image/png"),
        ]:
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body.encode("utf-8")), http_headers=headers
            )
            writer.write_record(record)


def _make(tmp_path: Path, kind: str) -> Path:
    rows = [
        {"id": "a1", "source": "Daily", "date": "2020-01-02", "title": "T1", "text": ARTICLE},
        {
            "id": "a2",
            "source": "Weekly",
            "date": "9/6/17",
            "title": "T2",
            "text": "Another story. It has two sentences.",
        },
    ]
    if kind == "jsonl":
        p = tmp_path / "in.jsonl"
        p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    elif kind == "jsonl.gz":
        p = tmp_path / "in.jsonl.gz"
        p.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in rows).encode()))
    elif kind == "json-array":
        p = tmp_path / "in.json"
        p.write_text(json.dumps(rows))
    elif kind in ("csv", "tsv"):
        import csv

        p = tmp_path / f"in.{kind}"
        with p.open("w", newline="") as fh:
            w = csv.DictWriter(
                fh, fieldnames=list(rows[0]), delimiter="," if kind == "csv" else "\t"
            )
            w.writeheader()
            w.writerows(rows)
    elif kind == "parquet":
        p = tmp_path / "in.parquet"
        pq.write_table(pa.Table.from_pylist(rows), p)
    else:
        raise AssertionError(kind)
    return p


@pytest.mark.parametrize("kind", ["jsonl", "jsonl.gz", "json-array", "csv", "tsv", "parquet"])
def test_tabular_formats_ingest_alike(tmp_path: Path, store: Store, kind: str) -> None:
    summary = ingest_paths(store, [_make(tmp_path, kind)])
    assert summary.n_new == 2
    docs = _docs(store)
    assert [d["doc_id"] for d in docs] == ["a1", "a2"]
    assert [d["source"] for d in docs] == ["Daily", "Weekly"]
    assert [str(d["published_at"]) for d in docs] == ["2020-01-02 00:00:00", "2017-09-06 00:00:00"]
    assert docs[0]["text"] == ARTICLE
    n = store.con.execute("SELECT count(*) FROM sentences WHERE doc_id = 'a1'").fetchone()
    assert n == (3,)


def test_folder_of_text_markdown_and_html(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "site"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.txt").write_text("First Title\n\n" + ARTICLE)
    (folder / "sub" / "two.md").write_text("# Markdown Title\n\nSome words here. More words.")
    (folder / "three.html").write_text(HTML)
    (folder / "ignored.bin").write_bytes(b"\x00\x01")
    summary = ingest_paths(store, [folder])
    assert summary.n_new == 3
    docs = {d["doc_id"]: d for d in _docs(store)}
    assert set(docs) == {"one.txt", "sub/two.md", "three.html"}
    assert docs["one.txt"]["title"] == "First Title"
    assert docs["sub/two.md"]["title"] == "Markdown Title"
    assert docs["one.txt"]["source"] == "site"
    html_doc = docs["three.html"]
    # trafilatura prefers the headline (h1) to the <title>; either is the page's title.
    assert html_doc["title"] in ("Budget", "Budget & the council")
    assert html_doc["url"] == "https://news.example.org/budget"
    assert str(html_doc["published_at"]).startswith("2020-05-01")
    text = str(html_doc["text"])
    assert "council approved the budget" in text
    assert "Home | World" not in text and "Copyright" not in text


def test_warc(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "crawl.warc.gz"
    _write_warc(path)
    summary = ingest_paths(store, [path])
    assert summary.n_new == 1  # the image response is not a document
    (doc,) = _docs(store)
    assert doc["doc_id"] == "https://news.example.org/budget"
    assert doc["url"] == "https://news.example.org/budget"
    assert "council approved the budget" in str(doc["text"])


def test_cp1252_text_file_is_decoded(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes(
        "Caf\xe9 owners said the r\xe9gime\x92s plan failed. They protested.".encode("latin-1")
    )
    ingest_paths(store, [path], source="Archive")
    (doc,) = _docs(store)
    assert "Café" in str(doc["text"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=60), max_size=8))
def test_jsonl_reader_never_raises_on_garbage(lines: list[bytes]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.jsonl"
        path.write_bytes(b"\n".join(lines))
        items = list(read_jsonl(path))
    for item in items:
        assert isinstance(item, RawRecord | InputProblem)
        if isinstance(item, InputProblem):
            assert item.file == str(path)
            # Only a problem with the whole file (undecodable JSON array) has no line.
            assert item.line is not None or "file" in item.reason


_cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_cell, _cell), max_size=6), st.sampled_from([",", "\t"]))
def test_delimited_reader_round_trips(rows: list[tuple[str, str]], delimiter: str) -> None:
    import csv
    import tempfile

    from chorus.ingest.formats import read_delimited

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, delimiter=delimiter)
            writer.writerow(["id", "text"])
            writer.writerows(rows)
        items = list(read_delimited(path, delimiter=delimiter))
    # Rows whose every cell is blank are skipped as empty lines; all others come back intact.
    expected = [r for r in rows if any(c.strip() for c in r)]
    assert [(i.fields["id"], i.fields["text"]) for i in items if isinstance(i, RawRecord)] == [
        (a, b) for a, b in expected
    ]
    assert all(isinstance(i, RawRecord) for i in items)
