"""Talking points across languages, from the STS-B translations in ``../shared/data/sts/``
(rows align across languages: row i of two files is the same pair in two languages).

(a) Cross-lingual similarity: Spearman of the model's cosine between English sentence 1 and
    sentence 2 in each language, against the gold score (dev split; English against English
    for reference).
(b) Cross-lingual talking points: for every pair scored 4 or more, a group of the English
    sentence 1, sentence 1 in a second language and sentence 2 (its close paraphrase) in a
    third; for every pair scored 2.5 or less (same topic, another meaning), sentence 1 and
    sentence 2 in two languages, each on its own: hard negatives. One document each; the
    texts are clustered as ``chorus points`` clusters them (``group_claims``) and pairwise
    precision, recall and F1 against the groups are reported. Languages are drawn with a
    fixed seed. Only pairs whose English sentences have at least ``PointsSettings.min_words``
    words take part: shorter ones are no claim for ``chorus points``.

Both figures for the multilingual model and, in the same run, for all-MiniLM-L6-v2 (the
English model chorus uses on English corpora), with speed.

    python bench/xling_quality.py                 # train + dev for (b)
    python bench/xling_quality.py --split dev     # dev only (quicker)
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).parent))
from _common import Groups, machine
from chorus.points import PointsSettings, group_claims, load_embedder
from chorus.points.text import claim_text
from points_quality import scores

STS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sts"
LANGUAGES = ("de", "es", "fr", "it", "nl", "pl", "pt", "ru", "zh")


def read_sts(language: str, split: str) -> list[tuple[str, str, float]]:
    with (STS / f"stsb-{language}-{split}.csv").open(encoding="utf-8", newline="") as handle:
        return [(a, b, float(score)) for a, b, score in csv.reader(handle)]


def rows(split: str, limit: int | None = None) -> dict[str, list[tuple[str, str, float]]]:
    splits = ("train", "dev") if split == "both" else (split,)
    return {
        lang: [row for s in splits for row in read_sts(lang, s)][:limit]
        for lang in ("en", *LANGUAGES)
    }


def spearman_table(embed_name: str, by_lang: dict[str, list[tuple[str, str, float]]]) -> str:
    embedder = load_embedder(embed_name)
    english = by_lang["en"]
    gold = np.asarray([score for _, _, score in english])
    first = embedder.embed([a for a, _, _ in english])
    cells = []
    started = time.perf_counter()
    n_texts = 0
    for lang in ("en", *LANGUAGES):
        second = embedder.embed([b for _, b, _ in by_lang[lang]])
        n_texts += len(by_lang[lang])
        cosine = np.einsum("ij,ij->i", first, second)
        cells.append(f"{lang} {spearmanr(cosine, gold).statistic:.3f}")
    rate = n_texts / (time.perf_counter() - started)
    return "  ".join(cells) + f"   ({rate:.0f} sentences/s)"


def build_groups(
    by_lang: dict[str, list[tuple[str, str, float]]], *, min_words: int, seed: int = 0
) -> tuple[list[str], list[str], list[int]]:
    """(texts, language of each, gold group of each)."""
    rng = random.Random(seed)
    groups = Groups()
    texts: list[str] = []
    langs: list[str] = []
    keys: list[str] = []

    def add(lang: str, text: str, key: str) -> None:
        texts.append(text)
        langs.append(lang)
        keys.append(key)
        # The same text twice (STS repeats sentences) is one claim.
        groups.join(key, f"text:{lang}:{text}")

    for i, (a, b, score) in enumerate(by_lang["en"]):
        if min(len(a.split()), len(b.split())) < min_words or 2.5 < score < 4:
            continue
        second, third = rng.sample(LANGUAGES, 2)
        if score >= 4:
            add("en", a, f"g{i}:a:en")
            add(second, by_lang[second][i][0], f"g{i}:a:{second}")
            add(third, by_lang[third][i][1], f"g{i}:b:{third}")
            groups.join(f"g{i}:a:en", f"g{i}:a:{second}")
            groups.join(f"g{i}:a:en", f"g{i}:b:{third}")
        else:
            first = rng.choice(("en", *LANGUAGES))
            add(first, by_lang[first][i][0], f"n{i}:a")
            add(second, by_lang[second][i][1], f"n{i}:b")
    labels: dict[str, int] = {}
    gold = [labels.setdefault(groups.find(k), len(labels)) for k in keys]
    return texts, langs, gold


def points_f1(
    embed_name: str,
    texts: list[str],
    langs: list[str],
    gold: list[int],
    settings: PointsSettings,
) -> tuple[float, float, float, float]:
    embedder = load_embedder(embed_name)
    gold_pairs = {
        (i, j) for g in _members(gold).values() for n, i in enumerate(g) for j in g[n + 1 :]
    }
    started = time.perf_counter()
    result = group_claims(
        [claim_text(t) for t in texts],
        np.arange(len(texts)),
        settings=settings,
        embed=embedder.embed,
        # As the stage does: the multilingual model's vectors are centred per language.
        languages=langs if embed_name == "multilingual" else None,
    )
    seconds = time.perf_counter() - started
    p, r, f = scores(result.labels, gold_pairs)
    return p, r, f, seconds


def _members(labels: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        out.setdefault(label, []).append(i)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "train", "both"), default="both")
    parser.add_argument("--threshold", type=float, default=None, help="points threshold")
    parser.add_argument("--limit", type=int, default=None, help="first N pairs (smoke runs)")
    args = parser.parse_args()
    print("# xling quality: STS-B translations (stsb-multi-mt)")
    print(f"# machine: {machine()}")
    dev = rows("dev", args.limit)
    print("(a) Spearman, cosine of English sentence 1 and sentence 2 in each language (dev):")
    for name in ("multilingual", "minilm"):
        print(f"  {name:13} {spearman_table(name, dev)}")
    settings = PointsSettings(model="multilingual")
    if args.threshold is not None:
        settings = PointsSettings(model="multilingual", threshold=args.threshold)
    texts, langs, gold = build_groups(rows(args.split, args.limit), min_words=settings.min_words)
    sizes = [len(m) for m in _members(gold).values()]
    print(
        f"(b) talking points across languages ({args.split}): {len(texts):,} texts, "
        f"{sum(1 for n in sizes if n > 1):,} groups (3 languages or more), "
        f"{sum(1 for n in sizes if n == 1):,} texts alone (hard negatives); "
        f"threshold {settings.threshold}"
    )
    print(f"  {'model':13} {'P':>6} {'R':>6} {'F1':>6} {'s':>7}")
    found = {}
    for name in ("multilingual", "minilm"):
        p, r, f, seconds = points_f1(name, texts, langs, gold, settings)
        found[name] = f
        print(f"  {name:13} {p:6.3f} {r:6.3f} {f:6.3f} {seconds:7.1f}")
    print(f"target F1 >= 0.85 (issue 23): {'met' if found['multilingual'] >= 0.85 else 'NOT met'}")


if __name__ == "__main__":
    main()
