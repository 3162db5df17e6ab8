"""Reuse speed: chorus's reuse stage against MinHash LSH (datasketch, rensa) on the same texts.

    python bench/reuse_speed.py [--scale N] [--no-anchors]

The corpus is the shared news corpus; ``--scale N`` grows it N times: in copy k of each article
every letter is rotated k places in the alphabet, so copies share no words with each other
while each keeps the corpus's word lengths, word frequencies and its own reuse (wire copy,
templates); 1% of the new documents also get a planted passage copied from an original one.
The corpus is ingested first (timed apart); then, each in a child process (wall time and peak RSS):
- chorus: the reuse stage (passage offsets, clusters, kinds) over the store;
- datasketch: word 5-gram shingles, MinHash with 128 permutations, MinHashLSH at threshold 0.5,
  every document inserted and queried (document level: which documents are near-duplicates);
- rensa: the same with RMinHash and RMinHashLSH (16 bands).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import NEWS, machine, run_child

INGEST = """
import sys, chorus
from chorus.ingest import NoLanguageDetector
with chorus.open_store(sys.argv[2]) as store:
    s = chorus.ingest_paths(store, [sys.argv[1]], language_detector=NoLanguageDetector())
    print(s.n_new)
"""
CHORUS = """
import sys, json, time
import chorus
from chorus.reuse import find_reuse
with chorus.open_store(sys.argv[1]) as store:
    t = time.perf_counter()
    s = find_reuse(store)
    print(json.dumps({"seconds": time.perf_counter() - t, "clusters": s.n_clusters,
                      "passages": s.n_passages, "kinds": s.kinds}))
"""
SHINGLE = """
def shingles(text):
    words = text.lower().split()
    return {" ".join(words[i:i + 5]) for i in range(max(1, len(words) - 4))}
def texts(path):
    import json
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)["text"]
"""
DATASKETCH = (
    SHINGLE
    + """
import sys, json, time
from datasketch import MinHash, MinHashLSH
t0 = time.perf_counter(); sh = [shingles(t) for t in texts(sys.argv[1])]; t1 = time.perf_counter()
lsh = MinHashLSH(threshold=0.5, num_perm=128)
hashes = []
for i, s in enumerate(sh):
    m = MinHash(num_perm=128, seed=1)
    m.update_batch([x.encode("utf-8") for x in s])
    lsh.insert(i, m)
    hashes.append(m)
pairs = sum(len(lsh.query(m)) - 1 for m in hashes) // 2
t2 = time.perf_counter()
print(json.dumps({"shingle": t1 - t0, "minhash_lsh": t2 - t1, "pairs": pairs}))
"""
)
RENSA = (
    SHINGLE
    + """
import sys, json, time
from rensa import RMinHash, RMinHashLSH
t0 = time.perf_counter(); sh = [shingles(t) for t in texts(sys.argv[1])]; t1 = time.perf_counter()
lsh = RMinHashLSH(threshold=0.5, num_perm=128, num_bands=16)
hashes = []
for i, s in enumerate(sh):
    m = RMinHash(num_perm=128, seed=1)
    m.update(list(s))
    lsh.insert(i, m)
    hashes.append(m)
pairs = sum(len(lsh.query(m)) - 1 for m in hashes) // 2
t2 = time.perf_counter()
print(json.dumps({"shingle": t1 - t0, "minhash_lsh": t2 - t1, "pairs": pairs}))
"""
)


def write_corpus(path: Path, scale: int, seed: int = 11, docs: int = 0) -> tuple[int, int]:
    """``scale`` copies of the news corpus (of its first ``docs`` articles, when given)."""
    rng = random.Random(seed)
    with gzip.open(NEWS, "rt", encoding="utf-8") as fh:
        originals = [json.loads(line) for line in fh]
    if docs:
        originals = originals[:docs]
    n_docs = chars = 0
    lower, upper = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    with path.open("w", encoding="utf-8") as out:
        for copy in range(scale):
            k = copy % 26
            rotate = str.maketrans(lower + upper, lower[k:] + lower[:k] + upper[k:] + upper[:k])
            for d in originals:
                text = d["text"]
                if copy:
                    text = text.translate(rotate)
                    if rng.random() < 0.01:
                        donor = rng.choice(originals)["text"].split()
                        n = rng.randint(20, 120)
                        at = rng.randrange(max(1, len(donor) - n))
                        words = text.split(" ")
                        where = rng.randrange(len(words) + 1)
                        text = " ".join([*words[:where], *donor[at : at + n], *words[where:]])
                row = {
                    "id": f"{d['id']}~{copy}" if copy else d["id"],
                    "source": d["source"],
                    "date": d["date"],
                    "text": text,
                }
                out.write(json.dumps(row) + "\n")
                n_docs += 1
                chars += len(text)
    return n_docs, chars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--no-anchors", action="store_true", help="time chorus only")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        docs, chars = write_corpus(corpus, args.scale)
        print(f"corpus: news x{args.scale}: {docs:,} documents, {chars / 1e6:.0f} M characters")
        db = str(Path(tmp) / "reuse.duckdb")
        secs, _, _ = run_child(INGEST, str(corpus), db)
        print(f"ingested in {secs:.0f}s (not part of the figures below)\n")
        c_secs, c_rss, c_out = run_child(CHORUS, db)
        result = json.loads(c_out)
        rows = [
            (
                "chorus reuse (passages, offsets, clusters)",
                result["seconds"],
                c_secs,
                c_rss,
                f"{result['clusters']:,} clusters, {result['passages']:,} passages",
            )
        ]
        anchors = (
            []
            if args.no_anchors
            else [("datasketch MinHash LSH", DATASKETCH), ("rensa RMinHash LSH", RENSA)]
        )
        for name, code in anchors:
            a_secs, a_rss, a_out = run_child(code, str(corpus))
            a = json.loads(a_out)
            rows.append(
                (
                    f"{name} (documents only)",
                    a["shingle"] + a["minhash_lsh"],
                    a_secs,
                    a_rss,
                    f"shingling {a['shingle']:.1f}s + MinHash/LSH {a['minhash_lsh']:.1f}s; "
                    f"{a['pairs']:,} similar pairs",
                )
            )
        print(f"  {'':<44} {'stage s':>8} {'process s':>10} {'peak MiB':>9}  output")
        for name, stage, proc_s, rss, note in rows:
            print(f"  {name:<44} {stage:>8.1f} {proc_s:>10.1f} {rss:>9,.0f}  {note}")
        if len(rows) > 1:
            ratios = ", ".join(f"{r[0].split()[0]} {r[1] / rows[0][1]:.1f}x" for r in rows[1:])
            print(f"  chorus speed-up (stage time): {ratios}")
        # Issue 3's targets: the news corpus under 30 s in under 2 GiB; 10x under 5 minutes.
        if args.scale == 1:
            verdict = "met" if result["seconds"] < 30 and c_rss < 2048 else "MISSED"
            print(f"  target: under 30 s and 2 GiB: {verdict}")
        elif args.scale == 10:
            verdict = "met" if result["seconds"] < 300 else "MISSED"
            print(f"  target: under 300 s: {verdict}")


if __name__ == "__main__":
    main()
