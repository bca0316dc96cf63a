"""Helpers for the board's tests (imported by path: tests/ has no packages)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from ticketlens.board import BoardData, create_app, function_url_event
from ticketlens.schemas import EMBEDDING_DIM, EnrichedTicket, EnrichmentData


def enriched(
    ticket_id: str, created_at: int, intent: str, urgency: str = "medium", sentiment: str = "NEUTRAL",
    confidences: tuple[float, float, float] = (0.9, 0.8, 0.95), subject: str = "Cannot export reports",
    body: str = "The export button does nothing since Monday.", priority: str | None = None,
) -> EnrichedTicket:
    """A stored ticket as the handler writes it; the board only reads, so the enrichment is given."""
    enrichment = EnrichmentData(
        embedding=[0.01] * EMBEDDING_DIM, intent=intent, intent_confidence=confidences[0], urgency=urgency,
        urgency_confidence=confidences[1], sentiment=sentiment, sentiment_confidence=confidences[2],
        summary=f"summary of {ticket_id}", processed_at="2026-01-01T00:00:00.000Z", model_version="test",
    )
    return EnrichedTicket(ticket_id=ticket_id, subject=subject, body=body, created_at=created_at,
                          customer_id="alice@example.com", priority=priority, enrichment=enrichment)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Api:
    """The board app called as Lambda calls it: a Function URL event in, a response out."""

    def __init__(self, store: Any, clock: Any = None) -> None:
        self.data = BoardData(store, clock=clock) if clock else BoardData(store)
        self.app = create_app(self.data, clock=clock)

    def call(self, path: str) -> tuple[int, dict[str, str], str]:
        response = self.app.resolve(function_url_event("GET", path, {"host": "127.0.0.1:8765"}), None)
        return response["statusCode"], response.get("headers", {}), response["body"]

    def json(self, path: str, status: int = 200) -> dict[str, Any]:
        code, headers, body = self.call(path)
        assert code == status, (path, code, body)
        assert headers["Content-Type"] == "application/json"
        return json.loads(body)
