"""The fault harness, small: a burst of tickets with the hostile corpus mixed in, the worker
killed with SIGKILL twice mid-batch and restarted; every invariant must hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketlens.faults.harness import HarnessConfig, run

pytestmark = pytest.mark.slow


def test_nothing_is_lost_or_written_twice_when_the_worker_is_killed_mid_batch(tmp_path: Path) -> None:
    # GIVEN 200 tickets and every hostile object (5 MB and 30 MB bodies included), an emulator
    # of its own, and a worker with two concurrent invocations
    config = HarnessConfig(tickets=200, kills=2, concurrency=2, seed="ci", log_dir=tmp_path, timeout_s=600)
    # WHEN the worker is killed twice while batches are in flight, and restarted each time
    report = run(config, say=print)
    # THEN both kills happened mid-batch, and every invariant holds
    print("\n".join(report.lines()))
    assert report.kills == 2
    assert report.violations == []
    assert report.dlq == 0 and report.worker_exit == 0
    assert report.raw_objects == report.stored + report.rejects + report.duplicates
    assert report.counted == (report.stored, report.stored)  # each ticket counted once, kills or not
    # AND the worker's memory stayed bounded while 35 MB of hostile objects went by
    assert report.worker_peak_process_rss_mb < 600
