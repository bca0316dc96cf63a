"""A local SQS event source that feeds a Lambda handler the way Lambda's poller does.

Where there is no Lambda service (the embedded emulator, an EC2 box, a Kubernetes pod,
LocalStack without Docker), :class:`SqsEventSource` plays the event source mapping that
``template.yaml`` declares:

* **batching**: up to ``batch_size`` messages per invocation; with a batching window it
  keeps polling until the batch is full or the window has passed, without one it invokes
  as soon as a receive returns messages;
* **events**: Lambda's SQS record shape (``messageId``, ``receiptHandle``, ``body``,
  ``attributes``, ``messageAttributes``, ``eventSourceARN``, ...) and a Lambda-like context;
* **partial batch responses** (``ReportBatchItemFailures``): messages named in
  ``batchItemFailures`` stay on the queue, the others are deleted. An exception, a
  malformed response, or an invocation longer than the function timeout fails the whole
  batch, as on Lambda;
* **visibility timeout and redrive**: a failed message is simply not deleted; it becomes
  visible again after the queue's visibility timeout and, once received more than the
  redrive policy's ``maxReceiveCount`` times, SQS itself (AWS, LocalStack, moto) moves it
  to the dead-letter queue. ``retry_delay_s`` shortens the wait for failed messages (a
  local convenience: Lambda has no such knob; ``None`` keeps Lambda's behaviour);
* **concurrency**: ``concurrency`` pollers, each invoking the handler for its own batch in
  its own worker process (:mod:`ticketlens.runner.invoker`: one invocation per execution
  environment, as on Lambda; a timed-out invocation's worker is killed and replaced), the
  way ``ScalingConfig.MaximumConcurrency`` caps concurrent invocations;
* **stopping**: ``stop()`` lets the batches in flight finish, hands back (visibility 0) the
  messages it received but did not invoke, and after its grace period kills the workers
  still busy and hands their batches back too, so another consumer takes them at once;
* **an endpoint that goes away**: polling retries with exponential backoff (1 s up to
  30 s) and logs what failed and when it recovered.

One difference from Lambda remains: the pollers take turns to call ReceiveMessage
(invocations still overlap). moto's ReceiveMessage is not atomic across threads: two
concurrent receives can return the same message, so without the turn-taking an emulator
would deliver duplicates far more often than SQS's at-least-once delivery does (the
handler's idempotency keeps writes single either way).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .invoker import FunctionConfig, Handler, InProcessInvoker, Invoker, ProcessInvoker

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

    from ..deploy.stack import Stack
    from ..settings import Settings

log = logging.getLogger(__name__)

BACKOFF_MAX_S = 30.0

_receive_locks: dict[str, threading.Lock] = {}
_receive_locks_guard = threading.Lock()


def _receive_lock(queue_url: str) -> threading.Lock:
    with _receive_locks_guard:
        return _receive_locks.setdefault(queue_url, threading.Lock())


@dataclass
class Invocation:
    """What one handler invocation did (passed to ``on_invocation``)."""

    records: int
    failed: list[str]
    duration_s: float
    error: str | None = None
    # Seconds from SentTimestamp to the end of the invocation, per succeeded message.
    latencies_s: list[float] = field(default_factory=list)


@dataclass
class RunnerStats:
    invocations: int = 0
    messages: int = 0
    succeeded: int = 0
    failed: int = 0
    errors: int = 0
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))
    last_error: str | None = None


class SqsEventSource:
    """Lambda's SQS poller for one function.

    ``handler`` is an import path (``"module:function"``): each concurrent poller invokes it
    in a worker process of its own. A callable runs in the poller's thread instead, which
    only keeps Lambda's one-invocation-per-environment promise with ``concurrency=1``
    (tests that wrap the handler, one-shots).
    """

    def __init__(
        self,
        *,
        sqs: SQSClient,
        queue_url: str,
        handler: Handler | str,
        batch_size: int = 10,
        window_s: float = 0.0,
        report_batch_item_failures: bool = True,
        concurrency: int = 1,
        function_timeout_s: float = 60.0,
        function_name: str = "EnrichFunction",
        memory_mb: int = 2048,
        region: str = "us-east-1",
        retry_delay_s: int | None = None,
        idle_wait_s: int = 1,
        on_invocation: Callable[[Invocation], None] | None = None,
        environment: dict[str, str] | None = None,
        preload: str | None = None,
        output: str | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if callable(handler) and concurrency > 1:
            raise ValueError(
                "a handler given as a callable runs in this process, one invocation at a time; "
                "pass its import path ('module:function') for concurrent invocations in worker processes"
            )
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.batch_size = batch_size
        self.window_s = max(0.0, window_s)
        self.report_batch_item_failures = report_batch_item_failures
        self.concurrency = max(1, concurrency)
        self.function_timeout_s = function_timeout_s
        self.region = region
        self.retry_delay_s = retry_delay_s
        self.idle_wait_s = max(0, min(20, idle_wait_s))
        self.on_invocation = on_invocation
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.stats = RunnerStats()
        self.function = FunctionConfig(name=function_name, timeout_s=function_timeout_s, memory_mb=memory_mb,
                                       region=region, environment=self._worker_environment(environment))
        self.preload = preload
        self.output = output
        self._receive_lock = _receive_lock(queue_url)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._invokers: list[Invoker] = []
        self._local = threading.local()
        self._failing_since: float | None = None

    def _worker_environment(self, extra: dict[str, str] | None) -> dict[str, str]:
        env = dict(extra or {})
        # Each worker's engine gets its share of the cores, unless told otherwise: workers
        # running at once on every core would only fight (oversubscription).
        if "TICKETLENS_THREADS" not in os.environ and "TICKETLENS_THREADS" not in env:
            env["TICKETLENS_THREADS"] = str(max(1, (os.cpu_count() or 1) // self.concurrency))
        return env

    def _new_invoker(self) -> Invoker:
        if isinstance(self.handler, str):
            return ProcessInvoker(self.handler, self.function, preload=self.preload, output=self.output)
        return InProcessInvoker(self.handler, self.function)

    def _invoker(self) -> Invoker:
        """This poller's execution environment (one per thread: never shared)."""
        invoker: Invoker | None = getattr(self._local, "invoker", None)
        if invoker is None:
            invoker = self._new_invoker()
            self._local.invoker = invoker
            with self._lock:
                self._invokers.append(invoker)
        return invoker

    # -- lifecycle ----------------------------------------------------------------------
    def start(self, warm: bool = False) -> SqsEventSource:
        """Start the pollers; with ``warm``, each worker's init phase (models) runs first."""
        self._stop.clear()
        ready = threading.Barrier(self.concurrency + 1) if warm else None
        for n in range(self.concurrency):
            thread = threading.Thread(target=self._poll_forever, args=(ready,), name=f"sqs-poller-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if ready is not None:
            ready.wait()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop polling: batches in flight get ``timeout_s`` to finish, then are handed back."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            log.warning("invocations still running after %.0f s: stopping their workers, their messages go back "
                        "to the queue", timeout_s)
            for invoker in list(self._invokers):
                if isinstance(invoker, ProcessInvoker):
                    invoker.kill()
            for thread in self._threads:
                thread.join(timeout=10)
        self._threads.clear()
        for invoker in list(self._invokers):
            invoker.close()
        self._invokers.clear()

    @property
    def worker_pids(self) -> list[int]:
        return [pid for invoker in list(self._invokers) if isinstance(invoker, ProcessInvoker)
                and (pid := invoker.pid) is not None]

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def run_until_idle(self, idle_s: float = 2.0, timeout_s: float = 300.0) -> RunnerStats:
        """Poll in this thread until the queue has given nothing for ``idle_s`` (tests, one-shots)."""
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            if self.poll_once():
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= idle_s:
                break
        return self.stats

    # -- polling ------------------------------------------------------------------------
    def _poll_forever(self, ready: threading.Barrier | None = None) -> None:
        if ready is not None:
            try:
                invoker = self._invoker()
                if isinstance(invoker, ProcessInvoker):
                    invoker.start()
            except Exception as error:
                log.error("worker init failed: %s", error)
            finally:
                ready.wait()
        backoff = 0.0
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as error:
                backoff = min(BACKOFF_MAX_S, backoff * 2 or 1.0)
                with self._lock:
                    self.stats.errors += 1
                    self.stats.last_error = f"poll: {type(error).__name__}: {error}"
                    if self._failing_since is None:
                        self._failing_since = time.monotonic()
                log.warning("cannot receive from %s (%s: %s); retrying in %.0f s", self.queue_url,
                            type(error).__name__, error, backoff)
                self._stop.wait(backoff)
                continue
            if backoff:
                backoff = 0.0
                with self._lock:
                    since, self._failing_since = self._failing_since, None
                if since is not None:
                    log.warning("receiving from %s again after %.0f s", self.queue_url, time.monotonic() - since)

    def poll_once(self) -> int:
        """Collect one batch and invoke the handler with it; returns the number of messages."""
        messages = self._collect()
        if not messages:
            return 0
        if self._stop.is_set() and self._threads:
            # Stopping while collecting: hand the messages straight back to the queue.
            self._change_visibility(messages, 0)
            return 0
        self._invoke(messages)
        return len(messages)

    def _collect(self) -> list[MessageTypeDef]:
        messages: list[MessageTypeDef] = []
        window_ends = 0.0  # set when the first messages arrive
        while len(messages) < self.batch_size:
            if self._stop.is_set() and self._threads:
                break
            if messages:
                if not self.window_s:
                    break
                remaining = window_ends - time.monotonic()
                if remaining <= 0:
                    break
                wait = min(20, math.ceil(remaining))
            else:
                wait = self.idle_wait_s
            with self._receive_lock:
                response = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                    WaitTimeSeconds=wait,
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            received = response.get("Messages", [])
            if received and not messages:
                window_ends = time.monotonic() + self.window_s
            messages.extend(received)
            if not received and not messages:
                break  # idle: let the caller check for stop
        return messages

    def _invoke(self, messages: list[MessageTypeDef]) -> None:
        event = {"Records": [self._record(m) for m in messages]}
        ids = [m["MessageId"] for m in messages]
        started = time.monotonic()
        result = self._invoker().invoke(event)
        error = result.error
        failed = list(ids) if error is not None else self._failed_ids(result.response, ids)
        duration = time.monotonic() - started
        if duration > self.function_timeout_s and error is None:
            error = f"invocation took {duration:.1f} s, over the function timeout ({self.function_timeout_s:.0f} s)"
            failed = list(ids)
        if error is not None:
            log.warning("invocation %s failed: %s; its %d messages return to the queue", result.request_id,
                        error, len(ids))
        failed_set = set(failed)
        succeeded = [m for m in messages if m["MessageId"] not in failed_set]
        self._delete(succeeded)
        retry_delay = 0 if self._stop.is_set() and error is not None else self.retry_delay_s
        if failed_set and retry_delay is not None:
            self._change_visibility([m for m in messages if m["MessageId"] in failed_set], retry_delay)
        now_ms = time.time() * 1000
        latencies = [
            max(0.0, (now_ms - int(m.get("Attributes", {}).get("SentTimestamp", now_ms))) / 1000) for m in succeeded
        ]
        with self._lock:
            self.stats.invocations += 1
            self.stats.messages += len(messages)
            self.stats.succeeded += len(succeeded)
            self.stats.failed += len(failed_set)
            self.stats.latencies_s.extend(latencies)
            if error:
                self.stats.errors += 1
                self.stats.last_error = error
        if self.on_invocation:
            self.on_invocation(Invocation(len(messages), sorted(failed_set), duration, error, latencies))

    def _failed_ids(self, response: object, ids: list[str]) -> list[str]:
        if not self.report_batch_item_failures:
            return []
        if response is None:
            return []
        if not isinstance(response, dict):
            return list(ids)  # Lambda: an unparseable response fails the batch
        failures = response.get("batchItemFailures") or []
        failed: list[str] = []
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or identifier not in ids:
                return list(ids)  # Lambda: an invalid identifier fails the whole batch
            failed.append(identifier)
        return failed

    def _record(self, message: MessageTypeDef) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
                "SenderId": attributes.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
                "ApproximateFirstReceiveTimestamp": attributes.get(
                    "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
                ),
            },
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value.get("DataType", "String"),
                }
                for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }

    def _delete(self, messages: list[MessageTypeDef]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)],
            )

    def _change_visibility(self, messages: list[MessageTypeDef], seconds: int) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": seconds}
                    for n, m in enumerate(chunk)
                ],
            )


