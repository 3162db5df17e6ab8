"""Generator B for ``bench/coord_quality.py``: planted campaigns written apart from generator A.

What differs from A, on purpose:
- background: articles drawn at random from the whole news corpus (A takes the first N);
- claims: CLEF 2020 verified claims (fact-checked statements, not news sentences), restated
  the way campaigns do: mostly in other words (a linked tweet, or a rewrite: hedges, frames,
  reordered clauses, other words), rarely copied;
- waves: 3 or 4 waves a day apart; each site joins a wave with probability 0.65, so two
  sites of one campaign may share only one or two waves;
- eight campaigns of 3 to 15 sites;
- wire decoys in the forms wire copy is really credited: a dateline with the agency in
  parentheses and no dash ("WASHINGTON (AFP) The ..."), a closing "— Associated Press", a
  byline "By Jane Roe, Associated Press", "Reuters reported" inside a rewrite, "(AP
  Photo/...)" captions, "(dpa)"; each story republished by 5 to 12 organic outlets, some
  cutting it short, some adding a sentence of their own;
- a viral decoy: one claim repeated by 40 independent sites at random times over a year.

Truth: every pair of sources in one campaign. Innocent: every other source (organic outlets,
wire republishers, the viral sites).
"""

from __future__ import annotations

import gzip
import itertools
import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from _common import CLEF, NEWS, read_tsv

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
_HANDLE = re.compile(r"(?<!\w)[@#]\w+")
_LINK = re.compile(r"https?://\S+|pic\.twitter\.com/\S+")
_TRAILER = re.compile(r"\s*[—-]\s*[^—-]*\(@\w+\)\s*\w+ \d{1,2}, \d{4}\s*$")

SIZES = (3, 4, 6, 7, 9, 11, 13, 15)
_HEDGES = ("reportedly", "quietly", "in fact", "now", "apparently", "once again")
_OPENERS = (
    "Here is what they won't tell you:",
    "Remember this:",
    "Nobody is talking about it, but",
    "The facts are in:",
    "Read that again:",
    "Let that sink in:",
)
_CLOSERS = (
    "Share this before it disappears.",
    "Think about that.",
    "Why is nobody reporting this?",
    "The media stays silent.",
)
_WORDS = {
    "president": "commander in chief",
    "announced": "revealed",
    "million": "millions of",
    "killed": "left dead",
    "shows": "proves",
    "claimed": "insisted",
    "banned": "outlawed",
    "children": "kids",
    "police": "cops",
    "law": "legislation",
    "video": "footage",
    "photo": "picture",
    "government": "regime",
    "said": "admitted",
    "says": "admits",
    "people": "folks",
    "died": "perished",
    "money": "cash",
    "secret": "hidden",
    "because": "since",
}
_AGENCY_FORMS = (
    ("AFP", "dateline"),
    ("Reuters", "dateline"),
    ("Associated Press", "closing"),
    ("Associated Press", "byline"),
    ("Reuters", "reported"),
    ("dpa", "dateline"),
)
_CITIES = ("WASHINGTON", "NEW YORK", "LONDON", "PARIS", "BERLIN", "BRUSSELS", "GENEVA")
_PHOTOGRAPHERS = ("Evan Vucci", "Susan Walsh", "J. Scott Applewhite", "Alex Brandon")


@dataclass(frozen=True)
class PlantedB:
    truth: set[tuple[str, str]]
    campaign_sources: list[str]
    outlets: list[str]  # every innocent source: organic outlets and the viral sites
    wire_docs: set[str]
    wire_sources: set[str]
    viral_sources: list[str]
    # Which of its campaign's claims each campaign document restates (claim number, text).
    restated: dict[str, list[tuple[int, str]]]


def _clean(text: str) -> str:
    text = _TRAILER.sub("", text)
    text = _LINK.sub(" ", text)
    text = _HANDLE.sub(lambda m: m.group(0)[1:] if m.group(0)[0] == "#" else "", text)
    text = re.sub(r"\s+", " ", text).strip()
    if text and text[-1] not in '.!?"”':
        text += "."
    return text


