"""Keyphrases by class-based TF-IDF (as BERTopic does): a point's sentences form one class;
a term scores by its frequency there times how rare it is across all points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def keyphrase_vectoriser() -> Any:
    """Words and word pairs, no stop words or numbers: the terms keyphrases are made of."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        ngram_range=(1, 2), stop_words="english", token_pattern=r"(?u)\b[^\W\d_][\w'’-]+\b"
    )


def keyphrases(classes: Sequence[Sequence[str]], *, top: int = 5) -> list[list[str]]:
    """The ``top`` terms (words or word pairs) that mark each class of texts."""
    if not classes:
        return []
    vectoriser = keyphrase_vectoriser()
    try:
        counts = vectoriser.fit_transform([" ".join(texts) for texts in classes])
    except ValueError:  # nothing but stop words
        return [[] for _ in classes]
    terms = vectoriser.get_feature_names_out()
    counts = counts.tocsr().astype(np.float64)
    words_per_class = np.asarray(counts.sum(axis=1)).ravel()
    average = max(float(words_per_class.mean()), 1.0)
    term_totals = np.asarray(counts.sum(axis=0)).ravel()
    idf = np.log1p(average / np.maximum(term_totals, 1.0))
    out: list[list[str]] = []
    for row in range(counts.shape[0]):
        start, end = counts.indptr[row], counts.indptr[row + 1]
        cols = counts.indices[start:end]
        tf = counts.data[start:end] / max(words_per_class[row], 1.0)
        weight = tf * idf[cols]
        # Ties broken alphabetically so the output is stable.
        order = sorted(range(cols.size), key=lambda i: (-weight[i], terms[cols[i]]))
        out.append([str(terms[cols[i]]) for i in order[:top]])
    return out
