"""At enrichment time, with the real encoder: similar earlier tickets, near-verbatim
duplicates, and an outage burst from the project's generator among ordinary traffic."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ticketlens.schemas import EnrichedTicket, RawTicket, TicketRecord
from ticketlens.similar.index import SegmentedIndex
from ticketlens.similar.neighbours import DEFAULT_POLICY, TicketQuery, neighbours_for
from ticketlens.similar.service import annotate, row_from_enriched
from ticketlens.similar.storage import FolderStorage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def enricher() -> Any:
    from ticketlens.enrichment import get_enricher

    return get_enricher()


def _raw(n: int, body: str, customer: str = "CUST-1", subject: str = "") -> RawTicket:
    return RawTicket(ticket_id=f"TKT-N-{n:03d}", subject=subject, body=body, created_at=1_763_856_000 + 60 * n,
                     customer_id=customer)


def test_a_resubmitted_ticket_is_a_duplicate_and_unrelated_ones_are_not(enricher: Any, tmp_path: Path) -> None:
    # GIVEN an index holding three earlier tickets
    index = SegmentedIndex(FolderStorage(tmp_path))
    earlier = enricher.enrich([
        _raw(1, "I was charged twice for my March subscription, please refund one of the charges.",
             subject="Double charge"),
        _raw(2, "How do I export all my projects to CSV?", subject="Export question"),
        _raw(3, "The mobile app crashes as soon as I open the settings page.", subject="App crash"),
    ])
    index.append([row_from_enriched(t) for t in annotate(earlier, index)])
    # WHEN the first customer sends the same complaint again, and someone asks something new
    later = enricher.enrich([
        _raw(4, "I was charged twice for my March subscription, please refund one of the charges!",
             subject="Double charge"),
        _raw(5, "Can I change the language of the invoices to German?", customer="CUST-2"),
    ])
    resent, other = annotate(later, index)
    # THEN the resent ticket is a duplicate of the first, listed first among its similar tickets
    assert resent.enrichment.duplicate_of == "TKT-N-001"
    assert resent.enrichment.similar[0].ticket_id == "TKT-N-001" and resent.enrichment.similar[0].score >= 0.96
    # AND the new question is nobody's duplicate, and only tickets above the floor are listed
    assert other.enrichment.duplicate_of is None
    assert all(s.score >= DEFAULT_POLICY.similar_floor for s in other.enrichment.similar)
    # AND the DynamoDB record carries the ids, the full record the scores
    record = TicketRecord.from_enriched(resent, s3_key="tickets/x.json")
    assert record.similar[0] == "TKT-N-001" and record.duplicate_of == "TKT-N-001"
    assert EnrichedTicket.model_validate_json(resent.model_dump_json()).enrichment.similar == resent.enrichment.similar


def test_only_earlier_tickets_count_and_a_batch_sees_its_own_earlier_tickets(enricher: Any, tmp_path: Path) -> None:
    # GIVEN an empty index and one batch of two near-identical tickets, a minute apart
    index = SegmentedIndex(FolderStorage(tmp_path))
    batch = enricher.enrich([
        _raw(11, "Password reset email never arrives, I checked the spam folder."),
        _raw(10, "Password reset email never arrives, I checked the spam folder."),
    ])
    queries = [TicketQuery(t.ticket_id, t.created_at, t.enrichment.embedding, t.text) for t in batch]
    # WHEN the batch is judged
    later, first = neighbours_for(queries, index.snapshot())
    # THEN the later ticket finds the earlier one of its own batch; the earlier finds nothing
    assert first.similar == () and first.duplicate_of is None
    assert later.duplicate_of == "TKT-N-010" and [h.ticket_id for h in later.similar] == ["TKT-N-010"]


def test_an_outage_burst_becomes_one_incident_and_ordinary_traffic_does_not(enricher: Any) -> None:
    from ticketlens.similar.evaluation import run_incident_scenario

    # GIVEN a day of 400 ordinary generated tickets and a burst of 25 generated outage reports
    # in 30 minutes, judged in batches of 10 in time order against the index of what came before
    result = run_incident_scenario(seed=7, policy=DEFAULT_POLICY, per_day=400, burst_size=25,
                                   embed=lambda texts: enricher.encoder.embed(texts))
    # THEN most of the burst shares one incident id (its first reports cannot: no burst yet)
    assert result.burst_in_main >= 0.5 * result.burst
    # AND at most 1 % of the ordinary tickets are put in any incident
    assert result.normal_flagged <= 0.01 * result.normal


def test_no_incident_without_a_burst(enricher: Any) -> None:
    from ticketlens.similar.evaluation import run_incident_scenario

    # GIVEN the same ordinary day with an impossible link score WHEN judged THEN no incident at all
    never = dataclasses.replace(DEFAULT_POLICY, incident_link=1.01)
    result = run_incident_scenario(seed=7, policy=never, per_day=400, burst_size=25,
                                   embed=lambda texts: enricher.encoder.embed(texts))
    assert result.burst_flagged == 0 and result.normal_flagged == 0 and result.incidents == 0


def test_an_unreadable_index_leaves_tickets_unannotated_unless_strict(enricher: Any, tmp_path: Path) -> None:
    # GIVEN an index whose newest manifest names a segment that is gone
    index = SegmentedIndex(FolderStorage(tmp_path))
    index.append([row_from_enriched(t) for t in enricher.enrich([_raw(20, "Where is my invoice for May?")])])
    for segment in (tmp_path / "segments").iterdir():
        segment.unlink()
    tickets = enricher.enrich([_raw(21, "Where is my invoice for June?")])
    # WHEN a batch is annotated against it
    annotated = annotate(tickets, SegmentedIndex(FolderStorage(tmp_path)))
    # THEN enrichment goes on without the three fields; strict callers get the error
    assert annotated[0].enrichment.similar is None and annotated[0].enrichment.incident is None
    with pytest.raises(FileNotFoundError):
        annotate(tickets, SegmentedIndex(FolderStorage(tmp_path)), strict=True)
