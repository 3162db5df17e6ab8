"""The crash trial: ``kill -9`` at random moments of ingest, reuse, points and coord; the store
must open consistent every time, and a rerun must export what a clean run exports, byte for
byte.

    python bench/crash.py [--docs 500] [--kills 20] [--seed 3]

Corpus: the first ``--docs`` news articles. A clean run (``chorus ingest`` then ``chorus
reuse``, ``chorus points``, ``chorus coord``, each a child process, timed) is exported table
by table. Then ``--kills`` trials, spread evenly over the four stages: a fresh store gets the
stages before the chosen one run to completion, the chosen stage is started and killed with
SIGKILL at a moment drawn uniformly from its clean running time, and the store is opened and
checked:
- every visible document belongs to a finished batch and has its sentences, and the
  documents are all of the corpus or none of it (a batch lands whole or not at all);
- each result table is empty or whole (its row count is the clean run's), and every passage,
  mention and piece of edge evidence points at a row that exists.
Then the killed stage and the ones after it are run again to completion, and every table is
exported and compared with the clean run's export (documents without ``ingested_at``, the
time the batch landed).

``--update``: the trial of a monitoring update instead. The store is analysed with the first
90% of the articles (ingest, reuse, points, coord); the rest are ingested and reuse run again.
Then ``chorus points`` (which updates the stored points) is killed at a random moment of its
clean running time: the points and mentions must be those from before the update or those a
clean update writes, never a mix; a rerun of points and coord must export what a clean update
exports.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import itertools
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import NEWS, machine

STAGES = ("ingest", "reuse", "points", "coord")
TABLES = (
    "documents",
    "sentences",
    "reuse_clusters",
    "passages",
    "points",
    "mentions",
    "source_edges",
    "edge_evidence",
    "sources",
    "communities",
    "credits",
)
# A stage's tables: empty or whole after a kill.
RESULTS = {
    "reuse": ("reuse_clusters", "passages"),
    "points": ("points", "mentions"),
    "coord": ("source_edges", "edge_evidence", "sources", "communities"),
}
_ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def _command(stage: str, corpus: Path, db: Path) -> list[str]:
    base = [sys.executable, "-m", "chorus"]
    if stage == "ingest":
        return [*base, "ingest", str(corpus), "--db", str(db)]
    return [*base, stage, "--db", str(db)]


def _run(stage: str, corpus: Path, db: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        _command(stage, corpus, db), check=True, env=_ENV, capture_output=True, text=True
    )
    return time.perf_counter() - started


def _kill_during(stage: str, corpus: Path, db: Path, after: float) -> bool:
    """Start the stage and SIGKILL it ``after`` seconds in; whether it was still running."""
    proc = subprocess.Popen(
        _command(stage, corpus, db),
        env=_ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        proc.wait(timeout=after)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def _export(db: Path, folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    digests = {}
    for table in TABLES:
        out = folder / f"{table}.csv"
        subprocess.run(
            [sys.executable, "-m", "chorus", "export", table, "--db", str(db), "-o", str(out)],
            check=True,
            env=_ENV,
            capture_output=True,
        )
        digests[table] = hashlib.sha256(_comparable(out)).hexdigest()
    return digests


def _comparable(path: Path) -> bytes:
    """The export's bytes without ``ingested_at``: when a batch landed is a fact about the
    run, not about the data (every other column must match byte for byte)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows or "ingested_at" not in rows[0]:
        return path.read_bytes()
    drop = rows[0].index("ingested_at")
    out = io.StringIO()
    csv.writer(out).writerows([r[:drop] + r[drop + 1 :] for r in rows])
    return out.getvalue().encode("utf-8")


