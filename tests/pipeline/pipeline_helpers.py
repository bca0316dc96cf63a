"""Test helpers for the pipeline suite (imported by path: tests/ has no packages)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from ticketlens.schemas import RawTicket


def upload_generated(pipeline: Any, count: int, seed: str, start: int = 1_763_856_000) -> list[RawTicket]:
    """Upload ``count`` generated tickets to the raw bucket, as producers would."""
    from ticketlens.generator import TicketFactory, object_key

    factory = TicketFactory(seed=seed)
    tickets = [factory.make(start + n) for n in range(count)]
    for ticket in tickets:
        pipeline.store.put_raw(object_key(ticket), ticket.model_dump_json(exclude_none=True))
    return tickets


def wait_for(condition: Callable[[], bool], timeout_s: float, every_s: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every_s)
    return condition()


def run_runner_until(runner: Any, condition: Callable[[], bool], timeout_s: float = 120.0) -> bool:
    """Start the runner's pollers, wait for ``condition``, stop them (in-flight batches finish)."""
    runner.start()
    try:
        return wait_for(condition, timeout_s)
    finally:
        runner.stop()


class DeliveryLog:
    """Wraps a handler and records which S3 objects (decoded keys) each delivery carried."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], Any]) -> None:
        self.handler = handler
        self.deliveries: Counter[str] = Counter()
        self.batch_sizes: list[int] = []
        self.event_sources: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._lock:
            self.batch_sizes.append(len(event["Records"]))
            for record in event["Records"]:
                self.event_sources.add(record["eventSource"])
                body = json.loads(record["body"])
                for s3_record in body.get("Records", []):
                    self.event_sources.add(s3_record["eventSource"])
                    self.deliveries[unquote_plus(s3_record["s3"]["object"]["key"])] += 1
        return self.handler(event, context)


class EngineSpy:
    """The real engine, counting which tickets it was asked to enrich."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.enriched: Counter[str] = Counter()
        self.calls = 0
        self._lock = threading.Lock()

    def enrich(self, tickets: Any, traffic: Any = None) -> Any:
        with self._lock:
            self.calls += 1
            self.enriched.update(t.ticket_id for t in tickets)
        return self.engine.enrich(tickets, traffic)


# --- counting writes: S3 versions and DynamoDB stream records ---------------------------
def count_writes(pipeline: Any) -> str:
    """Version the enriched bucket and stream the metadata table's writes; returns the stream ARN."""
    aws = pipeline.store.aws
    aws.s3.put_bucket_versioning(
        Bucket=pipeline.settings.enriched_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    table = aws.dynamodb.update_table(
        TableName=pipeline.settings.table_name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    return str(table["TableDescription"]["LatestStreamArn"])


def s3_writes(pipeline, key: str) -> int:
    versions = pipeline.store.aws.s3.list_object_versions(Bucket=pipeline.settings.enriched_bucket, Prefix=key)
    return len([v for v in versions.get("Versions", []) if v["Key"] == key])


def dynamodb_writes(pipeline, stream_arn: str, ticket_id: str) -> int:
    import boto3

    client = boto3.client(
        "dynamodbstreams", endpoint_url=pipeline.endpoint, region_name=pipeline.settings.region
    )
    writes = 0
    for shard in client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = client.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in client.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
            if record["dynamodb"]["Keys"]["ticket_id"]["S"] == ticket_id:
                writes += 1
    return writes


# --- handlers for the runner's worker processes (imported there by path) -----------------
def timed_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Sleeps as long as each body says ("sleep:0.5"), appends (pid, start, end) to $RUNNER_TEST_LOG.

    A body "exit" kills the worker mid-invocation, as a crash would.
    """
    import os

    started = time.time()
    for record in event["Records"]:
        body = record["body"]
        if body == "exit":
            os._exit(3)
        if body.startswith("sleep:"):
            time.sleep(float(body.split(":", 1)[1]))
    with open(os.environ["RUNNER_TEST_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"pid": os.getpid(), "start": started, "end": time.time(),
                              "bodies": [r["body"] for r in event["Records"]],
                              "remaining_ms": context.get_remaining_time_in_millis()}) + "\n")
    return {"batchItemFailures": []}


def read_timed_log(path: Any) -> list[dict[str, Any]]:
    from pathlib import Path

    file = Path(path)
    return [json.loads(line) for line in file.read_text().splitlines()] if file.exists() else []
