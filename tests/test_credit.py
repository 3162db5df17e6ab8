"""Wire credits: each form agencies are credited with, and what is not a credit."""

from __future__ import annotations

from pathlib import Path

import pytest

from chorus.reuse.credit import (
    credit_table,
    find_credits,
    is_credit_line,
    is_wire_document,
    source_agency,
)

BODY = "The Senate passed the spending bill late on Tuesday after a long debate."


@pytest.mark.parametrize(
    ("text", "source", "agency", "form", "whole"),
    [
        (f"WASHINGTON (AFP) {BODY}", "Daily Planet", "AFP", "dateline", True),
        (f"NEW YORK (Reuters) - {BODY}", "Daily Planet", "Reuters", "dateline", True),
        (f"BEIRUT, Lebanon (AP) — {BODY}", "Daily Planet", "Associated Press", "dateline", True),
        (f"(CNN) {BODY}", "Guest Writer - Left", "CNN", "dateline", True),
        (
            f"Gazans clean up.\n\nGAZA CITY (AP) - {BODY}",
            "Politico",
            "Associated Press",
            "dateline",
            True,
        ),
        (f"Headline here. LONDON (dpa) {BODY}", "Daily Planet", "dpa", "dateline", True),
        (
            f"By Jane Roe, Associated Press\n\n{BODY}",
            "Daily Planet",
            "Associated Press",
            "byline",
            True,
        ),
        (f"By The Associated Press\n\n{BODY}", "Daily Planet", "Associated Press", "byline", True),
        (f"{BODY}\n\n— Associated Press", "Daily Planet", "Associated Press", "closing", True),
        (f"{BODY}\n\n- Reuters", "Daily Planet", "Reuters", "closing", True),
        (
            f"{BODY}\n\nCopyright 2019 The Associated Press. All rights reserved.",
            "Newsmax",
            "Associated Press",
            "copyright",
            True,
        ),
        (
            f"{BODY}\n\n(Reporting by John Doe; Editing by Jane Roe)",
            "Yahoo! News",
            "Reuters",
            "reporting by",
            True,
        ),
        (
            f"{BODY}\n\nThe Associated Press contributed to this report.",
            "Fox News",
            "Associated Press",
            "contributed",
            False,
        ),
        (
            f"{BODY}\n\nAssociated Press writer Andrew Taylor contributed to this story.",
            "Fox News",
            "Associated Press",
            "contributed",
            False,
        ),
        (
            f"{BODY} The bill now goes to the House, Reuters reported.",
            "Fox News",
            "Reuters",
            "reported",
            False,
        ),
        (
            f"{BODY} The toll rose, according to the Associated Press.",
            "NPR",
            "Associated Press",
            "reported",
            False,
        ),
        (f"{BODY} An official told AFP the meeting was set.", "Newsmax", "AFP", "reported", False),
        (
            f"{BODY}\n\nProtesters outside. (AP Photo/Evan Vucci)",
            "CBN",
            "Associated Press",
            "photo",
            False,
        ),
        # A copyright under a picture, mid-text, credits the caption, not the text.
        (f"In Beijing, October 18. © 2013 Reuters\n\n{BODY * 8}", "HRW", "Reuters", "photo", False),
        (
            f"{BODY}\n\nThe Associated Press contributed reporting.",
            "Fox News",
            "Associated Press",
            "contributed",
            False,
        ),
    ],
)
def test_credit_forms(text: str, source: str, agency: str, form: str, whole: bool) -> None:
    found = find_credits(text, source)
    assert [(c.agency, c.form, c.whole) for c in found] == [(agency, form, whole)]
    credit = found[0]
    assert 0 <= credit.start < credit.end <= len(text)
    if form in ("reported", "photo"):
        # A sentence credit covers its whole sentence (or caption line), not the name only.
        covered = text[credit.start : credit.end]
        assert covered.rstrip(" ").endswith((".", ")", "\n")) or credit.end == len(text)
        assert len(covered.split()) >= 3


