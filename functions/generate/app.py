"""SAM CodeUri for GenerateFunction; the code lives in the ticketlens layer."""

from ticketlens.handlers.generate import lambda_handler

__all__ = ["lambda_handler"]
