from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.ingest import normalise_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("The regimeâ€™s talking points", "The regime’s talking points"),
        ("cafÃ© society", "café society"),
        ("cafe\u0301", "café"),  # decomposed → NFC
        ("line one\r\nline two\rthree", "line one\nline two\nthree"),
        ("bell\x07 and nul\x00 gone\ufeff", "bell and nul gone"),
        ("curly “quotes” stay — and dashes", "curly “quotes” stay — and dashes"),
        ("plain ascii", "plain ascii"),
    ],
)
def test_normalise_table(raw: str, clean: str) -> None:
    assert normalise_text(raw) == clean


@given(st.text())
def test_normalised_is_nfc_and_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert unicodedata.is_normalized("NFC", once)
    assert normalise_text(once) == once
