"""Exact search over a snapshot of segments: dense cosine, BM25, and the hybrid of the two.

Every query is scored against every row it may see (brute force, no approximation), segment
by segment, and the best rows are merged.

The hybrid score mixes the cosine with the BM25 score divided by the query's own BM25 score
(what the query would score against itself), so both parts live on [0, 1] and one number
serves ranking, the duplicate threshold and incident links. The lexical part's weight grows
with the query's length: word overlap between two five-word messages says little, between
two bug reports of a hundred words a lot (docs/similar.md has the figures behind this).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ticketlens.similar.segment import Segment
from ticketlens.similar.text import term_counts

Method = Literal["hybrid", "dense", "lexical"]
METHODS: tuple[Method, ...] = ("hybrid", "dense", "lexical")

# BM25's textbook constants (Robertson; Lucene's defaults), not tuned here.
K1 = 1.2
B = 0.75
# The lexical part's weight in the hybrid: LEXICAL_WEIGHT * n / (n + LEXICAL_HALF_WORDS) for a
# query of n words (stop words left out); chosen on one half of the evaluation sets
# (docs/similar.md).
LEXICAL_WEIGHT = 0.5
LEXICAL_HALF_WORDS = 20.0


def lexical_weight(words: int) -> float:
    """Weight of the normalised BM25 part of the hybrid score for a query of ``words`` words."""
    return LEXICAL_WEIGHT * words / (words + LEXICAL_HALF_WORDS)


@dataclass(frozen=True)
class Query:
    """What a query needs: a unit embedding for the dense part, and text (or the term counts
    of an indexed ticket, :meth:`Segment.term_counts`) for the lexical part."""

    embedding: np.ndarray
    text: str = ""
    counts: tuple[np.ndarray, np.ndarray] | None = None

    def term_counts(self) -> tuple[np.ndarray, np.ndarray]:
        return self.counts if self.counts is not None else term_counts(self.text)


@dataclass(frozen=True)
class Filter:
    """Which rows a query may return. ``before`` keeps rows strictly earlier than
    (created_at, ticket_id): what "an earlier ticket" means at enrichment time."""

    since: int | None = None
    until: int | None = None
    customer_id: str | None = None
    intent: str | None = None
    urgency: str | None = None
    exclude: frozenset[str] = frozenset()
    before: tuple[int, str] | None = None

    def mask(self, segment: Segment) -> np.ndarray | None:
        """Rows of ``segment`` allowed, or None when all are."""
        mask: np.ndarray | None = None

        def narrow(condition: np.ndarray) -> None:
            nonlocal mask
            mask = condition if mask is None else mask & condition

        if self.since is not None:
            narrow(segment.created_at >= self.since)
        if self.until is not None:
            narrow(segment.created_at <= self.until)
        if self.customer_id is not None:
            narrow(segment.customer_id == self.customer_id)
        if self.intent is not None:
            narrow(segment.intent == self.intent)
        if self.urgency is not None:
            narrow(segment.urgency == self.urgency)
        if self.before is not None:
            at, ticket_id = self.before
            earlier = segment.created_at < at
            same_time = np.flatnonzero(segment.created_at == at)
            if same_time.size:  # compare ids only where the times tie: string compares are slow
                earlier[same_time] = segment.ticket_id[same_time] < ticket_id
            narrow(earlier)
        if self.exclude:
            keep = np.ones(len(segment), dtype=bool)
            for excluded in self.exclude:
                row = segment.position(excluded)
                if row is not None:
                    keep[row] = False
            narrow(keep)
        return mask


@dataclass(frozen=True)
class Hit:
    """One ticket found, with the score it was ranked by and both parts of it."""

    ticket_id: str
    score: float
    dense: float
    lexical: float
    created_at: int
    customer_id: str = ""
    intent: str = ""
    urgency: str = ""
    incident: str = ""
    summary: str = ""

    def brief(self) -> dict[str, str | float]:
        return {"ticket_id": self.ticket_id, "score": round(self.score, 4)}


@dataclass
class Scores:
    """One query's dense and normalised lexical scores, one array per segment."""

    dense: list[np.ndarray]
    lexical: list[np.ndarray]
    words: int  # the query's words, stop words left out

    def combined(self, method: Method) -> list[np.ndarray]:
        if method == "dense":
            return self.dense
        if method == "lexical":
            return self.lexical
        w = lexical_weight(self.words)
        return [(1.0 - w) * d + w * x for d, x in zip(self.dense, self.lexical, strict=True)]


