"""Spark engine scaling: local[2] on the news corpus at 1x, 2x and 4x, against the
single-machine engine in the same run.

    python bench/spark_scale.py [--scales 1,2,4] [--docs N] [--stages reuse,points,coord]
                                [--growth sample|rotate]

``--docs N`` is the 1x size (0: the whole corpus). Growth:
- ``sample`` (the default): k x N distinct real articles, the first of one seeded shuffle of
  the corpus, so each scale holds the smaller ones. Talking points and coordination can
  only show how they grow on real text: more articles bring more overlap, larger clusters
  and a denser network, which is where a cost that grows with the square would show.
- ``rotate`` (reuse_speed's, for scales past the corpus): copy k of each article has its
  letters rotated k places (the copies share no words, keep the corpus's statistics and its
  own reuse; 1% carry a planted passage). Fine for reuse, not for the later stages: rotated
  text is 2.5 times as many MiniLM tokens (measured on 1,000 news sentences: 78,631 against
  31,559), so every copy costs twice the original to embed, and copies never share a point.

Each engine runs in a child process (wall time): Spark, ``chorus spark run`` with
``--stages``; one machine, ingest then the same stages (its peak RSS is shown). Both report
what they found (reuse clusters, talking points, source edges), which must agree. Linear cost
shows as a flat time per document down the column.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import NEWS, machine, run_child
from reuse_speed import write_corpus

SPARK = """
import os, sys, json
os.environ["CHORUS_SPARK_MASTER"] = "local[2]"
from chorus.spark import run_job
from chorus.spark.job import spark_session
spark = spark_session("chorus-bench")
spark.sparkContext.setLogLevel("ERROR")
s = run_job(spark, [sys.argv[1]], sys.argv[2], stages=tuple(sys.argv[3].split(",")))
print(json.dumps(s.__dict__))
"""
ONE = """
import sys, json
import chorus
from chorus.coord import find_coordination
from chorus.ingest import NoLanguageDetector
from chorus.points import find_points
from chorus.reuse import find_reuse
stages = sys.argv[3].split(",")
with chorus.open_store(sys.argv[2]) as store:
    s = chorus.ingest_paths(store, [sys.argv[1]], language_detector=NoLanguageDetector())
    r = find_reuse(store)
    points = find_points(store).n_points if "points" in stages else 0
    edges = find_coordination(store).n_edges if "coord" in stages else 0
    print(json.dumps({"clusters": r.n_clusters, "points": points, "edges": edges}))
"""


def write_sample(path: Path, scale: int, *, docs: int = 0, seed: int = 11) -> int:
    """The first ``scale`` x ``docs`` articles (x all of them, for 0) of one seeded shuffle of
    the news corpus."""
    with gzip.open(NEWS, "rt", encoding="utf-8") as fh:
        originals = [json.loads(line) for line in fh]
    n_docs = scale * (docs or len(originals))
    if n_docs > len(originals):
        raise SystemExit(
            f"{n_docs:,} articles asked for, the corpus has {len(originals):,}: "
            "use --growth rotate past it"
        )
    random.Random(seed).shuffle(originals)
    with path.open("w", encoding="utf-8") as out:
        for d in originals[:n_docs]:
            row = {k: d[k] for k in ("id", "source", "date", "text")}
            out.write(json.dumps(row) + "\n")
    return n_docs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="1,2,4")
    parser.add_argument("--docs", type=int, default=0, help="first N articles as 1x (0: all)")
    parser.add_argument("--stages", default="reuse")
    parser.add_argument("--growth", choices=("sample", "rotate"), default="sample")
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    if args.growth == "sample":
        what = f"{args.docs or 'all'} random articles x {scales}, distinct real articles"
    else:
        what = f"{f'first {args.docs}' if args.docs else 'all'} articles x {scales}, rotated copies"
    print(f"# spark scale: news corpus, {what}")
    print(f"# machine: {machine()}; Spark local[2]; stages {args.stages}")
    print(
        f"{'scale':>5} {'documents':>10} {'spark s':>8} {'one s':>8} {'spark/one':>9} "
        f"{'spark ms/doc':>12} {'one ms/doc':>10} {'one MiB':>8}  "
        "clusters, points, edges (spark; one)"
    )
    for scale in scales:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            corpus = folder / "corpus.jsonl"
            if args.growth == "sample":
                n_docs = write_sample(corpus, scale, docs=args.docs)
            else:
                n_docs, _ = write_corpus(corpus, scale, docs=args.docs)
            spark_s, _, out = run_child(SPARK, str(corpus), str(folder / "out"), args.stages)
            spark = json.loads(out)
            one_s, one_mib, out = run_child(
                ONE, str(corpus), str(folder / "one.duckdb"), args.stages
            )
            one = json.loads(out)
            print(
                f"{scale:>5} {n_docs:>10,} {spark_s:>8.1f} {one_s:>8.1f} {spark_s / one_s:>9.2f} "
                f"{1000 * spark_s / n_docs:>12.2f} {1000 * one_s / n_docs:>10.2f} "
                f"{one_mib:>8,.0f}  "
                f"{spark['n_clusters']:,}, {spark['n_points']:,}, {spark['n_edges']:,}; "
                f"{one['clusters']:,}, {one['points']:,}, {one['edges']:,}",
                flush=True,
            )


if __name__ == "__main__":
    main()
