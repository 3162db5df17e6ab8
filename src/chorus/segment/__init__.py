"""The segment stage: sentences with exact character offsets."""

from chorus.segment.splitter import SentenceSpan, split_sentences
from chorus.segment.stage import SENTENCES_SCHEMA, segment_documents

__all__ = ["SENTENCES_SCHEMA", "SentenceSpan", "segment_documents", "split_sentences"]
