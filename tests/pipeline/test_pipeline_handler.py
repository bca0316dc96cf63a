"""The handlers invoked directly with real-shaped events (tests/pipeline/fixtures/), against
the emulator: what `ticketlens invoke` and `sam local invoke` do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import captured_logs
from pipeline_helpers import run_runner_until

from ticketlens.handlers import enrich
from ticketlens.handlers.enrich import ObjectRef, parse_s3_event
from ticketlens.runner.context import LocalLambdaContext

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
GOOD_ID, TEST_EVENT_ID, ODD_KEY_ID, BROKEN_ID = (
    "059f36b4-87a3-44ab-83d2-661975830a7d",
    "2e1424d4-f796-459a-8184-9c92662be6da",
    "8ba0a1c5-4e5f-4a1d-9f0c-3e8b3b9a7c11",
    "c1a5e0f2-6b7d-4c8e-9f01-23456789abcd",
)
PRIVATE = "Reach me at jane.doe@example.com, card ending 4242, my flight leaves at 6."


def sqs_batch(bucket: str) -> dict[str, Any]:
    """The fixture event, pointed at this test's raw bucket."""
    text = (FIXTURES / "sqs_batch_event.json").read_text()
    return json.loads(text.replace("tickets-raw", bucket))


def emitted(stdout: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The handler's JSON log lines and EMF metric documents."""
    logs, metrics = [], []
    for line in stdout.splitlines():
        if line.startswith("{"):
            doc = json.loads(line)
            (metrics if "_aws" in doc else logs).append(doc)
    return logs, metrics


def test_parse_s3_event_decodes_keys_and_skips_the_test_event() -> None:
    event = sqs_batch("tickets-raw")
    bodies = {r["messageId"]: r["body"] for r in event["Records"]}
    assert parse_s3_event(bodies[ODD_KEY_ID]) == [
        ObjectRef("tickets-raw", "inbox/from+web/TKT 1003 (copy).json", "9e107d9d372bb6826bd81d3542a419d6")
    ]
    assert parse_s3_event(bodies[TEST_EVENT_ID]) == []


@pytest.fixture
def handler_logs() -> Any:
    """The enrich handler's log stream, captured (its handler holds the stdout of import time)."""
    with captured_logs(enrich.logger) as stream:
        yield stream


def test_sqs_batch_event_enriches_good_records_and_settles_the_bad_one_as_a_reject(
    pipeline, capsys, handler_logs
) -> None:
    # GIVEN the objects the fixture's S3 events announce, one of them not a valid ticket
    store = pipeline.store
    samples = [json.loads(line) for line in Path("samples/tickets.jsonl").read_text().splitlines()[:3]]
    first, third = samples[0], {**samples[2], "body": samples[2]["body"] + " " + PRIVATE}
    store.put_raw("tickets/2025/11/23/TKT-1001.json", json.dumps(first))
    store.put_raw("inbox/from+web/TKT 1003 (copy).json", json.dumps(third))
    store.put_raw("tickets/2025/11/23/broken.json", b'{"ticket_id": "B"')
    capsys.readouterr()

    # WHEN the handler is invoked with the real-shaped SQS batch event and a Lambda-like context
    response = enrich.lambda_handler(sqs_batch(pipeline.settings.raw_bucket), LocalLambdaContext())

    # THEN no message is reported failed: the broken object is a deterministic reject, recorded
    # and acknowledged on its first delivery (a retry would give the same answer)
    assert response == {"batchItemFailures": []}
    assert store.get_item(first["ticket_id"])["s3_key"] == "tickets/2025/11/23/TKT-1001.json"
    assert store.get_ticket(third["ticket_id"])["body"] == third["body"]
    reject = store.get_rejected("tickets/2025/11/23/broken.json")
    assert reject["reason"].startswith("not valid JSON")
    assert reject["where"] == f"s3://{pipeline.settings.raw_bucket}/tickets/2025/11/23/broken.json"
    assert reject["raw"] == '{"ticket_id": "B"' and reject["recorded_at"]

    # AND the logs are structured JSON without ticket bodies or email addresses
    logs, _ = emitted(handler_logs.getvalue())
    _, metrics = emitted(capsys.readouterr().out)
    assert {"ticket enriched", "ticket rejected", "batch done"} <= {line["message"] for line in logs}
    everything = json.dumps(logs)
    assert "jane.doe@example.com" not in everything and first["body"][:40] not in everything
    assert all(line["service"] == "ticketlens-enrich" for line in logs)

    # AND EMF metrics count tickets and time each stage (a cold start is a document of its own)
    (document,) = [doc for doc in metrics if "TicketsProcessed" in doc]
    names = {m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"TicketsProcessed", "TicketsRejected", "FetchLatency", "EnrichLatency", "StoreLatency"} <= names
    counted = document["TicketsProcessed"]
    assert sum(counted if isinstance(counted, list) else [counted]) == 2
    assert document["TicketsRejected"] in (1.0, [1.0])


def test_a_message_that_is_not_an_s3_event_is_recorded_and_not_retried(pipeline) -> None:
    # GIVEN a batch with a good S3 event and a message that is not an S3 event at all
    event = sqs_batch(pipeline.settings.raw_bucket)
    good = event["Records"][0]
    junk = {**good, "messageId": "not-s3", "body": "hello"}
    # WHEN the handler takes the batch
    response = enrich.lambda_handler({"Records": [good, junk]}, LocalLambdaContext())
    # THEN nothing is retried, and the junk message is kept with its reason among the rejects
    assert response == {"batchItemFailures": []}
    (junk_reject,) = [r for r in pipeline.store.rejects(limit=100) if r["where"] == "sqs message not-s3"]
    assert junk_reject["reason"].startswith("message body is not JSON") and junk_reject["raw"] == "hello"


def test_scheduled_event_writes_tickets_that_flow_through_the_pipeline(pipeline, monkeypatch) -> None:
    # GIVEN EventBridge's scheduled event (fixture) and the template's generator settings
    from ticketlens.handlers.generate import lambda_handler as generate

    event = json.loads((FIXTURES / "scheduled_event.json").read_text())
    monkeypatch.setenv("TICKETLENS_GENERATE_COUNT", "3")
    store = pipeline.store
    before = store.count_items()

    # WHEN the generator handler runs for that tick
    response = generate(event, LocalLambdaContext(function_name="GenerateFunction"))

    # THEN three tickets dated at the tick are in the raw bucket ...
    assert response["written"] == 3
    keys = list(store.iter_keys(pipeline.settings.raw_bucket, "tickets/2025/11/23/TKT-"))
    generated = [json.loads(store.get_raw(pipeline.settings.raw_bucket, key).body) for key in keys]
    tick = [t for t in generated if t["created_at"] == response["created_at"]]
    assert len(tick) == 3 and response["created_at"] == 1_763_890_200  # 2025-11-23T09:30:00Z

    # ... and their S3 events carry them through enrichment
    runner = pipeline.runner()
    assert run_runner_until(runner, lambda: store.count_items() >= before + 3, timeout_s=30)
    assert all(store.get_item(t["ticket_id"]) for t in tick)


def test_each_stored_ticket_adds_its_disagreement_to_the_deployments_traffic(pipeline) -> None:
    # GIVEN two tickets of today (the traffic is the last week's) announced to the handler
    import time
    import uuid
    from urllib.parse import quote

    from ticketlens.schemas import traffic_units

    store = pipeline.store
    samples = [json.loads(line) for line in Path("samples/tickets.jsonl").read_text().splitlines()[:2]]
    tickets = [{**s, "ticket_id": f"TR-{uuid.uuid4().hex[:8]}", "created_at": int(time.time())} for s in samples]
    keys = [f"traffic/{t['ticket_id']}.json" for t in tickets]
    for key, ticket in zip(keys, tickets, strict=True):
        store.put_raw(key, json.dumps(ticket))
    event = sqs_batch(pipeline.settings.raw_bucket)
    event["Records"] = [
        {**event["Records"][0], "messageId": f"m-{key}",
         "body": event["Records"][0]["body"].replace("tickets%2F2025%2F11%2F23%2FTKT-1001.json", quote(key, safe=""))}
        for key in keys
    ]
    before = store.traffic()

    # WHEN the handler stores them
    assert enrich.lambda_handler(event, LocalLambdaContext()) == {"batchItemFailures": []}

    # THEN each record carries how much the heads' members disagreed on it
    items = [store.get_item(t["ticket_id"]) for t in tickets]
    assert all(0 <= float(item["intent_disagreement"]) <= 1 for item in items)
    # AND the counts table sums exactly those, in the same transaction as the ticket
    after = store.traffic()
    assert after["intent"].n - before["intent"].n == 2
    assert after["intent"].units - before["intent"].units == sum(
        traffic_units(float(item["intent_disagreement"])) for item in items)
    # (the packaged sentiment head is stored as one network: no disagreement, no traffic)
    assert after["sentiment"] == before["sentiment"]
    # AND the next batch's enricher is handed that traffic (a fresh container reads it at once)
    enrich.reset_runtime()
    assert enrich.runtime().traffic() == after
