"""`ticketlens demo` as a user runs it: its own embedded emulator, the template deployed, the
generator on the (sped-up) schedule, tickets enriched end to end, a clean stop."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_demo_shows_tickets_flowing_end_to_end_and_stops_after_n(tmp_path: Path) -> None:
    # GIVEN no AWS endpoint configured (the demo starts its own emulator) and built models
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TICKETLENS_"))}
    env["PYTHONUNBUFFERED"] = "1"
    started = time.monotonic()

    # WHEN the demo runs until 12 generated tickets are enriched, on a fast schedule
    result = subprocess.run(
        [sys.executable, "-m", "ticketlens.cli", "demo", "--tickets", "12", "--speed", "300", "--port", "0",
         "--template", str(ROOT / "template.yaml")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=150,
    )
    elapsed = time.monotonic() - started

    # THEN it exits cleanly within the minute the issue allows, having enriched all 12
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert elapsed < 60, f"demo took {elapsed:.0f} s"
    assert "AWS emulator (moto) listening on http://127.0.0.1:" in out
    assert "patched: RawBucket: NotificationConfiguration" in out
    assert "tickets flowing after" in out
    final = out[out.index("final"):]
    assert "enriched 12 " in final
    assert "dead-letter queue 0" in final
    # AND the handlers' JSON logs went to the demo log, not over the summary
    assert '"level"' not in out
    assert (tmp_path / ".ticketlens" / "demo.log").read_text().count('"ticket enriched"') == 12
