"""Realistic support tickets that carry their own ground truth, for the demo, load tests and
benchmarks. See docs/generator.md."""

from ticketlens.generator.core import DEFAULT_INTENT_WEIGHTS, TicketFactory
from ticketlens.generator.sinks import JsonlSink, S3Sink, Sink, object_key
from ticketlens.generator.worker import DemoSchedule, RateSchedule, StopFlag, run

__all__ = [
    "DEFAULT_INTENT_WEIGHTS",
    "DemoSchedule",
    "JsonlSink",
    "RateSchedule",
    "S3Sink",
    "Sink",
    "StopFlag",
    "TicketFactory",
    "object_key",
    "run",
]
