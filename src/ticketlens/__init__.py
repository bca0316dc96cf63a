"""ticketlens: enrich customer-support tickets on a CPU, the moment they arrive.

Public API: the schemas, the settings, and the Enricher (loaded lazily, so importing the
package stays cheap for the light commands and the Lambda init phase).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ticketlens.schemas import EnrichedTicket, EnrichmentData, RawTicket, Rejected, TicketRecord, parse_ticket
from ticketlens.settings import Settings, get_settings

if TYPE_CHECKING:
    from ticketlens.enrichment import Enricher, get_enricher

__version__ = "0.1.0"
__all__ = [
    "EnrichedTicket",
    "Enricher",
    "EnrichmentData",
    "RawTicket",
    "Rejected",
    "Settings",
    "TicketRecord",
    "get_enricher",
    "get_settings",
    "parse_ticket",
]


def __getattr__(name: str) -> Any:
    if name in ("Enricher", "get_enricher"):
        from ticketlens import enrichment

        return getattr(enrichment, name)
    raise AttributeError(f"module 'ticketlens' has no attribute {name!r}")
