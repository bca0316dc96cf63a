"""`ticketlens demo` as a user runs it: its own embedded emulator, the template deployed, the
generator on the (sped-up) schedule, tickets enriched end to end, a clean stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def run_cli(tmp_path: Path, env: dict[str, str], *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ticketlens.cli", *argv], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_demo_runs_end_to_end_and_leaves_a_stack_to_explore(tmp_path: Path) -> None:
    # GIVEN a new shell's environment: no AWS endpoint, no credentials (the demo starts its own emulator)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TICKETLENS_"))}
    env["PYTHONUNBUFFERED"] = "1"
    try:
        # WHEN the demo runs until 12 generated tickets are enriched, on a fast schedule
        result = run_cli(tmp_path, env, "demo", "--tickets", "12", "--speed", "300", "--port", "0",
                         "--board-port", "0", "--template", str(ROOT / "template.yaml"), timeout=150)

        # THEN it exits cleanly, having enriched all 12; progress went to stderr, the summary to stdout
        out, err = result.stdout, result.stderr
        assert result.returncode == 0, out[-3000:] + err[-3000:]
        assert "started the AWS emulator (moto) in the background on http://127.0.0.1:" in err
        assert "patched: RawBucket: NotificationConfiguration" in err
        assert "triage board: http://127.0.0.1:" in err
        assert "tickets flowing after" in err and "stops after 12 tickets" in err and "Ctrl-C to stop\n" not in err
        final = out[out.index("final"):]
        assert "enriched 12 " in final
        assert "dead-letter queue 0" in final
        # AND the summary fits 100 columns and says what to type next
        summary = final[: final.index("handler logs:")]
        assert max(len(line) for line in summary.splitlines()) <= 100, summary
        assert "ticketlens show urgent" in final and "ticketlens emulator stop" in final
        # AND the handlers' JSON logs went to the demo log, not over the summary
        assert '"level"' not in out
        assert (tmp_path / ".ticketlens" / "demo.log").read_text().count('"ticket enriched"') == 12

        # WHEN a new shell in the same folder runs the README's next commands, as written
        status = run_cli(tmp_path, env, "status", "--json")
        urgent = run_cli(tmp_path, env, "show", "urgent")
        # THEN they find the stack the demo left running, credentials and all
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["table_items"] >= 12
        assert "using the moto stack at http://127.0.0.1:" in status.stderr
        # (the generator draws its tickets: 12 of them are, now and then, none high or critical)
        enriched = [json.loads(line) for line in (tmp_path / ".ticketlens" / "demo.log").read_text().splitlines()
                    if '"ticket enriched"' in line]
        any_urgent = any(line["urgency"] in ("high", "critical") for line in enriched)
        assert urgent.returncode == 0, urgent.stderr
        assert urgent.stdout.splitlines()[0].startswith("TICKET_ID" if any_urgent else "(none)"), urgent.stdout
    finally:
        # AND `ticketlens emulator stop` ends it
        stopped = run_cli(tmp_path, env, "emulator", "stop")
    assert "stopped the emulator on http://127.0.0.1:" in stopped.stdout
    assert run_cli(tmp_path, env, "emulator", "status").returncode == 3
