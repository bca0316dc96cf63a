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
from ticketlens.ops.commands import dead_letters
from ticketlens.schemas import EMBEDDING_DIM

pytestmark = [pytest.mark.slow, ON_BOTH_EMULATORS]


def test_every_uploaded_ticket_is_enriched_into_dynamodb_and_the_enriched_bucket(pipeline) -> None:
    # GIVEN 200 tickets uploaded to the raw bucket (beside whatever other tests left there)
    store = pipeline.store
    before = store.count_items()
    tickets = upload_generated(pipeline, 200, seed="e2e")
    log = DeliveryLog(lambda_handler)

    # WHEN the handler runs behind the SQS event source, as the template configures it
    runner = pipeline.runner(log)
    done = run_runner_until(runner, lambda: store.count_items() >= before + 200, timeout_s=150)

    # THEN every ticket has its metadata item and its full record
    assert done, f"only {store.count_items() - before} of 200 enriched; runner: {runner.stats}"
    assert runner.stats.failed == 0
    for ticket in tickets:
        item = store.get_item(ticket.ticket_id)
        assert item is not None, ticket.ticket_id
        assert "embedding" not in item
        assert item["urgency"] in {"critical", "high", "medium", "low"}
        assert item["sentiment"] in {"NEGATIVE", "NEUTRAL", "POSITIVE"}
        assert item["intent"] and item["summary"]
    enriched_keys = set(store.iter_keys(pipeline.settings.enriched_bucket, "tickets/"))
    assert {store.get_item(t.ticket_id)["s3_key"] for t in tickets} <= enriched_keys
    record = store.get_ticket(tickets[0].ticket_id)
    assert len(record["enrichment"]["embedding"]) == EMBEDDING_DIM
    assert record["body"] == tickets[0].body

    # AND they came through S3 events on SQS, one delivery each, in batches of at most 10
    assert log.event_sources == {"aws:sqs", "aws:s3"}
    assert {k: n for k, n in log.deliveries.items() if n != 1} == {}
    assert all(log.deliveries[object_key(t)] == 1 for t in tickets)
    assert max(log.batch_sizes) <= pipeline.stack.event_source().batch_size


def test_malformed_tickets_are_rejected_on_their_first_delivery_and_never_reach_the_dlq(pipeline) -> None:
    # GIVEN good tickets, and two objects that are not valid tickets, among them
    good = upload_generated(pipeline, 20, seed="dlq", start=1_763_900_000)
    store = pipeline.store
    store.put_raw("tickets/2025/11/24/not-json.json", b'{"ticket_id": "X-1", "body": ')
    store.put_raw(
        "tickets/2025/11/24/no customer.json",
        json.dumps({"ticket_id": "X-2", "body": "help", "created_at": 1_763_900_000}),
    )
    log = DeliveryLog(lambda_handler)
    bad = ["tickets/2025/11/24/not-json.json", "tickets/2025/11/24/no customer.json"]

    # WHEN the runner processes the queue
    runner = pipeline.runner(log, retry_delay_s=0)
    settled = run_runner_until(
        runner, lambda: all(log.deliveries[key] for key in bad) and all(store.get_item(t.ticket_id) for t in good),
        timeout_s=90,
    )

    # THEN the good tickets are enriched
    assert settled, f"deliveries {dict(log.deliveries)}"

    # AND each bad object was delivered once: its reason recorded, its message acknowledged
    assert [log.deliveries[key] for key in bad] == [1, 1]
    assert "not valid JSON" in store.get_rejected(bad[0])["reason"]
    rejected = store.get_rejected(bad[1])
    assert "customer_id" in rejected["reason"]
    assert rejected["raw"].startswith('{"ticket_id": "X-2"')
    assert {r["where"] for r in store.rejects(limit=100)} >= {f"s3://{pipeline.settings.raw_bucket}/{k}" for k in bad}

    # AND the dead-letter queue holds none of them, and nothing else was retried
    assert dead_letters(store) == []
    assert all(log.deliveries[object_key(t)] == 1 for t in good)
    assert store.queue_depth(pipeline.settings.queue_name) == {"visible": 0, "in_flight": 0}
