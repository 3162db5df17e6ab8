"""The README's Python example and the docstring examples run as written."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import chorus.match.lexical
import chorus.match.watchlist
import chorus.points.keyphrases
import chorus.points.settings
import chorus.points.text
import chorus.segment.splitter

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "5 126" and out[1] == "5 80%"
    assert (tmp_path / "documents.parquet").exists()


def test_readme_names_the_two_commands_and_ci_runs_the_test_one() -> None:
    text = README.read_text()
    assert "make demo" in text and "make test" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "make test" in ci


@pytest.mark.parametrize(
    "module",
    [
        chorus.segment.splitter,
        chorus.points.text,
        chorus.points.keyphrases,
        chorus.points.settings,
        chorus.match.watchlist,
        chorus.match.lexical,
    ],
)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0