@pytest.mark.parametrize(
    ("text", "source"),
    [
        # An agency's own dateline on its own pages credits nobody.
        (f"WASHINGTON (Reuters) - {BODY}", "Reuters"),
        (f"(CNN) {BODY}", "CNN (Web News)"),
        (f"NEW YORK (AP) — {BODY}", "Associated Press"),
        # Michael Bloomberg speaking, and one outlet citing another, are not wire credits.
        (f"{BODY} Bloomberg said he would run.", "Fox News"),
        (f"{BODY} CNN reported the vote first.", "Fox News"),
        # An embedded tweet's attribution is not a closing credit.
        (f"{BODY}\n\n— The Associated Press (@AP) December 1, 2019", "Breitbart"),
        # A caption's credit closing a line is no dateline.
        (f"Three men in Ghazni Province, 2015. (Reuters)\n\n{BODY}", "Guest Writer - Right"),
        # Michael Bloomberg giving money is no credit.
        (f"{BODY} Bloomberg contributed so much last year to charity.", "Politico"),
        # Parentheses that are not an agency.
        (f"WASHINGTON (R) {BODY}", "Daily Planet"),
        (f"Sen. Mitch McConnell (R-Ky.) said {BODY}", "Daily Planet"),
        ("", "Daily Planet"),
    ],
)
def test_not_credits(text: str, source: str) -> None:
    assert find_credits(text, source) == []


def test_dateline_only_near_the_top() -> None:
    late = "x " * 400 + f"WASHINGTON (AFP) {BODY}"
    assert find_credits(late, "Daily Planet") == []


def test_wire_documents() -> None:
    assert is_wire_document(BODY, "Reuters")
    assert is_wire_document(BODY, "AFP - World")
    assert not is_wire_document(BODY, "CNN (Web News)")  # a newsroom, not a wire
    assert is_wire_document(f"{BODY}\n\nThe Associated Press contributed to this report.", "Fox")
    assert not is_wire_document(f"{BODY} The vote was close, Reuters reported.", "Fox")
    assert source_agency("Thomson Reuters") == "Reuters"


@pytest.mark.parametrize(
    ("text", "credit_line"),
    [
        ("The Associated Press contributed to this report.", True),
        ("Associated Press writer Andrew Taylor contributed to this story.", True),
        ("Copyright 2019 The Associated Press. All rights reserved.", True),
        ("WASHINGTON (Reuters) -", True),
        ("(AP Photo/Evan Vucci)", True),
        ("WASHINGTON (Reuters) - The Senate passed the bill on Tuesday night.", False),
        ("Follow us on Twitter for the latest news from our newsroom.", False),
    ],
)
def test_credit_lines(text: str, credit_line: bool) -> None:
    assert is_credit_line(text) is credit_line


def test_credit_table_rows() -> None:
    import pyarrow as pa

    docs = pa.table(
        {
            "doc_id": ["a", "b", "c"],
            "source": ["Daily Planet", "Reuters", "Fox"],
            "text": [f"WASHINGTON (AFP) {BODY}", f"LONDON (Reuters) - {BODY}", None],
        }
    )
    table = credit_table(docs)
    assert table.to_pylist() == [
        {"doc_id": "a", "agency": "AFP", "form": "dateline", "start": 0, "end": 16, "whole": True}
    ]


