"""Reading watchlists (known talking points) and the documents to match against them.

A watchlist is JSON Lines with ``id`` and ``text`` (other fields are kept as metadata), or a
.txt file with one talking point a line (its id is the line number, from 1). Bad input is
refused whole, with every problem's file, line and field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chorus.errors import ChorusError, InputProblem
from chorus.ingest.formats import read_jsonl
from chorus.ingest.records import RawRecord

_SHOWN = 20


@dataclass(frozen=True)
class WatchItem:
    """One known talking point."""

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MatchDocument:
    """One document to match: ``text`` is matched as given; offsets point into it. ``lang``:
    its language when already detected (a stored document's); else it is detected when the
    multilingual model needs it."""

    id: str
    text: str
    lang: str | None = None


class WatchlistError(ChorusError):
    """A watchlist or an input file had bad records; nothing was matched."""

    def __init__(self, problems: list[InputProblem], *, what: str) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:_SHOWN])
        more = f"\n  ... and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        super().__init__(
            f"refused the {what}: {len(problems)} problem(s); nothing was matched.\n{shown}{more}"
        )


def read_watchlist(path: str | os.PathLike[str]) -> list[WatchItem]:
    """The talking points in ``path`` (.jsonl/.json/.ndjson or .txt), in file order.

    Raises :class:`WatchlistError` for a line with no text, a duplicate id, malformed JSON, or
    a file with no talking points.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "w.txt"
    >>> _ = p.write_text("The moon landing was staged.\\nVaccines cause autism.\\n")
    >>> [(i.id, i.text) for i in read_watchlist(p)]
    [('1', 'The moon landing was staged.'), ('2', 'Vaccines cause autism.')]
    """
    path = Path(path)
    if path.suffix.lower() in (".txt", ".text", ".lst"):
        items, problems = _read_lines(path)
    else:
        items, problems = _read_records(path, kind="watchlist")
    if not problems and not items:
        problems.append(InputProblem("no talking points in the file", str(path)))
    if problems:
        raise WatchlistError(problems, what="watchlist")
    return [WatchItem(i, t, m) for i, t, m in items]


def read_match_documents(path: str | os.PathLike[str]) -> list[MatchDocument]:
    """The documents in a JSON Lines file (``id`` and ``text``), in file order. An empty text
    is allowed (it matches nothing); a missing one, or an empty file, is an error."""
    path = Path(path)
    items, problems = _read_records(path, kind="document", unique=False, allow_empty=True)
    if not problems and not items:
        problems.append(InputProblem("no documents in the file", str(path)))
    if problems:
        raise WatchlistError(problems, what="input")
    return [MatchDocument(i, t) for i, t, _ in items]


_Row = tuple[str, str, dict[str, Any]]


def _read_lines(path: Path) -> tuple[list[_Row], list[InputProblem]]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        return [], [InputProblem(f"cannot read the file: {exc.strerror or exc}", str(path))]
    except UnicodeDecodeError as exc:
        return [], [InputProblem(f"not valid UTF-8 text: {exc.reason}", str(path))]
    while lines and not lines[-1].strip():
        lines.pop()
    items: list[_Row] = []
    problems: list[InputProblem] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            items.append((str(number), line.strip(), {}))
        else:
            problems.append(InputProblem("no text on this line", str(path), number))
    return items, problems


def _read_records(
    path: Path, *, kind: str, unique: bool = True, allow_empty: bool = False
) -> tuple[list[_Row], list[InputProblem]]:
    if not path.exists():
        return [], [InputProblem("no such file", str(path))]
    items: list[_Row] = []
    problems: list[InputProblem] = []
    first_line: dict[str, int] = {}
    for record in read_jsonl(path):
        if isinstance(record, InputProblem):
            problems.append(record)
            continue
        problem, row = _row(record, kind=kind, allow_empty=allow_empty)
        if problem is not None:
            problems.append(problem)
            continue
        assert row is not None
        if unique and row[0] in first_line:
            problems.append(
                InputProblem(
                    f"duplicate id {row[0]!r} (first on line {first_line[row[0]]})",
                    record.file,
                    record.line,
                    "id",
                )
            )
            continue
        first_line.setdefault(row[0], record.line)
        items.append(row)
    return items, problems


def _row(
    record: RawRecord, *, kind: str, allow_empty: bool
) -> tuple[InputProblem | None, _Row | None]:
    fields = dict(record.fields)
    raw_id = fields.pop("id", None)
    text = fields.pop("text", None)
    where = (record.file, record.line)
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        return InputProblem(f"a {kind} needs an id", *where, "id"), None
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
        return InputProblem("the id must be a string or an integer", *where, "id"), None
    if text is None:
        return InputProblem(f"a {kind} needs a text", *where, "text"), None
    if not isinstance(text, str):
        return InputProblem("the text must be a string", *where, "text"), None
    if not text.strip() and not allow_empty:
        return InputProblem("the text is empty", *where, "text"), None
    return None, (str(raw_id), text if allow_empty else text.strip(), fields)
