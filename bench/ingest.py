"""Ingest benchmark: the whole news corpus into a fresh store, parsed, cleaned and segmented.

    python bench/ingest.py [--scale N] [--sample-docs 2000]

Prints documents/s, characters/s and peak memory for chorus, and in the same run:
- anchor 1: DuckDB's own read_json of the same file into a table (no cleaning, no language,
  no sentences): the floor for getting the bytes into a store;
- anchor 2: the sentence segmenters pysbd and blingfire on a sample of the same documents,
  against chorus's segmenter, as a speed ratio and as agreement on sentence boundaries.
With --scale N the corpus is repeated N times (ids suffixed) to show cost grows linearly and
memory stays flat.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import NEWS, machine, run_child

CHORUS = """
import sys, json
import chorus
with chorus.open_store(sys.argv[2]) as store:
    s = chorus.ingest_paths(store, [sys.argv[1]])
    print(json.dumps({"docs": s.n_new, "sentences": s.n_sentences, "bad_dates": s.n_bad_dates}))
"""
RAW = """
import sys, duckdb
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE docs AS SELECT * FROM read_json(?, format='newline_delimited')",
            [sys.argv[1]])
print(con.execute("SELECT count(*) FROM docs").fetchone()[0])
"""


def scaled_corpus(scale: int, workdir: Path) -> Path:
    if scale == 1:
        return NEWS
    out = workdir / f"news_x{scale}.jsonl"
    with out.open("w", encoding="utf-8") as dst, gzip.open(NEWS, "rt", encoding="utf-8") as src:
        lines = src.readlines()
        for copy in range(scale):
            for line in lines:
                obj = json.loads(line)
                obj["id"] = f"{obj['id']}~{copy}"
                dst.write(json.dumps(obj) + "\n")
    return out


def corpus_chars(path: Path) -> tuple[int, int]:
    opener = gzip.open if path.suffix == ".gz" else open
    docs = chars = 0
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            docs += 1
            chars += len(json.loads(line)["text"])
    return docs, chars


def segmenters(sample_docs: int) -> None:
    import blingfire
    import pysbd

    from chorus.ingest import normalise_text
    from chorus.segment import split_sentences

    texts: list[str] = []
    with gzip.open(NEWS, "rt", encoding="utf-8") as fh:
        for line in fh:
            texts.append(normalise_text(json.loads(line)["text"]))
            if len(texts) >= sample_docs:
                break
    chars = sum(map(len, texts))
    seg = pysbd.Segmenter(language="en", clean=False, char_span=True)
    results: dict[str, tuple[float, list[set[int]]]] = {}

    def timed(name: str, fn) -> None:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        ends = [fn(t) for t in texts]
        results[name] = (time.perf_counter() - start, ends)

    timed("chorus", lambda t: {s.end for s in split_sentences(t)})
    timed("blingfire", lambda t: {e for _, e in blingfire.text_to_sentences_and_offsets(t)[1]})
    timed("pysbd", lambda t: {len(x.sent.rstrip()) + x.start for x in seg.segment(t)})
    base_s, base_ends = results["chorus"]
    print(f"\nsentence segmenters on {len(texts):,} news documents ({chars / 1e6:.1f} M chars):")
    print(
        f"  {'segmenter':<10} {'seconds':>8} {'M chars/s':>10} {'chorus speed-up':>16} "
        f"{'boundaries agreeing with chorus (F1)':>38}"
    )
    for name, (secs, ends) in results.items():
        tp = sum(len(a & b) for a, b in zip(ends, base_ends, strict=True))
        n_a, n_b = sum(map(len, ends)), sum(map(len, base_ends))
        f1 = 2 * tp / (n_a + n_b) if n_a + n_b else 1.0
        print(
            f"  {name:<10} {secs:>8.2f} {chars / secs / 1e6:>10.2f} {secs / base_s:>15.1f}x "
            f"{f1:>38.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--sample-docs", type=int, default=2000, help="0 skips the segmenters")
    parser.add_argument(
        "--memory-limit", default=None, help="DuckDB memory cap for chorus (CHORUS_MEMORY_LIMIT)"
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        work = Path(tmp)
        corpus = scaled_corpus(args.scale, work)
        docs, chars = corpus_chars(corpus)
        print(
            f"corpus: {corpus.name} x{args.scale}: {docs:,} documents, {chars / 1e6:.1f} M "
            "characters"
        )
        env = {"CHORUS_MEMORY_LIMIT": args.memory_limit} if args.memory_limit else None
        limit = args.memory_limit or "2GB (default)"
        print(f"DuckDB memory limit for chorus: {limit}")
        secs, rss, out = run_child(CHORUS, str(corpus), str(work / "chorus.duckdb"), env=env)
        result = json.loads(out)
        raw_secs, raw_rss, _ = run_child(RAW, str(corpus), str(work / "raw.duckdb"))
        print(f"\n  {'':<34} {'seconds':>8} {'docs/s':>9} {'M chars/s':>10} {'peak RSS MiB':>13}")
        print(
            f"  {'chorus ingest (clean+lang+segment)':<34} {secs:>8.1f} {docs / secs:>9,.0f} "
            f"{chars / secs / 1e6:>10.2f} {rss:>13,.0f}"
        )
        print(
            f"  {'anchor: duckdb read_json (raw)':<34} {raw_secs:>8.1f} {docs / raw_secs:>9,.0f}"
            f" {chars / raw_secs / 1e6:>10.2f} {raw_rss:>13,.0f}"
        )
        print(
            f"  chorus / raw-load time: {secs / raw_secs:.1f}x; "
            f"{result['sentences']:,} sentences, {result['bad_dates']} impossible dates -> NULL"
        )
        if args.scale == 1:
            print(f"  target: whole corpus in < 90 s: {'met' if secs < 90 else 'MISSED'}")
    if args.sample_docs:
        segmenters(args.sample_docs)


if __name__ == "__main__":
    main()
