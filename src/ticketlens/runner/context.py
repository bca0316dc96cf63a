"""A Lambda-like context object for invoking handlers in-process."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import uuid
from collections.abc import Iterator
from typing import TextIO

from aws_lambda_powertools.utilities.typing import LambdaContext


class LocalLambdaContext(LambdaContext):
    """What Lambda passes as ``context``: names, limits, a request id, the time left.

    powertools' :class:`LambdaContext` (what the handlers are typed with) with its fields
    filled in, and a clock that runs down from the function's timeout.
    """

    def __init__(
        self,
        function_name: str = "ticketlens-local",
        memory_limit_in_mb: int = 2048,
        timeout_seconds: float = 60.0,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        function_version: str = "$LATEST",
        aws_request_id: str | None = None,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.region = region
        self.account_id = account_id
        self._function_name = function_name
        self._function_version = function_version
        self._memory_limit_in_mb = memory_limit_in_mb
        self._aws_request_id = aws_request_id or str(uuid.uuid4())
        self._invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = f"local/[{function_version}]{self._aws_request_id[:8]}"
        self._started = time.monotonic()

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]  # powertools' is a static stub
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


HANDLER_MODULES = ("ticketlens.handlers.enrich", "ticketlens.handlers.generate", "ticketlens.handlers.index")


def redirect_handler_logs(stream: TextIO) -> list[tuple[logging.StreamHandler[TextIO], TextIO]]:
    """Send the handlers' JSON logs (powertools Logger) to ``stream``; returns what to restore."""
    previous: list[tuple[logging.StreamHandler[TextIO], TextIO]] = []
    for name in HANDLER_MODULES:
        logger = getattr(sys.modules.get(name), "logger", None)
        if logger is None:  # that handler module is not loaded in this process
            continue
        handler = getattr(logger, "registered_handler", None)
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
