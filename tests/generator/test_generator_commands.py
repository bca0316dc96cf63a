"""The front doors: `ticket-generator` and `ticketlens generate`, locally and against the emulator."""

from __future__ import annotations

import json
import os
import signal
import threading
import uuid
from pathlib import Path

import boto3
import pytest

from ticketlens.generator.commands import main
from ticketlens.schemas import RawTicket, parse_ticket


def _read_jsonl(path: Path) -> list[RawTicket]:
    tickets = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parsed = parse_ticket(line, where=f"line {n}")
        assert isinstance(parsed, RawTicket), parsed
        tickets.append(parsed)
    return tickets


def _assert_clean_error(capsys: pytest.CaptureFixture[str], *fragments: str) -> None:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def test_burst_to_a_file_needs_no_aws_and_is_reproducible_with_seed_and_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN no AWS at all
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    args = ["--burst", "50", "--seed", "42", "--start", "2025-11-23T09:00:00Z"]
    # WHEN the same seeded burst is written to two files
    assert main([*args, "--out", str(tmp_path / "a.jsonl")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.jsonl")]) == 0
    # THEN both hold 50 valid tickets, byte-identical, dated from the start
    a = (tmp_path / "a.jsonl").read_bytes()
    assert a == (tmp_path / "b.jsonl").read_bytes()
    tickets = _read_jsonl(tmp_path / "a.jsonl")
    assert len(tickets) == 50 and tickets[0].created_at == 1_763_888_400
    assert all(t.metadata.labels for t in tickets)


def test_stdout_prints_one_ticket_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--burst", "3", "--stdout", "--weights", "other=1"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3 and all(json.loads(line)["metadata"]["labels"]["intent"] == "other" for line in lines)
    assert "wrote 3 tickets to stdout" in err


def test_count_runs_paced_at_the_given_rate(tmp_path: Path) -> None:
    # GIVEN --count with a fast --rate (about 0.01 s apart)
    assert main(["--count", "4", "--rate", "6000", "--out", str(tmp_path / "t.jsonl")]) == 0
    # THEN exactly that many tickets are written
    assert len(_read_jsonl(tmp_path / "t.jsonl")) == 4


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--rate", "0", "--stdout"], "--rate: must be tickets per minute"),
        (["--rate", "fast", "--stdout"], "--rate: must be tickets per minute"),
        (["--rate", "nan", "--stdout"], "--rate: must be tickets per minute"),
        (["--burst", "-5", "--stdout"], "--burst: must be a whole number"),
        (["--weights", "login=1", "--stdout"], "unknown intent(s) login"),
        (["--start", "yesterday", "--stdout"], "--start: must be Unix seconds or ISO 8601"),
        (["--count", "1", "--burst", "1", "--stdout"], "not allowed with argument"),
        (["--stdout", "--endpoint-url", "http://127.0.0.1:9"], "--endpoint-url only applies to bucket uploads"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the generator is started with a bad option THEN it says what is wrong and exits 2, no traceback
    assert main(argv) == 2
    _assert_clean_error(capsys, fragment)


def test_unwritable_output_file_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--burst", "1", "--out", str(tmp_path / "missing-dir" / "t.jsonl")]) == 2
    _assert_clean_error(capsys, "cannot open", "missing-dir")


def test_burst_uploads_to_a_bucket_on_the_emulator_under_date_keys(aws_env: str) -> None:
    # GIVEN a bucket on the emulator
    bucket = f"gen-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=aws_env, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    # WHEN a burst of 5 is uploaded there
    assert main(["--burst", "5", "--bucket", bucket, "--seed", "7", "--start", "1763888400"]) == 0
    # THEN 5 objects sit under tickets/YYYY/MM/DD/<id>.json and parse as RawTicket
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 5 and all(k.startswith("tickets/2025/11/23/TKT-") and k.endswith(".json") for k in keys)
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        ticket = parse_ticket(body, where=key)
        assert isinstance(ticket, RawTicket) and key.endswith(f"/{ticket.ticket_id}.json")


def test_missing_bucket_exits_2_with_a_clear_message(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--burst", "1", "--bucket", "no-such-bucket-for-generator"]) == 2
    _assert_clean_error(capsys, "bucket 'no-such-bucket-for-generator' does not exist", aws_env)


def test_unreachable_endpoint_exits_2_with_a_clear_message(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--burst", "1", "--endpoint-url", "http://127.0.0.1:9"]) == 2
    _assert_clean_error(capsys, "cannot reach the S3 endpoint http://127.0.0.1:9")


def test_malformed_endpoint_exits_2_with_a_clear_message(aws_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--burst", "1", "--endpoint-url", "not a url"]) == 2
    _assert_clean_error(capsys, "bad S3 endpoint")


def test_sigterm_stops_the_daemon_after_a_whole_ticket(tmp_path: Path) -> None:
    # GIVEN a paced run of up to 60 tickets, ~0.1 s apart, and a guard so an early signal cannot kill pytest
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    out = tmp_path / "daemon.jsonl"
    timer = threading.Timer(0.4, os.kill, args=(os.getpid(), signal.SIGTERM))
    try:
        timer.start()
        # WHEN SIGTERM arrives mid-run
        code = main(["--count", "60", "--rate", "600", "--out", str(out)])
    finally:
        timer.cancel()
        signal.signal(signal.SIGTERM, previous)
    # THEN it exits 0 early, every line a complete ticket
    tickets = _read_jsonl(out)
    assert code == 0 and 1 <= len(tickets) < 60


def test_ticketlens_generate_is_the_same_command(tmp_path: Path) -> None:
    from ticketlens.cli import main as ticketlens_main

    out = tmp_path / "cli.jsonl"
    args = ["--burst", "5", "--seed", "s", "--start", "1763888400"]
    assert ticketlens_main(["generate", *args, "--out", str(out)]) == 0
    assert main([*args, "--out", str(tmp_path / "script.jsonl")]) == 0
    assert out.read_bytes() == (tmp_path / "script.jsonl").read_bytes()


def test_a_chat_message_of_only_punctuation_keeps_its_text(tmp_path: Path) -> None:
    # GIVEN the seeded burst whose 651st ticket is a chat "." (it used to lose its only text)
    out = tmp_path / "burst.jsonl"
    # WHEN the burst is written
    assert main(["--burst", "651", "--seed", "11000", "--out", str(out)]) == 0
    # THEN every ticket has text and validates
    tickets = _read_jsonl(out)
    assert len(tickets) == 651
    assert all(t.subject or t.body for t in tickets)
