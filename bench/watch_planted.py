"""Watch hits in news articles: restated claims planted in real news, the watchlist every
CLEF 2020 verified claim. How many hits at a score are the planted claim, and how many
planted claims reach the score.

    python bench/watch_planted.py [--docs 3000] [--store PATH]

The corpus is ``points_planted.py``'s (same seed): ``--docs`` random news articles, into
which the CLEF 2020 train+dev families (a verified claim and the tweets that restate it) and
400 lone verified claims are planted, one sentence in an article each. The watchlist is all
10,375 verified claims; every article is matched as ``chorus watch`` does (its best piece per
claim, at most 5 claims an article). The truth: an article restates the claims of the family
planted in it (or the lone claim). A hit on another claim counts as wrong, though a real
article can restate a fact-checked claim of its own (CLEF's claims are 2016–2019 US news
stories, the articles 2012–2020 US news): precision here is a lower bound. The anchor, in
the same run: all-MiniLM-L6-v2 alone (no BM25, no WordLlama) on the same pieces.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import CLEF, machine, read_tsv
from points_planted import Plant, build_corpus, clean

THRESHOLDS = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2)


def truth_of(plants: list[Plant]) -> dict[str, set[str]]:
    """Each article's planted claims: the claims whose (cleaned) text is planted somewhere
    in its family, or its lone claim."""
    from chorus.points.text import claim_text

    by_text: dict[str, set[str]] = defaultdict(set)
    for row in read_tsv(CLEF / "verified_claims.docs.tsv"):
        for text in {clean(claim_text(row[1])), clean(row[1])}:
            by_text[text].add(row[0])
    family_claims: dict[str, set[str]] = defaultdict(set)
    for p in plants:
        if p.family:
            family_claims[p.family] |= by_text.get(p.text, set())
    return {
        p.doc_id: family_claims[p.family] if p.family else by_text.get(p.text, set())
        for p in plants
    }


def measure(found: dict[str, list[tuple[str, float]]], truth: dict[str, set[str]]) -> list[str]:
    rows = []
    clean_docs = [d for d in found if d not in truth]
    for t in THRESHOLDS:
        hits = [(d, c) for d, ms in found.items() for c, s in ms if s >= t]
        right = sum(c in truth.get(d, set()) for d, c in hits)
        reached = sum(
            any(c in claims and s >= t for c, s in found.get(d, [])) for d, claims in truth.items()
        )
        alarms = sum(any(s >= t for _, s in found[d]) for d in clean_docs)
        rows.append(
            f"{t:5.1f} {len(hits):7,} {right / max(len(hits), 1):9.3f} "
            f"{reached / max(len(truth), 1):8.3f} {alarms / max(len(clean_docs), 1):12.3f}"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", type=Path, help="keep the store (and its embeddings) here")
    args = parser.parse_args()

    import chorus
    from chorus.ingest import NoLanguageDetector
    from chorus.match import MatchDocument, Matcher, MatchSettings, WatchItem

    docs, plants = build_corpus(args.docs, 400, args.seed)
    truth = truth_of(plants)
    claims = [WatchItem(id=r[0], text=r[1]) for r in read_tsv(CLEF / "verified_claims.docs.tsv")]
    print(
        f"# watch planted: {len(docs):,} news articles (seed {args.seed}), {len(truth):,} with "
        f"a planted claim or restatement; watchlist {len(claims):,} CLEF 2020 verified claims"
    )
    print(f"# machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        db = args.store or Path(tmp) / "watch.duckdb"
        fresh = not db.exists()
        with chorus.open_store(db) as store:
            if fresh:
                corpus = Path(tmp) / "planted.jsonl"
                corpus.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
                chorus.ingest_paths(store, [corpus], language_detector=NoLanguageDetector())
            stored = [
                MatchDocument(id=r[0], text=r[1], lang=r[2])
                for r in store.con.sql("SELECT doc_id, text, lang FROM documents").fetchall()
            ]
            for name, settings in (
                ("chorus (MiniLM + BM25 + WordLlama)", MatchSettings(top_k=5)),
                (
                    "anchor all-MiniLM-L6-v2 alone",
                    MatchSettings(top_k=5, lexical_weight=0.0, static_weight=0.0),
                ),
            ):
                start = time.perf_counter()
                matcher = Matcher(claims, settings=settings, store=store)
                found = {r.id: [(m.id, m.score) for m in r.matches] for r in matcher.match(stored)}
                seconds = time.perf_counter() - start
                print(f"{name}: {seconds:.1f} s")
                print("score    hits precision  reached  clean alarms")
                for line in measure(found, truth):
                    print(line)


if __name__ == "__main__":
    main()
