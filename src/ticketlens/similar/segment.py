"""An immutable batch of indexed tickets: fields, vectors and lexical postings in one object.

A writer turns one batch of tickets into one segment and never changes it again; compaction
writes a new segment from several old ones. Being immutable is what lets concurrent writers
and readers share an S3 prefix without locks: a reader caches a segment by name forever.

On disk (and in S3) a segment is one uncompressed ``.npz`` (numpy arrays only, no pickle).
Vectors are stored as float16 (half the bytes; cosine error < 1e-3) and widened to float32
when loaded, because numpy's float16 matrix products are several times slower.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ticketlens.schemas import EMBEDDING_DIM
from ticketlens.similar.text import TOKENIZER_VERSION, term_counts

FORMAT_VERSION = 1
SUMMARY_CHARS = 200
STRING_FIELDS = ("ticket_id", "customer_id", "intent", "urgency", "incident", "summary")


@dataclass(frozen=True)
class IndexRow:
    """One ticket as the index sees it. ``text`` is read for lexical matching and not stored;
    ``incident`` is "" when the ticket belongs to none."""

    ticket_id: str
    created_at: int
    embedding: np.ndarray
    text: str
    customer_id: str = ""
    intent: str = ""
    urgency: str = ""
    incident: str = ""
    summary: str = ""


class SegmentError(ValueError):
    """The bytes are not a segment this version can read."""


class Segment:
    """Columns of one batch. Rows are addressed by position; postings are term-major."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.ticket_id: np.ndarray = arrays["ticket_id"]
        self.customer_id: np.ndarray = arrays["customer_id"]
        self.intent: np.ndarray = arrays["intent"]
        self.urgency: np.ndarray = arrays["urgency"]
        self.incident: np.ndarray = arrays["incident"]
        self.summary: np.ndarray = arrays["summary"]
        self.created_at: np.ndarray = arrays["created_at"].astype(np.int64, copy=False)
        self.vectors: np.ndarray = np.ascontiguousarray(arrays["vectors"], dtype=np.float32)
        self.doc_len: np.ndarray = arrays["doc_len"].astype(np.float32)
        self.terms: np.ndarray = arrays["terms"]
        self.starts: np.ndarray = arrays["starts"]
        self.post_docs: np.ndarray = arrays["post_docs"]
        self.post_tfs: np.ndarray = arrays["post_tfs"].astype(np.float32)
        self._position: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.ticket_id)

    # -- building -------------------------------------------------------------------------
    @classmethod
    def from_rows(cls, rows: Sequence[IndexRow]) -> Segment:
        n = len(rows)
        vectors = np.zeros((n, EMBEDDING_DIM), dtype=np.float32)
        term_parts, tf_parts, doc_parts = [], [], []
        doc_len = np.zeros(n, dtype=np.int32)
        for i, row in enumerate(rows):
            vector = np.asarray(row.embedding, dtype=np.float32).reshape(-1)
            if vector.shape != (EMBEDDING_DIM,):
                raise SegmentError(f"ticket {row.ticket_id}: embedding has {vector.size} values, not {EMBEDDING_DIM}")
            norm = float(np.linalg.norm(vector))
            vectors[i] = vector / norm if norm > 0 else vector
            terms, tfs = term_counts(row.text)
            term_parts.append(terms)
            tf_parts.append(tfs)
            doc_parts.append(np.full(len(terms), i, dtype=np.int32))
            doc_len[i] = int(tfs.sum())
        arrays = {
            "ticket_id": np.asarray([r.ticket_id for r in rows], dtype=np.str_),
            "customer_id": np.asarray([r.customer_id for r in rows], dtype=np.str_),
            "intent": np.asarray([r.intent for r in rows], dtype=np.str_),
            "urgency": np.asarray([r.urgency for r in rows], dtype=np.str_),
            "incident": np.asarray([r.incident or "" for r in rows], dtype=np.str_),
            "summary": np.asarray([(r.summary or "")[:SUMMARY_CHARS] for r in rows], dtype=np.str_),
            "created_at": np.asarray([r.created_at for r in rows], dtype=np.int64),
            "vectors": vectors.astype(np.float16).astype(np.float32),  # what a reader will see
            "doc_len": doc_len,
            **_postings(
                np.concatenate(term_parts) if term_parts else np.zeros(0, np.uint32),
                np.concatenate(doc_parts) if doc_parts else np.zeros(0, np.int32),
                np.concatenate(tf_parts) if tf_parts else np.zeros(0, np.uint16),
            ),
        }
        return cls(arrays)

    @classmethod
    def merge(cls, segments: Sequence[Segment]) -> Segment:
        """One segment from several, in order; a ticket indexed twice keeps its last row."""
        offsets = np.cumsum([0, *(len(s) for s in segments)])
        ids = np.concatenate([s.ticket_id for s in segments]) if segments else np.zeros(0, np.str_)
        # Last occurrence wins: unique over the reversed ids gives each id's last position.
        _, first_in_reversed = np.unique(ids[::-1], return_index=True)
        keep = np.sort(len(ids) - 1 - first_in_reversed)
        new_position = np.full(len(ids), -1, dtype=np.int64)
        new_position[keep] = np.arange(len(keep))

        def column(name: str) -> np.ndarray:
            return np.concatenate([getattr(s, name) for s in segments])[keep]

        terms, docs, tfs = [], [], []
        for seg, offset in zip(segments, offsets[:-1], strict=True):
            lengths = np.diff(seg.starts)
            terms.append(np.repeat(seg.terms, lengths))
            docs.append(new_position[seg.post_docs.astype(np.int64) + offset])
            tfs.append(seg.post_tfs.astype(np.uint16))
        all_docs = np.concatenate(docs) if docs else np.zeros(0, np.int64)
        live = all_docs >= 0
        arrays = {
            **{name: column(name) for name in STRING_FIELDS},
            "created_at": column("created_at"),
            "vectors": column("vectors"),
            "doc_len": column("doc_len").astype(np.int32),
            **_postings(
                np.concatenate(terms)[live] if terms else np.zeros(0, np.uint32),
                all_docs[live].astype(np.int32),
                np.concatenate(tfs)[live] if tfs else np.zeros(0, np.uint16),
            ),
        }
        return cls(arrays)

    # -- bytes ----------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(
            buffer,
            format=np.asarray([FORMAT_VERSION]),
            tokenizer=np.asarray(TOKENIZER_VERSION),
            **{name: getattr(self, name) for name in STRING_FIELDS},
            created_at=self.created_at,
            vectors=self.vectors.astype(np.float16),
            doc_len=self.doc_len.astype(np.int32),
            terms=self.terms,
            starts=self.starts,
            post_docs=self.post_docs,
            post_tfs=self.post_tfs.astype(np.uint16),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Segment:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        except (ValueError, OSError, KeyError) as error:
            raise SegmentError(f"not a segment: {error}") from None
        if int(arrays.get("format", np.asarray([0]))[0]) != FORMAT_VERSION:
            raise SegmentError(f"segment format {arrays.get('format')} is not {FORMAT_VERSION}")
        if str(arrays.get("tokenizer")) != TOKENIZER_VERSION:
            raise SegmentError(f"segment tokenizer {arrays.get('tokenizer')} is not {TOKENIZER_VERSION}")
        return cls(arrays)

    # -- reading --------------------------------------------------------------------------
    def position(self, ticket_id: str) -> int | None:
        if self._position is None:
            self._position = {tid: i for i, tid in enumerate(self.ticket_id.tolist())}
        return self._position.get(ticket_id)

    def term_counts(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """One row's (sorted term ids, counts), read back from the postings: what a stored
        ticket's own lexical query is, without keeping its text."""
        positions = np.flatnonzero(self.post_docs == row)
        term_index = np.searchsorted(self.starts, positions, side="right") - 1
        return self.terms[term_index], self.post_tfs[positions].astype(np.uint16)

    def document_frequencies(self, query_terms: np.ndarray) -> np.ndarray:
        """How many rows of this segment hold each (sorted, unique) query term."""
        found, where = self._lookup(query_terms)
        df = np.zeros(len(query_terms), dtype=np.int64)
        df[found] = self.starts[where[found] + 1] - self.starts[where[found]]
        return df

    def bm25(self, query_terms: np.ndarray, idf: np.ndarray, avgdl: float, k1: float, b: float) -> np.ndarray:
        """BM25 of every row against the query terms, with corpus-wide idf and avgdl."""
        scores = np.zeros(len(self), dtype=np.float32)
        found, where = self._lookup(query_terms)
        if not found.any():
            return scores
        starts = self.starts[where[found]]
        lengths = self.starts[where[found] + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return scores
        positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        docs = self.post_docs[positions]
        tfs = self.post_tfs[positions]
        weights = np.repeat(idf[found].astype(np.float32), lengths)
        norm = k1 * (1.0 - b + b * self.doc_len[docs] / max(avgdl, 1e-9))
        contributions = weights * tfs * (k1 + 1.0) / (tfs + norm)
        return np.bincount(docs, weights=contributions, minlength=len(self)).astype(np.float32)

    def _lookup(self, query_terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        where = np.searchsorted(self.terms, query_terms)
        found = where < len(self.terms)
        found[found] = self.terms[where[found]] == query_terms[found]
        return found, where


def _postings(terms: np.ndarray, docs: np.ndarray, tfs: np.ndarray) -> dict[str, np.ndarray]:
    """Term-major postings: unique sorted terms, their start offsets, row ids and counts."""
    order = np.lexsort((docs, terms))
    terms, docs, tfs = terms[order].astype(np.uint32), docs[order].astype(np.int32), tfs[order].astype(np.uint16)
    unique, first = np.unique(terms, return_index=True)
    starts = np.append(first, len(terms)).astype(np.int64)
    return {"terms": unique, "starts": starts, "post_docs": docs, "post_tfs": tfs}
