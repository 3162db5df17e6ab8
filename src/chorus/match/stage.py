"""Matching documents against a watchlist: pieces (sentences, and short documents whole) are
embedded and BM25-scored against every talking point, the scores fused, and the best
talking points kept per document with the sentence that matched best."""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from chorus.embed.cache import cached_embed
from chorus.embed.models import EmbedFn, load_embedder
from chorus.embed.scales import RAW_SCALES, same_language
from chorus.ingest.language import default_language_detector
from chorus.match.core import DocumentMatches, Match, best_items, fuse
from chorus.match.lexical import BM25Index
from chorus.match.settings import MatchSettings
from chorus.match.watchlist import MatchDocument, WatchItem
from chorus.points.text import WORD, claim_text
from chorus.progress import ProgressFactory, no_progress
from chorus.segment import split_sentences
from chorus.store import Store

log = logging.getLogger(__name__)

# Texts whose languages decide ``auto`` (of a watchlist, of documents to match).
_LANGUAGE_SAMPLE = 1000
# Pieces scored at once: pieces x watchlist float32 scores stay in the low hundreds of MB.
_PIECES_PER_BATCH = 4096


@dataclass(frozen=True)
class _Piece:
    doc: int
    start: int
    end: int
    whole: bool
    text: str


def detect_languages(texts: Iterable[str], *, limit: int = _LANGUAGE_SAMPLE) -> Counter[str]:
    """Texts per detected language, of the first ``limit`` texts (``und``: not detected)."""
    detector = default_language_detector()
    found: Counter[str] = Counter()
    for n, text in enumerate(texts):
        if n == limit:
            break
        found[detector.detect(text)] += 1
    return found


class Matcher:
    """A watchlist ready to match: its embeddings (cached in ``store`` when given) and its
    BM25 index. Build it once, then call :meth:`match` on any number of documents.

    ``languages``: the documents to come, per detected language, when known (``auto``
    decides the model from them and the watchlist's own); :attr:`settings` holds the model
    taken."""

    def __init__(
        self,
        watchlist: Sequence[WatchItem],
        *,
        settings: MatchSettings | None = None,
        store: Store | None = None,
        embed: EmbedFn | None = None,
        languages: Mapping[str, int] | None = None,
        progress: ProgressFactory = no_progress,
    ) -> None:
        self.items = list(watchlist)
        settings = settings or MatchSettings()
        detector = default_language_detector()
        sampled: list[str] = []
        if settings.model == "auto":
            # A sample of the watchlist says its languages (as the documents' do).
            sampled = [detector.detect(item.text) for item in self.items[:_LANGUAGE_SAMPLE]]
            settings = settings.for_languages(Counter(sampled), languages)
            log.info("match: model %s", settings.model)
        self.settings = settings
        # Scores on MiniLM's scale, by whether a piece and an item share a language, so that
        # min_score (and the watchlist's hit score) means what it means with MiniLM.
        self._scale = RAW_SCALES.get(settings.model)
        self._item_langs = (
            sampled + [detector.detect(item.text) for item in self.items[len(sampled) :]]
            if self._scale is not None
            else []
        )
        if embed is None:
            embedder = load_embedder(self.settings.model)
            embed = (
                cached_embed(store, embedder, progress=progress)
                if store is not None
                else embedder.embed
            )
        self._embed = embed
        self._static = (
            load_embedder("wordllama").embed
            if self.settings.static_weight and self.settings.model == "minilm"
            else None
        )
        texts = [claim_text(item.text) for item in self.items]
        self._vectors = _as_float32(embed(texts))
        self._static_vectors = self._static(texts) if self._static is not None else None
        self._bm25 = BM25Index(texts)

    def match(self, documents: Iterable[MatchDocument]) -> Iterator[DocumentMatches]:
        """Each document's matches, in input order."""
        batch: list[MatchDocument] = []
        n_pieces = 0
        for document in documents:
            batch.append(document)
            n_pieces += 1 + len(document.text) // 80
            if n_pieces >= _PIECES_PER_BATCH:
                yield from self._match_batch(batch)
                batch, n_pieces = [], 0
        if batch:
            yield from self._match_batch(batch)

    def _match_batch(self, documents: list[MatchDocument]) -> Iterator[DocumentMatches]:
        pieces = [p for i, d in enumerate(documents) for p in _pieces(i, d.text, self.settings)]
        texts = [p.text for p in pieces]
        if pieces:
            dense = _as_float32(self._embed(texts)) @ self._vectors.T
            if self._scale is not None:
                detector = default_language_detector()
                doc_langs = [d.lang or detector.detect(d.text) for d in documents]
                dense = self._scale.read(
                    dense, same_language([doc_langs[p.doc] for p in pieces], self._item_langs)
                ).astype(np.float32)
            static = (
                self._static(texts) @ self._static_vectors.T
                if self._static is not None and self._static_vectors is not None
                else None
            )
            scores = fuse(
                dense,
                self._bm25.scores(texts),
                static,
                lexical_weight=self.settings.lexical_weight,
                static_weight=self.settings.static_weight,
            )
        else:
            scores = np.zeros((0, len(self.items)), dtype=np.float32)
        owner = np.array([p.doc for p in pieces], dtype=np.int64)
        whole = np.array([p.whole for p in pieces], dtype=bool)
        bounds = np.searchsorted(owner, np.arange(len(documents) + 1))
        for i, document in enumerate(documents):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            found = best_items(
                scores[lo:hi],
                whole[lo:hi],
                top_k=self.settings.top_k,
                min_score=self.settings.min_score,
                min_score_sentence=self.settings.min_score_sentence,
            )
            matches = []
            for item, score, piece in found:
                p = pieces[lo + piece]
                matches.append(
                    Match(
                        id=self.items[item].id,
                        score=round(score, 4),
                        sentence=document.text[p.start : p.end],
                        start=p.start,
                        end=p.end,
                    )
                )
            yield DocumentMatches(id=document.id, matches=matches)


