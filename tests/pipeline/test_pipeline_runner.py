"""The local SQS event-source runner behaves like Lambda's: batches, windows, partial batch
responses, whole-batch failures, redrive to the DLQ. A trivial handler on a plain queue."""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
import uuid
from typing import Any

import boto3
import pytest
from pipeline_helpers import read_timed_log, wait_for

from ticketlens.runner.sqs import SqsEventSource


@pytest.fixture
def queues(aws_env: str) -> dict[str, Any]:
    """GIVEN a queue whose messages go to a DLQ after 2 receives."""
    sqs = boto3.client("sqs", endpoint_url=aws_env, region_name="us-east-1")
    name = f"runner-{uuid.uuid4().hex[:8]}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
        },
    )["QueueUrl"]
    return {"sqs": sqs, "url": url, "dlq": dlq}


def send(queues: dict[str, Any], bodies: list[str]) -> None:
    for body in bodies:
        queues["sqs"].send_message(QueueUrl=queues["url"], MessageBody=body)


def depth(queues: dict[str, Any], which: str = "url") -> int:
    attributes = queues["sqs"].get_queue_attributes(
        QueueUrl=queues[which], AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


class Recorder:
    def __init__(self, fail: set[str] | None = None, response: Any = None, raise_for: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail or set()
        self.response = response
        self.raise_for = raise_for
        self.contexts: list[Any] = []
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        bodies = [r["body"] for r in event["Records"]]
        with self._lock:
            self.batches.append(bodies)
            self.contexts.append(context)
        assert all(r["eventSource"] == "aws:sqs" and r["eventSourceARN"].startswith("arn:aws:sqs:")
                   for r in event["Records"])
        if self.raise_for in bodies:
            raise RuntimeError("boom")
        if self.response is not None:
            return self.response
        failed = [r["messageId"] for r in event["Records"] if r["body"] in self.fail]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

    def deliveries(self, body: str) -> int:
        return sum(batch.count(body) for batch in self.batches)


def runner(queues: dict[str, Any], handler: Any, **kwargs: Any) -> SqsEventSource:
    kwargs.setdefault("retry_delay_s", 0)
    return SqsEventSource(sqs=queues["sqs"], queue_url=queues["url"], handler=handler, **kwargs)


def test_batches_are_at_most_batch_size_and_wait_for_the_window(queues) -> None:
    # GIVEN 7 messages and a batch size of 5 with a 1 s window
    send(queues, [f"m{n}" for n in range(7)])
    handler = Recorder()
    # WHEN the runner drains the queue
    stats = runner(queues, handler, batch_size=5, window_s=1.0).run_until_idle(idle_s=1.5, timeout_s=30)
    # THEN 5 then 2, every message delivered once and deleted
    assert sorted(len(b) for b in handler.batches) == [2, 5]
    assert stats.succeeded == 7 and stats.failed == 0
    assert depth(queues) == 0
    # AND the handler got a Lambda-like context
    assert handler.contexts[0].get_remaining_time_in_millis() > 0


def test_partial_batch_response_returns_only_failed_messages_then_redrives_them(queues) -> None:
    # GIVEN a handler that reports one message of the batch as failed, every time
    send(queues, ["ok-1", "bad", "ok-2"])
    handler = Recorder(fail={"bad"})
    # WHEN the runner drains the queue
    runner(queues, handler, batch_size=10).run_until_idle(idle_s=2, timeout_s=30)
    # THEN the good messages were delivered once, the bad one maxReceiveCount times, then moved to the DLQ
    assert handler.deliveries("ok-1") == handler.deliveries("ok-2") == 1
    assert handler.deliveries("bad") == 2
    assert wait_for(lambda: depth(queues, "dlq") == 1, timeout_s=5)
    assert depth(queues) == 0


@pytest.mark.parametrize(
    "handler",
    [
        Recorder(response={"batchItemFailures": [{"itemIdentifier": "no-such-message"}]}),
        Recorder(response="not a dict"),
        Recorder(raise_for="m0"),
    ],
    ids=["unknown identifier", "malformed response", "exception"],
)
def test_an_invalid_response_or_an_error_fails_the_whole_batch(queues, handler) -> None:
    # GIVEN two messages in one batch and a handler that errs or answers nonsense
    send(queues, ["m0", "m1"])
    # WHEN one invocation happens
    source = runner(queues, handler, batch_size=10, window_s=1.0)
    source.poll_once()
    # THEN both messages are failed, as Lambda would treat it
    assert source.stats.failed == 2 and source.stats.succeeded == 0
    assert depth(queues) == 2


def test_without_report_batch_item_failures_a_response_is_ignored(queues) -> None:
    send(queues, ["m0"])
    handler = Recorder(fail={"m0"})
    source = runner(queues, handler, report_batch_item_failures=False)
    source.poll_once()
    assert source.stats.succeeded == 1 and depth(queues) == 0


def test_failed_messages_wait_out_the_visibility_timeout_by_default(queues) -> None:
    # GIVEN a failed message and no local retry shortcut (Lambda's behaviour)
    send(queues, ["bad"])
    handler = Recorder(fail={"bad"})
    source = runner(queues, handler, retry_delay_s=None)
    source.poll_once()
    # THEN it stays in flight, invisible for the queue's visibility timeout
    assert source.poll_once() == 0
    assert handler.deliveries("bad") == 1 and depth(queues) == 1


def test_concurrent_invocations_run_in_worker_processes_of_their_own(queues, tmp_path, monkeypatch) -> None:
    # GIVEN a slow handler named by import path and two pollers (MaximumConcurrency = 2)
    monkeypatch.setenv("RUNNER_TEST_LOG", str(tmp_path / "log.jsonl"))
    send(queues, ["sleep:0.5"] * 4)
    source = runner(queues, "pipeline_helpers:timed_handler", batch_size=1, concurrency=2).start(warm=True)
    try:
        # WHEN the four messages are processed
        assert wait_for(lambda: source.stats.succeeded == 4, timeout_s=30)
        pids = source.worker_pids
    finally:
        source.stop()
    # THEN each poller invoked in its own process, never in this one, and invocations overlapped
    calls = read_timed_log(tmp_path / "log.jsonl")
    assert len(calls) == 4 and len(set(pids)) == 2
    assert {c["pid"] for c in calls} <= set(pids) and os.getpid() not in {c["pid"] for c in calls}
    spans = sorted((c["start"], c["end"]) for c in calls)
    assert any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans))
    # AND each invocation saw a context with the function's timeout counting down
    assert all(0 < c["remaining_ms"] <= 60_000 for c in calls)
    # AND the workers are gone once the runner stopped
    assert source.worker_pids == []


