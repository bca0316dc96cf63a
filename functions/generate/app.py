"""SAM CodeUri for GenerateFunction; the code lives in the ticketlens layer."""

from ticketlens.handlers.generate import handler, lambda_handler

__all__ = ["handler", "lambda_handler"]
