"""The indexer on machines without Lambda: IndexFunction behind the local SQS event source.

The same runner plays the enrich function's event source (:mod:`ticketlens.runner.sqs`);
here it is pointed at the index queue, with IndexFunction's batch size, window, partial
batch responses and concurrency from ``template.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ticketlens.runner.invoker import Handler
from ticketlens.runner.sqs import Invocation, SqsEventSource, for_stack
from ticketlens.settings import Settings
from ticketlens.store import clients

if TYPE_CHECKING:
    from ticketlens.deploy.stack import Stack

FUNCTION = "IndexFunction"


def index_queue_url(stack: Stack, settings: Settings) -> str:
    """The deployed index queue: the stack's output, else by its template name."""
    url = stack.outputs.get("IndexQueueUrl")
    if url:
        return url
    return clients(settings).sqs.get_queue_url(QueueName=f"{settings.stack_name}-index")["QueueUrl"]


def index_runner(
    stack: Stack,
    settings: Settings,
    *,
    handler: Handler | None = None,
    concurrency: int | None = None,
    retry_delay_s: int | None = None,
    idle_wait_s: int = 1,
    on_invocation: Callable[[Invocation], None] | None = None,
    output: str | None = None,
) -> SqsEventSource:
    """An SQS event source that feeds IndexFunction's handler from the index queue.

    Without ``handler`` the library's IndexFunction handler runs in worker processes.
    """
    return for_stack(stack, settings, handler=handler, concurrency=concurrency, retry_delay_s=retry_delay_s,
                     idle_wait_s=idle_wait_s, on_invocation=on_invocation, function=FUNCTION,
                     queue_url=index_queue_url(stack, settings), output=output)