def test_a_callable_handler_cannot_run_concurrently_in_this_process(queues) -> None:
    with pytest.raises(ValueError, match="import path"):
        runner(queues, Recorder(), concurrency=2)


def test_an_invocation_over_the_timeout_is_killed_and_the_next_one_gets_a_fresh_worker(queues, tmp_path,
                                                                                         monkeypatch) -> None:
    # GIVEN a function timeout of 1 s and a message that takes 30 s
    monkeypatch.setenv("RUNNER_TEST_LOG", str(tmp_path / "log.jsonl"))
    send(queues, ["sleep:30"])
    source = runner(queues, "pipeline_helpers:timed_handler", function_timeout_s=1, retry_delay_s=None)
    started = time.monotonic()
    # WHEN it is invoked
    source.poll_once()
    # THEN the invocation is stopped at the timeout, as Lambda does, and the batch fails
    assert time.monotonic() - started < 10
    assert source.stats.failed == 1 and "timed out" in (source.stats.last_error or "")
    # AND the next message gets a new execution environment that works
    send(queues, ["quick"])
    assert source.poll_once() == 1 and source.stats.succeeded == 1
    source.stop()


def test_a_worker_that_dies_mid_invocation_fails_its_batch_and_is_replaced(queues, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RUNNER_TEST_LOG", str(tmp_path / "log.jsonl"))
    send(queues, ["exit"])
    source = runner(queues, "pipeline_helpers:timed_handler")
    source.poll_once()
    assert source.stats.failed == 1 and "worker died" in (source.stats.last_error or "")
    send(queues, ["quick"])
    assert wait_for(lambda: source.poll_once() == 1 or source.stats.succeeded >= 1, timeout_s=10)
    assert source.stats.succeeded >= 1
    source.stop()


def test_stopping_hands_back_a_batch_that_cannot_finish(queues, tmp_path, monkeypatch) -> None:
    # GIVEN a running invocation that would take 30 s
    monkeypatch.setenv("RUNNER_TEST_LOG", str(tmp_path / "log.jsonl"))
    send(queues, ["sleep:30"])
    source = runner(queues, "pipeline_helpers:timed_handler", retry_delay_s=None).start(warm=True)
    assert wait_for(lambda: depth(queues) == 1 and source.stats.invocations == 0 and _in_flight(queues) == 1,
                    timeout_s=10)
    # WHEN the runner is stopped with a 1 s grace period
    source.stop(timeout_s=1)
    # THEN the message is visible again at once for another consumer, not after its visibility timeout
    assert wait_for(lambda: _visible(queues) == 1, timeout_s=5)


def _in_flight(queues: dict[str, Any]) -> int:
    return int(queues["sqs"].get_queue_attributes(QueueUrl=queues["url"], AttributeNames=[
        "ApproximateNumberOfMessagesNotVisible"])["Attributes"]["ApproximateNumberOfMessagesNotVisible"])


def _visible(queues: dict[str, Any]) -> int:
    return int(queues["sqs"].get_queue_attributes(QueueUrl=queues["url"], AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
