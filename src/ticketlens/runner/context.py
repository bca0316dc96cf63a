"""A Lambda-like context object for invoking handlers in-process."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class LocalLambdaContext:
    """What Lambda passes as ``context``: names, limits, a request id, the time left."""

    function_name: str = "ticketlens-local"
    memory_limit_in_mb: int = 2048
    timeout_seconds: float = 60.0
    region: str = "us-east-1"
    account_id: str = "123456789012"
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id[:8]}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


HANDLER_MODULES = ("ticketlens.handlers.enrich", "ticketlens.handlers.generate", "ticketlens.handlers.index")


def redirect_handler_logs(stream: TextIO) -> list[tuple[logging.StreamHandler, TextIO]]:
    """Send the handlers' JSON logs (powertools Logger) to ``stream``; returns what to restore."""
    previous = []
    for name in HANDLER_MODULES:
        logger = getattr(sys.modules.get(name), "logger", None)
        handler = getattr(logger, "registered_handler", None) if logger is not None else None
        if isinstance(handler, logging.StreamHandler):
            # Swap without setStream(): it flushes the old stream, which may already be closed
            # (a logger created under another redirection, e.g. an earlier test's capture).
            previous.append((handler, handler.stream))
            handler.stream = stream
            logger._logger.propagate = False  # not also through the root logger
    return previous


@contextlib.contextmanager
def handler_output_to(stream: TextIO) -> Iterator[None]:
    """Logs and EMF metrics of an in-process invocation go to ``stream`` (as `sam local
    invoke` keeps them apart from the response on stdout)."""
    previous = redirect_handler_logs(stream)
    try:
        with contextlib.redirect_stdout(stream):
            yield
    finally:
        for handler, old in previous:
            handler.stream = old
