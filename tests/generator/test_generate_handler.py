"""GenerateFunction, invoked as Lambda would with the scheduled-event sample, against the emulator."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from ticketlens.schemas import RawTicket, parse_ticket

EVENT = Path(__file__).resolve().parents[2] / "events" / "scheduled.json"


@dataclass
class FakeContext:
    function_name: str = "GenerateFunction"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:GenerateFunction"
    aws_request_id: str = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def raw_bucket(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """GIVEN a fresh raw bucket on the emulator, named to the handler through the environment."""
    from ticketlens.settings import get_settings

    bucket = f"raw-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=aws_env, region_name="us-east-1").create_bucket(Bucket=bucket)
    monkeypatch.setenv("TICKETLENS_RAW_BUCKET", bucket)
    monkeypatch.setenv("TICKETLENS_GENERATE_COUNT", "4")
    get_settings.cache_clear()
    return bucket


def _objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


@pytest.fixture
def generate_logs() -> Iterator[io.StringIO]:
    """The generate handler's log stream, captured (its logger keeps the stdout of import time,
    which may be another test's capture)."""
    from conftest import captured_logs

    from ticketlens.handlers import generate

    with captured_logs(generate.logger) as stream:
        yield stream


def test_scheduled_event_writes_n_raw_tickets_dated_by_the_event(
    raw_bucket: str, aws_env: str, capsys: pytest.CaptureFixture[str], generate_logs: io.StringIO
) -> None:
    from ticketlens.handlers.generate import lambda_handler as handler

    event = json.loads(EVENT.read_text())
    # WHEN the handler runs on the sample scheduled event
    result = handler(event, FakeContext())
    # THEN TICKETLENS_GENERATE_COUNT tickets are in the bucket, dated by the event, each a valid RawTicket
    objects = _objects(aws_env, raw_bucket)
    assert result["written"] == 4 and len(objects) == 4
    for key, body in objects.items():
        ticket = parse_ticket(body, where=key)
        assert isinstance(ticket, RawTicket)
        assert ticket.created_at == 1_763_888_400  # 2025-11-23T09:00:00Z, the event's time
        assert key == f"tickets/2025/11/23/{ticket.ticket_id}.json"
        assert ticket.metadata.labels
    # AND logs are structured JSON without ticket text, and a TicketsGenerated metric is emitted as EMF
    out = capsys.readouterr().out + generate_logs.getvalue()
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(r.get("message") == "tickets generated" and r.get("count") == 4 for r in records)
    emf = [r for r in records if "_aws" in r]
    assert len(emf) == 1 and emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ticketlens"
    assert emf[0]["TicketsGenerated"] == [4.0]
    bodies = [json.loads(b)["body"] for b in objects.values()]
    assert not any(body[:40] in out for body in bodies)


def test_a_retried_delivery_rewrites_the_same_tickets(raw_bucket: str, aws_env: str) -> None:
    from ticketlens.handlers.generate import lambda_handler as handler

    # GIVEN the same scheduled event delivered twice (EventBridge retries asynchronous invokes)
    event = json.loads(EVENT.read_text())
    handler(event, FakeContext())
    first = _objects(aws_env, raw_bucket)
    handler(event, FakeContext())
    # THEN the bucket holds the same objects, not duplicates
    assert _objects(aws_env, raw_bucket) == first


def test_count_follows_the_template_variable_at_each_invocation(
    raw_bucket: str, aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticketlens.handlers.generate import lambda_handler

    # GIVEN the count template.yaml passes, changed between two ticks (as the local demo does)
    event = json.loads(EVENT.read_text())
    monkeypatch.setenv("TICKETLENS_GENERATE_COUNT", "1")
    first = lambda_handler({**event, "id": "tick-1"}, FakeContext())
    monkeypatch.setenv("TICKETLENS_GENERATE_COUNT", "2")
    second = lambda_handler({**event, "id": "tick-2"}, FakeContext())
    # THEN each tick writes its own count, and distinct event ids give distinct tickets
    assert (first["written"], second["written"]) == (1, 2)
    assert len(_objects(aws_env, raw_bucket)) == 3
