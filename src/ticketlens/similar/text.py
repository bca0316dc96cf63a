"""Words for lexical matching: lower-cased letter/digit runs, a short stop list, hashed.

Each word becomes a 32-bit CRC so that segments written by different writers agree on
term ids without a shared vocabulary (a collision only merges two rare words' counts).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter

import numpy as np

TOKENIZER_VERSION = "words-crc32-1"

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Function words that carry no topic. BM25's idf already discounts them; dropping them keeps
# postings of long tickets short.
STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do", "does", "for", "from",
     "had", "has", "have", "he", "her", "his", "i", "if", "in", "into", "is", "it", "its", "me", "my", "of", "on", "or",
     "our", "she", "so", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "was", "we",
     "were", "what", "when", "which", "who", "will", "with", "would", "you", "your"]
)


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def term_counts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique term ids uint32, counts uint16) of one text."""
    counts = Counter(zlib.crc32(w.encode("utf-8")) for w in words(text))
    if not counts:
        return np.zeros(0, np.uint32), np.zeros(0, np.uint16)
    terms = np.fromiter(counts.keys(), dtype=np.uint32, count=len(counts))
    tfs = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    order = np.argsort(terms)
    return terms[order], np.minimum(tfs[order], np.iinfo(np.uint16).max).astype(np.uint16)
