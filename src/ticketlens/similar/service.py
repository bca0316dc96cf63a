"""The seams to the rest of ticketlens: where the index is, what of a ticket it keeps, and
the one call the enrich handler makes per batch (:func:`annotate`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import numpy as np

from ticketlens.enrichment.transcript import customer_side
from ticketlens.schemas import EnrichedTicket, SimilarTicket
from ticketlens.settings import Settings, get_settings
from ticketlens.similar.index import SegmentedIndex
from ticketlens.similar.neighbours import DEFAULT_POLICY, Neighbours, Policy, TicketQuery, neighbours_for
from ticketlens.similar.segment import IndexRow
from ticketlens.similar.storage import FolderStorage, S3Storage, Storage, parse_s3_uri

INDEX_PREFIX = "index/"
log = logging.getLogger(__name__)

_lock = threading.Lock()
_open: dict[tuple[str, str | None, str], SegmentedIndex] = {}


def index_location(settings: Settings | None = None) -> str:
    """``TICKETLENS_INDEX_URI``, else the deployed stack's prefix in the enriched bucket."""
    settings = settings or get_settings()
    return settings.index_uri or f"s3://{settings.enriched_bucket}/{INDEX_PREFIX}"


def open_storage(location: str, settings: Settings | None = None) -> Storage:
    if location.startswith("s3://"):
        from ticketlens.store import clients

        bucket, prefix = parse_s3_uri(location)
        return S3Storage(clients(settings or get_settings()).s3, bucket, prefix)
    return FolderStorage(location)


def open_index(location: str | None = None, settings: Settings | None = None) -> SegmentedIndex:
    """The index at ``location`` (default :func:`index_location`), one object per process so a
    warm Lambda container keeps the segments it has read."""
    settings = settings or get_settings()
    location = location or index_location(settings)
    key = (location, settings.endpoint_url, settings.region)
    with _lock:
        if key not in _open:
            _open[key] = SegmentedIndex(open_storage(location, settings))
        return _open[key]


def forget_indexes() -> None:
    """Drop the per-process indexes (tests that switch endpoints)."""
    with _lock:
        _open.clear()


def index_text(ticket: EnrichedTicket) -> str:
    """What the lexical part reads: the text the encoder read (the customer's side of a transcript)."""
    return customer_side(ticket.text)


def row_from_enriched(ticket: EnrichedTicket) -> IndexRow:
    e = ticket.enrichment
    return IndexRow(
        ticket_id=ticket.ticket_id,
        created_at=ticket.created_at,
        embedding=np.asarray(e.embedding, dtype=np.float32),
        text=index_text(ticket),
        customer_id=ticket.customer_id,
        intent=e.intent,
        urgency=e.urgency,
        incident=e.incident or "",
        summary=e.summary,
    )


def query_from_enriched(ticket: EnrichedTicket) -> TicketQuery:
    e = ticket.enrichment
    return TicketQuery(
        ticket_id=ticket.ticket_id,
        created_at=ticket.created_at,
        embedding=np.asarray(e.embedding, dtype=np.float32),
        text=index_text(ticket),
        customer_id=ticket.customer_id,
        intent=e.intent,
        urgency=e.urgency,
    )


def annotate(
    tickets: Sequence[EnrichedTicket],
    index: SegmentedIndex | None = None,
    policy: Policy = DEFAULT_POLICY,
    strict: bool = False,
) -> list[EnrichedTicket]:
    """The tickets with ``similar``, ``duplicate_of`` and ``incident`` filled in from the index.

    Reads the index's newest snapshot once for the batch; writes nothing (the indexer
    function adds the tickets once their records land in the enriched bucket). An index
    that cannot be read must not stop enrichment: unless ``strict``, the failure is logged
    (with its reason, no ticket text) and the tickets come back without the three fields.
    """
    if not tickets:
        return []
    try:
        index = index or open_index()
        snapshot = index.snapshot()
    except Exception as error:
        if strict:
            raise
        log.warning("similar-ticket index unreadable, tickets left without similar/duplicate/incident: %s: %s",
                    type(error).__name__, error)
        return list(tickets)
    found = neighbours_for([query_from_enriched(t) for t in tickets], snapshot, policy)
    return [_with(ticket, n) for ticket, n in zip(tickets, found, strict=True)]


def _with(ticket: EnrichedTicket, found: Neighbours) -> EnrichedTicket:
    enrichment = ticket.enrichment.model_copy(update={
        "similar": [SimilarTicket(ticket_id=h.ticket_id, score=round(h.score, 4)) for h in found.similar],
        "duplicate_of": found.duplicate_of,
        "incident": found.incident,
    })
    return ticket.model_copy(update={"enrichment": enrichment})
