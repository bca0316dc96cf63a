"""Segments: the bytes a writer stores, merging, and BM25 over their postings."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from similar_helpers import rows, unit

from ticketlens.similar.segment import IndexRow, Segment, SegmentError
from ticketlens.similar.text import term_counts, words


def test_a_segment_survives_its_bytes() -> None:
    # GIVEN a segment of five tickets
    original = Segment.from_rows(rows("a", 5))
    # WHEN it is written and read back
    restored = Segment.from_bytes(original.to_bytes())
    # THEN every column and posting is the same, vectors within float16 precision
    assert restored.ticket_id.tolist() == original.ticket_id.tolist()
    assert restored.created_at.tolist() == original.created_at.tolist()
    assert restored.customer_id.tolist() == original.customer_id.tolist()
    assert np.allclose(restored.vectors, original.vectors, atol=1e-3)
    assert restored.terms.tolist() == original.terms.tolist()
    assert restored.post_docs.tolist() == original.post_docs.tolist()


def test_bytes_that_are_not_a_segment_are_refused() -> None:
    # GIVEN bytes that are no segment WHEN read THEN a SegmentError says so
    with pytest.raises(SegmentError):
        Segment.from_bytes(b"not a segment at all")


def test_a_wrong_embedding_size_is_refused() -> None:
    # GIVEN a row whose embedding has 3 values WHEN a segment is built THEN it is refused
    with pytest.raises(SegmentError, match="384"):
        Segment.from_rows([IndexRow(ticket_id="x", created_at=1, embedding=np.ones(3), text="x")])


def test_merge_keeps_the_last_row_of_a_ticket_indexed_twice() -> None:
    # GIVEN a ticket indexed twice: first as low urgency, later as critical
    first = Segment.from_rows(rows("a", 3))
    again = rows("a", 1)[0]
    later = Segment.from_rows([IndexRow(**{**again.__dict__, "urgency": "critical", "text": "totally new words"})])
    # WHEN the two segments are merged
    merged = Segment.merge([first, later])
    # THEN the ticket appears once, with the later row's fields and postings
    ids = merged.ticket_id.tolist()
    assert sorted(ids) == ["a-0000", "a-0001", "a-0002"]
    row = ids.index("a-0000")
    assert merged.urgency[row] == "critical"
    terms, _ = merged.term_counts(row)
    assert set(terms.tolist()) == set(term_counts("totally new words")[0].tolist())


def test_term_counts_read_back_from_postings_match_the_text() -> None:
    # GIVEN a segment WHEN a row's term counts are read back from the postings
    segment = Segment.from_rows(rows("b", 4, text="refund refund please"))
    terms, tfs = segment.term_counts(2)
    # THEN they are the counts of that row's text
    expected_terms, expected_tfs = term_counts("refund refund please b item2")
    assert terms.tolist() == expected_terms.tolist()
    assert tfs.tolist() == expected_tfs.tolist()


def test_bm25_prefers_the_row_that_shares_the_rare_word() -> None:
    # GIVEN three tickets, one of them about an invoice
    texts = ["cannot log in", "the invoice total is wrong", "app crashes on start"]
    segment = Segment.from_rows([IndexRow(ticket_id=str(i), created_at=i, embedding=unit(i), text=t)
                                 for i, t in enumerate(texts)])
    terms, _ = term_counts("invoice wrong")
    # WHEN scored with BM25
    scores = segment.bm25(terms, np.ones(len(terms)), avgdl=3.0, k1=1.2, b=0.75)
    # THEN only the invoice ticket scores
    assert scores.argmax() == 1 and scores[0] == 0 and scores[2] == 0


def test_words_drop_stop_words_and_punctuation() -> None:
    # GIVEN a sentence WHEN split into words THEN stop words and punctuation are gone
    assert words("I cannot log in to MY account, since 09:30!") == ["cannot", "log", "account", "since", "09", "30"]
