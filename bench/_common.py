"""What the benchmarks share: the data they read, the machine they ran on, child runs."""

from __future__ import annotations

import csv
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "news" / "allsides.jsonl.gz"
CLEF = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "claims" / "clef2020-task2"


class Groups:
    """Union-find over string keys: ``join(a, b)`` puts them in one group, ``find(x)`` names
    x's group (a key of it)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def read_tsv(path: Path) -> list[list[str]]:
    """A CLEF TSV's rows after its header, quoted fields (with their newlines) read whole."""
    csv.field_size_limit(10**8)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t")
        next(rows)
        return list(rows)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def run_child(code: str, *args: str, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run Python code in a child; return (wall seconds, its peak RSS in MiB, its last line of
    output)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    # Read before waiting: a child that writes more than the pipe holds would block forever.
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"child failed ({status}): {out}")
    lines = out.strip().splitlines()
    return seconds, usage.ru_maxrss / 1024, lines[-1] if lines else ""
