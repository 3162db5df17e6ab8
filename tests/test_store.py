from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from chorus.errors import ChorusError, StoreLockedError, StoreVersionError, UnknownTableError
from chorus.ingest import ingest_paths
from chorus.store import SCHEMA_VERSION, Store, open_store, resolve_store_path
from chorus.store.schema import MIGRATIONS

from .conftest import SEEDS


def test_new_store_is_at_current_schema(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb") as store:
        assert store.schema_version == SCHEMA_VERSION
        assert {"documents", "sentences", "batches", "rejects"} <= set(store.table_names())
    with open_store(tmp_path / "s.duckdb") as store:  # reopening migrates nothing
        assert store.schema_version == SCHEMA_VERSION


def test_pages_look_points_up_by_an_index(tmp_path: Path) -> None:
    # "Points like this" and the points pages read rows of these tables by id among
    # hundreds of thousands: without an index every lookup scans all their keys.
    with open_store(tmp_path / "s.duckdb") as store:
        indexed = {
            (table, expr)
            for table, expr in store.con.execute(
                "SELECT table_name, expressions FROM duckdb_indexes()"
            ).fetchall()
        }
    assert {("points", "[point_id]"), ("_point_pages", "[point_id]")} <= indexed


def test_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE chorus_meta SET value = '999' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreVersionError, match="999"):
        open_store(path)


def test_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    path.write_text("hello, not a database")
    with pytest.raises(ChorusError, match="not a valid DuckDB"):
        open_store(path)
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE mine (x INTEGER)")
    con.close()
    with pytest.raises(ChorusError, match="not a chorus store"):
        open_store(other)
    with pytest.raises(ChorusError, match="no store"):
        open_store(tmp_path / "missing.duckdb", read_only=True)


def test_second_process_gets_a_clear_lock_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.duckdb"
    with open_store(path) as store:
        ingest_paths(store, [SEEDS])
        code = textwrap.dedent(f"""
            from chorus.store import open_store
            from chorus.errors import StoreLockedError
            try:
                open_store({str(path)!r})
            except StoreLockedError as exc:
                print("LOCKED", exc)
        """)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
        assert out.stdout.startswith("LOCKED"), out.stderr
        assert "in use by another process" in out.stdout and "--db" in out.stdout
    # The holder's data is intact and the store opens once released.
    with open_store(path) as store:
        assert store.count("documents") == 5


def test_lock_error_type_in_process(tmp_path: Path) -> None:
    # DuckDB shares one database per process, so the in-process case is a second *process*
    # only; this checks the error class is importable and a ChorusError.
    assert issubclass(StoreLockedError, ChorusError)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_write_table(tmp_path: Path, store: Store, fmt: str) -> None:
    ingest_paths(store, [SEEDS])
    out = tmp_path / f"sentences.{fmt}"
    n = store.write_table("sentences", out, format=fmt)  # type: ignore[arg-type]
    assert n == store.count("sentences") > 100
    if fmt == "jsonl":
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert len(rows) == n and set(rows[0]) == {"doc_id", "sent_no", "start", "end", "text"}
    elif fmt == "parquet":
        assert pq.read_table(out).num_rows == n
    else:
        assert out.read_text().splitlines()[0] == "doc_id,sent_no,start,end,text"


def test_unknown_table(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UnknownTableError, match="documents"):
        store.write_table("nope; DROP TABLE documents", tmp_path / "x.csv", format="csv")


def test_scan_table_streams_batches(store: Store) -> None:
    ingest_paths(store, [SEEDS])
    batches = list(store.scan_table("sentences", batch_size=50))
    assert sum(b.num_rows for b in batches) == store.count("sentences")
    assert max(b.num_rows for b in batches) <= 50


def test_resolve_store_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHORUS_DB", raising=False)
    assert resolve_store_path(None) == Path("chorus.duckdb")
    monkeypatch.setenv("CHORUS_DB", "/tmp/env.duckdb")
    assert resolve_store_path(None) == Path("/tmp/env.duckdb")
    assert resolve_store_path("given.duckdb") == Path("given.duckdb")


