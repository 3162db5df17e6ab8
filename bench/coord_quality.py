"""Coordination quality on news with planted campaigns, and the anchor the issue names.

    python bench/coord_quality.py [--generator A|B] [--docs N] [--store PATH]

The corpus: the first N news articles (organic outlets, their real dates), plus
- planted campaigns: groups of 3 to 15 new sources, each publishing a few documents within
  hours of each other that carry the campaign's talking points, copied or restated (a
  framing phrase, a dropped clause, swapped words), mixed with their own organic-looking
  sentences (claims and filler come from news articles outside the corpus);
- decoys: wire stories credited "(Reuters) -" republished by six organic outlets the same day
  (syndication), on top of the corpus's own same-day coverage of big stories.

``--generator B`` (``coord_plant_b.py``) plants another way: random background, CLEF claims
restated in other words more than copied, sites that join only some waves, wire copy in the
forms agencies are really credited with, and one claim repeated by 40 independent sites over
a year.

Truth: every pair of sources in one campaign coordinates; nothing else does. chorus runs
reuse, points and coord; an edge counts when its q-value is at most 0.05. Reported: pairwise
precision, recall and F1 over source pairs, the share of organic outlets with any significant
edge, and edges made by the wire stories. Anchor in the same run, the
coordination-network-toolkit's co-similar rule at sentence level: two sources are linked when
they publish the same sentence (at least 8 words, case and spacing aside) within 6 hours.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import itertools
import json
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import NEWS, machine
from coord_plant_b import SIZES as SIZES_B
from coord_plant_b import build_corpus_b

_FRAMES = [
    "It is now clear that",
    "Sources confirm that",
    "Few will admit it, but",
    "Once again we see that",
    "Make no mistake:",
]
_SWAPS = {
    "said": "stated",
    "says": "claims",
    "government": "administration",
    "people": "citizens",
    "big": "major",
    "new": "fresh",
    "show": "reveal",
    "shows": "reveals",
    "help": "aid",
    "country": "nation",
    "now": "today",
    "more": "additional",
}
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.split(text) if len(s.split()) >= 12]


def restate(sentence: str, rng: random.Random) -> str:
    words = [_SWAPS.get(w, w) for w in sentence.split()]
    if "," in sentence and rng.random() < 0.5:
        head, _, tail = " ".join(words).partition(",")
        text = head if len(head.split()) >= 8 else tail.strip()
    else:
        text = " ".join(words)
    text = text.rstrip(".")
    return f"{rng.choice(_FRAMES)} {text[0].lower()}{text[1:]}."


@dataclass(frozen=True)
class Planted:
    """What was planted: the true coordinating pairs, and who is who."""

    truth: set[tuple[str, str]]
    campaign_sources: list[str]
    outlets: list[str]
    wire_docs: set[str]


def build_corpus(n_docs: int, seed: int = 7) -> tuple[list[dict[str, object]], Planted]:
    """``n_docs`` organic articles (0: every article but the last 2,000) plus the plants."""
    rng = random.Random(seed)
    with gzip.open(NEWS, "rt", encoding="utf-8") as src:
        lines = list(itertools.islice(src, n_docs + 2000)) if n_docs else src.readlines()
    # The campaigns' own text comes from articles outside the corpus: copied from an outlet
    # in it, it would be real reuse between the campaign and that outlet.
    organic = [json.loads(line) for line in lines[:-2000]]
    elsewhere = [json.loads(line) for line in lines[-2000:]]
    docs: list[dict[str, object]] = []
    dated = []
    for row in organic:
        docs.append(
            {"id": row["id"], "source": row["source"], "text": row["text"], "date": row["date"]}
        )
        with contextlib.suppress(ValueError):
            dated.append(datetime.fromisoformat(str(row["date"])[:10]))
    pool = [s for row in elsewhere for s in _sentences(str(row["text"]))]
    truth: set[tuple[str, str]] = set()
    campaign_sources: list[str] = []
    for c, size in enumerate([3, 5, 8, 10, 12, 15]):
        claims = _sentences(str(rng.choice(elsewhere)["text"]))[:6] or rng.sample(pool, 6)
        start = rng.choice(dated) + timedelta(hours=rng.randrange(6, 18))
        sites = [f"campaign{c}-site{j}" for j in range(size)]
        campaign_sources += sites
        truth |= {(a, b) for a, b in itertools.combinations(sorted(sites), 2)}
        for site in sites:
            for k in range(3):
                when = start + timedelta(hours=24 * k + rng.uniform(0, 6))
                picked = rng.sample(claims, min(3, len(claims)))
                body = [c if rng.random() < 0.5 else restate(c, rng) for c in picked]
                body += rng.sample(pool, rng.randrange(3, 7))
                rng.shuffle(body)
                docs.append(
                    {
                        "id": f"{site}-{k}",
                        "source": site,
                        "text": " ".join(body),
                        "date": when.isoformat(),
                    }
                )
    outlets = sorted({str(d["source"]) for d in docs[: len(organic)]})
    wire_docs: set[str] = set()
    for w in range(3):
        story = rng.choice(organic)
        body = " ".join(_sentences(str(story["text"]))[:8])
        day = rng.choice(dated)
        for outlet in rng.sample(outlets, 6):
            doc_id = f"wire{w}-{outlet}"
            wire_docs.add(doc_id)
            docs.append(
                {
                    "id": doc_id,
                    "source": outlet,
                    "text": f"NEW YORK (Reuters) - {body}",
                    "date": (day + timedelta(hours=rng.uniform(8, 20))).isoformat(),
                }
            )
    return docs, Planted(truth, campaign_sources, outlets, wire_docs)


def anchor_pairs(docs: list[dict[str, object]], hours: float = 6.0) -> set[tuple[str, str]]:
    """Sources publishing the same sentence (8+ words) within ``hours``."""
    seen: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for d in docs:
        try:
            when = datetime.fromisoformat(str(d["date"])[:19])
        except ValueError:
            continue
        for s in _SENT.split(str(d["text"])):
            if len(s.split()) >= 8:
                seen[" ".join(s.lower().split())].append((str(d["source"]), when))
    pairs: set[tuple[str, str]] = set()
    for sharers in seen.values():
        if len(sharers) < 2 or len(sharers) > 200:
            continue
        for (a, ta), (b, tb) in itertools.combinations(sharers, 2):
            if a != b and abs((ta - tb).total_seconds()) <= hours * 3600:
                pairs.add((min(a, b), max(a, b)))
    return pairs


def score(found: set[tuple[str, str]], planted: Planted) -> tuple[float, float, float, float]:
    tp = len(found & planted.truth)
    p = tp / max(len(found), 1)
    r = tp / max(len(planted.truth), 1)
    f = 2 * p * r / max(p + r, 1e-12)
    flagged = {s for pair in found for s in pair} & set(planted.outlets)
    return p, r, f, len(flagged) / max(len(planted.outlets), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generator", choices=("A", "B"), default="A")
    parser.add_argument("--docs", type=int, default=None, help="organic news articles")
    parser.add_argument("--store", type=Path, help="keep the store here (reused when present)")
    args = parser.parse_args()
    import chorus
    from chorus.analyze import analyze
    from chorus.ingest import NoLanguageDetector

    if args.generator == "A":
        n_docs = args.docs or 3000
        docs, planted = build_corpus(n_docs)
        wire_sources: set[str] = set()
        title = f"first {n_docs} news articles + 6 planted campaigns + wire decoys"
    else:
        n_docs = args.docs or 5000
        docs, planted_b = build_corpus_b(n_docs)
        planted = Planted(
            planted_b.truth, planted_b.campaign_sources, planted_b.outlets, planted_b.wire_docs
        )
        wire_sources = planted_b.wire_sources
        title = (
            f"generator B: {n_docs} random news articles + {len(SIZES_B)} campaigns, "
            f"wire copy by {len(wire_sources)} outlets, 40 viral sites"
        )
    print(f"# coord quality: {title}")
    print(f"# machine: {machine()}")
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        path = tmp / "corpus.jsonl"
        path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
        store_path = args.store or tmp / "c.duckdb"
        fresh = not store_path.exists()
        store = stack.enter_context(chorus.open_store(store_path))
        started = time.perf_counter()
        if fresh:
            chorus.ingest_paths(store, [path], language_detector=NoLanguageDetector())
        ingested = time.perf_counter()
        summary = analyze(store)
        seconds = time.perf_counter() - ingested
        total = time.perf_counter() - started
        rows = store.con.execute(
            "SELECT source_a, source_b FROM source_edges WHERE q_value <= 0.05"
        ).fetchall()
        wire = sorted(planted.wire_docs)
        wire_edges = store.con.execute(
            """SELECT count(*) FROM (
                   SELECT e.source_a, e.source_b FROM edge_evidence v
                   JOIN source_edges e USING (source_a, source_b)
                   WHERE e.q_value <= 0.05
                   GROUP BY 1, 2
                   HAVING bool_or(list_contains(?, v.doc_a) AND list_contains(?, v.doc_b)))""",
            [wire, wire],
        ).fetchall()[0][0]
        evidence = store.con.execute(
            """SELECT v.object_kind, count(*) FROM edge_evidence v
               JOIN source_edges e USING (source_a, source_b)
               WHERE e.q_value <= 0.05 AND NOT (
                   list_contains(?, e.source_a) AND list_contains(?, e.source_b))
               GROUP BY 1 ORDER BY 1""",
            [planted.campaign_sources, planted.campaign_sources],
        ).fetchall()
    found = {(min(a, b), max(a, b)) for a, b in rows}
    c = summary.coord
    print(
        f"corpus: {len(docs):,} documents, {len(planted.outlets):,} innocent sources, "
        f"{len(planted.campaign_sources):,} campaign sources, {len(planted.truth):,} true pairs"
    )
    print(
        f"end to end {total:.1f} s{'' if fresh else ' (store kept: ingest skipped)'}; "
        f"chorus analyze (segment, reuse, points, phrases, coord) {seconds:.1f} s; "
        f"coord {c.seconds:.1f} s (null model {c.null_seconds:.1f} s); "
        f"window {c.window_hours} h; {c.n_edges:,} edges, {c.n_significant:,} significant"
    )
    print(f"{'method':44} {'P':>6} {'R':>6} {'F1':>6} {'innocent flagged':>17} {'s':>7}")
    p, r, f, flagged = score(found, planted)
    print(f"{'chorus (q <= 0.05)':44} {p:6.3f} {r:6.3f} {f:6.3f} {flagged:17.1%} {total:7.1f}")
    anchor_started = time.perf_counter()
    anchor = anchor_pairs(docs)
    anchor_seconds = time.perf_counter() - anchor_started
    p2, r2, f2, flagged2 = score(anchor, planted)
    print(
        f"{'anchor: same sentence within 6 h':44} {p2:6.3f} {r2:6.3f} {f2:6.3f} "
        f"{flagged2:17.1%} {anchor_seconds:7.1f}"
    )
    flagged_sources = {s for pair in found for s in pair}
    if wire_sources:
        n_wire = len(flagged_sources & wire_sources)
        print(f"wire republishers flagged: {n_wire} of {len(wire_sources)}")
    viral = [s for s in planted.outlets if s.startswith("viral-site-")]
    if viral:
        print(f"viral sites flagged: {len(flagged_sources & set(viral))} of {len(viral)}")
    print(
        "evidence kinds on significant edges not inside one campaign: "
        + (", ".join(f"{k} {n}" for k, n in evidence) or "none")
    )
    print(
        f"significant edges with wire copy as evidence: {wire_edges}; targets: F1 >= 0.90 "
        f"{'met' if f >= 0.9 else 'NOT met'}, innocent flagged < 2% "
        f"{'met' if flagged < 0.02 else 'NOT met'}, no wire edge "
        f"{'met' if wire_edges == 0 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
