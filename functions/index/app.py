"""Lambda entry point for IndexFunction (template.yaml): enriched records -> the similar-ticket
index. The logic lives in the ticketlens library (the TicketlensLayer)."""

from ticketlens.handlers.index import lambda_handler

__all__ = ["lambda_handler"]
