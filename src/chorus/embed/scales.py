"""A model's cosines read on all-MiniLM-L6-v2's scale, so that the thresholds calibrated with
MiniLM (a point's loose and tight cohesion, the watchlist's hit score) mean the same with
another model.

multilingual-e5-small puts every pair of sentences between about 0.75 and 1 (MiniLM: -0.1
to 1), and a pair in two languages lower than the same pair in one: the same sentence and
its close paraphrase (STS-B score 4.6 or more) are 0.98 apart in English and 0.90 across
languages. So two maps, each through the quantiles of E5's cosines against MiniLM's on the
same STS-B pairs (train and dev, 7,249 pairs): ``same`` from E5 on the English pair,
``cross`` from E5 on English sentence 1 against sentence 2 in another of ten languages.
Both are monotone, so within one language pair they keep E5's order; across language pairs
they make "as alike as two English sentences MiniLM scores c" the common reading.
``python bench/xling_quality.py --calibrate`` prints the knots below from the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# MiniLM's cosines at the 1st, 5th, 10th, 20th ... 90th, 95th and 99th percentiles.
_MINILM_RAW = (
    -0.033, 0.1, 0.221, 0.411, 0.537, 0.628, 0.695, 0.757, 0.811, 0.863, 0.917, 0.947, 0.981,
)  # fmt: skip
_MINILM_CENTRED = (
    -0.048, 0.087, 0.211, 0.395, 0.527, 0.617, 0.687, 0.749, 0.806, 0.859, 0.915, 0.946, 0.981,
)  # fmt: skip


def same_language(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Per pair (``a[i]``, ``b[j]``): whether the two share a language; an undetected one
    (``und``) shares any."""
    x = np.asarray(a, dtype=object)[:, None]
    y = np.asarray(b, dtype=object)[None, :]
    same: np.ndarray = (x == y) | (x == "und") | (y == "und")
    return same


@dataclass(frozen=True)
class CosineScale:
    """Knots of two monotone maps onto MiniLM's cosines: for sentences in one language
    (``same``) and in two (``cross``); ends pinned at -1 and 1."""

    same: tuple[float, ...]
    cross: tuple[float, ...]
    target: tuple[float, ...]

    def read(self, cosines: np.ndarray, same_language: np.ndarray | bool = True) -> np.ndarray:
        """``cosines`` on MiniLM's scale; ``same_language`` says, per cosine (or for all),
        whether its two sentences share a language."""
        x = np.asarray(cosines, dtype=np.float64)
        ys = np.r_[-1.0, self.target, 1.0]
        same = np.interp(x, np.r_[-1.0, self.same, 1.0], ys)
        if np.all(same_language):
            return same
        cross = np.interp(x, np.r_[-1.0, self.cross, 1.0], ys)
        return np.where(same_language, same, cross)


# Cosines of the vectors as the model gives them (watchlist matching).
RAW_SCALES: dict[str, CosineScale] = {
    "multilingual": CosineScale(
        same=(
            0.745, 0.791, 0.819, 0.862, 0.889, 0.908, 0.924, 0.937, 0.949, 0.961, 0.974, 0.984,
            0.994,
        ),
        cross=(
            0.742, 0.776, 0.797, 0.821, 0.838, 0.851, 0.862, 0.873, 0.884, 0.897, 0.913, 0.924,
            0.944,
        ),
        target=_MINILM_RAW,
    )
}  # fmt: skip
# Cosines of vectors centred on their corpus's mean, per language for E5 (talking points).
CENTRED_SCALES: dict[str, CosineScale] = {
    "multilingual": CosineScale(
        same=(
            0.059, 0.189, 0.297, 0.449, 0.556, 0.635, 0.697, 0.751, 0.8, 0.848, 0.9, 0.934,
            0.978,
        ),
        cross=(
            0.012, 0.124, 0.209, 0.314, 0.39, 0.448, 0.502, 0.548, 0.596, 0.644, 0.711, 0.757,
            0.831,
        ),
        target=_MINILM_CENTRED,
    )
}  # fmt: skip
