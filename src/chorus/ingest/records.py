"""What readers yield: one raw record per input row, file or WARC response, with its origin."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RawRecord:
    """Fields as read, before mapping; ``line`` is the 1-based line, row or record number."""

    file: str
    line: int
    fields: dict[str, Any]
    # Defaults a reader knows for this record (e.g. a folder file's path as its id).
    implied: dict[str, Any] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"{self.file}:{self.line}"
