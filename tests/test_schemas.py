"""Schemas: what a producer may send, and the message it gets when it sends it wrong."""

from __future__ import annotations

import json

import pytest

from ticketlens.schemas import EnrichedTicket, EnrichmentData, RawTicket, Rejected, TicketRecord, parse_ticket

GOOD = {
    "ticket_id": "TKT-1",
    "subject": "Cannot login",
    "body": "Invalid credentials since this morning.",
    "created_at": 1_763_856_000,
    "customer_id": "CUST-1",
}


def _reason(data: object) -> str:
    result = parse_ticket(json.dumps(data), "line 3")
    assert isinstance(result, Rejected), result
    assert result.where == "line 3"
    return result.reason


def test_seed_shaped_ticket_parses_with_defaults() -> None:
    # GIVEN a ticket shaped like the original demo's
    # WHEN it is parsed
    ticket = parse_ticket(json.dumps({**GOOD, "priority": "HIGH"}), "line 1")
    # THEN defaults fill metadata and the priority is normalised
    assert isinstance(ticket, RawTicket)
    assert ticket.priority == "high"
    assert ticket.metadata.source == "unknown" and ticket.metadata.language == "en"
    assert ticket.text == "Cannot login\nInvalid credentials since this morning."


def test_iso_timestamp_is_rejected_with_a_fix() -> None:
    reason = _reason({**GOOD, "created_at": "2025-11-23T10:00:00Z"})
    assert "created_at" in reason and "Unix timestamp" in reason and "fromisoformat" in reason


def test_millisecond_timestamp_is_rejected() -> None:
    assert "milliseconds" in _reason({**GOOD, "created_at": 1_763_856_000_000})


def test_empty_subject_is_allowed_but_no_text_at_all_is_not() -> None:
    assert isinstance(parse_ticket(json.dumps({**GOOD, "subject": ""}), "x"), RawTicket)
    assert "no text" in _reason({**GOOD, "subject": " ", "body": ""})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ticket_id": "a/b"}, "ticket_id"),
        ({"priority": "urgent"}, "priority"),
        ({"customer_id": ""}, "customer_id"),
        ({"created_at": True}, "created_at"),
    ],
)
def test_bad_fields_are_named(change: dict[str, object], field: str) -> None:
    assert _reason({**GOOD, **change}).startswith(field)


def test_missing_fields_are_all_named() -> None:
    reason = _reason({"body": "hello"})
    for field in ("ticket_id", "created_at", "customer_id"):
        assert field in reason


def test_not_json_and_not_an_object() -> None:
    assert _reason_text("{oops").startswith("not valid JSON")
    assert _reason_text("[1, 2]").startswith("not a JSON object")


def _reason_text(text: str) -> str:
    result = parse_ticket(text, "line 9")
    assert isinstance(result, Rejected)
    assert result.raw == text  # kept verbatim for replay
    return result.reason


def test_unknown_fields_are_kept_through_enrichment() -> None:
    # GIVEN a producer that adds its own fields
    raw = RawTicket.model_validate({**GOOD, "channel_ref": "zendesk-42", "metadata": {"source": "web", "team": "eu"}})
    enrichment = EnrichmentData(
        embedding=[0.0] * 384, intent="login_issue", intent_confidence=0.9, urgency="high",
        urgency_confidence=0.7, sentiment="NEGATIVE", sentiment_confidence=0.8, summary="Cannot login.",
        processed_at="2026-01-01T00:00:00.000Z", model_version="test",
    )
    # WHEN it is enriched and turned into a DynamoDB record
    enriched = EnrichedTicket.from_raw(raw, enrichment)
    record = TicketRecord.from_enriched(enriched, "enriched/TKT-1.json")
    # THEN nothing the producer sent is lost, and the record carries no embedding
    dumped = enriched.model_dump()
    assert dumped["channel_ref"] == "zendesk-42" and dumped["metadata"]["team"] == "eu"
    assert "embedding" not in record.model_dump()
    assert record.source == "web" and record.s3_key == "enriched/TKT-1.json"


def test_language_and_flag_reach_the_dynamodb_record() -> None:
    # GIVEN an enriched spam ticket in German
    raw = RawTicket.model_validate(GOOD)
    enrichment = EnrichmentData(
        embedding=[0.0] * 384, intent="other", intent_confidence=0.2, urgency="low",
        urgency_confidence=0.9, sentiment="NEUTRAL", sentiment_confidence=0.4, summary="Gewinnspiel.",
        processed_at="2026-01-01T00:00:00.000Z", model_version="test",
        language="de", language_confidence=0.98, flag="spam", flag_confidence=0.87,
    )
    # WHEN it becomes the DynamoDB record
    record = TicketRecord.from_enriched(EnrichedTicket.from_raw(raw, enrichment), "enriched/TKT-1.json")
    # THEN the language and the flag are there to query on
    assert (record.language, record.flag, record.flag_confidence) == ("de", "spam", 0.87)
    # AND an older enrichment without the new fields still validates, unflagged and undetermined
    new_fields = {"language", "language_confidence", "flag", "flag_confidence"}
    old = EnrichmentData.model_validate({k: v for k, v in enrichment.model_dump().items() if k not in new_fields})
    assert old.language == "und" and old.flag is None and old.flag_confidence == 0.0
