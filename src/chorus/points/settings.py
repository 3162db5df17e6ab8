"""Talking-point settings in the terms users think in, with the calibrated defaults.

The defaults were calibrated on the CLEF 2020 CheckThat! task 2 train and dev claims
(``bench/points_quality.py``) and the seed corpus: pairwise F1 on CLEF is flat for
``threshold`` from -0.12 (0.813) to -0.14 (0.812), and -0.14 is the one that keeps P3 of the
seeds (foreign dignitaries at the yearly rally, restated in four ways) as one point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

Model = Literal["auto", "cascade", "minilm", "multilingual", "wordllama", "hashing"]
Device = Literal["auto", "cpu", "cuda"]
SpanUnit = Literal["documents", "sources"]


@dataclass(frozen=True)
class PointsSettings:
    """What counts as a talking point.

    ``model``: ``auto`` (``multilingual`` when at least ``MULTILINGUAL_SHARE`` of the
    documents whose language is known are not in English, else ``minilm``), ``cascade``
    (WordLlama finds the sentences that have a near match in another
    document, all-MiniLM-L6-v2 embeds only those), ``minilm`` (accurate model on everything),
    ``multilingual`` (multilingual-e5-small: a claim meets its translation), ``wordllama``
    (fast model only) or ``hashing`` (no model; lexical only).
    ``min_words``: shorter sentences carry no claim. ``min_content_words``: nor do sentences
    with fewer words outside the stop list ("It's not going to happen" has two).
    ``min_span`` and ``span``: a point needs mentions in at least this many documents (or
    sources). ``threshold``: how alike, on
    average, the sentences of one point must be (a corpus-relative score: 0 means as alike as
    a sentence usually is to its closest matches elsewhere in the corpus). ``lexical_weight``:
    how much shared rare words add to the embedding similarity. A threshold or lexical
    weight left at its default takes the model's own (``MODEL_DEFAULTS``) once the model is
    decided (:meth:`for_languages`).
    """

    model: Model = "auto"
    min_words: int = 6
    min_content_words: int = 3
    min_span: int = 2
    span: SpanUnit = "documents"
    threshold: float = -0.14
    floor: float = -0.4
    lexical_weight: float = 1.0
    min_similarity: float = 0.3
    neighbours: int = 5
    hubness_k: int = 3
    # The cascade keeps a sentence for the accurate model when its fast-model score to some
    # sentence of another document reaches this, and at most ``accurate_budget`` sentences.
    screen_threshold: float = 0.25
    accurate_budget: int = 250_000
    seed: int = 0
    # Where the accurate model runs: ``auto`` takes a GPU when torch sees one.
    device: Device = "auto"
    # An analysis of a store with points adds the new documents to them (chorus.points.
    # update) until the corpus has grown by this share since the last run from scratch;
    # then it starts over, so no point rests on a mean, hubs and merges computed from a
    # corpus much smaller than today's. 0: always start over.
    restart_growth: float = 0.25

    def __post_init__(self) -> None:
        if self.min_words < 1 or self.min_span < 2 or self.min_content_words < 0:
            raise ValueError(
                "min_words must be at least 1, min_content_words at least 0 and min_span at least 2"
            )
        if self.neighbours < 1 or self.hubness_k < 1:
            raise ValueError("neighbours and hubness_k must be at least 1")
        if self.floor >= self.threshold:
            raise ValueError("floor must be below threshold")
        if self.model not in ("auto", "cascade", "minilm", "multilingual", "wordllama", "hashing"):
            raise ValueError(f"unknown model {self.model!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError("device must be 'auto', 'cpu' or 'cuda'")
        if self.restart_growth < 0:
            raise ValueError("restart_growth must be at least 0")
        if self.span not in ("documents", "sources"):
            raise ValueError("span must be 'documents' or 'sources'")

    def for_languages(self, languages: Mapping[str, int]) -> PointsSettings:
        """These settings with ``auto`` decided for a corpus of ``languages`` (documents per
        detected language; ``und``: not detected), and the model's own defaults for the
        settings left at theirs."""
        decided = (
            self if self.model != "auto" else replace(self, model=model_for_languages(languages))
        )
        general = PointsSettings()
        own = MODEL_DEFAULTS.get(decided.model)
        if own is None:
            return decided
        return replace(
            decided,
            lexical_weight=(
                own.lexical_weight
                if decided.lexical_weight == general.lexical_weight
                else decided.lexical_weight
            ),
            threshold=own.threshold
            if decided.threshold == general.threshold
            else decided.threshold,
        )


# Settings a model reads best with, where they differ from the general defaults (tuned with
# all-MiniLM-L6-v2). multilingual-e5-small: shared rare words only pull a claim away from its
# translation, which shares none, so the lexical term is off (STS-B train, xling_quality's
# groups across languages: F1 0.548 against 0.504 at the general threshold). The best
# threshold on train, -0.02 (F1 0.600), splits one claim in four languages in a corpus of a
# dozen sentences (tests/test_multilingual.py); -0.08 is the strictest that keeps it whole.
@dataclass(frozen=True)
class ModelDefaults:
    lexical_weight: float
    threshold: float


MODEL_DEFAULTS: dict[str, ModelDefaults] = {
    "multilingual": ModelDefaults(lexical_weight=0.0, threshold=-0.08),
}


def model_for_languages(languages: Mapping[str, int]) -> Literal["minilm", "multilingual"]:
    """What ``auto`` takes for texts of ``languages`` (texts per detected language; ``und``:
    not detected): ``multilingual`` when at least ``MULTILINGUAL_SHARE`` of those whose
    language is known are not English.

    >>> model_for_languages({"en": 980, "fr": 20}), model_for_languages({"en": 99, "fa": 1})
    ('multilingual', 'minilm')
    """
    known = {lang: n for lang, n in languages.items() if lang not in ("und", "")}
    other = sum(n for lang, n in known.items() if lang != "en")
    multilingual = other > 0 and other >= MULTILINGUAL_SHARE * sum(known.values())
    return "multilingual" if multilingual else "minilm"


# ``auto`` takes the multilingual model once this share of the documents (of a known
# language) are not English: a few misdetected articles should not change an English
# corpus's model.
MULTILINGUAL_SHARE = 0.02
