"""Errors a user can act on. Each names what went wrong and, for input, where."""

from __future__ import annotations

from dataclasses import dataclass


class ChorusError(Exception):
    """Base class for every error chorus raises on purpose."""


@dataclass(frozen=True)
class InputProblem:
    """One bad input record: where it is and why it was refused."""

    reason: str
    file: str | None = None
    line: int | None = None
    field: str | None = None
    # A short excerpt of the record, kept with the reject; not part of the message.
    raw: str | None = None

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        field = f" field '{self.field}':" if self.field else ""
        return f"{where}:{field} {self.reason}"


class BatchRefusedError(ChorusError):
    """An ingest batch had bad records; nothing was written."""

    def __init__(self, problems: list[InputProblem], total: int) -> None:
        self.problems = problems
        self.total = total
        shown = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  ... and {total - 20} more" if total > 20 else ""
        super().__init__(
            f"refused the batch: {total} bad record(s); the store is unchanged.\n{shown}{more}\n"
            "Fix the input, or use on_error='skip' (--on-error skip) to land the good records "
            "and keep the rejects in the 'rejects' table."
        )


class StoreLockedError(ChorusError):
    """Another process has the store open."""


class StoreVersionError(ChorusError):
    """The store was written by a newer chorus than this one."""


class UnknownTableError(ChorusError):
    """A table name that the store does not hold."""
