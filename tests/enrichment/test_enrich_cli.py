"""`ticketlens enrich` end to end: JSON lines in, enriched JSON lines out, nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ticketlens.schemas import EnrichedTicket

pytestmark = pytest.mark.slow
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "tickets.jsonl"


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ticketlens.cli", "enrich", *args],
        input=stdin, capture_output=True, text=True, timeout=300,
    )


def test_sample_file_is_enriched_in_order() -> None:
    # GIVEN the sample tickets shipped with the repo
    lines = SAMPLES.read_text().splitlines()
    # WHEN they are enriched from a file
    proc = _run(str(SAMPLES))
    # THEN every ticket comes out, valid, in input order, with a 384-float unit embedding
    assert proc.returncode == 0, proc.stderr
    out = [EnrichedTicket.model_validate_json(line) for line in proc.stdout.splitlines()]
    assert [t.ticket_id for t in out] == [json.loads(line)["ticket_id"] for line in lines]
    for ticket in out:
        e = ticket.enrichment
        assert len(e.embedding) == 384 and abs(sum(x * x for x in e.embedding) - 1.0) < 1e-3
        assert e.processed_at.endswith("Z") and "minilm-l6-v2" in e.model_version
        assert 0 < len(e.summary.split()) <= 25
    by_id = {t.ticket_id: t.enrichment for t in out}
    assert by_id["TKT-1001"].intent == "login_issue"
    assert by_id["TKT-1003"].intent == "feature_request"
    assert by_id["TKT-1004"].urgency in ("critical", "high")
    assert by_id["TKT-1007"].sentiment == "POSITIVE"
    assert by_id["TKT-1008"].urgency == "critical"


def test_bad_lines_are_reported_and_good_ones_still_enriched(tmp_path: Path) -> None:
    # GIVEN stdin with good tickets around four bad lines and a blank line
    good = SAMPLES.read_text().splitlines()[:3]
    bad_json = '{"ticket_id": "X-1", "body": "oops"'
    iso_date = json.dumps({"ticket_id": "X-2", "body": "hi", "created_at": "2025-01-01T00:00:00Z", "customer_id": "c"})
    no_text = json.dumps({"subject": "", "body": ""})
    not_object = "[1, 2, 3]"
    stdin = "\n".join([good[0], bad_json, good[1], "", iso_date, no_text, not_object, good[2]]) + "\n"
    rejects = tmp_path / "rejects.jsonl"
    # WHEN enriched with a rejects file
    proc = _run("-", "--rejects", str(rejects), "--no-embedding", stdin=stdin)
    # THEN the exit status says something was rejected
    assert proc.returncode == 1
    # AND every good ticket is still there, in order, without embeddings
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [t["ticket_id"] for t in out] == ["TKT-1001", "TKT-1002", "TKT-1003"]
    assert all("embedding" not in t["enrichment"] for t in out)
    # AND stderr names each bad line and what is wrong with it
    assert "line 2: not valid JSON" in proc.stderr
    assert "line 5: created_at" in proc.stderr
    assert "line 6:" in proc.stderr and "no text" in proc.stderr
    assert "line 7: not a JSON object" in proc.stderr
    # AND the rejects file keeps each bad line verbatim with its reason
    kept = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [k["where"] for k in kept] == ["line 2", "line 5", "line 6", "line 7"]
    assert kept[0]["raw"].strip() == bad_json


def test_bare_texts_are_enriched_and_strict_mode_rejects_them() -> None:
    # GIVEN lines with text only: a body with an empty subject, and a "text" key
    stdin = "\n".join([
        json.dumps({"subject": "", "body": "I was charged twice for my subscription this month"}),
        json.dumps({"text": "The app crashes every time I open settings"}),
    ]) + "\n"
    # WHEN they are enriched as they are
    proc = _run("-", "--no-embedding", stdin=stdin)
    # THEN both come out, named by line, with the pipeline's fields filled in
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [t["ticket_id"] for t in out] == ["line-1", "line-2"]
    assert all(t["customer_id"] == "unknown" and t["created_at"] > 1_700_000_000 for t in out)
    assert out[0]["enrichment"]["intent"] == "billing_issue"
    assert out[1]["body"].startswith("The app crashes") and out[1]["enrichment"]["intent"] == "bug_report"
    # AND with --strict, as the pipeline parses them, both are rejected naming the missing fields
    strict = _run("-", "--strict", "--no-embedding", stdin=stdin)
    assert strict.returncode == 1 and strict.stdout == ""
    assert "line 1: ticket_id: Field required" in strict.stderr
    assert "created_at: Field required" in strict.stderr and "customer_id: Field required" in strict.stderr


def test_missing_input_file_is_a_clear_error(tmp_path: Path) -> None:
    proc = _run(str(tmp_path / "nope.jsonl"))
    assert proc.returncode == 2
    assert "no such file" in proc.stderr and "Traceback" not in proc.stderr


def test_language_and_no_action_flag_reach_the_output() -> None:
    # GIVEN a French request, a thank-you note, an auto-reply and an English request
    stdin = "\n".join(json.dumps({"body": body}) for body in (
        "Bonjour, je n'arrive pas à me connecter à mon compte depuis hier soir.",
        "Thank you so much, that fixed it!",
        "Automatic reply: I am out of the office until Monday with no access to email.",
        "I was charged twice for my subscription this month, please refund one.",
    )) + "\n"
    # WHEN they are enriched
    proc = _run("-", "--no-embedding", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    french, thanks, auto, english = (json.loads(line)["enrichment"] for line in proc.stdout.splitlines())
    # THEN each carries its language; the French one gets no confident English-only label
    assert french["language"] == "fr" and french["language_confidence"] > 0.9
    assert french["intent_confidence"] < 0.3 and french["flag"] is None
    # AND the thank-you note and the auto-reply are flagged, with their urgency forced low
    assert thanks["flag"] == "thanks" and thanks["urgency"] == "low" and thanks["flag_confidence"] >= 0.5
    assert auto["flag"] == "auto_reply" and auto["urgency"] == "low"
    # AND the real English request is not flagged and keeps its confident label
    assert english["language"] == "en" and english["flag"] is None and english["flag_confidence"] < 0.5
    assert english["intent"] == "billing_issue" and english["intent_confidence"] > 0.5
