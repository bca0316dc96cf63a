"""The loop that paces tickets into a sink, for the daemon, the CLI and the Lambda alike."""

from __future__ import annotations

import logging
import random
import signal
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Protocol

from ticketlens.generator.core import TicketFactory
from ticketlens.generator.sinks import Sink

log = logging.getLogger("ticketlens.generator")

MAX_RATE_PER_MINUTE = 6000.0  # beyond 100 a second, --burst is the honest option


class Schedule(Protocol):
    def next_delay(self) -> float:
        """Seconds from the previous ticket to the next."""
        ...


class DemoSchedule:
    """The demo's pace: 8-15 s apart at random, and never more than 7 in any 60 s."""

    def __init__(self, rng: random.Random, low: float = 8.0, high: float = 15.0, per_minute: int = 7) -> None:
        self._rng, self._low, self._high = rng, low, high
        self._recent: deque[float] = deque([0.0], maxlen=per_minute)
        self._now = 0.0

    def next_delay(self) -> float:
        due = self._now + self._rng.uniform(self._low, self._high)
        if len(self._recent) == self._recent.maxlen:
            due = max(due, self._recent[0] + 60.0)
        delay, self._now = due - self._now, due
        self._recent.append(due)
        return delay


class RateSchedule:
    """``per_minute`` tickets a minute on average, each gap jittered by up to half."""

    def __init__(self, rng: random.Random, per_minute: float) -> None:
        if not 0 < per_minute <= MAX_RATE_PER_MINUTE:
            raise ValueError(f"rate must be above 0 and at most {MAX_RATE_PER_MINUTE:g} tickets a minute")
        self._rng, self._mean = rng, 60.0 / per_minute

    def next_delay(self) -> float:
        return self._mean * self._rng.uniform(0.5, 1.5)


class StopFlag:
    """Set from a signal handler or another thread; sleeping checks it often.

    A plain flag rather than threading.Event: Event.set takes a lock, and a signal arriving
    while the main thread holds that lock would deadlock the handler.
    """

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if stopped meanwhile."""
        end = time.monotonic() + seconds
        while not self._set and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))
        return self._set


@contextmanager
def stop_on_signals(flag: StopFlag) -> Iterator[None]:
    """Turn SIGINT/SIGTERM into "finish this ticket, then stop" for the duration."""

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.warning("%s received: stopping after the current ticket", signal.Signals(signum).name)
        flag.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(
    factory: TicketFactory,
    sink: Sink,
    *,
    count: int | None = None,
    schedule: Schedule | None = None,
    realtime: bool = False,
    start: int | None = None,
    stop: StopFlag | None = None,
) -> int:
    """Write ``count`` tickets (None: until stopped) and return how many were written.

    ``schedule`` spaces the tickets; with ``realtime`` the loop sleeps out each gap, without
    it (a burst) it does not. ``created_at`` is the wall clock, or, given ``start``, a
    simulated clock that begins there and advances by the schedule: seed plus start makes a
    run reproducible to the byte.
    """
    stop = stop or StopFlag()
    began, offset, written = time.monotonic(), 0.0, 0
    while (count is None or written < count) and not stop.is_set():
        if written and schedule is not None:
            offset += schedule.next_delay()
            if realtime and stop.sleep(began + offset - time.monotonic()):
                break
        created_at = start + int(offset) if start is not None else int(time.time())
        ticket = factory.make(created_at)
        where = sink.write(ticket)
        written += 1
        truth = "/".join((ticket.metadata.labels or {}).values())
        log.info("%s %s -> %s", ticket.ticket_id, truth, where)
    return written
