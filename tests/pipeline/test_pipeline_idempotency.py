"""The same S3 event delivered twice is enriched once and written once.

Writes are counted by the emulator itself: S3 versioning on the enriched bucket counts
object writes, a DynamoDB stream on the metadata table counts item writes.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError
from emulator_fixtures import ON_BOTH_EMULATORS
from pipeline_helpers import (
    EngineSpy,
    count_writes,
    dynamodb_writes,
    run_runner_until,
    s3_writes,
    upload_generated,
    wait_for,
)

import ticketlens.handlers.enrich as enrich
from ticketlens import enrichment
from ticketlens.generator import object_key
from ticketlens.runner.context import LocalLambdaContext
from ticketlens.store import enriched_key

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def counted(pipeline) -> str:
    """GIVEN the enriched bucket versioned and the metadata table streaming its writes."""
    aws = pipeline.store.aws
    stream_arn = count_writes(pipeline)
    # LocalStack's stream (a kinesis mock behind it) drops writes for a moment after it is
    # enabled: count only once a probe item's write shows up (moto: at once). Each attempt
    # changes the item: a write that changes nothing makes no stream record.
    probe = {"ticket_id": {"S": "stream-probe"}, "created_at": {"N": "0"}}
    attempts = iter(range(1_000))

    def streaming() -> bool:
        aws.dynamodb.put_item(TableName=pipeline.settings.table_name,
                              Item={**probe, "attempt": {"N": str(next(attempts))}})
        try:
            return dynamodb_writes(pipeline, stream_arn, "stream-probe") > 0
        except ClientError as error:
            if "not currently ACTIVE" in str(error):  # LocalStack: the stream is still starting
                return False
            raise

    assert wait_for(streaming, timeout_s=30, every_s=0.5), "the table's stream never recorded a write"
    aws.dynamodb.delete_item(TableName=pipeline.settings.table_name, Key=probe)
    return stream_arn


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> EngineSpy:
    """The real engine behind a counter (the handler's seam onto the engine, not boto3)."""
    spy = EngineSpy(enrichment.get_enricher())
    monkeypatch.setattr(enrich, "_enricher", lambda: spy.enrich)
    return spy


def the_s3_event_message(pipeline, key: str) -> dict[str, Any]:
    """Take the real S3 event the upload put on the queue, as Lambda would receive it."""
    sqs = pipeline.store.aws.sqs
    url = pipeline.store.queue_url(pipeline.settings.queue_name)
    found = {}

    def receive() -> bool:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if key in unquote_plus(message["Body"]):  # moto encodes "/" as %2F, LocalStack does not
                found["message"] = message
        return "message" in found

    assert wait_for(receive, timeout_s=10, every_s=0)
    message = found["message"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1763856000000",
                       "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1763856000000"},
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{pipeline.settings.queue_name}",
        "awsRegion": "us-east-1",
    }


@ON_BOTH_EMULATORS
def test_an_event_delivered_twice_is_enriched_and_written_once(pipeline, counted, engine) -> None:
    # GIVEN one uploaded ticket and the S3 event its upload produced
    (ticket,) = upload_generated(pipeline, 1, seed="twice", start=1_764_000_000)
    record = the_s3_event_message(pipeline, object_key(ticket))

    # WHEN the event is delivered twice: in two invocations, then twice in one batch
    first = enrich.lambda_handler({"Records": [record]}, LocalLambdaContext())
    second = enrich.lambda_handler({"Records": [{**record, "messageId": "redelivery-1"}]}, LocalLambdaContext())
    both = copy.deepcopy([record, record])
    both[0]["messageId"], both[1]["messageId"] = "redelivery-2", "redelivery-3"
    third = enrich.lambda_handler({"Records": both}, LocalLambdaContext())

    # THEN every delivery succeeds, the engine saw the ticket once, and each store got one write
    assert first == second == third == {"batchItemFailures": []}
    assert engine.enriched[ticket.ticket_id] == 1
    assert s3_writes(pipeline, enriched_key_for(pipeline, ticket.ticket_id)) == 1
    assert dynamodb_writes(pipeline, counted, ticket.ticket_id) == 1


@ON_BOTH_EMULATORS
def test_a_duplicate_s3_event_on_the_queue_is_written_once(pipeline, counted, engine) -> None:
    # GIVEN a ticket whose S3 event reaches the queue twice (S3 delivers at least once)
    (ticket,) = upload_generated(pipeline, 1, seed="queue-twice", start=1_764_000_100)
    record = the_s3_event_message(pipeline, object_key(ticket))
    sqs = pipeline.store.aws.sqs
    url = pipeline.store.queue_url(pipeline.settings.queue_name)
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=record["body"])

    # WHEN the runner takes both deliveries (the handler in this process, where the spy counts)
    runner = pipeline.runner(enrich.lambda_handler)
    run_runner_until(runner, lambda: runner.stats.succeeded >= 2, timeout_s=30)

    # THEN one enrichment, one S3 write, one DynamoDB write
    assert runner.stats.failed == 0
    assert engine.enriched[ticket.ticket_id] == 1
    assert s3_writes(pipeline, enriched_key_for(pipeline, ticket.ticket_id)) == 1
    assert dynamodb_writes(pipeline, counted, ticket.ticket_id) == 1


@ON_BOTH_EMULATORS
def test_a_changed_object_under_the_same_key_is_enriched_again(pipeline, counted, engine) -> None:
    # GIVEN a ticket enriched once
    (ticket,) = upload_generated(pipeline, 1, seed="changed", start=1_764_000_200)
    record = the_s3_event_message(pipeline, object_key(ticket))
    enrich.lambda_handler({"Records": [record]}, LocalLambdaContext())

    # WHEN the producer uploads a corrected version under the same key (a new ETag)
    fixed = ticket.model_copy(update={"body": ticket.body + " Update: it happened again today."})
    pipeline.store.put_raw(object_key(ticket), fixed.model_dump_json(exclude_none=True))
    update = the_s3_event_message(pipeline, object_key(ticket))
    assert json.loads(update["body"]) != json.loads(record["body"])
    enrich.lambda_handler({"Records": [update]}, LocalLambdaContext())

    # THEN the new content is enriched and written: idempotency is per (bucket, key, etag)
    assert engine.enriched[ticket.ticket_id] == 2
    assert pipeline.store.get_ticket(ticket.ticket_id)["body"] == fixed.body


def enriched_key_for(pipeline, ticket_id: str) -> str:
    return pipeline.store.get_item(ticket_id)["s3_key"]


def test_enriched_key_layout() -> None:
    from ticketlens.schemas import EnrichedTicket

    ticket = EnrichedTicket.model_construct(ticket_id="TKT-1", created_at=1_763_856_000)
    assert enriched_key(ticket) == "tickets/2025/11/23/TKT-1.json"
