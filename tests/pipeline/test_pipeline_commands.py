"""The CLI against the emulator with the seed's resource names: setup, seed, invoke, the
`ticket-processor` worker, status, show, clean (the seed's Makefile targets and helpers)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from emulator_fixtures import ON_BOTH_EMULATORS
from pipeline_helpers import wait_for

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
def seeded(pipeline_endpoint: str) -> str:
    """GIVEN `ticketlens setup` and `ticketlens seed` run against the emulator (the seed's names)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        for name, value in {"AWS_ENDPOINT_URL": pipeline_endpoint, "AWS_ACCESS_KEY_ID": "testing",
                            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                            "AWS_DEFAULT_REGION": "us-east-1"}.items():
            mp.setenv(name, value)
        assert main(["setup"]) == 0
        assert main(["seed"]) == 0
        yield pipeline_endpoint
    from ticketlens.settings import get_settings

    get_settings.cache_clear()


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
def test_ticket_processor_worker_enriches_the_seeded_tickets_and_stops_cleanly(seeded, capsys) -> None:
    # GIVEN the worker as its console script would run it, against the emulator
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "ticketlens.local.worker", "--endpoint", seeded, "--report-every", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        # WHEN it has had time to drain the queue
        done = wait_for(lambda: as_json(capsys, "status")["table_items"] >= len(SAMPLES), timeout_s=90, every_s=1)
    finally:
        # THEN SIGTERM finishes the batches in flight and exits 0
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=60)
    assert done, output[-3000:]
    assert worker.returncode == 0, output[-3000:]
    assert "polling ticket-processing-queue" in output


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
def test_invoke_generate_with_the_scheduled_event(seeded, capsys) -> None:
    code, out = run(capsys, "invoke", "generate", "--event", "events/scheduled.json")
    assert code == 0 and json.loads(out)["written"] == 5


@ON_BOTH_EMULATORS
def test_clean_empties_everything(seeded, capsys) -> None:
    code, _ = run(capsys, "clean")
    status = as_json(capsys, "status")
    assert code == 0
    assert status["raw_objects"] == status["enriched_objects"] == status["table_items"] == 0
    assert status["queue"]["visible"] == 0


def test_commands_explain_an_unreachable_endpoint(capsys, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    code = main(["status"])
    assert code == 1
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err
