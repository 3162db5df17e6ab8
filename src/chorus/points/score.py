"""How much a talking point matters, in terms a researcher can read back.

    score = cohesion × log2(sources) × (1 + log10(1 + days))

- ``sources``: independent sources that state the point. One source saying a thing many
  times scores 0: a talking point is repeated by *several* sources. Each doubling of the
  sources adds the same amount.
- ``days``: from the first dated mention to the last. Outlets covering one story do it
  within a day or two; a claim still repeated a month later (1 + log10(31) = 2.5 times the
  weight of a one-day point) or a year later (3.6 times) is a line being pushed, not a news
  cycle. Undated mentions count as one day.
- ``cohesion``: how alike the point's distinct sentences are (the mean pairwise cosine of
  their corpus-centred embeddings; 1 for one sentence repeated word for word, below 0
  treated as 0). A loose point, whose sentences share a subject more than a claim, ranks
  below a tight one with the same reach.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np


def cohesion(vectors: np.ndarray) -> float:
    """Mean pairwise inner product of the rows of ``vectors`` (L2-normalised), in O(n d):
    (|Σv|² − Σ|v|²) / (n (n − 1)). One row: 1."""
    n = vectors.shape[0]
    if n < 2:
        return 1.0
    x = vectors.astype(np.float64)
    total = x.sum(axis=0)
    value: float = (float(total @ total) - float((x * x).sum())) / (n * (n - 1))
    return float(max(-1.0, min(1.0, value)))


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
    value = max(cohesion, 0.0) * math.log2(max(n_sources, 1)) * (1.0 + math.log10(1.0 + days))
    return round(value, 4)
