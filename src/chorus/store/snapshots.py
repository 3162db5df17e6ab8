"""Snapshots of a store for a running app, so the store itself stays free for updates.

DuckDB lets one process write a file and no other open it meanwhile, so an app that held the
store would refuse every ``chorus ingest`` and ``chorus analyze`` while it runs. Instead
``chorus serve`` reads a copy: ``<store>.served/g000001.duckdb``, ``g000002.duckdb``... A
command that finished updating the store publishes the next copy when an app is serving it
(a marker file per live server), and the app moves to the newest copy once it is whole: it
never sees a half-updated store. A copy is made under a ``.partial`` name and renamed.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

_SNAPSHOT = re.compile(r"^g(\d{6,})\.duckdb$")
_MARKER = re.compile(r"^server-(\d+)$")


@dataclass(frozen=True)
class Snapshot:
    """A whole copy of the store; a later ``number`` is a later state."""

    number: int
    path: Path


def snapshot_dir(db: str | os.PathLike[str]) -> Path:
    path = Path(db)
    return path.with_name(path.name + ".served")


def snapshots(db: str | os.PathLike[str]) -> list[Snapshot]:
    """The whole snapshots of the store at ``db``, oldest first."""
    folder = snapshot_dir(db)
    if not folder.is_dir():
        return []
    found = [
        Snapshot(int(m.group(1)), p)
        for p in folder.iterdir()
        if (m := _SNAPSHOT.match(p.name)) is not None
    ]
    return sorted(found, key=lambda s: s.number)


def latest_snapshot(db: str | os.PathLike[str]) -> Snapshot | None:
    found = snapshots(db)
    return found[-1] if found else None


def mark_server(db: str | os.PathLike[str]) -> Path:
    """Say that this process serves the store: writers publish snapshots while it runs."""
    folder = snapshot_dir(db)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"server-{os.getpid()}"
    marker.write_text(str(os.getpid()), encoding="utf-8")
    return marker


def unmark_server(marker: Path) -> None:
    marker.unlink(missing_ok=True)


def server_running(db: str | os.PathLike[str]) -> bool:
    """Whether a live process serves the store (markers of dead ones are removed)."""
    folder = snapshot_dir(db)
    if not folder.is_dir():
        return False
    alive = False
    for marker in folder.iterdir():
        m = _MARKER.match(marker.name)
        if m is None:
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            marker.unlink(missing_ok=True)
        except PermissionError:  # alive, another user's
            alive = True
        else:
            alive = True
    return alive


def publish(db: str | os.PathLike[str], *, force: bool = False) -> Snapshot | None:
    """Copy the store at ``db`` as its next snapshot when an app serves it (or ``force``).
    Call it after the writer closed the store: the file is then whole, with no log beside
    it. Returns the snapshot, or None when no app serves the store."""
    if not force and not server_running(db):
        return None
    source = Path(db)
    folder = snapshot_dir(db)
    folder.mkdir(parents=True, exist_ok=True)
    last = latest_snapshot(db)
    number = (last.number if last else 0) + 1
    target = folder / f"g{number:06d}.duckdb"
    partial = folder / f"g{number:06d}.partial"
    shutil.copyfile(source, partial)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():  # left by a writer that died: the copy replays it as the store would
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    partial.replace(target)
    log.info("published %s as snapshot %d for the app", source, number)
    return Snapshot(number, target)


def publish_if_free(db: str | os.PathLike[str]) -> Snapshot | None:
    """A snapshot of the store as it is now, if no writer holds it (a read-only connection
    keeps writers out while the file is copied); None when one does."""
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:  # locked by another process (or open for writing in this one)
        return None
    try:
        return publish(db, force=True)
    finally:
        con.close()


def remove_older(db: str | os.PathLike[str], keep: int) -> None:
    """Delete the snapshots older than number ``keep`` (the app no longer reads them)."""
    for snapshot in snapshots(db):
        if snapshot.number < keep:
            snapshot.path.unlink(missing_ok=True)
            snapshot.path.with_name(snapshot.path.name + ".wal").unlink(missing_ok=True)