def _pieces(doc: int, text: str, settings: MatchSettings) -> list[_Piece]:
    spans = [s for s in split_sentences(text) if WORD.search(text[s.start : s.end])]
    if not spans:
        return []
    pieces = [_Piece(doc, s.start, s.end, False, claim_text(text[s.start : s.end])) for s in spans]
    if len(WORD.findall(text)) <= settings.whole_words:
        start, end = spans[0].start, spans[-1].end
        whole = _Piece(doc, start, end, True, claim_text(text[start:end]))
        # A one-sentence document is its own whole: no need to embed it twice.
        pieces = [whole] if len(spans) == 1 else [whole, *pieces]
    return pieces


def _as_float32(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.asarray(x, dtype=np.float32)
    return out


def match_documents(
    documents: Iterable[MatchDocument],
    watchlist: Sequence[WatchItem],
    *,
    settings: MatchSettings | None = None,
    store: Store | None = None,
    progress: ProgressFactory = no_progress,
) -> list[DocumentMatches]:
    """Match ``documents`` against ``watchlist``; one result per document, in input order.

    With ``store``, the watchlist's and the documents' embeddings are cached there."""
    documents = list(documents)
    matcher = Matcher(
        watchlist,
        settings=settings,
        store=store,
        languages=detect_languages(d.text for d in documents),
        progress=progress,
    )
    return list(matcher.match(documents))


def scan_store_documents(
    store: Store, *, unmatched_by: str | None = None, batch_size: int = 2000
) -> Iterator[MatchDocument]:
    """The store's documents, in ``doc_id`` order, streamed for matching the corpus; with
    ``unmatched_by``, only those that watchlist has not matched with their present text. It
    reads through its own cursor, so the store can serve other queries (the embedding
    cache) while the scan is under way."""
    cursor = store.con.cursor()
    where = (
        """WHERE NOT EXISTS (
               SELECT 1 FROM _watch_matched m
               WHERE m.watchlist = $name AND m.doc_id = d.doc_id AND m.text_hash = d.text_hash)"""
        if unmatched_by is not None
        else ""
    )
    try:
        reader = cursor.sql(
            f"SELECT doc_id, text, coalesce(lang, 'und') FROM documents d {where} ORDER BY doc_id",
            params={"name": unmatched_by} if unmatched_by is not None else None,
        ).to_arrow_reader(batch_size)
        for batch in reader:
            ids = batch.column(0).to_pylist()
            texts = batch.column(1).to_pylist()
            langs = batch.column(2).to_pylist()
            for doc_id, text, lang in zip(ids, texts, langs, strict=True):
                # The language ingest detected: matching need not detect it again.
                yield MatchDocument(doc_id, text, lang)
    finally:
        cursor.close()


def write_matches_jsonl(results: Iterable[DocumentMatches], path: str | os.PathLike[str]) -> int:
    """Write one JSON object per document: ``{"id": ..., "matches": [...]}``; returns how
    many documents were written. The file is replaced only once all of it is written."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    n = 0
    with partial.open("w", encoding="utf-8") as out:
        for result in results:
            out.write(json.dumps(asdict(result), ensure_ascii=False) + "\n")
            n += 1
    partial.replace(path)
    return n
