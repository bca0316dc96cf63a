"""Pacing and stopping: the daemon's 8-15 s rhythm, --rate, bursts, clean stops."""

from __future__ import annotations

import itertools
import random
import threading
import time

import pytest

from ticketlens.generator.core import TicketFactory
from ticketlens.generator.worker import DemoSchedule, RateSchedule, StopFlag, run
from ticketlens.schemas import RawTicket

START = 1_763_888_400


class ListSink:
    """An in-memory sink: what the tests put in place of S3."""

    name = "memory"

    def __init__(self) -> None:
        self.tickets: list[RawTicket] = []

    def write(self, ticket: RawTicket) -> str:
        self.tickets.append(ticket)
        return f"memory:{len(self.tickets)}"

    def close(self) -> None:
        pass


def test_demo_schedule_keeps_8_to_15_seconds_and_at_most_7_a_minute() -> None:
    # GIVEN the default schedule
    schedule = DemoSchedule(random.Random(5))
    # WHEN 2,000 gaps are drawn
    gaps = [schedule.next_delay() for _ in range(2000)]
    times = [0.0]
    for gap in gaps:
        times.append(times[-1] + gap)
    # THEN every gap is 8-15 s and no 60 s window ever holds more than 7 tickets
    assert all(8.0 <= g <= 15.0 + 1e-9 for g in gaps)
    assert all(times[i + 7] - times[i] >= 60.0 - 1e-9 for i in range(len(times) - 7))


def test_rate_schedule_averages_the_requested_rate() -> None:
    schedule = RateSchedule(random.Random(6), per_minute=30)
    gaps = [schedule.next_delay() for _ in range(4000)]
    assert sum(gaps) / len(gaps) == pytest.approx(2.0, rel=0.03)
    with pytest.raises(ValueError):
        RateSchedule(random.Random(6), per_minute=0)


def test_burst_with_a_simulated_clock_dates_tickets_along_the_schedule() -> None:
    # GIVEN a burst of 20 on the demo schedule with a simulated start
    sink = ListSink()
    began = time.monotonic()
    written = run(TicketFactory(seed=1), sink, count=20, schedule=DemoSchedule(random.Random(1)), start=START)
    # THEN it does not sleep, and created_at steps 8-15 s from the start
    assert written == 20 and time.monotonic() - began < 2.0
    stamps = [t.created_at for t in sink.tickets]
    assert stamps[0] == START
    assert all(7 <= b - a <= 16 for a, b in itertools.pairwise(stamps))


def test_paced_run_without_a_count_stops_promptly_when_asked() -> None:
    # GIVEN a daemon-style run (no count) at 600 tickets a minute
    sink, stop = ListSink(), StopFlag()
    threading.Timer(0.35, stop.set).start()
    began = time.monotonic()
    # WHEN the stop flag is set from another thread
    written = run(TicketFactory(seed=2), sink, schedule=RateSchedule(random.Random(2), 600), realtime=True, stop=stop)
    # THEN the loop returns soon after, having written whole tickets paced about 0.1 s apart
    elapsed = time.monotonic() - began
    assert 0.3 < elapsed < 1.5
    assert 1 <= written <= 8 and written == len(sink.tickets)