def _check(db: Path, clean_counts: dict[str, int]) -> list[str]:
    """What is inconsistent in the store after a kill (empty list: nothing)."""
    import chorus

    problems: list[str] = []
    with chorus.open_store(db, read_only=True) as store:
        con = store.con
        counts = {t: store.count(t) for t in TABLES if t != "credits"}
        orphans = {
            "documents of unfinished batches": """SELECT count(*) FROM documents d
                WHERE NOT EXISTS (SELECT 1 FROM batches b
                                  WHERE b.batch_id = d.batch_id AND b.state = 'done')""",
            "documents without sentences": """SELECT count(*) FROM documents d
                WHERE NOT EXISTS (SELECT 1 FROM sentences s WHERE s.doc_id = d.doc_id)""",
            "passages without a cluster": """SELECT count(*) FROM passages p
                WHERE NOT EXISTS (SELECT 1 FROM reuse_clusters c
                                  WHERE c.cluster_id = p.cluster_id)""",
            "mentions without a point": """SELECT count(*) FROM mentions m
                WHERE NOT EXISTS (SELECT 1 FROM points p WHERE p.point_id = m.point_id)""",
            "evidence without an edge": """SELECT count(*) FROM edge_evidence v
                WHERE NOT EXISTS (SELECT 1 FROM source_edges e
                                  WHERE e.source_a = v.source_a AND e.source_b = v.source_b)""",
        }
        for what, sql in orphans.items():
            try:
                n = con.execute(sql).fetchone()[0]  # type: ignore[index]
            except Exception as exc:  # a column this store lacks: report, do not stop
                problems.append(f"{what}: cannot check ({exc})")
                continue
            if n:
                problems.append(f"{what}: {n}")
    if counts["documents"] not in (0, clean_counts["documents"]):
        problems.append(f"documents {counts['documents']} (clean {clean_counts['documents']})")
    for tables in RESULTS.values():
        for table in tables:
            if counts[table] not in (0, clean_counts[table]):
                problems.append(f"{table} {counts[table]} rows (clean {clean_counts[table]})")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--update", action="store_true", help="kill updates of the points")
    args = parser.parse_args()
    if args.update:
        update_trial(args.docs, args.kills, args.seed)
        return
    import chorus

    rng = random.Random(args.seed)
    print(f"# crash trial: first {args.docs} news articles, {args.kills} kills (seed {args.seed})")
    print(f"# machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = root / "corpus.jsonl"
        with gzip.open(NEWS, "rt", encoding="utf-8") as src:
            corpus.write_text("".join(itertools.islice(src, args.docs)), encoding="utf-8")
        clean_db = root / "clean.duckdb"
        seconds = {stage: _run(stage, corpus, clean_db) for stage in STAGES}
        with chorus.open_store(clean_db, read_only=True) as store:
            clean_counts = {t: store.count(t) for t in TABLES}
        clean = _export(clean_db, root / "clean")
        print(
            "clean run: "
            + ", ".join(f"{s} {seconds[s]:.1f} s" for s in STAGES)
            + "; rows: "
            + ", ".join(f"{t} {n:,}" for t, n in clean_counts.items())
        )
        # Stores with the stages before each one done, copied for each trial.
        prepared: dict[str, Path] = {}
        db = root / "prep.duckdb"
        for stage in STAGES:
            prepared[stage] = root / f"before-{stage}.duckdb"
            if db.exists():
                shutil.copy(db, prepared[stage])
            _run(stage, corpus, db)
        print(
            f"{'trial':>5} {'stage':7} {'kill at':>8} {'killed':>7} {'consistent':>11} {'equal':>6}"
        )
        failures = 0
        for trial in range(args.kills):
            stage = STAGES[trial % len(STAGES)]
            store_path = root / f"trial{trial}.duckdb"
            if prepared[stage].exists():
                shutil.copy(prepared[stage], store_path)
            at = rng.uniform(0.05, 1.0) * seconds[stage]
            killed = _kill_during(stage, corpus, store_path, at)
            problems = _check(store_path, clean_counts) if store_path.exists() else []
            for rest in STAGES[STAGES.index(stage) :]:
                _run(rest, corpus, store_path)
            got = _export(store_path, root / f"trial{trial}")
            equal = [t for t in TABLES if got[t] == clean[t]]
            ok = not problems and len(equal) == len(TABLES)
            failures += not ok
            print(
                f"{trial:5} {stage:7} {at:7.1f}s {killed!s:>7} "
                f"{'yes' if not problems else 'NO':>11} {len(equal):>3}/{len(TABLES)}",
                flush=True,
            )
            for problem in problems:
                print(f"      {problem}")
            for table in TABLES:
                if got[table] != clean[table]:
                    print(f"      {table}: export differs from the clean run's")
        print(f"result: {args.kills - failures} of {args.kills} trials consistent and equal")
        if failures:
            raise SystemExit(1)


def update_trial(n_docs: int, kills: int, seed: int) -> None:
    import chorus

    rng = random.Random(seed)
    print(f"# crash trial, updates: first {n_docs} news articles, {kills} kills (seed {seed})")
    print(f"# machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with gzip.open(NEWS, "rt", encoding="utf-8") as src:
            lines = list(itertools.islice(src, n_docs))
        cut = int(len(lines) * 0.9)
        first, second = root / "first.jsonl", root / "second.jsonl"
        first.write_text("".join(lines[:cut]), encoding="utf-8")
        second.write_text("".join(lines[cut:]), encoding="utf-8")
        ready = root / "ready.duckdb"
        for stage in STAGES:
            _run(stage, first, ready)
        _run("ingest", second, ready)
        _run("reuse", second, ready)
        with chorus.open_store(ready, read_only=True) as store:
            before = {t: store.count(t) for t in ("points", "mentions")}
        clean_db = root / "clean.duckdb"
        shutil.copy(ready, clean_db)
        seconds = _run("points", second, clean_db)
        _run("coord", second, clean_db)
        with chorus.open_store(clean_db, read_only=True) as store:
            after = {t: store.count(t) for t in ("points", "mentions")}
            updated = store.con.execute(
                "SELECT json_extract(stats, '$.update') FROM points_runs "
                "ORDER BY finished_at DESC LIMIT 1"
            ).fetchall()[0][0]
        assert updated is not None, "the clean run did not update the points"
        clean = _export(clean_db, root / "clean")
        print(
            f"clean update: points {seconds:.1f} s; points {before['points']:,} -> "
            f"{after['points']:,}, mentions {before['mentions']:,} -> {after['mentions']:,}"
        )
        print(f"{'trial':>5} {'kill at':>8} {'killed':>7} {'before or after':>16} {'equal':>6}")
        failures = 0
        for trial in range(kills):
            store_path = root / f"trial{trial}.duckdb"
            shutil.copy(ready, store_path)
            at = rng.uniform(0.05, 1.0) * seconds
            killed = _kill_during("points", second, store_path, at)
            with chorus.open_store(store_path, read_only=True) as store:
                got = {t: store.count(t) for t in ("points", "mentions")}
                orphans = store.con.execute(
                    """SELECT count(*) FROM mentions m
                       WHERE NOT EXISTS (SELECT 1 FROM points p WHERE p.point_id = m.point_id)"""
                ).fetchall()[0][0]
            whole = got in (before, after) and not orphans
            _run("points", second, store_path)
            _run("coord", second, store_path)
            exported = _export(store_path, root / f"trial{trial}")
            equal = [t for t in TABLES if exported[t] == clean[t]]
            ok = whole and len(equal) == len(TABLES)
            failures += not ok
            print(
                f"{trial:5} {at:7.1f}s {killed!s:>7} {'yes' if whole else 'NO':>16} "
                f"{len(equal):>3}/{len(TABLES)}",
                flush=True,
            )
            for table in TABLES:
                if exported[table] != clean[table]:
                    print(f"      {table}: export differs from the clean update's")
        print(f"result: {kills - failures} of {kills} trials consistent and equal")
        if failures:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