def test_failed_transaction_rolls_back(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as con:
        con.execute("INSERT INTO rejects_all VALUES (1, 'f', 1, NULL, 'r', NULL)")
        raise RuntimeError("boom")
    assert store.con.execute("SELECT count(*) FROM rejects_all").fetchone() == (0,)


def test_internal_tables_are_hidden(store: Store) -> None:
    assert store.table_names() == [
        "analysis_runs",
        "batches",
        "communities",
        "community_lineage",
        "coord_runs",
        "credits",
        "documents",
        "edge_changes",
        "edge_evidence",
        "mentions",
        "passages",
        "phrase_occurrences",
        "phrases",
        "phrases_runs",
        "point_changes",
        "point_lineage",
        "points",
        "points_runs",
        "rejects",
        "reuse_clusters",
        "reuse_lineage",
        "reuse_runs",
        "sentences",
        "source_edges",
        "sources",
        "watch_hits",
        "watch_runs",
        "watchlists",
    ]


def test_store_never_prints(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with open_store(tmp_path / "quiet.duckdb") as store:
        ingest_paths(store, [SEEDS])
        store.con.execute("SELECT count(*) FROM range(50000000) t(x) WHERE x % 7 = 0").fetchall()
        assert store.con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (
            False,
        )
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_memory_limit_for_a_block_is_restored(store: Store) -> None:
    query = "SELECT current_setting('memory_limit')"
    before = store.con.execute(query).fetchall()
    with store.memory_limit("256MB"):
        assert store.con.execute(query).fetchall() != before
    assert store.con.execute(query).fetchall() == before
    with pytest.raises(ChorusError, match="not a memory size"), store.memory_limit("1; DROP"):
        pass


def test_load_reads_a_folder_whose_name_has_a_quote(tmp_path: Path, store: Store) -> None:
    """Paths are parameters, never SQL text: a quote in a folder name is a character."""
    from chorus.store.load import load_tables

    ingest_paths(store, [SEEDS])
    folder = tmp_path / "it's; DROP TABLE documents_all; --"
    for table in ("documents", "sentences"):
        (folder / table).mkdir(parents=True)
        store.write_table(table, folder / table / "part-0.parquet", format="parquet")
    with open_store(tmp_path / "loaded.duckdb") as loaded:
        summary = load_tables(loaded, folder)
        assert summary.n_documents == store.count("documents") == 5
        assert loaded.count("sentences") == store.count("sentences")


def test_migration_9_keeps_documents_and_their_view(tmp_path: Path) -> None:
    """A store made before the word index (schema 8) opens with its documents intact."""
    from chorus.store.schema import MIGRATIONS

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE chorus_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    for migration in MIGRATIONS[:8]:
        for statement in migration.statements:
            con.execute(statement)
    con.execute("INSERT INTO chorus_meta VALUES ('schema_version', '8')")
    con.execute(
        "INSERT INTO batches (batch_id, state, started_at, paths) VALUES (1, 'done', now(), [])"
    )
    con.execute(
        """INSERT INTO documents_all (doc_id, source, text, text_hash, ingested_at, batch_id, seq)
           VALUES ('d1', 's', 'Some text.', 'h', now(), 1, 0)"""
    )
    con.close()
    with open_store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.con.execute("SELECT doc_id, text FROM documents").fetchall() == [
            ("d1", "Some text.")
        ]


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str, str]]]:
    rows = con.execute(
        """SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
           WHERE table_name IN (SELECT table_name FROM duckdb_tables())
             AND table_name <> 'chorus_meta'
           ORDER BY table_name, ordinal_position"""
    ).fetchall()
    out: dict[str, list[tuple[str, str, str]]] = {}
    for table, column, kind, nullable in rows:
        out.setdefault(table, []).append((column, kind, nullable))
    return out


@pytest.mark.parametrize("start", [0, 1, 4, 8])
def test_every_store_holds_the_declared_tables(tmp_path: Path, start: int) -> None:
    """A store made now, or migrated from an older version, holds exactly the tables and
    columns chorus.store.tables declares; the DDL, Arrow and Spark schemas derived from a
    declaration describe the same columns."""
    from chorus.store.tables import TABLES

    path = tmp_path / "s.duckdb"
    if start:
        con = duckdb.connect(str(path))
        con.execute("CREATE TABLE chorus_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        for migration in MIGRATIONS[:start]:
            for statement in migration.statements:
                con.execute(statement)
        con.execute("INSERT INTO chorus_meta VALUES ('schema_version', ?)", [str(start)])
        con.close()
    with open_store(path) as store:
        stored = _columns(store.con)
    assert sorted(stored) == sorted(TABLES)
    fresh = duckdb.connect()
    for table in TABLES.values():
        fresh.execute(table.ddl())
        assert table.arrow_schema().names == table.names
        assert [c.split()[0] for c in table.spark_ddl().split(", ")] == table.names
        declared = [(c.name, c.type, "YES" if c.nullable else "NO") for c in table.columns]
        assert stored[table.name] == declared, table.name
    assert _columns(fresh) == stored


def test_a_read_only_store_remembers_what_it_learnt_and_a_writable_one_asks_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "k.duckdb"
    with open_store(path) as store:
        calls: list[int] = []
        assert store.known("x", lambda: calls.append(1) or len(calls)) == 1
        assert store.known("x", lambda: calls.append(1) or len(calls)) == 2  # asked again
    with open_store(path, read_only=True) as store:
        calls = []
        assert store.known("x", lambda: calls.append(1) or len(calls)) == 1
        other = store.cursor()  # another thread's handle shares what was learnt
        assert other.known("x", lambda: calls.append(1) or len(calls)) == 1
        assert calls == [1]
        assert store.table_names() == other.table_names()
