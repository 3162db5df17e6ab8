"""Reuse quality: planted passages with known offsets, scored with the PAN text-alignment
measures (Potthast et al. 2010): character-level precision and recall, granularity, plagdet.

    python bench/reuse_quality.py [--docs 3000] [--plants 300] [--seed 7]

From the first ``--docs`` news articles, passages of 20 to 200 words are cut from some articles
(sources) and inserted at a random word boundary into others (targets), ``--plants`` of them
verbatim and as many lightly edited (about 8% of words changed, 4% dropped, 4% added, commas
dropped, casing changed), each target receiving one. chorus then runs on the whole corpus.
As in PAN, detections are judged on the planted document pairs: a detection is a pair of
passages of one cluster, one in the source and one in the target.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from math import log2
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import NEWS, machine
from chorus.ingest import NoLanguageDetector, ingest_paths
from chorus.reuse import ReuseSettings, find_reuse
from chorus.store import open_store

WORD = re.compile(r"\S+")


@dataclass
class Case:
    kind: str
    source: str
    target: str
    src_span: tuple[int, int]
    tgt_span: tuple[int, int]


def light_edit(text: str, rng: random.Random, vocab: list[str]) -> str:
    out: list[str] = []
    for word in text.split():
        r = rng.random()
        if r < 0.08:
            out.append(rng.choice(vocab))
        elif r < 0.12:
            continue
        else:
            if rng.random() < 0.3:
                word = word.replace(",", "")
            if rng.random() < 0.05:
                word = word.lower() if word[:1].isupper() else word.capitalize()
            out.append(word)
        if rng.random() < 0.04:
            out.append(rng.choice(vocab))
    return " ".join(out)


def build(docs: list[dict[str, str]], plants: int, rng: random.Random) -> list[Case]:
    vocab = [w for d in docs[:200] for w in d["text"].split()[:50] if w.isalpha()]
    ids = list(range(len(docs)))
    rng.shuffle(ids)
    sources, targets = ids[: plants * 2], ids[plants * 2 : plants * 4]
    cases: list[Case] = []
    for k, (s, t) in enumerate(zip(sources, targets, strict=True)):
        kind = "verbatim" if k % 2 == 0 else "edited"
        src = docs[s]["text"]
        words = list(WORD.finditer(src))
        length = rng.randint(20, 200)
        if len(words) < length + 2:
            length = max(20, len(words) - 2)
            if len(words) < 22:
                continue
        at = rng.randrange(len(words) - length + 1)
        s0, s1 = words[at].start(), words[at + length - 1].end()
        piece = src[s0:s1]
        if kind == "edited":
            piece = light_edit(piece, rng, vocab)
        tgt = docs[t]["text"]
        gaps = [m.start() for m in re.finditer(r"\s", tgt)] or [len(tgt)]
        where = rng.choice(gaps)
        docs[t]["text"] = tgt[:where] + " " + piece + " " + tgt[where:]
        t0 = where + 1
        cases.append(Case(kind, docs[s]["id"], docs[t]["id"], (s0, s1), (t0, t0 + len(piece))))
    return cases


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def score(
    cases: list[Case],
    detections: dict[tuple[str, str], list[tuple[tuple[int, int], tuple[int, int]]]],
) -> dict[str, float]:
    """PAN measures; a case and a detection are each a (source span, target span) pair."""
    rec_sum, prec_sum, n_dets, detected, gran_sum = 0.0, 0.0, 0, 0, 0
    for c in cases:
        dets = detections.get((c.source, c.target), [])
        size = (c.src_span[1] - c.src_span[0]) + (c.tgt_span[1] - c.tgt_span[0])
        # With one case per document pair, the union over detections is per side.
        src_hit = _union_overlap([d[0] for d in dets], c.src_span)
        tgt_hit = _union_overlap([d[1] for d in dets], c.tgt_span)
        rec_sum += (src_hit + tgt_hit) / size
        hitting = [d for d in dets if overlap(d[0], c.src_span) or overlap(d[1], c.tgt_span)]
        if hitting:
            detected += 1
            gran_sum += len(hitting)
        for d in dets:
            n_dets += 1
            dsize = (d[0][1] - d[0][0]) + (d[1][1] - d[1][0])
            prec_sum += (overlap(d[0], c.src_span) + overlap(d[1], c.tgt_span)) / dsize
    recall = rec_sum / len(cases) if cases else 0.0
    precision = prec_sum / n_dets if n_dets else 1.0
    gran = gran_sum / detected if detected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "granularity": gran,
        "plagdet": f1 / log2(1 + gran),
        "cases": len(cases),
        "detected": detected,
    }


def _union_overlap(spans: list[tuple[int, int]], case: tuple[int, int]) -> int:
    clipped = sorted((max(s, case[0]), min(e, case[1])) for s, e in spans if overlap((s, e), case))
    total, end = 0, case[0]
    for s, e in clipped:
        s = max(s, end)
        if e > s:
            total += e - s
            end = e
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--plants", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    docs: list[dict[str, str]] = []
    with gzip.open(NEWS, "rt", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            docs.append(
                {"id": d["id"], "source": d["source"], "date": d["date"], "text": d["text"]}
            )
            if len(docs) >= args.docs:
                break
    cases = build(docs, args.plants, rng)
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(
        f"corpus: {len(docs):,} news articles; {sum(c.kind == 'verbatim' for c in cases)} "
        f"verbatim and {sum(c.kind == 'edited' for c in cases)} lightly edited plants of "
        "20-200 words"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.jsonl"
        path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
        with open_store(Path(tmp) / "q.duckdb") as store:
            ingest_paths(store, [path], language_detector=NoLanguageDetector())
            started = time.perf_counter()
            summary = find_reuse(store, settings=ReuseSettings())
            seconds = time.perf_counter() - started
            rows = store.con.execute(
                'SELECT cluster_id, doc_id, start, "end" FROM passages'
            ).fetchall()
    by_cluster: dict[str, list[tuple[str, int, int]]] = {}
    for cluster_id, doc_id, start, end in rows:
        by_cluster.setdefault(cluster_id, []).append((doc_id, start, end))
    wanted = {(c.source, c.target) for c in cases}
    detections: dict[tuple[str, str], list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    for members in by_cluster.values():
        for sd, ss, se in members:
            for td, ts, te in members:
                if (sd, td) in wanted:
                    detections.setdefault((sd, td), []).append(((ss, se), (ts, te)))
    print(f"chorus reuse: {seconds:.1f}s, {summary.n_clusters:,} clusters in the corpus\n")
    print(
        f"  {'plants':<10} {'cases':>6} {'precision':>10} {'recall':>8} {'granularity':>12} "
        f"{'plagdet':>8}   target"
    )
    targets = {"verbatim": 0.97, "edited": 0.90}
    for kind in ("verbatim", "edited"):
        s = score([c for c in cases if c.kind == kind], detections)
        ok = s["precision"] >= targets[kind] and s["recall"] >= targets[kind]
        print(
            f"  {kind:<10} {s['cases']:>6} {s['precision']:>10.3f} {s['recall']:>8.3f} "
            f"{s['granularity']:>12.3f} {s['plagdet']:>8.3f}   P,R >= {targets[kind]}: "
            f"{'met' if ok else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
