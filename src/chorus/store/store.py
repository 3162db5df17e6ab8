"""The project store: one DuckDB file holding every stage's tables."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import duckdb
import pyarrow as pa

from chorus.errors import ChorusError, StoreLockedError, StoreVersionError, UnknownTableError
from chorus.store.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

DEFAULT_STORE_PATH = "chorus.duckdb"
STORE_ENV_VAR = "CHORUS_DB"
MEMORY_ENV_VAR = "CHORUS_MEMORY_LIMIT"
# DuckDB's own default is 80% of RAM; a fixed cap keeps a run's footprint predictable, and
# DuckDB spills what does not fit to a temp folder beside the store.
DEFAULT_MEMORY_LIMIT = "2GB"

ExportFormat = Literal["jsonl", "csv", "parquet"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "parquet")


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> Any:
    """The first column of the first row of ``sql``, or None when there is no row.

    Reads the whole result: DuckDB counts a result read only in part as still running and
    refuses other work on the connection until it is finished.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


_SIZE = re.compile(r"^\s*\d+(?:\.\d+)?\s*[KMGT]i?B\s*$", re.IGNORECASE)


def _checked_size(value: str) -> str:
    """A memory size DuckDB understands (``512MB``, ``2GiB``); never SQL from elsewhere."""
    if not _SIZE.match(value):
        raise ChorusError(f"not a memory size: {value!r} (write it like 512MB or 2GB)")
    return value.strip()


def resolve_store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The store to use: ``path``, else ``$CHORUS_DB``, else ``./chorus.duckdb``."""
    if path is not None and str(path) != "":
        return Path(path)
    env = os.environ.get(STORE_ENV_VAR)
    return Path(env) if env else Path(DEFAULT_STORE_PATH)


def run_row(settings: object, **columns: object) -> dict[str, object]:
    """A stage's ``*_runs`` row: its settings (a dataclass, as JSON), when it finished (UTC),
    and the table's own ``columns`` (a ``stats`` mapping as JSON). Both engines make it."""
    row: dict[str, object] = {
        "settings": json.dumps(dataclasses.asdict(settings)),  # type: ignore[call-overload]
        "finished_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
    }
    for name, value in columns.items():
        row[name] = json.dumps(value) if name == "stats" else value
    return row


