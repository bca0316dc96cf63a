"""The indexer on machines without Lambda: IndexFunction behind the local SQS event source.

The same runner plays the enrich function's event source (:mod:`ticketlens.local.runner`);
here it is pointed at the index queue, with IndexFunction's batch size, window, partial
batch responses and concurrency from ``template.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ticketlens.local.runner import Invocation, SqsEventSource
from ticketlens.settings import Settings
from ticketlens.store import clients

FUNCTION = "IndexFunction"


def index_queue_url(stack: Any, settings: Settings) -> str:
    """The deployed index queue: the stack's output, else by its template name."""
    url = (stack.outputs or {}).get("IndexQueueUrl")
    if url:
        return str(url)
    return str(clients(settings).sqs.get_queue_url(QueueName=f"{settings.stack_name}-index")["QueueUrl"])


def index_runner(
    stack: Any,
    settings: Settings,
    *,
    handler: Callable[[dict[str, Any], Any], Any] | None = None,
    concurrency: int | None = None,
    retry_delay_s: int | None = None,
    idle_wait_s: int = 1,
    on_invocation: Callable[[Invocation], None] | None = None,
) -> SqsEventSource:
    """An SQS event source that feeds IndexFunction's handler from the index queue."""
    if handler is None:
        from ticketlens.handlers.index import lambda_handler

        handler = lambda_handler
    source = stack.event_source(FUNCTION)
    return SqsEventSource(
        sqs=clients(settings).sqs,
        queue_url=index_queue_url(stack, settings),
        handler=handler,
        batch_size=source.batch_size,
        window_s=source.window_seconds,
        report_batch_item_failures=source.report_batch_item_failures,
        concurrency=concurrency or source.max_concurrency,
        function_timeout_s=source.function_timeout_seconds,
        function_name=FUNCTION,
        memory_mb=source.memory_mb,
        region=settings.region,
        retry_delay_s=retry_delay_s,
        idle_wait_s=idle_wait_s,
        on_invocation=on_invocation,
    )