def _families(rng: random.Random) -> list[list[str]]:
    """CLEF verified claims with their linked tweets, cleaned; claims of 8 to 40 words."""
    claims = {row[0]: row[1] for row in read_tsv(CLEF / "verified_claims.docs.tsv")}
    tweets: dict[str, list[str]] = {}
    for split in ("train", "dev"):
        text = {r[0]: r[1] for r in read_tsv(CLEF / split / "tweets.queries.tsv")}
        for line in (CLEF / split / "tweet-vclaim-pairs.qrels").read_text().splitlines():
            tweet, _, claim, _ = line.split()
            tweets.setdefault(claim, []).append(_clean(text[tweet]))
    out = []
    for claim_id in sorted(claims, key=int):
        claim = _clean(claims[claim_id])
        if not 8 <= len(claim.split()) <= 40:
            continue
        variants = [t for t in tweets.get(claim_id, []) if len(t.split()) >= 6]
        out.append([claim, *variants])
    rng.shuffle(out)
    return out


def rewrite(claim: str, rng: random.Random) -> str:
    """A campaign's own words for a claim: two or three of hedge, frame, other words,
    reordered clause, dropped tail."""
    words = claim.rstrip(".!?").split()
    steps = rng.sample(["words", "hedge", "frame", "reorder", "trim"], rng.randrange(2, 4))
    if "words" in steps:
        words = [_WORDS.get(w.lower(), w) for w in words]
    if "hedge" in steps and len(words) > 4:
        words.insert(rng.randrange(2, len(words) - 1), rng.choice(_HEDGES))
    text = " ".join(words)
    if "reorder" in steps and ", " in text:
        head, tail = text.split(", ", 1)
        if len(tail.split()) >= 3:
            text = f"{tail[0].upper()}{tail[1:]}, {head[0].lower()}{head[1:]}"
    if "trim" in steps and len(words) >= 14:
        text = " ".join(text.split()[: int(len(words) * 0.75)])
    text = text.rstrip(",;:") + "."
    if "frame" in steps:
        if rng.random() < 0.5:
            text = f"{rng.choice(_OPENERS)} {text[0].lower()}{text[1:]}"
        else:
            text = f"{text} {rng.choice(_CLOSERS)}"
    return text[0].upper() + text[1:]