@dataclass
class Snapshot:
    """The segments one manifest generation lists, in commit order (later wins a duplicate id)."""

    generation: int
    segments: tuple[Segment, ...]
    _avgdl: float | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return sum(len(s) for s in self.segments)

    def with_segment(self, segment: Segment) -> Snapshot:
        """This snapshot plus a batch not yet committed (the batch being enriched)."""
        return Snapshot(self.generation, (*self.segments, segment))

    @property
    def avgdl(self) -> float:
        if self._avgdl is None:
            words = sum(float(s.doc_len.sum()) for s in self.segments)
            self._avgdl = words / max(len(self), 1)
        return self._avgdl

    # -- scoring --------------------------------------------------------------------------
    def scores(self, queries: Sequence[Query]) -> list[Scores]:
        """Dense and lexical scores of every row for every query (exact)."""
        if not queries:
            return []
        matrix = np.stack([np.asarray(q.embedding, dtype=np.float32).reshape(-1) for q in queries])
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.maximum(norms, 1e-12)
        dense_by_segment = [segment.vectors @ matrix.T for segment in self.segments]  # (rows, queries)
        out = []
        for j, query in enumerate(queries):
            lexical, words = self.lexical(*query.term_counts())
            out.append(Scores(dense=[d[:, j] for d in dense_by_segment], lexical=lexical, words=words))
        return out

    def lexical(self, terms: np.ndarray, tfs: np.ndarray) -> tuple[list[np.ndarray], int]:
        """BM25 of every row divided by the query's own BM25 (clipped to 1), and the query's
        word count; zeros for a query without words."""
        words = int(tfs.sum())
        if len(terms) == 0 or not self.segments:
            return [np.zeros(len(s), dtype=np.float32) for s in self.segments], words
        n = len(self)
        df = np.sum([s.document_frequencies(terms) for s in self.segments], axis=0)
        # The query counts as a document for idf: its own words are never "unseen".
        idf = np.log1p((n + 1 - (df + 1) + 0.5) / (df + 1 + 0.5))
        avgdl = self.avgdl or 1.0
        own_len = float(tfs.sum())
        tf = tfs.astype(np.float64)
        own = float(np.sum(idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * own_len / avgdl))))
        if own <= 0:
            return [np.zeros(len(s), dtype=np.float32) for s in self.segments], words
        return [np.minimum(s.bm25(terms, idf, avgdl, K1, B) / own, 1.0) for s in self.segments], words

    # -- search ---------------------------------------------------------------------------
    def search(
        self,
        queries: Sequence[Query],
        k: int,
        filters: Sequence[Filter] | Filter | None = None,
        method: Method = "hybrid",
    ) -> list[list[Hit]]:
        """The k best rows for each query, best first; one filter for all or one per query."""
        if isinstance(filters, Filter) or filters is None:
            filters = [filters or Filter()] * len(queries)
        if len(filters) != len(queries):
            raise ValueError("one filter per query")
        return [
            self.top(scores, k, f, method)
            for scores, f in zip(self.scores(queries), filters, strict=True)
        ]

    def masks(self, row_filter: Filter) -> list[np.ndarray | None]:
        """The filter's mask of each segment (None: every row allowed)."""
        return [row_filter.mask(segment) for segment in self.segments]

    def top(self, scores: Scores, k: int, row_filter: Filter, method: Method = "hybrid",
            masks: Sequence[np.ndarray | None] | None = None) -> list[Hit]:
        """The k best rows of one query's scores that pass the filter (or the ``masks`` made
        from it already); one row per ticket id."""
        combined = scores.combined(method)
        candidates: list[tuple[float, int, int]] = []
        fetch = 2 * k + 8  # a ticket indexed twice takes two places until deduplicated
        masks = masks if masks is not None else self.masks(row_filter)
        for s, (_segment, values) in enumerate(zip(self.segments, combined, strict=True)):
            mask = masks[s]
            if mask is not None:
                values = np.where(mask, values, -np.inf)
            if len(values) > fetch:
                rows = np.argpartition(-values, fetch)[:fetch]
            else:
                rows = np.arange(len(values))
            candidates.extend((float(values[r]), s, int(r)) for r in rows if np.isfinite(values[r]))
        latest: dict[str, tuple[float, int, int]] = {}
        for candidate in candidates:
            _, s, r = candidate
            ticket_id = str(self.segments[s].ticket_id[r])
            if ticket_id not in latest or latest[ticket_id][1:] < (s, r):
                latest[ticket_id] = candidate
        best = sorted(latest.values(), key=lambda c: (-c[0], str(self.segments[c[1]].ticket_id[c[2]])))[:k]
        return [self._hit(score, s, r, scores) for score, s, r in best]

    def _hit(self, score: float, s: int, r: int, scores: Scores) -> Hit:
        seg = self.segments[s]
        return Hit(
            ticket_id=str(seg.ticket_id[r]),
            score=score,
            dense=float(scores.dense[s][r]),
            lexical=float(scores.lexical[s][r]),
            created_at=int(seg.created_at[r]),
            customer_id=str(seg.customer_id[r]),
            intent=str(seg.intent[r]),
            urgency=str(seg.urgency[r]),
            incident=str(seg.incident[r]),
            summary=str(seg.summary[r]),
        )

    # -- look-ups -------------------------------------------------------------------------
    def locate(self, ticket_id: str) -> tuple[Segment, int] | None:
        """The latest row of a ticket, or None."""
        for segment in reversed(self.segments):
            row = segment.position(ticket_id)
            if row is not None:
                return segment, row
        return None

    def query_for(self, ticket_id: str) -> Query | None:
        """An indexed ticket as a query: its stored vector and its stored term counts."""
        found = self.locate(ticket_id)
        if found is None:
            return None
        segment, row = found
        return Query(segment.vectors[row], counts=segment.term_counts(row))

    def rows(self, since: int | None = None) -> list[Hit]:
        """Every ticket (its latest row) created at or after ``since``, oldest first; score 0."""
        latest: dict[str, Hit] = {}
        for segment in self.segments:
            chosen = np.arange(len(segment)) if since is None else np.flatnonzero(segment.created_at >= since)
            for r in chosen:
                hit = Hit(str(segment.ticket_id[r]), 0.0, 0.0, 0.0, int(segment.created_at[r]),
                          str(segment.customer_id[r]), str(segment.intent[r]), str(segment.urgency[r]),
                          str(segment.incident[r]), str(segment.summary[r]))
                latest[hit.ticket_id] = hit
        return sorted(latest.values(), key=lambda h: (h.created_at, h.ticket_id))
