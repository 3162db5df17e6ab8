"""A short derandomised slice of ``bench/fuzz.py``: every reader and the app's query
parameters, no uncaught exception, no store changed by a refused batch."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import fuzz


@pytest.mark.parametrize("target", fuzz.TARGETS)
def test_fuzz_slice(target: str) -> None:
    tally = fuzz.run([target], cases=40, seed=0, store_every=4)[target]
    assert tally.cases >= 40
    assert not tally.uncaught, tally.first
    assert tally.changed == 0
