"""Monitoring: what an update of an analysed store costs, and how far it lands from a run
from scratch.

    python bench/update.py                       # the whole news corpus, the last 1,000 added
    python bench/update.py --docs 6000 --last 500 --batches 10
    python bench/update.py --again KEPT --r-seconds S [--cache SEED]   # again, on a kept R0
    python bench/update.py --text-only --last 1000      # reuse and phrases only (minutes)
    python bench/update.py --equivalence-only --cache KEPT/R.duckdb   # W and the batches only
    python bench/update.py ... --keep DIR --resume   # go on where a killed run stopped

The news articles are taken in date order (undated last), the first ``--docs`` of them.

Speed (issue 21: under 5% of the full analysis of the whole corpus): store R gets every
article but the last ``--last`` and one analysis from scratch (``chorus.analyze``), with an
empty embedding cache unless ``--cache`` seeds it; then those articles are ingested and R
analysed again: an update (reuse and coordination run again over the store, talking points
and shared phrases are updated, new claims embedded). The updated phrases are compared with
phrases found from scratch on a copy of the updated store. A full analysis of the whole corpus
costs at least what R's did (it has more documents), so ``update / R's analysis`` bounds the
target's ratio from above. Store W gets every article at once and one analysis from scratch
with a cache that holds every vector R embedded (so it times the clustering, not the
embedding: the ratio to it is printed too, and is the harder one).

With ``--cache``, the run also estimates what an empty cache would have cost: the vectors R's
analysis and the update took from the seed, at MiniLM's rate (``cold_estimate``); the
update's own embedding is counted at the same rate, so that both sides pay one price per
claim. Two rates, both measured in the run: a sample of R's claims embedded with no cache,
and the update's own. An estimate, printed as one.

Equivalence: the same articles ingested in ``--batches`` date-ordered batches, analysed after
each (``restart_growth`` decides when a run starts over); every point id after batch k must
still name a point after batch k+1 or be recorded in ``point_lineage`` with a point that
exists after it (merged into it, or dissolved with it as the nearest) or the boilerplate reuse
cluster that holds its sentences, and name one point only. The bench prints, per batch, the
ids no point keeps by how they are recorded, how many of them the issue's wording ("recorded
as merged") covers, and the same for reuse cluster ids and community numbers
(``reuse_lineage``, ``community_lineage``). The final talking points are compared with W's:
pairs of mentions in one point in both (precision and recall of the update against W), and the
characters of reused passages both find. For scale, the same comparison of W against R on R's
documents: how much a run from scratch itself moves when a share of documents is added.
``--equivalence-only`` skips R and the update and runs W and the batches with the cache of an
earlier run's updated R (which holds a vector for every claim of the corpus): the equivalence
on the whole corpus in about an hour, not the four an empty cache costs.

A run with ``--keep`` records each analysis once it finishes (R's and W's seconds, each
batch's ids); the same command with ``--resume`` goes on from there, so a run of hours that
dies is not started over (R is copied from R0 again before the update is timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import logging
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import NEWS, machine
from chorus.analyze import AnalysisSummary, analyze
from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.ingest.dates import parse_date
from chorus.phrases import PhrasesSummary, find_phrases
from chorus.reuse import find_reuse
from chorus.store import Store, open_store, scalar


def news_in_date_order(limit: int | None) -> list[dict[str, object]]:
    rows = []
    with gzip.open(NEWS, "rt", encoding="utf-8") as handle:
        for line in handle:
            rows.append(json.loads(line))
    far = "9999"

    def key(row: dict[str, object]) -> tuple[str, str]:
        parsed = parse_date(row.get("date"))
        when = parsed.value.isoformat() if parsed.value is not None else far
        return when, str(row["id"])

    rows.sort(key=key)
    return rows[:limit] if limit else rows


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return path


def stage_seconds(summary: AnalysisSummary) -> str:
    parts = {
        "search": summary.search.seconds,
        "reuse": summary.reuse.seconds,
        "points": summary.points.seconds,
        "labels": summary.labels.seconds,
        "phrases": summary.phrases.seconds,
        "coord": summary.coord.seconds,
    }
    return ", ".join(f"{k} {v:.1f}" for k, v in parts.items())


def timed_analysis(store: Store) -> tuple[float, AnalysisSummary]:
    started = time.perf_counter()
    summary = analyze(store)
    return time.perf_counter() - started, summary


def ingest(store: Store, path: Path) -> None:
    ingest_paths(store, [path], language_detector=NoLanguageDetector())


def copy_cache(source: Path, target: Store) -> None:
    target.con.execute(f"ATTACH '{source}' AS cache_source (READ_ONLY)")
    target.con.execute("INSERT INTO _embeddings SELECT * FROM cache_source._embeddings")
    target.con.execute("DETACH cache_source")


def pair_agreement(con: duckdb.DuckDBPyConnection, a: str, b: str, docs: str | None) -> str:
    """Mention pairs in one point in store ``a`` and in store ``b`` (optionally only the
    mentions of ``docs``' documents)."""
    where = f"WHERE doc_id IN (SELECT doc_id FROM {docs}.documents)" if docs else ""

    def pairs(sql: str) -> int:
        return int(con.execute(sql).fetchall()[0][0] or 0)

    in_a = pairs(
        f"SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM {a}.mentions {where} "
        "GROUP BY point_id)"
    )
    in_b = pairs(
        f"SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM {b}.mentions {where} "
        "GROUP BY point_id)"
    )
    both = pairs(
        f"""SELECT sum(n * (n - 1) / 2) FROM (
              SELECT count(*) n FROM (SELECT * FROM {a}.mentions {where}) x
              JOIN (SELECT * FROM {b}.mentions {where}) y USING (doc_id, sent_no)
              GROUP BY x.point_id, y.point_id)"""
    )
    p = both / in_a if in_a else 1.0
    r = both / in_b if in_b else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return (
        f"pairs {in_a:,} vs {in_b:,}, shared {both:,}: precision {p:.3f} recall {r:.3f} F1 {f1:.3f}"
    )


def passage_agreement(con: duckdb.DuckDBPyConnection, a: str, b: str) -> str:
    """Characters inside a reused passage in ``a`` and in ``b``."""

    def chars(store: str) -> str:
        return f"""SELECT DISTINCT doc_id, unnest(range(start, "end")) AS pos
                   FROM {store}.passages"""

    n_a = int(con.execute(f"SELECT count(*) FROM ({chars(a)})").fetchall()[0][0])
    n_b = int(con.execute(f"SELECT count(*) FROM ({chars(b)})").fetchall()[0][0])
    both = int(
        con.execute(
            f"SELECT count(*) FROM ({chars(a)}) JOIN ({chars(b)}) USING (doc_id, pos)"
        ).fetchall()[0][0]
    )
    share = both / max(n_a, n_b, 1)
    return f"passage characters {n_a:,} vs {n_b:,}, shared {both:,} ({share:.4f})"


def phrases_agreement(folder: Path) -> str:
    """The updated store's shared phrases against those found from scratch on a copy of it
    (same documents, same passages): only phrases near the common-language limit, which moves
    with the corpus, may differ."""
    shutil.copyfile(folder / "R.duckdb", folder / "P.duckdb")
    with open_store(folder / "P.duckdb") as store:
        started = time.perf_counter()
        find_phrases(store, rebuild=True)
        seconds = time.perf_counter() - started
    con = duckdb.connect()
    sql = 'SELECT phrase_id, doc_id, start, "end" FROM {}.phrase_occurrences'
    try:
        for name in ("R", "P"):
            con.execute(f"ATTACH '{folder / name}.duckdb' AS {name} (READ_ONLY)")
        n_update, n_scratch, n_shared = con.execute(
            f"SELECT (SELECT count(*) FROM R.phrase_occurrences), "
            f"(SELECT count(*) FROM P.phrase_occurrences), "
            f"(SELECT count(*) FROM ({sql.format('R')} INTERSECT {sql.format('P')}))"
        ).fetchall()[0]
    finally:
        con.close()
    (folder / "P.duckdb").unlink()
    return (
        f"occurrences {n_update:,} vs {n_scratch:,}, shared {n_shared:,}: precision "
        f"{n_shared / max(n_update, 1):.5f} recall {n_shared / max(n_scratch, 1):.5f} "
        f"(from scratch {seconds:.1f} s)"
    )


def cold_estimate(
    before: Path, after: Path, seed: Path, *, sample: int = 5000
) -> tuple[float, int, int]:
    """With R's cache seeded, what an empty cache would have added: MiniLM's rate on a
    seeded random sample of R's claims, embedded here with no cache (sentences a second),
    and how many claims R's analysis (store ``before``) and the update (``after``) took
    from the seed instead of embedding them."""
    from chorus.embed.cache import embed_batches, embedding_order
    from chorus.points import load_embedder

    con = duckdb.connect()
    try:
        for name, path in (("R0", before), ("R", after), ("S", seed)):
            con.execute(f"ATTACH '{path}' AS {name} (READ_ONLY)")
        seeded = "SELECT key FROM S._embeddings WHERE model = 'all-MiniLM-L6-v2'"
        n_rest = int(
            con.execute(
                f"SELECT count(*) FROM R0._point_units WHERE embed_key IN ({seeded})"
            ).fetchall()[0][0]
        )
        n_update = int(
            con.execute(
                f"""SELECT count(*) FROM R._point_units
                    WHERE embed_key NOT IN (SELECT embed_key FROM R0._point_units)
                      AND embed_key IN ({seeded})"""
            ).fetchall()[0][0]
        )
        claims = [
            r[0]
            for r in con.execute(
                "SELECT claim FROM R0._point_units ORDER BY hash(unit_no + 7) LIMIT ?", [sample]
            ).fetchall()
        ]
    finally:
        con.close()
    embedder = load_embedder("minilm")
    embedder.embed(claims[:64])  # the model loaded and warm, as in a run
    # In the stage's order and batches (longest first, 64 at a time: little padding).
    ordered = [claims[i] for i in embedding_order(claims)]
    started = time.perf_counter()
    embed_batches(embedder, ordered)
    rate = len(claims) / (time.perf_counter() - started)
    return rate, n_rest, n_update


def last_update_stats(after: Path) -> dict[str, float]:
    """The stats of store ``after``'s last points run (an update records what it embedded
    and in how many seconds)."""
    con = duckdb.connect(str(after), read_only=True)
    try:
        rows = con.execute(
            "SELECT stats FROM points_runs ORDER BY finished_at DESC LIMIT 1"
        ).fetchall()
    finally:
        con.close()
    return {k: float(v) for k, v in json.loads(rows[0][0]).items()} if rows else {}


def print_cold_estimate(
    before: Path, after: Path, seed: Path, rest_seconds: float, update_seconds: float
) -> None:
    """Both sides' embedding at one rate, measured in this run: the sample's, and the
    update's own (the claims it embedded over its embedding seconds). The model's speed on
    this shared machine swings by half within an hour, so a rate from one moment for R and
    another for the update would measure the machine, not chorus."""
    rate, n_rest, n_update = cold_estimate(before, after, seed)
    stats = last_update_stats(after)
    embedding = stats.get("embedding_seconds")
    n_embedded = int(stats.get("n_new_units", 0)) - n_update
    print(
        f"cold cache, estimated: R took {n_rest:,} vectors from the seed; the update "
        f"{n_update:,}, and embedded {n_embedded:,}"
        + (f" in {embedding:.1f} s" if embedding is not None else "")
    )
    rates = [("a sample of R's claims, after the update", rate)]
    if embedding and n_embedded > 0:
        rates.append(("the update's own", n_embedded / embedding))
    for name, r in rates:
        rest_cold = rest_seconds + n_rest / r
        if embedding is None:  # a store from before the update recorded it
            update_cold = update_seconds + n_update / r
        else:
            update_cold = update_seconds - embedding + (n_embedded + n_update) / r
        ratio = update_cold / rest_cold
        print(
            f"  at {r:.0f} claims/s ({name}): R's analysis {rest_cold:.0f} s, the update "
            f"{update_cold:.0f} s, update / R's analysis {ratio:.3f} (target under 0.05 "
            f"{'met' if ratio < 0.05 else 'NOT met'}, by this estimate)"
        )


R_DONE = "R.done.json"


def analysed_rest(folder: Path, rest: Path, cache: Path | None, *, resume: bool) -> float:
    """R: the articles but the last analysed from scratch and timed, kept as R0.duckdb with
    its seconds in R.done.json; ``resume`` takes both from a killed run instead (R, which
    the update changes, is copied from R0 again). R's seconds, printed."""
    done = folder / R_DONE
    if resume and done.exists() and (folder / "R0.duckdb").exists():
        seconds, line = _recorded(done)
        print(f"R, analysis from scratch: {line} (kept from an earlier run)")
        shutil.copyfile(folder / "R0.duckdb", folder / "R.duckdb")
        return seconds
    (folder / "R.duckdb").unlink(missing_ok=True)
    with open_store(folder / "R.duckdb") as store:
        if cache:
            copy_cache(cache, store)
        ingest(store, rest)
        rest_seconds, summary = timed_analysis(store)
        line = f"{rest_seconds:.1f} s ({stage_seconds(summary)})"
        print(f"R, analysis from scratch: {line}", flush=True)
        store.con.execute("CHECKPOINT")
    shutil.copyfile(folder / "R.duckdb", folder / "R0.duckdb")
    _record(done, rest_seconds, line)
    return rest_seconds


def _record(path: Path, seconds: float, line: str) -> None:
    """An analysis that finished: its seconds and printed line, for ``--resume``."""
    path.write_text(json.dumps({"seconds": seconds, "line": line, "machine": machine()}))


def _recorded(path: Path) -> tuple[float, str]:
    record = json.loads(path.read_text())
    return float(record["seconds"]), str(record["line"])


def timed_update(folder: Path, last: Path) -> float:
    """Ingest ``last`` into R and time its analysis (an update), printed."""
    with open_store(folder / "R.duckdb") as store:
        ingest(store, last)
        update_seconds, summary = timed_analysis(store)
        assert summary.points.update is not None, "the points were not updated"
        print(
            f"R + last, update: {update_seconds:.1f} s ({stage_seconds(summary)}); "
            f"{summary.points.update}"
        )
    return update_seconds


def timed_text_stages(store: Store) -> tuple[float, float, PhrasesSummary]:
    """Reuse, then shared phrases, on ``store``: (reuse seconds, phrases seconds, summary)."""
    started = time.perf_counter()
    find_reuse(store)
    reuse_seconds = time.perf_counter() - started
    started = time.perf_counter()
    summary = find_phrases(store)
    return reuse_seconds, time.perf_counter() - started, summary


def text_stages(folder: Path, rest: Path, last: Path) -> None:
    """The stages that need no model (reuse, shared phrases) on their own, in minutes rather
    than the hours a full analysis with an empty cache takes: R from scratch, then the
    update; the same update again on a copy of R whose phrases hold no stored n-grams (every
    document read, as before schema 21); the updated phrases against phrases from scratch."""
    with open_store(folder / "R.duckdb") as store:
        ingest(store, rest)
        reuse_seconds, phrases_seconds, _ = timed_text_stages(store)
        print(
            f"R, from scratch: reuse {reuse_seconds:.1f} s, phrases {phrases_seconds:.1f} s "
            "(their n-grams stored)"
        )
        store.con.execute("CHECKPOINT")
    shutil.copyfile(folder / "R.duckdb", folder / "S.duckdb")
    for name, label in (("S", "every document read"), ("R", "stored n-grams joined")):
        with open_store(folder / f"{name}.duckdb") as store:
            if name == "S":
                store.con.execute("DELETE FROM _phrase_grams")
                store.con.execute("UPDATE _phrase_state SET grams_gen = NULL")
            ingest(store, last)
            reuse_seconds, phrases_seconds, summary = timed_text_stages(store)
            print(
                f"R + last, update ({label}): reuse {reuse_seconds:.1f} s, phrases "
                f"{phrases_seconds:.1f} s ({summary.n_changed_documents:,} documents changed)"
            )
    (folder / "S.duckdb").unlink()
    print(f"phrases, update vs from scratch on the same store: {phrases_agreement(folder)}")


def update_again(earlier: Path, rest_seconds: float, folder: Path, cache: Path | None) -> None:
    """The update timed again, with this code, on R0 of an earlier run kept with ``--keep``
    (the same articles on the same machine): R0 is copied; when its shared phrases were found
    by code that did not store their n-grams (schema 20), they are found again from scratch
    first, as this code's analysis would have left them (not added to R's time, so the
    ratio errs high); then the last articles are ingested and R analysed."""
    shutil.copyfile(earlier / "R0.duckdb", folder / "R.duckdb")
    with open_store(folder / "R.duckdb") as store:
        if store.con.execute("SELECT grams_gen FROM _phrase_state").fetchall() in ([], [(None,)]):
            started = time.perf_counter()
            find_phrases(store, rebuild=True)
            print(
                f"R's shared phrases found again to store their n-grams: "
                f"{time.perf_counter() - started:.1f} s (not counted in R's analysis)"
            )
        store.con.execute("CHECKPOINT")
    update_seconds = timed_update(folder, earlier / "last.jsonl")
    ratio = update_seconds / rest_seconds
    print(
        f"update / R's analysis from scratch ({rest_seconds:.1f} s, the earlier run's): "
        f"{ratio:.3f}; target under 0.05 {'met' if ratio < 0.05 else 'NOT met'}"
    )
    if cache is not None:
        print_cold_estimate(
            earlier / "R0.duckdb", folder / "R.duckdb", cache, rest_seconds, update_seconds
        )
    print(f"phrases, update vs from scratch on the same store: {phrases_agreement(folder)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=None, help="first N articles by date")
    parser.add_argument("--last", type=int, default=1000, help="articles the update adds")
    parser.add_argument(
        "--batches", type=int, default=10, help="batches of the equivalence run (0: none)"
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="store to seed R's cache from (development)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the stores in")
    parser.add_argument(
        "--no-full", action="store_true", help="skip W (and the comparisons with it)"
    )
    parser.add_argument(
        "--again",
        type=Path,
        default=None,
        help="time only the update again, on R0 in this folder of an earlier --keep run",
    )
    parser.add_argument(
        "--r-seconds", type=float, default=None, help="with --again: R's time in that run"
    )
    parser.add_argument(
        "--equivalence-only",
        action="store_true",
        help="only W and the batches, their cache seeded from --cache (the store an earlier "
        "run's update left, R.duckdb in its --keep folder)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="go on from where a killed run with the same --keep folder stopped: R's analysis "
        "once finished (R.done.json), W's (W.done.json) and the batches analysed before "
        "(each leaves batchK.done.json)",
    )
    parser.add_argument(
        "--text-only",
        action="store_true",
        help="only the stages that need no model (reuse, shared phrases): minutes, not hours",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="chorus-update-"))
    folder.mkdir(parents=True, exist_ok=True)
    print("# update: news corpus in date order")
    print(f"# machine: {machine()}")
    if args.resume and args.keep is None:
        parser.error("--resume needs --keep, the folder of the run to go on with")
    if args.again is not None:
        if args.r_seconds is None:
            parser.error("--again needs --r-seconds")
        update_again(args.again, args.r_seconds, folder, args.cache)
        return
    rows = news_in_date_order(args.docs)
    print(f"articles: {len(rows):,}; the update adds the last {args.last:,}")
    rest = write(folder / "rest.jsonl", rows[: -args.last])
    last = write(folder / "last.jsonl", rows[-args.last :])
    if not args.resume:
        for name in ("R.duckdb", "R0.duckdb", "W.duckdb", "B.duckdb"):
            (folder / name).unlink(missing_ok=True)
        for done in [*folder.glob("batch*.done.json"), folder / "W.done.json", R_DONE]:
            (folder / done).unlink(missing_ok=True)
    if args.text_only:
        text_stages(folder, rest, last)
        return
    if args.equivalence_only:
        if args.cache is None:
            parser.error("--equivalence-only needs --cache")
        equivalence_only(rows, folder, args.batches or 10, args.cache, resume=args.resume)
        return

    rest_seconds = analysed_rest(folder, rest, args.cache, resume=args.resume)
    update_seconds = timed_update(folder, last)
    # The ratio first: what follows takes minutes, and a run cut short keeps its figure.
    ratio = update_seconds / rest_seconds
    print(
        f"update / R's analysis from scratch (a bound on update / full analysis): {ratio:.3f}; "
        f"target under 0.05 {'met' if ratio < 0.05 else 'NOT met'}"
        + ("" if args.cache is None else " (R's cache was seeded: not the target's measure)"),
        flush=True,
    )
    print(f"phrases, update vs from scratch on the same store: {phrases_agreement(folder)}")
    if args.cache is not None:
        print_cold_estimate(
            folder / "R0.duckdb", folder / "R.duckdb", args.cache, rest_seconds, update_seconds
        )
    if args.no_full:
        return
    full_seconds = analysed_whole(folder, rows, folder / "R.duckdb", resume=args.resume)
    print(f"update / W's analysis with every vector cached: {update_seconds / full_seconds:.3f}")

    con = duckdb.connect()
    for name in ("W", "R", "R0"):
        con.execute(f"ATTACH '{folder / name}.duckdb' AS {name} (READ_ONLY)")
    print(f"last-{args.last} update vs from scratch: {pair_agreement(con, 'R', 'W', None)}")
    print(
        "scale: from scratch without the last articles vs with them, on the earlier "
        f"articles: {pair_agreement(con, 'R0', 'W', 'R0')}"
    )
    if args.batches:
        equivalence(rows, folder, args.batches, con, folder / "R.duckdb", resume=args.resume)
    print(f"stores kept in {folder}" if args.keep else "")


def analysed_whole(
    folder: Path, rows: list[dict[str, object]], cache: Path, *, resume: bool
) -> float:
    """W: every article analysed from scratch, every vector taken from ``cache``; its line
    kept in W.done.json, which ``resume`` takes instead of analysing again. W's seconds."""
    w_done = folder / "W.done.json"
    if resume and w_done.exists() and (folder / "W.duckdb").exists():
        seconds, line = _recorded(w_done)
        print(f"W, analysis from scratch: {line} (kept from an earlier run)")
        return seconds
    (folder / "W.duckdb").unlink(missing_ok=True)
    with open_store(folder / "W.duckdb") as store:
        copy_cache(cache, store)
        ingest(store, write(folder / "all.jsonl", rows))
        full_seconds, summary = timed_analysis(store)
        line = f"{full_seconds:.1f} s ({stage_seconds(summary)})"
        print(f"W, analysis from scratch: {line}", flush=True)
    _record(w_done, full_seconds, line)
    return full_seconds


def equivalence_only(
    rows: list[dict[str, object]], folder: Path, batches: int, cache: Path, *, resume: bool
) -> None:
    """W from scratch, then the batches, both with every vector taken from ``cache``;
    ``resume`` keeps a W whose analysis finished and the batches already analysed."""
    analysed_whole(folder, rows, cache, resume=resume)
    con = duckdb.connect()
    con.execute(f"ATTACH '{folder / 'W'}.duckdb' AS W (READ_ONLY)")
    equivalence(rows, folder, batches, con, cache, resume=resume)


def equivalence(
    rows: list[dict[str, object]],
    folder: Path,
    batches: int,
    con: duckdb.DuckDBPyConnection,
    cache: Path,
    *,
    resume: bool = False,
) -> None:
    """Date-ordered batches, an analysis after each; ids kept; the end against W. Each
    batch analysed leaves ``batchK.done.json`` (its seconds, mode and the point ids after
    it), so that ``resume`` goes on after the last one instead of starting over."""
    size = -(-len(rows) // batches)
    done = _batches_done(folder) if resume else []
    if not done:
        (folder / "B.duckdb").unlink(missing_ok=True)
    ids_kept = all(d["kept"] for d in done)
    n_left = n_not_merged = 0
    modes = [str(d["mode"]) for d in done]
    before: set[str] = set(done[-1]["ids"]) if done else set()
    others: dict[str, set[str]] = {
        kind: set(done[-1].get(f"{kind}_ids", [])) if done else set() for kind in OTHER_IDS
    }
    for k, d in enumerate(done):
        print(f"batch {k + 1}: {d['n']:,} articles, {d['seconds']:.1f} s (an earlier run's)")
    with open_store(folder / "B.duckdb") as store:
        if not done:
            copy_cache(cache, store)
        for k in range(len(done), batches):
            batch = rows[k * size : (k + 1) * size]
            if not batch:
                break
            # Ingest skips the documents a run that died after ingesting them left.
            ingest(store, write(folder / f"batch{k}.jsonl", batch))
            started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            seconds, summary = timed_analysis(store)
            print(f"batch {k + 1}: {len(batch):,} articles, {seconds:.1f} s", flush=True)
            mode = "update" if summary.points.update is not None else "scratch"
            modes.append(mode)
            ids = [r[0] for r in store.con.execute("SELECT point_id FROM points").fetchall()]
            after = set(ids)
            if len(after) != len(ids):
                ids_kept = False
                print(f"batch {k + 1}: {len(ids) - len(after)} ids on more than one point")
            lost, not_merged = ids_left(store, before, after, started, k + 1)
            if lost:
                ids_kept = False
            n_not_merged += len(not_merged)
            n_left += len(before - after)
            before = after
            others = other_ids_left(store, others, started, k + 1)
            store.con.execute("CHECKPOINT")
            (folder / f"batch{k}.done.json").write_text(
                json.dumps(
                    {
                        "n": len(batch),
                        "seconds": seconds,
                        "mode": mode,
                        "kept": not lost and len(after) == len(ids),
                        "ids": sorted(after),
                        **{f"{kind}_ids": sorted(ids) for kind, ids in others.items()},
                    }
                )
            )
        print(
            f"batches: {len(modes)} ({', '.join(modes)}); every id kept or recorded with a "
            f"point or boilerplate cluster that exists, and on one point: {ids_kept}"
        )
        if n_left:
            print(
                f"  ids no point keeps after a batch (batches run here): {n_left:,}; recorded "
                f"as merged: {n_left - n_not_merged:,}; dissolved or boilerplate (merged into "
                f"nothing): {n_not_merged:,}"
            )
    con.execute(f"ATTACH '{folder / 'B'}.duckdb' AS B (READ_ONLY)")
    print(f"{batches} batches vs from scratch: {pair_agreement(con, 'B', 'W', None)}")
    print(f"  {passage_agreement(con, 'B', 'W')}")


def ids_left(
    store: Store, before: set[str], after: set[str], started: dt.datetime, batch: int
) -> tuple[set[str], set[str]]:
    """Prints how the point ids of the last batch that no point has now are recorded in
    ``point_lineage`` by the analysis that began at ``started``: merged into a point that
    exists (its sentences are there), dissolved (with the live point nearest it),
    boilerplate (with the reuse cluster holding its sentences), gone, or not at all.
    Returns the ids recorded with nothing that exists, and those not recorded as merged."""
    events = {
        point_id: (event, other)
        for point_id, event, other in store.con.execute(
            """SELECT point_id, event, other_id FROM point_lineage
               WHERE recorded_at >= ? AND event <> 'split'""",
            [started],
        ).fetchall()
    }
    boilerplate = {
        r[0]
        for r in store.con.execute(
            "SELECT cluster_id FROM reuse_clusters WHERE kind = 'boilerplate'"
        ).fetchall()
    }
    exists = {"merged": after, "dissolved": after, "boilerplate": boilerplate}
    left = before - after
    # Each id that left, by its event, or by what is wrong with its record.
    recorded: dict[str, str] = {}
    for i in left:
        event, other = events.get(i, ("not recorded", None))
        leads = other in exists.get(event, ())
        recorded[i] = event if leads else f"{event} (nothing that exists)"
    how = Counter(recorded.values())
    splits = scalar(
        store.con,
        "SELECT count(*) FROM point_lineage WHERE recorded_at >= ? AND event = 'split'",
        [started],
    )
    print(
        f"batch {batch}: ids {len(before):,} before, {len(after):,} after; {len(left):,} no "
        f"point keeps: "
        + ", ".join(f"{event} {n:,}" for event, n in sorted(how.items()))
        + f"; new points split from one {splits:,}"
    )
    nowhere = {i for i, event in recorded.items() if event not in exists}
    not_merged = {i for i, event in recorded.items() if event in exists and event != "merged"}
    return nowhere, not_merged


# The other ids a user keeps: how to read them from the store, and what their lineage
# recorded since a time (id, event, other id, as text).
OTHER_IDS = {
    "reuse": (
        "SELECT cluster_id FROM reuse_clusters",
        "SELECT cluster_id, event, other_id FROM reuse_lineage WHERE recorded_at >= ?",
    ),
    "community": (
        "SELECT DISTINCT community::VARCHAR FROM sources WHERE community >= 0",
        "SELECT community::VARCHAR, event, other::VARCHAR FROM community_lineage "
        "WHERE recorded_at >= ?",
    ),
}


def other_ids_left(
    store: Store, before: dict[str, set[str]], started: dt.datetime, batch: int
) -> dict[str, set[str]]:
    """Prints how the reuse cluster ids and community numbers of the last batch that nothing
    has now are recorded in their lineage by the analysis that began at ``started`` (merged
    into one that exists, gone, or not at all); returns the ids there now."""
    after: dict[str, set[str]] = {}
    parts = []
    for kind, (ids_sql, lineage_sql) in OTHER_IDS.items():
        now = {r[0] for r in store.con.execute(ids_sql).fetchall()}
        after[kind] = now
        events = {
            i: (event, other)
            for i, event, other in store.con.execute(lineage_sql, [started]).fetchall()
            if event != "split"
        }
        left = before[kind] - now
        how = Counter(
            "merged"
            if events.get(i, ("", None))[0] == "merged" and events[i][1] in now
            else events.get(i, ("not recorded", None))[0]
            for i in left
        )
        parts.append(
            f"{kind} ids {len(before[kind]):,} before, {len(now):,} after, {len(left):,} "
            f"nothing keeps: merged into one that exists {how['merged']:,}, gone "
            f"{how['gone']:,}, other {len(left) - how['merged'] - how['gone']:,}"
        )
    print(f"batch {batch}: " + "; ".join(parts))
    return after


def _batches_done(folder: Path) -> list[dict[str, Any]]:
    """What ``batchK.done.json`` say, K = 0, 1, ... while they are there."""
    out: list[dict[str, Any]] = []
    while (path := folder / f"batch{len(out)}.done.json").exists():
        out.append(json.loads(path.read_text()))
    return out


if __name__ == "__main__":
    main()
