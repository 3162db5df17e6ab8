"""How much a talking point matters, in terms a researcher can read back.

    score = tightness × log2(sources) × (1 + log10(1 + days))

- ``sources``: independent sources that state the point. One source saying a thing many
  times scores 0: a talking point is repeated by *several* sources. Each doubling of the
  sources adds the same amount.
- ``days``: from the first dated mention to the last. Outlets covering one story do it
  within a day or two; a claim still repeated a month later (1 + log10(31) = 2.5 times the
  weight of a one-day point) or a year later (3.6 times) is a line being pushed, not a news
  cycle. Undated mentions add nothing.
- ``cohesion``: how alike the point's two least alike sentences are (the cosine of their
  corpus-centred embeddings, read on all-MiniLM-L6-v2's scale for another model:
  :mod:`chorus.embed.scales`; 1 when one sentence is repeated word for word). ``tightness``
  maps it to 0 at 0.8 or below, 1 at 0.95 or above, linearly between. Read on the news
  corpus, points whose least alike pair was between 0.75 and 0.8 made different claims as often
  as not; above 0.8 nearly all said one thing (``bench/RESULTS.md``). A loose point keeps
  its place in the tables and its mentions, with score 0, below every tight one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np

from chorus.embed.scales import CosineScale, same_language

LOOSE = 0.8
TIGHT = 0.95
# The least alike pair is looked for among this many of a point's sentences (in unit order):
# a point that large is loose anyway, and the bound keeps the work linear.
_MAX_ROWS = 2000


def cohesion(
    vectors: np.ndarray,
    *,
    scale: CosineScale | None = None,
    languages: Sequence[str] | None = None,
) -> float:
    """The smallest inner product between two rows of ``vectors`` (L2-normalised): how alike
    the two least alike sentences are. One row: 1. With ``scale``, each inner product is
    read on MiniLM's scale first, by whether its rows' ``languages`` are one."""
    x = vectors[:_MAX_ROWS].astype(np.float32)
    n = x.shape[0]
    if n < 2:
        return 1.0
    sims = x @ x.T
    if scale is not None:
        langs = list(languages or ["und"] * len(vectors))[:_MAX_ROWS]
        sims = scale.read(sims, same_language(langs, langs)).astype(np.float32)
    np.fill_diagonal(sims, np.inf)
    return float(max(-1.0, min(1.0, float(sims.min()))))


def tightness(value: float) -> float:
    """0 at cohesion ``LOOSE`` or below, 1 at ``TIGHT`` or above, linear between."""
    return min(1.0, max(0.0, (value - LOOSE) / (TIGHT - LOOSE)))


def point_score(
    *,
    n_sources: int,
    first_seen: dt.datetime | None,
    last_seen: dt.datetime | None,
    cohesion: float,
) -> float:
    """The score above; rounded to four places so both engines store the same value."""
    days = 0.0
    if first_seen is not None and last_seen is not None:
        days = max(0.0, (last_seen - first_seen).total_seconds() / 86_400)
    reach = math.log2(max(n_sources, 1)) * (1.0 + math.log10(1.0 + days))
    return round(tightness(cohesion) * reach, 4)