class Store:
    """An open chorus store. Use :func:`open_store`; close it (or use ``with``) when done.

    DuckDB lets one process write a file at a time; a second process gets
    :class:`~chorus.errors.StoreLockedError` instead of a corrupt file.
    """

    def __init__(
        self,
        path: Path,
        con: duckdb.DuckDBPyConnection,
        *,
        read_only: bool,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        _known: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.con = con
        self.read_only = read_only
        self.memory_limit_setting = memory_limit
        # Facts about a read-only store's tables (which exist, which are empty, whether an
        # index is current): they cannot change while it is open, and asking the catalogue
        # costs a few milliseconds a time, several times a page.
        self._known: dict[str, Any] = {} if _known is None else _known

    def cursor(self) -> Store:
        """Another handle on this store for another thread (DuckDB connections are not
        shared across threads). Read-only handles share what they have learned about the
        store's tables."""
        return Store(
            self.path,
            self.con.cursor(),
            read_only=self.read_only,
            memory_limit=self.memory_limit_setting,
            _known=self._known,
        )

    def known(self, key: str, find: Callable[[], Any]) -> Any:
        """``find()``, remembered under ``key`` while a read-only store is open; asked every
        time of a store that can be written (a stage may have changed the answer)."""
        if not self.read_only:
            return find()
        if key not in self._known:
            self._known.setdefault(key, find())
        return self._known[key]

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: commit when the block ends, roll back if it raises."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    @contextmanager
    def memory_limit(self, limit: str) -> Iterator[None]:
        """Cap DuckDB's memory (e.g. ``"512MB"``) for the block, then restore the cap: for
        stages whose own arrays need the room more than DuckDB's cache does."""
        self.con.execute(f"SET memory_limit = '{_checked_size(limit)}'")
        try:
            yield
        finally:
            self.con.execute(f"SET memory_limit = '{_checked_size(self.memory_limit_setting)}'")

    def insert_arrow(self, table: str, data: pa.Table) -> int:
        """Append ``data``'s rows to ``table`` (columns in the table's order). Call it inside
        :meth:`transaction` so that a batch lands whole or not at all."""
        view = f"_insert_{table}"
        self.con.register(view, data)
        try:
            self.con.execute(f'INSERT INTO "{table}" SELECT * FROM "{view}"')
        finally:
            self.con.unregister(view)
        return int(data.num_rows)

    def record_run(self, table: str, settings: object, **columns: object) -> None:
        """Append a stage's run to its ``*_runs`` table (:func:`run_row`). Call it inside
        the transaction that writes the stage's tables."""
        row = run_row(settings, **columns)
        names = ", ".join(f'"{name}"' for name in row)
        marks = ", ".join("?" * len(row))
        self.con.execute(
            f'INSERT INTO "{self._checked_run_table(table)}" ({names}) VALUES ({marks})',
            list(row.values()),
        )

    @staticmethod
    def _checked_run_table(table: str) -> str:
        if not re.fullmatch(r"[a-z_]+_runs", table):
            raise ValueError(f"not a run table: {table!r}")
        return table

    # -- reading ---------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        value = scalar(self.con, "SELECT value FROM chorus_meta WHERE key = 'schema_version'")
        return int(value) if value is not None else 0

    def table_names(self) -> list[str]:
        """The tables and views users read: internal storage (``*_all``, ``_*``) is hidden."""
        return list(self.known("table_names", self._table_names))

    def _table_names(self) -> list[str]:
        rows = self.con.execute(
            """SELECT table_name FROM duckdb_tables() WHERE NOT temporary
               UNION SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary
               ORDER BY 1"""
        ).fetchall()
        return [
            r[0]
            for r in rows
            if r[0] != "chorus_meta" and not r[0].endswith("_all") and not r[0].startswith("_")
        ]

    def _checked_table(self, table: str) -> str:
        names = self.table_names()
        if table not in names:
            known = ", ".join(names)
            raise UnknownTableError(f"no table '{table}' in {self.path}; tables: {known}")
        return table

    def count(self, table: str) -> int:
        name = self._checked_table(table)
        return int(scalar(self.con, f'SELECT count(*) FROM "{name}"'))

    def languages(self) -> dict[str, int]:
        """The stored documents per detected language (``und``: not detected): what the
        models are chosen by."""
        rows = self.con.execute(
            "SELECT coalesce(lang, 'und'), count(*) FROM documents GROUP BY ALL"
        ).fetchall()
        return {str(lang): int(n) for lang, n in rows}

    def read_table(self, table: str) -> pa.Table:
        """The whole table as Arrow. For large tables prefer :meth:`scan_table`."""
        name = self._checked_table(table)
        return self.con.sql(f'SELECT * FROM "{name}"').to_arrow_table()

    def scan_table(self, table: str, *, batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        """Stream a table as Arrow record batches, in bounded memory."""
        name = self._checked_table(table)
        reader = self.con.sql(f'SELECT * FROM "{name}"').to_arrow_reader(batch_size)
        yield from reader

    def write_table(self, table: str, path: str | os.PathLike[str], *, format: ExportFormat) -> int:
        """Export a table to JSON Lines, CSV or Parquet; returns the number of rows written."""
        name = self._checked_table(table)
        if format not in EXPORT_FORMATS:
            raise ChorusError(f"unknown export format {format!r}; use one of {EXPORT_FORMATS}")
        options = {
            "jsonl": "FORMAT json",
            "csv": "FORMAT csv, HEADER true",
            "parquet": "FORMAT parquet, COMPRESSION zstd",
        }[format]
        target = str(Path(path)).replace("'", "''")
        self.con.execute(f"COPY (SELECT * FROM \"{name}\") TO '{target}' ({options})")
        return self.count(name)


def _apply_migrations(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if tables and "chorus_meta" not in tables:
        raise ChorusError(f"{path} is a DuckDB file but not a chorus store; use another --db")
    con.execute("CREATE TABLE IF NOT EXISTS chorus_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    value = scalar(con, "SELECT value FROM chorus_meta WHERE key = 'schema_version'")
    current = int(value) if value is not None else 0
    if current > SCHEMA_VERSION:
        raise StoreVersionError(
            f"{path} has schema version {current}, newer than this chorus understands "
            f"({SCHEMA_VERSION}); upgrade chorus"
        )
    for migration in MIGRATIONS:
        if migration.version <= current:
            continue
        log.info("migrating %s to schema %d: %s", path, migration.version, migration.description)
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in migration.statements:
                con.execute(statement)
            con.execute(
                "INSERT OR REPLACE INTO chorus_meta VALUES ('schema_version', ?)",
                [str(migration.version)],
            )
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


_LOCK_PID = re.compile(r"PID (\d+)")


def open_store(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    memory_limit: str | None = None,
) -> Store:
    """Open (creating and migrating if needed) the store at ``path``.

    ``path`` defaults to ``$CHORUS_DB``, then ``./chorus.duckdb``. ``memory_limit`` caps
    DuckDB's memory (default ``$CHORUS_MEMORY_LIMIT``, else 2GB); larger work spills to disk.
    """
    resolved = resolve_store_path(path)
    if read_only and not resolved.exists():
        raise ChorusError(f"no store at {resolved}; run 'chorus ingest' first")
    if resolved.parent and not resolved.parent.exists():
        resolved.parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit or os.environ.get(MEMORY_ENV_VAR) or DEFAULT_MEMORY_LIMIT
    }
    try:
        con = duckdb.connect(str(resolved), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            pid = _LOCK_PID.search(message)
            holder = f" (process {pid.group(1)})" if pid else ""
            raise StoreLockedError(
                f"the store {resolved} is in use by another process{holder}; wait for it to "
                "finish, or use another store with --db / CHORUS_DB"
            ) from None
        raise ChorusError(f"cannot open the store {resolved}: {message}") from None
    except duckdb.Error as exc:
        raise ChorusError(f"{resolved} is not a chorus store: {exc}") from None
    # DuckDB draws its own progress bar on stdout; the library never prints.
    con.execute("SET enable_progress_bar = false")
    # Spill large joins and uncommitted batches to disk beside the store, not to RAM.
    con.execute("SET temp_directory = ?", [str(resolved) + ".tmp"])
    con.execute("SET preserve_insertion_order = true")
    if not read_only:
        try:
            _apply_migrations(con, resolved)
        except BaseException:
            con.close()
            raise
    else:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "chorus_meta" not in tables:
            con.close()
            raise ChorusError(f"{resolved} is not a chorus store")
    return Store(resolved, con, read_only=read_only, memory_limit=str(config["memory_limit"]))