# The library function behind each function of template.yaml (functions/*/app.py re-export them).
HANDLERS = {
    "EnrichFunction": "ticketlens.handlers.enrich:lambda_handler",
    "GenerateFunction": "ticketlens.handlers.generate:lambda_handler",
    "IndexFunction": "ticketlens.handlers.index:lambda_handler",
}
# What a worker loads in its init phase, before its first invocation.
PRELOAD = {"EnrichFunction": "ticketlens.enrichment:get_enricher"}


def for_stack(
    stack: Stack,
    settings: Settings,
    *,
    handler: Handler | str | None = None,
    concurrency: int | None = None,
    retry_delay_s: int | None = None,
    idle_wait_s: int = 1,
    on_invocation: Callable[[Invocation], None] | None = None,
    function: str = "EnrichFunction",
    queue_url: str | None = None,
    output: str | None = None,
) -> SqsEventSource:
    """A runner configured from the template's event source mapping for ``function``.

    The handler defaults to the function's library handler, run in worker processes; the
    queue to the processing queue (the enrich function's).
    """
    from ..store import clients

    source = stack.event_source(function)
    sqs = clients(settings).sqs
    queue_url = queue_url or sqs.get_queue_url(QueueName=settings.queue_name)["QueueUrl"]
    visibility = int(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])
                     ["Attributes"].get("VisibilityTimeout", 30))
    if visibility < source.function_timeout_seconds:
        # Lambda refuses such a mapping: a message would come back while still being processed.
        log.warning("queue visibility timeout %d s is shorter than the function timeout %.0f s: messages may be "
                    "delivered again while still in flight (Lambda refuses this configuration)",
                    visibility, source.function_timeout_seconds)
    return SqsEventSource(
        sqs=sqs,
        queue_url=queue_url,
        handler=handler or HANDLERS[function],
        batch_size=source.batch_size,
        window_s=source.window_seconds,
        report_batch_item_failures=source.report_batch_item_failures,
        concurrency=concurrency or (1 if callable(handler) else source.max_concurrency),
        function_timeout_s=source.function_timeout_seconds,
        function_name=function,
        memory_mb=source.memory_mb,
        region=settings.region,
        retry_delay_s=retry_delay_s,
        idle_wait_s=idle_wait_s,
        on_invocation=on_invocation,
        preload=PRELOAD.get(function),
        output=output,
    )
