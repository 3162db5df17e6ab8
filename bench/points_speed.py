"""Talking-point speed and memory on the whole news corpus (about 1.76 M sentences).

    python bench/points_speed.py [--docs N]

The corpus is ingested and the reuse stage run first (timed apart; reuse supplies the
boilerplate flags). Then, each in a child process (wall time and peak RSS), on the same store:
- chorus points with its default settings (all-MiniLM-L6-v2 in bfloat16 where the CPU has it);
- the anchor: all-MiniLM-L6-v2 alone encoding a sample of the same sentences, its rate
  extrapolated to every sentence chorus considered (the issue's "over an hour").
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import NEWS, machine, run_child

PREPARE = """
import sys, chorus
from chorus.ingest import NoLanguageDetector
from chorus.reuse import find_reuse
with chorus.open_store(sys.argv[2]) as store:
    s = chorus.ingest_paths(store, [sys.argv[1]], language_detector=NoLanguageDetector())
    find_reuse(store)
    print(s.n_new)
"""
POINTS = """
import sys, json, dataclasses
import chorus
from chorus.points import find_points
with chorus.open_store(sys.argv[1]) as store:
    s = find_points(store)
    print(json.dumps(dataclasses.asdict(s)))
"""
ANCHOR = """
import sys, time, json
import chorus
from chorus.points import load_embedder
with chorus.open_store(sys.argv[1], read_only=True) as store:
    texts = [r[0] for r in store.con.sql(
        "SELECT text FROM sentences USING SAMPLE reservoir(3000 ROWS) REPEATABLE (7)").fetchall()]
# Plain sentence-transformers in float32: the baseline the issue quotes.
m = load_embedder("minilm")._load()
m.encode(texts[:64])
t = time.perf_counter(); m.encode(texts, batch_size=64); s = time.perf_counter() - t
print(json.dumps({"n": len(texts), "seconds": s}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=0, help="only the first N articles")
    args = parser.parse_args()
    print(f"# points speed: news corpus{f' (first {args.docs} articles)' if args.docs else ''}")
    print(f"# machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "news.duckdb")
        corpus = NEWS
        if args.docs:
            corpus = Path(tmp) / "slice.jsonl.gz"
            with gzip.open(NEWS, "rt", encoding="utf-8") as src, gzip.open(corpus, "wt") as dst:
                dst.writelines(itertools.islice(src, args.docs))
        secs, rss, out = run_child(PREPARE, str(corpus), db)
        print(f"prepare (ingest + reuse, not counted): {secs:.1f} s, {out} documents")
        secs, rss, out = run_child(POINTS, db)
        s = json.loads(out)
        print(
            f"chorus points: {secs:.1f} s wall, peak RSS {rss:,.0f} MiB; "
            f"{s['n_sentences']:,} sentences, {s['n_units']:,} distinct, "
            f"{s['n_screened']:,} to the accurate model; {s['n_points']:,} points, "
            f"{s['n_mentions']:,} mentions; {s['n_sentences'] / secs:,.0f} sentences/s"
        )
        _, _, a_out = run_child(ANCHOR, db)
        a = json.loads(a_out)
        rate = a["n"] / a["seconds"]
        full = s["n_units"] / rate
        print(
            f"anchor all-MiniLM-L6-v2 alone: {rate:,.0f} sentences/s on a {a['n']} sample; "
            f"the {s['n_units']:,} distinct sentences would take {full / 60:.1f} min to embed "
            f"(before any clustering): chorus end to end is {full / secs:.2f}x faster"
        )
        print(
            f"targets: under 20 min: {'met' if secs < 1200 else 'NOT met'}; peak under 4 GB: "
            f"{'met' if rss < 4096 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
