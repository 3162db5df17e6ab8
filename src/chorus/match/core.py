"""The model-free core: scores of a document's pieces against every talking point in, the
best talking points per document, with the piece that matched best, out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Match:
    """A talking point (``id``) a document restates: ``score`` and the best-matching part of
    the document, ``sentence`` = ``text[start:end]``."""

    id: str
    score: float
    sentence: str
    start: int
    end: int


@dataclass(frozen=True)
class DocumentMatches:
    """A document's matches, best first."""

    id: str
    matches: list[Match]


def fuse(
    dense: np.ndarray,
    lexical: np.ndarray,
    static: np.ndarray | None = None,
    *,
    lexical_weight: float,
    static_weight: float = 0.0,
) -> np.ndarray:
    """The matching score: the accurate model's cosine, plus a weighted per-query-normalised
    BM25, plus a weighted static-embedding cosine. Each sees what the others miss: BM25 the
    rare names and numbers, the static model words the accurate one truncates or blurs."""
    out: np.ndarray = dense + np.float32(lexical_weight) * lexical
    if static is not None and static_weight:
        out += np.float32(static_weight) * static
    return out


def best_items(
    scores: np.ndarray,
    whole: np.ndarray,
    *,
    top_k: int,
    min_score: float | None,
    min_score_sentence: float | None = None,
) -> list[tuple[int, float, int]]:
    """For one document whose pieces scored ``scores`` (pieces x items): the ``top_k`` best
    items as (item, score, piece that shows it best), best first, ties by item number.

    The document's score for an item is its whole-text piece's score when it has one (short
    documents), else its best piece's. The evidence is the best sentence piece, or the whole
    text when it has no other piece. A document scored by its best piece keeps items from
    ``min_score_sentence`` when given, else from ``min_score``."""
    if scores.shape[0] == 0 or scores.shape[1] == 0:
        return []
    pieces = np.flatnonzero(~whole)
    doc_score = scores[int(np.flatnonzero(whole)[0])] if whole.any() else scores.max(axis=0)
    if not whole.any() and min_score_sentence is not None:
        min_score = min_score_sentence
    k = min(top_k, doc_score.size)
    candidates = np.argpartition(-doc_score, k - 1)[:k]
    candidates = candidates[np.lexsort((candidates, -doc_score[candidates]))]
    out = []
    for item in candidates.tolist():
        score = float(doc_score[item])
        if min_score is not None and score < min_score:
            break
        if pieces.size:
            evidence = int(pieces[int(np.argmax(scores[pieces, item]))])
        else:
            evidence = int(np.flatnonzero(whole)[0])
        out.append((item, score, evidence))
    return out