@pytest.mark.parametrize(
    ("text", "sources", "wire", "at_edge", "kind"),
    [
        # A credit line shared by several outlets is the agency's credit, not their template.
        (
            "The Associated Press contributed to this report.",
            ["a", "b"],
            [False] * 2,
            [True] * 2,
            "syndication",
        ),
        # Wire copy is syndication even when it mentions Twitter (the old furniture rule).
        (f"{BODY} He said so on Twitter.", ["a", "b", "c"], [True] * 3, [False] * 3, "syndication"),
        (
            "Follow us on Twitter and subscribe to our newsletter today.",
            ["a", "b"],
            [False] * 2,
            [True] * 2,
            "boilerplate",
        ),
        (BODY, ["a", "b"], [False, False], [False, False], "reuse"),
        (BODY, ["a", "a - News", "a - Opinion"], [False] * 3, [False] * 3, "boilerplate"),
    ],
)
def test_classify(
    text: str, sources: list[str], wire: list[bool], at_edge: list[bool], kind: str
) -> None:
    from chorus.reuse import classify

    assert classify(sources=sources, wire=wire, at_edge=at_edge, text=text) == kind


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("New York Times - Opinion", "new york times"),
        ("Fox News (Online)", "fox news"),
        ("HuffPost: Politics", "huffpost"),
        # A hyphen inside a name is part of it: two sites are not one outlet's sections.
        ("news-site.com", "news-site.com"),
        ("Chicago Sun-Times", "chicago sun-times"),
        ("campaign3-site7", "campaign3-site7"),
    ],
)
def test_outlet_of_a_source(source: str, expected: str) -> None:
    from chorus.reuse.classify import outlet

    assert outlet(source) == expected


def test_a_passage_two_hyphenated_sites_share_is_not_boilerplate() -> None:
    from chorus.reuse import classify

    kind = classify(
        sources=["b1-wire-0", "b1-wire-0", "b1-news-2", "b1-news-2"],
        wire=[False] * 4,
        at_edge=[False] * 4,
        text=BODY,
    )
    assert kind == "reuse"


def test_credits_are_updated_with_the_documents_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credits written, then documents added, replaced and removed: only those are read
    again, and the table equals one read from scratch; other rules read everything again."""
    import json

    import chorus.reuse.credits_table as credits_table
    from chorus.ingest import ingest_paths
    from chorus.reuse.credits_table import write_credits
    from chorus.store import open_store

    def add(name: str, rows: list[dict[str, str]], *, replace: bool = False) -> None:
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        ingest_paths(store, [path], replace=replace)

    def table() -> list[tuple[object, ...]]:
        return store.con.execute("SELECT * FROM credits ORDER BY ALL").fetchall()

    wire = "WASHINGTON (AP) — The Senate passed the bill on Tuesday night after a long debate."
    own = "The council met on Monday and agreed the budget, Reuters reported on Tuesday."
    plain = "The council met on Monday and agreed the budget for the coming year."
    with open_store(tmp_path / "c.duckdb") as store:
        add(
            "a",
            [
                {"id": "a", "source": "x.com", "text": wire},
                {"id": "b", "source": "y.com", "text": plain},
                {"id": "c", "source": "z.com", "text": own},
            ],
        )
        assert write_credits(store) == 2
        assert {r[0] for r in table()} == {"a", "c"}
        add("b", [{"id": "d", "source": "w.com", "text": wire}])
        add("c", [{"id": "a", "source": "x.com", "text": plain}], replace=True)
        for name in ("documents_all", "sentences_all"):
            store.con.execute(f"DELETE FROM {name} WHERE doc_id = 'c'")
        calls: list[int] = []
        original = credits_table.credit_table

        def counted(batch: object) -> object:
            calls.append(batch.num_rows)  # type: ignore[attr-defined]
            return original(batch)  # type: ignore[arg-type]

        monkeypatch.setattr(credits_table, "credit_table", counted)
        write_credits(store)
        assert sum(calls) == 2  # the new and the replaced document
        updated = table()
        assert {r[0] for r in updated} == {"d"}
        calls.clear()
        write_credits(store)
        assert sum(calls) == 0 and table() == updated
        write_credits(store, rebuild=True)
        assert sum(calls) == 3 and table() == updated
        calls.clear()
        store.con.execute("UPDATE _credit_docs SET rules = 'older'")
        write_credits(store)
        assert sum(calls) == 3 and table() == updated
