"""Lambda entry point for EnrichFunction (template.yaml): the logic lives in the ticketlens
library (the TicketlensLayer), so `ticketlens invoke`, the local runner and Lambda share it."""

from ticketlens.handlers.enrich import lambda_handler

__all__ = ["lambda_handler"]
