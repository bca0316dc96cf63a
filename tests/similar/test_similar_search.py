"""Exact search over a snapshot: ranking, filters, one row per ticket."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from similar_helpers import near, rows, unit

from ticketlens.similar.search import Filter, Query, Snapshot, lexical_weight
from ticketlens.similar.segment import IndexRow, Segment


def _snapshot(*batches: list[IndexRow]) -> Snapshot:
    return Snapshot(1, tuple(Segment.from_rows(b) for b in batches))


def test_the_closest_ticket_comes_first_in_every_method() -> None:
    # GIVEN 40 unrelated tickets and one whose vector and words match the query
    target = IndexRow(ticket_id="match", created_at=5, embedding=unit(7), text="invoice shows a double charge")
    snapshot = _snapshot(rows("x", 40), [target])
    query = Query(near(unit(7), seed=1), "double charge on my invoice")
    # WHEN searched by each method THEN the match is first, with scores best first
    for method in ("hybrid", "dense", "lexical"):
        hits = snapshot.search([query], 5, method=method)[0]
        assert hits[0].ticket_id == "match", method
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    hybrid = snapshot.search([query], 1)[0][0]
    w = lexical_weight(3)  # "double", "charge", "invoice"
    assert abs(hybrid.score - ((1 - w) * hybrid.dense + w * hybrid.lexical)) < 1e-5
    assert 0.0 <= hybrid.lexical <= 1.0


def test_filters_keep_only_the_rows_asked_for() -> None:
    # GIVEN tickets of three customers over 30 seconds
    snapshot = _snapshot(rows("f", 30))
    query = Query(unit(1), "printer jams")
    # WHEN filtered by customer, by time, by "earlier than", and by exclusion
    by_customer = snapshot.search([query], 50, Filter(customer_id="C1"))[0]
    recent = snapshot.search([query], 50, Filter(since=1_020))[0]
    earlier = snapshot.search([query], 50, Filter(before=(1_010, "f-0010")))[0]
    excluded = snapshot.search([query], 50, Filter(exclude=frozenset({"f-0003"})))[0]
    # THEN each result holds exactly the allowed rows
    assert {h.customer_id for h in by_customer} == {"C1"} and len(by_customer) == 10
    assert all(h.created_at >= 1_020 for h in recent) and len(recent) == 10
    assert {h.ticket_id for h in earlier} == {f"f-{n:04d}" for n in range(10)}
    assert "f-0003" not in {h.ticket_id for h in excluded} and len(excluded) == 29


def test_a_ticket_indexed_twice_is_returned_once_with_its_latest_fields() -> None:
    # GIVEN a ticket indexed in an early segment and again, re-enriched, in a later one
    old = IndexRow(ticket_id="t1", created_at=1, embedding=unit(3), text="refund please", urgency="low")
    new = IndexRow(ticket_id="t1", created_at=1, embedding=unit(3), text="refund please", urgency="high")
    snapshot = _snapshot([old, *rows("y", 5)], [new])
    # WHEN searched
    hits = snapshot.search([Query(unit(3), "refund please")], 3)[0]
    # THEN it appears once, with the later segment's urgency
    assert [h.ticket_id for h in hits].count("t1") == 1
    assert hits[0].ticket_id == "t1" and hits[0].urgency == "high"
    assert snapshot.locate("t1") is not None and snapshot.locate("t1")[0] is snapshot.segments[-1]


def test_an_indexed_ticket_can_be_its_own_query_without_its_text() -> None:
    # GIVEN an index WHEN an indexed ticket is turned into a query
    snapshot = _snapshot(rows("q", 10))
    query = snapshot.query_for("q-0004")
    # THEN its stored vector and words find itself first, and an unknown id gives None
    assert query is not None
    assert snapshot.search([query], 1)[0][0].ticket_id == "q-0004"
    assert snapshot.query_for("nope") is None


def test_a_query_without_words_is_ranked_by_its_vector_alone() -> None:
    # GIVEN an index WHEN the query text has no words
    snapshot = _snapshot(rows("w", 10))
    target = snapshot.segments[0].vectors[6]
    hits = snapshot.search([Query(target, "?!")], 2)[0]
    # THEN the hybrid equals the cosine and the right ticket is first
    assert hits[0].ticket_id == "w-0006"
    assert abs(hits[0].score - hits[0].dense) < 1e-6 and hits[0].lexical == 0.0


def test_an_empty_snapshot_finds_nothing() -> None:
    # GIVEN no segments WHEN searched THEN no hits, no error
    assert Snapshot(0, ()).search([Query(unit(1), "anything")], 5) == [[]]
    assert np.isclose(lexical_weight(0), 0.0)
