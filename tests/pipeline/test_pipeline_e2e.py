"""End to end on the emulator: S3 put -> S3 event -> SQS -> handler (real engine) -> DynamoDB + S3.

Nothing is shortcut: tickets are uploaded to the raw bucket, the bucket's notification puts
the S3 event on the queue, and the local event-source runner hands SQS batches to the same
handler Lambda runs.
"""

from __future__ import annotations

import json

import pytest
from emulator_fixtures import ON_BOTH_EMULATORS
from pipeline_helpers import DeliveryLog, run_runner_until, upload_generated

from ticketlens.generator import object_key
from ticketlens.handlers.enrich import lambda_handler
from ticketlens.local.commands import dead_letters
from ticketlens.schemas import EMBEDDING_DIM

pytestmark = [pytest.mark.slow, ON_BOTH_EMULATORS]


def test_every_uploaded_ticket_is_enriched_into_dynamodb_and_the_enriched_bucket(pipeline) -> None:
    # GIVEN 200 tickets uploaded to the raw bucket
    tickets = upload_generated(pipeline, 200, seed="e2e")
    store = pipeline.store
    log = DeliveryLog(lambda_handler)

    # WHEN the handler runs behind the SQS event source, as the template configures it
    runner = pipeline.runner(log)
    done = run_runner_until(runner, lambda: store.count_items() >= 200, timeout_s=150)

    # THEN every ticket has its metadata item and its full record
    assert done, f"only {store.count_items()} of 200 enriched; runner: {runner.stats}"
    assert runner.stats.failed == 0
    for ticket in tickets:
        item = store.get_item(ticket.ticket_id)
        assert item is not None, ticket.ticket_id
        assert "embedding" not in item
        assert item["urgency"] in {"critical", "high", "medium", "low"}
        assert item["sentiment"] in {"NEGATIVE", "NEUTRAL", "POSITIVE"}
        assert item["intent"] and item["summary"]
    enriched_keys = set(store.iter_keys(pipeline.settings.enriched_bucket, "tickets/"))
    assert {store.get_item(t.ticket_id)["s3_key"] for t in tickets} == enriched_keys
    record = store.get_ticket(tickets[0].ticket_id)
    assert len(record["enrichment"]["embedding"]) == EMBEDDING_DIM
    assert record["body"] == tickets[0].body

    # AND they came through S3 events on SQS, one delivery each, in batches of at most 10
    assert log.event_sources == {"aws:sqs", "aws:s3"}
    assert {k: n for k, n in log.deliveries.items() if n != 1} == {}
    assert all(log.deliveries[object_key(t)] == 1 for t in tickets)
    assert max(log.batch_sizes) <= pipeline.stack.event_source().batch_size


def test_a_malformed_ticket_ends_in_the_dlq_with_its_reason_and_nothing_else_is_retried(pipeline) -> None:
    # GIVEN good tickets, and two objects that are not valid tickets, among them
    good = upload_generated(pipeline, 20, seed="dlq", start=1_763_900_000)
    store = pipeline.store
    store.put_raw("tickets/2025/11/24/not-json.json", b'{"ticket_id": "X-1", "body": ')
    store.put_raw(
        "tickets/2025/11/24/no customer.json",
        json.dumps({"ticket_id": "X-2", "body": "help", "created_at": 1_763_900_000}),
    )
    log = DeliveryLog(lambda_handler)

    # WHEN the runner processes the queue (failed messages retried at once instead of after
    # the visibility timeout, to keep the test short)
    runner = pipeline.runner(log, retry_delay_s=0)
    moved = run_runner_until(
        runner, lambda: store.queue_depth(pipeline.settings.dlq_name)["visible"] >= 2, timeout_s=90
    )

    # THEN the good tickets are enriched
    assert moved, f"DLQ never got both rejects; deliveries {dict(log.deliveries)}"
    assert all(store.get_item(t.ticket_id) for t in good)

    # AND each bad object was tried maxReceiveCount times, then left in the DLQ with its reason
    max_receives = int(pipeline.stack.parameters["MaxReceiveCount"])
    assert log.deliveries["tickets/2025/11/24/not-json.json"] == max_receives
    assert log.deliveries["tickets/2025/11/24/no customer.json"] == max_receives
    letters = {row["object"]: row for row in dead_letters(store)}
    bucket = pipeline.settings.raw_bucket
    assert "not valid JSON" in letters[f"s3://{bucket}/tickets/2025/11/24/not-json.json"]["reason"]
    assert "customer_id" in letters[f"s3://{bucket}/tickets/2025/11/24/no customer.json"]["reason"]
    rejected = store.get_rejected("tickets/2025/11/24/no customer.json")
    assert rejected["raw"].startswith('{"ticket_id": "X-2"')

    # AND nothing else was retried
    assert all(log.deliveries[object_key(t)] == 1 for t in good)
    assert store.queue_depth(pipeline.settings.queue_name) == {"visible": 0, "in_flight": 0}
