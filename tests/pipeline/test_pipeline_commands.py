"""The CLI against the emulator with the seed's resource names: setup, seed, invoke, the
`ticket-processor` worker, status, show, clean (the seed's Makefile targets and helpers)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import deploy_pipeline, pipeline_env
from emulator_fixtures import ON_BOTH_EMULATORS
from pipeline_helpers import run_runner_until, upload_generated, wait_for

from ticketlens.cli import main
from ticketlens.schemas import EMBEDDING_DIM

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = [json.loads(line) for line in (ROOT / "samples" / "tickets.jsonl").read_text().splitlines() if line]


def run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def as_json(capsys, *argv: str) -> Any:
    code, out = run(capsys, *argv, "--json")
    assert code == 0, out
    return json.loads(out)


@pytest.fixture(scope="module")
def seeded(pipeline_endpoint: str) -> Iterator[str]:
    """GIVEN `ticketlens setup` and `ticketlens seed` run against the emulator (the seed's names),
    and the seeded tickets enriched by the handler behind the template's event source."""
    from ticketlens.deploy.stack import describe
    from ticketlens.handlers.enrich import lambda_handler, reset_runtime
    from ticketlens.runner.sqs import for_stack
    from ticketlens.settings import get_settings
    from ticketlens.store import TicketStore

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        for name, value in {"AWS_ENDPOINT_URL": pipeline_endpoint, "AWS_ACCESS_KEY_ID": "testing",
                            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                            "AWS_DEFAULT_REGION": "us-east-1"}.items():
            mp.setenv(name, value)
        assert main(["setup"]) == 0
        assert main(["seed"]) == 0
        get_settings.cache_clear()
        reset_runtime()
        settings = get_settings()
        store = TicketStore(settings)
        runner = for_stack(describe(settings), settings, handler=lambda_handler, idle_wait_s=1)
        assert run_runner_until(runner, lambda: store.count_items() >= len(SAMPLES), timeout_s=60)
        yield pipeline_endpoint
    get_settings.cache_clear()
    reset_runtime()


@pytest.fixture
def own_stack(pipeline_endpoint: str) -> Iterator[Any]:
    """GIVEN template.yaml deployed under names of this test's own (nothing shared with others)."""
    yield from deploy_pipeline(pipeline_endpoint, uuid.uuid4().hex[:8])


def stack_env(stack: Any) -> dict[str, str]:
    """The environment that points ticketlens at this test's own stack."""
    return pipeline_env(stack.endpoint, stack.settings.stack_name.removeprefix("ticketlens-"))


@ON_BOTH_EMULATORS
def test_invoke_runs_the_handler_with_an_event_file(seeded, capsys) -> None:
    # WHEN the sample SQS event (two of the seeded tickets) is invoked in-process
    code, out = run(capsys, "invoke", "enrich", "--event", "events/sqs-s3-put.json")
    # THEN both are enriched, nothing failed
    assert code == 0 and json.loads(out) == {"batchItemFailures": []}
    assert as_json(capsys, "show", "ticket", "TKT-1002")["ticket_id"] == "TKT-1002"
    # AND the S3 test event is acknowledged
    code, out = run(capsys, "invoke", "enrich", "--event", "events/sqs-s3-test-event.json")
    assert code == 0 and json.loads(out) == {"batchItemFailures": []}


@ON_BOTH_EMULATORS
def test_ticket_processor_enriches_in_worker_processes_and_stops_cleanly(own_stack, capsys) -> None:
    # GIVEN tickets in the raw bucket of a stack of its own, and the worker as its console
    # script runs it, verbose, against the emulator
    tickets = upload_generated(own_stack, 12, seed="worker")
    env = {**os.environ, **stack_env(own_stack), "PYTHONUNBUFFERED": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "ticketlens.runner.processor", "--report-every", "1", "-v"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    store = own_stack.store
    try:
        # WHEN it has had time to drain the queue
        done = wait_for(lambda: store.count_items() >= len(tickets), timeout_s=90, every_s=1)
    finally:
        # THEN SIGTERM finishes the batches in flight and exits 0
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=60)
    assert done, output[-3000:]
    assert worker.returncode == 0, output[-3000:]
    assert f"polling {own_stack.settings.queue_name}" in output and "worker processes" in output
    assert "SIGTERM: finishing the batches in flight" in output
    # AND even with -v, the AWS SDK's request bodies (subjects, summaries) are not logged
    assert "botocore" not in output
    assert not [t.ticket_id for t in tickets if t.body[:40] in output]


@ON_BOTH_EMULATORS
def test_status_counts_queues_objects_and_items(seeded, capsys) -> None:
    status = as_json(capsys, "status")
    assert status["dlq"]["visible"] == 0
    assert status["raw_objects"] == status["enriched_objects"] == status["table_items"] == len(SAMPLES)
    code, out = run(capsys, "status")
    assert code == 0 and "dead-letter queue" in out


@ON_BOTH_EMULATORS
def test_show_urgent_is_critical_and_high_newest_first(seeded, capsys) -> None:
    urgent = as_json(capsys, "show", "urgent")
    everything = as_json(capsys, "show", "results", "--limit", "100")
    expected = [t for t in everything if t["urgency"] in ("critical", "high")]
    assert urgent == expected and urgent
    assert [t["created_at"] for t in everything] == sorted((t["created_at"] for t in everything), reverse=True)
    assert len(everything) == len(SAMPLES)


@ON_BOTH_EMULATORS
def test_show_sentiment_intent_and_results_limit(seeded, capsys) -> None:
    everything = as_json(capsys, "show", "results", "--limit", "100")
    for sentiment in ("NEGATIVE", "NEUTRAL", "POSITIVE"):
        shown = as_json(capsys, "show", "sentiment", sentiment.lower())
        assert {t["ticket_id"] for t in shown} == {t["ticket_id"] for t in everything if t["sentiment"] == sentiment}
    intent = everything[0]["intent"]
    assert {t["ticket_id"] for t in as_json(capsys, "show", "intent", intent)} == {
        t["ticket_id"] for t in everything if t["intent"] == intent
    }
    assert len(as_json(capsys, "show", "results", "--limit", "3")) == 3
    code, out = run(capsys, "show", "results", "--limit", "3")
    assert code == 0 and out.splitlines()[0].split()[:3] == ["TICKET_ID", "CREATED", "URGENCY"]


@ON_BOTH_EMULATORS
def test_show_ticket_reads_the_full_record_from_the_enriched_bucket(seeded, capsys) -> None:
    record = as_json(capsys, "show", "ticket", "TKT-1001")
    assert record["subject"] == SAMPLES[0]["subject"]
    assert len(record["enrichment"]["embedding"]) == EMBEDDING_DIM
    code, out = run(capsys, "show", "ticket", "TKT-1001")
    assert code == 0 and "[384 floats]" in out
    code, _ = run(capsys, "show", "ticket", "NO-SUCH-TICKET")
    assert code == 1


@ON_BOTH_EMULATORS
def test_invoke_generate_with_the_scheduled_event(own_stack, capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    for name, value in stack_env(own_stack).items():
        monkeypatch.setenv(name, value)
    code, out = run(capsys, "invoke", "generate", "--event", "events/scheduled.json")
    assert code == 0 and json.loads(out)["written"] == 5
    assert own_stack.store.count_objects(own_stack.settings.raw_bucket) == 5


@ON_BOTH_EMULATORS
def test_clean_empties_everything_on_an_emulator(own_stack, capsys, monkeypatch) -> None:
    # GIVEN a stack of its own with tickets in it, and a record waiting in its index queue
    upload_generated(own_stack, 3, seed="clean")
    for name, value in stack_env(own_stack).items():
        monkeypatch.setenv(name, value)
    assert as_json(capsys, "status")["raw_objects"] == 3
    sqs = own_stack.store.aws.sqs
    index_queue = sqs.get_queue_url(QueueName=f"{own_stack.settings.stack_name}-index")["QueueUrl"]
    sqs.send_message(QueueUrl=index_queue, MessageBody='{"Records": []}')
    # AND a counted minute in its counts table
    dynamodb, counts_table = own_stack.store.aws.dynamodb, own_stack.settings.counts_table
    dynamodb.update_item(TableName=counts_table, Key={"period": {"S": "minute"}, "bucket_start": {"N": "60"}},
                         UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}})
    # WHEN `clean` runs against the (loopback) emulator
    code, _ = run(capsys, "clean")
    # THEN everything is emptied, without a question: the index queue too, whose messages
    # would otherwise point the indexer at records that no longer exist
    status = as_json(capsys, "status")
    assert code == 0
    assert status["raw_objects"] == status["enriched_objects"] == status["table_items"] == 0
    assert status["queue"]["visible"] == 0
    waiting = sqs.get_queue_attributes(QueueUrl=index_queue, AttributeNames=["ApproximateNumberOfMessages"])
    assert waiting["Attributes"]["ApproximateNumberOfMessages"] == "0"
    # AND the charts start from zero again
    assert dynamodb.scan(TableName=counts_table, Select="COUNT")["Count"] == 0


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any HTTP request the AWS SDK tries is recorded and refused."""
    from botocore.httpsession import URLLib3Session

    attempts: list[str] = []

    def refuse(self: Any, request: Any) -> Any:
        attempts.append(request.url)
        raise AssertionError(f"a destructive command opened a connection to {request.url}")

    monkeypatch.setattr(URLLib3Session, "send", refuse)
    return attempts


@pytest.mark.parametrize("command", ["clean", "reset"])
@pytest.mark.parametrize("endpoint", [None, "http://10.1.2.3:4566"], ids=["AWS", "remote endpoint"])
def test_destructive_commands_refuse_anything_but_a_local_emulator(command, endpoint, capsys, monkeypatch,
                                                                    no_network) -> None:
    # GIVEN credentials that would work, and no emulator on this machine as the endpoint
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    args = [command] + (["--endpoint", endpoint] if endpoint else [])
    # WHEN the command runs without --allow-aws
    code = main(args)
    # THEN it refuses before opening any connection, and says what to do
    err = capsys.readouterr().err
    assert code == 2 and "refusing to" in err and "Nothing was touched" in err and "--allow-aws" in err
    assert no_network == []
    # AND with --allow-aws it lists what would go, and without a terminal or --yes still refuses
    code = main([*args, "--allow-aws"])
    err = capsys.readouterr().err
    assert code == 2 and "tickets-raw" in err and "tickets-metadata" in err and "pass --yes" in err
    assert no_network == []


@ON_BOTH_EMULATORS
def test_show_rejects_lists_what_was_not_a_ticket_with_the_reason(own_stack, capsys, monkeypatch) -> None:
    # GIVEN an object that is not a ticket, settled by the handler
    from ticketlens.handlers.enrich import lambda_handler

    own_stack.store.put_raw("inbox/broken.json", b"{not json")
    runner = own_stack.runner(lambda_handler)
    assert run_runner_until(runner, lambda: runner.stats.succeeded >= 1, timeout_s=30)
    for name, value in stack_env(own_stack).items():
        monkeypatch.setenv(name, value)
    # WHEN the rejects are shown
    (reject,) = as_json(capsys, "show", "rejects")
    # THEN the object, its reason and its size are there
    assert reject["where"] == f"s3://{own_stack.settings.raw_bucket}/inbox/broken.json"
    assert reject["reason"].startswith("not valid JSON") and reject["raw_size"] == 9
    code, out = run(capsys, "show", "rejects")
    assert code == 0 and "inbox/broken.json" in out and "not valid JSON" in out


@ON_BOTH_EMULATORS
def test_redrive_moves_dead_letters_back_and_they_are_processed(own_stack, capsys, monkeypatch) -> None:
    # GIVEN a good ticket whose S3 event sits in the dead-letter queue (it failed transiently before)
    from ticketlens.handlers.enrich import lambda_handler

    (ticket,) = upload_generated(own_stack, 1, seed="redrive")
    sqs, store = own_stack.store.aws.sqs, own_stack.store
    queue, dlq = store.queue_url(own_stack.settings.queue_name), store.queue_url(own_stack.settings.dlq_name)
    message = {}
    assert wait_for(lambda: bool(message.update(
        sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [{}])[0]) or message), timeout_s=10)
    sqs.send_message(QueueUrl=dlq, MessageBody=message["Body"])
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    for name, value in stack_env(own_stack).items():
        monkeypatch.setenv(name, value)
    assert len(as_json(capsys, "show", "dlq")) == 1
    # WHEN the DLQ is redriven
    code, out = run(capsys, "redrive")
    # THEN the message is back on the queue, the DLQ is empty, and the ticket gets enriched
    assert code == 0 and "moved 1 message(s)" in out
    assert store.queue_depth(own_stack.settings.dlq_name) == {"visible": 0, "in_flight": 0}
    runner = own_stack.runner(lambda_handler)
    assert run_runner_until(runner, lambda: store.get_item(ticket.ticket_id) is not None, timeout_s=30)


def test_commands_explain_an_unreachable_endpoint(capsys, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    code = main(["status"])
    assert code == 1
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err