def _restate(family: list[str], rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.15:
        return family[0]
    if roll < 0.4 and len(family) > 1:
        return rng.choice(family[1:])
    return rewrite(family[0], rng)


# A split after "Mr." or "U.S." is no sentence end: such pieces would run into the next one.
_ABBREVIATED = re.compile(r"(?:\b[A-Z][a-z]{0,3}|\b(?:[A-Z]\.){1,3}[A-Z]?)\.$")


def _sentences(text: str) -> list[str]:
    pieces: list[str] = []
    for piece in (s.strip() for s in _SENTENCE.split(text)):
        if pieces and _ABBREVIATED.search(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {piece}"
        elif piece:
            pieces.append(piece)
    return [
        s
        for s in pieces
        if 8 <= len(s.split()) <= 60 and not _ABBREVIATED.search(s) and s[0].isupper()
    ]


def _wire_copy(body: list[str], agency: str, form: str, rng: random.Random) -> str:
    city = rng.choice(_CITIES)
    sentences = list(body)
    if rng.random() < 0.4:
        sentences = sentences[: rng.randrange(4, len(sentences) + 1)]
    if form == "reported":
        # An outlet's rewrite that credits the agency in the text.
        first = sentences[0].rstrip(".")
        sentences[0] = f"{first}, {agency} reported."
        text = " ".join(sentences)
    elif form == "dateline":
        text = f"{city} ({agency}) {' '.join(sentences)}"
    elif form == "byline":
        text = f"By {rng.choice(_PHOTOGRAPHERS)}, {agency}\n\n{' '.join(sentences)}"
    else:
        text = f"{' '.join(sentences)}\n\n— {agency}"
    if agency == "Associated Press" and rng.random() < 0.5:
        text += f"\n\nA protester outside the building. (AP Photo/{rng.choice(_PHOTOGRAPHERS)})"
    return text


def build_corpus_b(n_docs: int, seed: int = 23) -> tuple[list[dict[str, object]], PlantedB]:
    rng = random.Random(seed)
    with gzip.open(NEWS, "rt", encoding="utf-8") as src:
        rows = [json.loads(line) for line in src]
    rows = [r for r in rows if len(str(r["text"])) >= 400]
    rng.shuffle(rows)
    organic, elsewhere = rows[:n_docs], rows[n_docs : n_docs + 3000]
    docs: list[dict[str, object]] = [
        {"id": r["id"], "source": r["source"], "text": r["text"], "date": r["date"]}
        for r in organic
    ]
    dated: list[datetime] = []
    for r in organic:
        try:
            dated.append(datetime.fromisoformat(str(r["date"])[:10]))
        except ValueError:
            continue
    filler = [s for r in elsewhere[:2000] for s in _sentences(str(r["text"]))]
    families = _families(rng)
    truth: set[tuple[str, str]] = set()
    campaign_sources: list[str] = []
    restated: dict[str, list[tuple[int, str]]] = {}
    for c, size in enumerate(SIZES):
        claims = [families.pop() for _ in range(6)]
        sites = [
            f"b{c}-{rng.choice(['news', 'daily', 'wire', 'post', 'times'])}-{j}"
            for j in range(size)
        ]
        campaign_sources += sites
        truth |= set(itertools.combinations(sorted(sites), 2))
        start = rng.choice(dated) + timedelta(hours=rng.randrange(0, 20))
        waves = rng.choice((3, 4))
        for site in sites:
            joined = [w for w in range(waves) if rng.random() < 0.65] or [rng.randrange(waves)]
            for w in joined:
                when = start + timedelta(days=w, hours=rng.uniform(0, 4))
                chosen = rng.sample(range(len(claims)), rng.choice((2, 3)))
                body = [_restate(claims[i], rng) for i in chosen]
                restated[f"{site}-w{w}"] = [
                    (c * 100 + i, t) for i, t in zip(chosen, body, strict=True)
                ]
                body += rng.sample(filler, rng.randrange(4, 9))
                rng.shuffle(body)
                docs.append(
                    {
                        "id": f"{site}-w{w}",
                        "source": site,
                        "text": " ".join(body),
                        "date": when.isoformat(),
                    }
                )
    outlets = sorted({str(r["source"]) for r in organic})
    wire_docs: set[str] = set()
    wire_sources: set[str] = set()
    for w, story in enumerate(elsewhere[2000:2005]):
        body = _sentences(str(story["text"]))[:10]
        if len(body) < 5:
            continue
        day = rng.choice(dated) + timedelta(hours=rng.uniform(5, 12))
        agency, _ = rng.choice(_AGENCY_FORMS)
        for outlet in rng.sample(outlets, rng.randrange(5, 13)):
            form = rng.choice([f for a, f in _AGENCY_FORMS if a == agency])
            text = _wire_copy(body, agency, form, rng)
            if rng.random() < 0.3:
                text = f"{rng.choice(filler)} {text}" if form == "reported" else text
            doc_id = f"wireb{w}-{outlet}"
            wire_docs.add(doc_id)
            wire_sources.add(outlet)
            docs.append(
                {
                    "id": doc_id,
                    "source": outlet,
                    "text": text,
                    "date": (day + timedelta(hours=rng.uniform(0, 10))).isoformat(),
                }
            )
    viral = families.pop()[0]
    viral_sources = [f"viral-site-{k}" for k in range(40)]
    year = rng.choice(dated)
    for site in viral_sources:
        for k in range(3):
            body = rng.sample(filler, rng.randrange(5, 9))
            if k == 0:
                body.insert(rng.randrange(len(body)), viral)
            when = year + timedelta(days=rng.uniform(0, 365))
            docs.append(
                {
                    "id": f"{site}-{k}",
                    "source": site,
                    "text": " ".join(body),
                    "date": when.isoformat(),
                }
            )
    innocent = sorted(set(outlets) | set(viral_sources))
    return docs, PlantedB(
        truth, campaign_sources, innocent, wire_docs, wire_sources, viral_sources, restated
    )
