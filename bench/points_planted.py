"""Planted talking points in real news: do restated claims come out as points, and nothing else
with them?

    python bench/points_planted.py [--docs 3000] [--distractors 400] [--store PATH] [--no-anchor]

The corpus: ``--docs`` real news articles drawn at random (seeded) from the news corpus, as
background. Into them, one sentence per article at a sentence boundary, are planted the CLEF
2020 CheckThat! task 2 train+dev families: a verified claim and the tweets linked to it
(families that share a tweet are one family), cleaned of links, handles and trailing
attributions, each member in an article of a different outlet; plus ``--distractors``
verified claims that no tweet restates, each planted alone. chorus then runs ingest, reuse
and points with its defaults.

Measured, for chorus and in the same run for the anchor (sentence-transformers'
``community_detection`` over the same all-MiniLM-L6-v2 vectors at its documented threshold
of 0.75, every sentence of the corpus):
- recall: the share of within-family pairs of planted sentences that share a point;
- precision: over every pair a planted sentence forms inside its points (with another planted
  sentence or a background sentence), the share that are two members of one family;
- how many background sentences become mentions, and the distractors that do.

A planted text the segmenter splits in several sentences counts once per point. ``--store``
keeps the store (and its embedding cache), so a rerun with other settings embeds nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import itertools
import json
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import CLEF, NEWS, Groups, machine, read_tsv
from chorus.store import Store
from points_quality import load_clef

_WORD = re.compile(r"\w+")
_HANDLE = re.compile(r"(?<!\w)@\w+")
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def clean(text: str) -> str:
    """A planted text: links, handles and attributions gone (``load_clef`` applied
    ``claim_text``), ending as a sentence does."""
    text = re.sub(r"\s+", " ", _HANDLE.sub("", text)).strip()
    if text and text[-1] not in '.!?"”’':
        text += "."
    return text


@dataclasses.dataclass(frozen=True)
class Plant:
    doc_id: str
    family: str  # "" for a distractor
    text: str


def build_corpus(
    n_docs: int, n_distractors: int, seed: int
) -> tuple[list[dict[str, object]], list[Plant]]:
    rng = random.Random(seed)
    with gzip.open(NEWS, "rt", encoding="utf-8") as src:
        rows = [json.loads(line) for line in src]
    rows = [r for r in rows if len(str(r["text"])) >= 500]
    articles = rng.sample(rows, n_docs)
    texts, gold = load_clef()
    families: dict[str, list[str]] = defaultdict(list)
    for text, family in zip(texts, gold, strict=True):
        if clean(text):
            families[family].append(clean(text))
    claims = {row[0]: row[1] for row in read_tsv(CLEF / "verified_claims.docs.tsv")}
    linked = {
        line.split()[2]
        for split in ("train", "dev")
        for line in (CLEF / split / "tweet-vclaim-pairs.qrels").read_text().splitlines()
    }
    alone = sorted(c for c in claims if c not in linked)
    distractors = [clean(claims[c]) for c in rng.sample(alone, n_distractors)]

    by_outlet: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(articles):
        by_outlet[str(row["source"])].append(i)
    for members in by_outlet.values():
        rng.shuffle(members)
    plants: dict[int, Plant] = {}

    def take(outlets: list[str]) -> int | None:
        for outlet in outlets:
            if by_outlet[outlet]:
                return by_outlet[outlet].pop()
        return None

    ordered = sorted(families.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    for family, members in ordered:
        outlets = [o for o in by_outlet if by_outlet[o]]
        rng.shuffle(outlets)
        # Outlets with the most articles left first, so large families still find room.
        outlets.sort(key=lambda o: -len(by_outlet[o]))
        if len(outlets) < len(members):
            raise SystemExit(f"not enough outlets for a family of {len(members)}")
        for member, outlet in zip(members, outlets, strict=False):
            article = take([outlet])
            assert article is not None
            plants[article] = Plant(str(articles[article]["id"]), family, member)
    for text in distractors:
        outlets = [o for o in by_outlet if by_outlet[o]]
        article = take([rng.choice(outlets)])
        assert article is not None
        plants[article] = Plant(str(articles[article]["id"]), "", text)

    docs: list[dict[str, object]] = []
    for i, plant in same_text_same_family(plants).items():
        plants[i] = plant
    for i, row in enumerate(articles):
        text = str(row["text"])
        if i in plants:
            cuts = [m.start() for m in _BOUNDARY.finditer(text)] or [len(text)]
            cut = rng.choice(cuts)
            text = f"{text[:cut]} {plants[i].text} {text[cut:].lstrip()}"
        docs.append({"id": row["id"], "source": row["source"], "date": row["date"], "text": text})
    return docs, list(plants.values())


def same_text_same_family(plants: dict[int, Plant]) -> dict[int, Plant]:
    """The truth corrected where CLEF repeats itself: verified claims with the same words
    (the same claim fact-checked twice, "An Image depicts a five-year-old Syrian girl in
    handcuffs at Dulles Airport." is two claims) make their families one, and a distractor
    with the words of a family's member belongs to that family."""
    groups = Groups()
    first: dict[str, str] = {}
    for i, plant in sorted(plants.items()):
        words = " ".join(_WORD.findall(plant.text.casefold()))
        label = plant.family or f"alone:{i}"
        if words in first:
            groups.join(label, first[words])
        else:
            first[words] = label
    roots = {i: groups.find(plant.family or f"alone:{i}") for i, plant in plants.items()}
    size: dict[str, int] = defaultdict(int)
    for root in roots.values():
        size[root] += 1
    return {
        i: dataclasses.replace(plant, family=roots[i] if size[roots[i]] > 1 else plant.family)
        for i, plant in plants.items()
    }


@dataclasses.dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    n_background: int
    n_distractors: int
    n_points: int


def score(
    points: dict[str, list[tuple[str, int, int]]],
    located: dict[str, tuple[int, int, Plant]],
) -> Scores:
    """``points``: point -> its mentions (doc_id, start, end). ``located``: doc_id -> the
    planted span and what was planted."""
    right: set[tuple[str, str]] = set()
    wrong = 0
    background: set[tuple[str, int]] = set()
    distractors: set[str] = set()
    for mentions in points.values():
        planted: set[str] = set()
        n_other = 0
        for doc, start, end in mentions:
            plant = located.get(doc)
            if plant is not None and start < plant[1] and end > plant[0]:
                planted.add(doc)
            else:
                n_other += 1
                background.add((doc, start))
        for doc in planted:
            if not located[doc][2].family:
                distractors.add(doc)
        for a, b in itertools.combinations(sorted(planted), 2):
            fa, fb = located[a][2].family, located[b][2].family
            if fa and fa == fb:
                right.add((a, b))
            else:
                wrong += 1
        wrong += len(planted) * n_other
    by_family: dict[str, int] = defaultdict(int)
    for _, _, plant in located.values():
        if plant.family:
            by_family[plant.family] += 1
    gold = sum(k * (k - 1) // 2 for k in by_family.values())
    p = len(right) / max(len(right) + wrong, 1)
    r = len(right) / max(gold, 1)
    f = 2 * p * r / max(p + r, 1e-12)
    return Scores(p, r, f, len(background), len(distractors), len(points))


def updated(
    store: Store,
    docs: list[dict[str, object]],
    located: dict[str, tuple[int, int, Plant]],
    share: float,
    tmp: Path,
) -> tuple[str, Scores, float]:
    """The same corpus in a second store: points from scratch on all but the last ``share``
    of the articles, then an update with them (the embedding cache copied over, so only the
    clustering is timed)."""
    import chorus
    from chorus.ingest import NoLanguageDetector
    from chorus.points import PointsSettings, find_points
    from chorus.reuse import find_reuse

    cut = int(len(docs) * (1 - share))
    first, last = tmp / "first.jsonl", tmp / "last.jsonl"
    first.write_text("".join(json.dumps(d) + "\n" for d in docs[:cut]), encoding="utf-8")
    last.write_text("".join(json.dumps(d) + "\n" for d in docs[cut:]), encoding="utf-8")
    settings = PointsSettings(restart_growth=max(share / (1 - share), 0.0) + 0.01)
    with chorus.open_store(tmp / "updated.duckdb") as other:
        cache = store.con.sql("SELECT * FROM _embeddings").to_arrow_table()
        other.con.register("cache_rows", cache)
        other.con.execute("INSERT INTO _embeddings SELECT * FROM cache_rows")
        other.con.unregister("cache_rows")
        chorus.ingest_paths(other, [first], language_detector=NoLanguageDetector())
        find_reuse(other)
        find_points(other, settings=settings)
        chorus.ingest_paths(other, [last], language_detector=NoLanguageDetector())
        find_reuse(other)
        start = time.perf_counter()
        summary = find_points(other, settings=settings)
        seconds = time.perf_counter() - start
        assert summary.update is not None, "the points were not updated"
        points: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        for point_id, doc, s, e in other.con.sql(
            'SELECT point_id, doc_id, start, "end" FROM mentions'
        ).fetchall():
            points[point_id].append((doc, s, e))
    return (f"chorus points, last {share:.0%} added by update", score(points, located), seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--distractors", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", type=Path, help="keep the store (and its embeddings) here")
    parser.add_argument("--no-anchor", action="store_true")
    parser.add_argument(
        "--update",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="also: points found on all but the last SHARE of the articles, then updated "
        "with them (chorus.points.update), scored the same way",
    )
    args = parser.parse_args()

    import chorus
    from chorus.embed.cache import cached_embed
    from chorus.embed.models import load_embedder
    from chorus.ingest import NoLanguageDetector
    from chorus.points import find_points
    from chorus.reuse import find_reuse

    docs, plants = build_corpus(args.docs, args.distractors, args.seed)
    n_family = sum(1 for p in plants if p.family)
    print(
        f"# points planted: {len(docs):,} news articles (seed {args.seed}), "
        f"{n_family:,} planted family members in {len({p.family for p in plants if p.family}):,} "
        f"CLEF 2020 families, {len(plants) - n_family} lone distractors"
    )
    print(f"# machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        db = args.store or Path(tmp) / "planted.duckdb"
        fresh = not db.exists()
        with chorus.open_store(db) as store:
            if fresh:
                corpus = Path(tmp) / "planted.jsonl"
                corpus.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
                start = time.perf_counter()
                chorus.ingest_paths(store, [corpus], language_detector=NoLanguageDetector())
                find_reuse(store)
                print(f"prepare (ingest + reuse, not counted): {time.perf_counter() - start:.1f} s")
            text_of = dict(store.con.sql("SELECT doc_id, text FROM documents").fetchall())
            located: dict[str, tuple[int, int, Plant]] = {}
            for plant in plants:
                at = text_of[plant.doc_id].find(plant.text)
                if at >= 0:
                    located[plant.doc_id] = (at, at + len(plant.text), plant)
            print(f"planted texts found in the stored documents: {len(located)} of {len(plants)}")
            n_sentences = store.count("sentences")

            start = time.perf_counter()
            summary = find_points(store, rebuild=True)  # from scratch, whatever the store holds
            seconds = time.perf_counter() - start
            points: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
            for point_id, doc, s, e in store.con.sql(
                'SELECT point_id, doc_id, start, "end" FROM mentions'
            ).fetchall():
                points[point_id].append((doc, s, e))
            rows = [("chorus points", score(points, located), seconds)]
            if args.update:
                rows.append(updated(store, docs, located, args.update, Path(tmp)))

            if not args.no_anchor:
                from sentence_transformers import util

                sentences = store.con.sql(
                    'SELECT doc_id, start, "end", text FROM sentences ORDER BY doc_id, sent_no'
                ).fetchall()
                embed = cached_embed(store, load_embedder("minilm"))
                start = time.perf_counter()
                import torch

                vectors = torch.from_numpy(
                    np.asarray(embed([t for *_, t in sentences]), dtype=np.float32)
                )
                communities = util.community_detection(
                    vectors, threshold=0.75, min_community_size=2, batch_size=4096
                )
                anchor_seconds = time.perf_counter() - start
                anchor = {
                    str(i): [sentences[j][:3] for j in members]
                    for i, members in enumerate(communities)
                }
                rows.append(
                    (
                        "anchor: MiniLM community_detection 0.75",
                        score(anchor, located),
                        anchor_seconds,
                    )
                )

    print(
        f"corpus: {n_sentences:,} sentences; chorus considered {summary.n_sentences:,}, "
        f"{summary.n_units:,} distinct"
    )
    print(
        f"{'method':42} {'P':>6} {'R':>6} {'F1':>6} {'points':>8} {'background':>11} "
        f"{'distractors':>11} {'s':>7}"
    )
    for name, s, secs in rows:
        print(
            f"{name:42} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.n_points:8,} "
            f"{s.n_background:11,} {s.n_distractors:11,} {secs:7.1f}"
        )
    chorus_f1 = rows[0][1].f1
    anchors = [r for r in rows if r[0].startswith("anchor")]
    ratio = (
        f"; chorus F1 / anchor F1: {chorus_f1 / max(anchors[0][1].f1, 1e-9):.2f}x"
        if anchors
        else ""
    )
    print(
        f"background sentences that became mentions: {rows[0][1].n_background:,} of "
        f"{n_sentences:,}{ratio}; target F1 >= 0.90: {'met' if chorus_f1 >= 0.90 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
