"""Lambda entry point for BoardFunction (template.yaml): the triage board's app lives in the
ticketlens library (the TicketlensLayer), so `ticketlens board` and Lambda serve the same routes."""

from ticketlens.board import lambda_handler

__all__ = ["lambda_handler"]
