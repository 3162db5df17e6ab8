from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.segment import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith went to Washington. He arrived at 5 p.m. on Monday.",
            ["Mr. Smith went to Washington.", "He arrived at 5 p.m. on Monday."],
        ),
        (
            "“Everyone seemed to like him,” he said. “Smart, funny, humble.”",
            ["“Everyone seemed to like him,” he said.", "“Smart, funny, humble.”"],
        ),
        ('"Really?" he asked. She left.', ['"Really?" he asked.', "She left."]),
        (
            "She moved to the U.S. in 2010. Then she left the U.S. The end.",
            ["She moved to the U.S. in 2010.", "Then she left the U.S.", "The end."],
        ),
        (
            "J. K. Rowling wrote it on Jan. 5 at Apple Inc. The company agreed.",
            ["J. K. Rowling wrote it on Jan. 5 at Apple Inc.", "The company agreed."],
        ),
        (
            "Sen. Warren and Gov. Newsom met Dr. Fauci. No. 10 agreed.",
            ["Sen. Warren and Gov. Newsom met Dr. Fauci.", "No. 10 agreed."],
        ),
        (
            "Items:\n1. First thing\n2. Second thing\n- bullet one\n- bullet two",
            ["Items:", "1. First thing", "2. Second thing", "- bullet one", "- bullet two"],
        ),
        (
            "A line that is\nsoftly wrapped ends here. Next.",
            ["A line that is\nsoftly wrapped ends here.", "Next."],
        ),
        (
            "Headline Without Period\n\nBody text starts here.",
            ["Headline Without Period", "Body text starts here."],
        ),
        ("Wait... what? No! Yes.", ["Wait... what?", "No!", "Yes."]),
        ("It rose 3.5 percent. Prices fell.", ["It rose 3.5 percent.", "Prices fell."]),
        ("He said (quietly.) Then left.", ["He said (quietly.)", "Then left."]),
        ("", []),
        ("   \n\n  ", []),
        ("no terminator at all", ["no terminator at all"]),
        # Persian and Arabic: "؟" asks, "،" is a comma, letters have no case.
        (
            "ایران گفت که مذاکرات ادامه دارد. آیا توافق ممکن است؟ بله، ممکن است.",
            ["ایران گفت که مذاکرات ادامه دارد.", "آیا توافق ممکن است؟", "بله، ممکن است."],
        ),
        (
            "قال المتحدث إن المحادثات ستستمر. هل الاتفاق ممكن؟ نعم، ممكن.",
            ["قال المتحدث إن المحادثات ستستمر.", "هل الاتفاق ممكن؟", "نعم، ممكن."],
        ),
        ("یہ ایک جملہ ہے۔ یہ دوسرا ہے۔", ["یہ ایک جملہ ہے۔", "یہ دوسرا ہے۔"]),
        ("यह पहला वाक्य है। यह दूसरा है।", ["यह पहला वाक्य है।", "यह दूसरा है।"]),
        # Chinese and Japanese: full-width stops, no spaces; a quotation the sentence goes on
        # after stays inside it.
        ("他说谈判将继续。协议可能吗？是的！", ["他说谈判将继续。", "协议可能吗？", "是的！"]),
        ("「もちろんです。」と彼は言った。次へ。", ["「もちろんです。」と彼は言った。", "次へ。"]),
        ("「はい。」「いいえ。」", ["「はい。」", "「いいえ。」"]),
        ("Talks go on. 谈判继续。", ["Talks go on.", "谈判继续。"]),
    ],
)
def test_split_table(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_long_run_is_cut_at_word_breaks() -> None:
    text = " ".join(["word"] * 1000)
    spans = split_sentences(text, max_chars=200)
    assert all(s.end - s.start <= 200 for s in spans)
    assert " ".join(text[s.start : s.end] for s in spans) == text


def test_seed_tweet_lines() -> None:
    text = "Intro sentence here.\n— Jane Doe (@jane) October 28, 2020\nNext paragraph."
    assert sentences(text) == [
        "Intro sentence here.",
        "— Jane Doe (@jane) October 28, 2020",
        "Next paragraph.",
    ]


_alphabet = st.sampled_from(
    [*list("abc XYZ.!?…\"'”“()\n\t-12é 。！？」「،؟۔ب中"), "Mr.", "U.S.", " \n\n"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_alphabet, max_size=80).map("".join), st.integers(min_value=5, max_value=300))
def test_offsets_round_trip_and_cover_all_text(text: str, max_chars: int) -> None:
    spans = split_sentences(text, max_chars=max_chars)
    covered = [False] * len(text)
    last_end = 0
    for s in spans:
        piece = text[s.start : s.end]
        assert piece, "empty sentence"
        assert piece == piece.strip(), "sentence not trimmed"
        assert s.start >= last_end, "spans overlap or go backwards"
        assert s.end - s.start <= max_chars
        last_end = s.end
        for i in range(s.start, s.end):
            covered[i] = True
    lost = [ch for ch, c in zip(text, covered, strict=True) if not c and not ch.isspace()]
    assert lost == [], "non-space characters fell outside every sentence"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_unicode_round_trips(text: str) -> None:
    for s in split_sentences(text):
        assert text[s.start : s.end].strip() == text[s.start : s.end] != ""


def test_a_long_run_without_spaces_is_cut_at_clause_marks() -> None:
    text = "，".join(["谈判将继续"] * 300) + "。"
    spans = split_sentences(text, max_chars=100)
    assert all(s.end - s.start <= 100 for s in spans)
    assert "".join(text[s.start : s.end] for s in spans) == text
    assert all(text[s.end - 1] in "，。" for s in spans)
