"""GenerateFunction: on each EventBridge schedule tick, write a few labelled tickets to the raw
bucket. The same factory, sink and loop as `ticket-generator --burst N`; only the wiring differs."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ticketlens.generator.core import TicketFactory
from ticketlens.generator.sinks import S3Sink
from ticketlens.generator.worker import run
from ticketlens.settings import Settings, get_settings

logger = Logger(service="ticketlens-generate")
metrics = Metrics(namespace="ticketlens", service="ticketlens-generate")


def _scheduled_time(event: dict[str, Any]) -> int:
    """The tick's own time, so tickets are dated when they were due, not when Lambda ran."""
    try:
        return int(datetime.fromisoformat(str(event["time"])).timestamp())
    except (KeyError, ValueError):
        logger.warning("event has no usable 'time' (not a scheduled event?); dating tickets now")
        return int(time.time())


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    # Read per invocation, not from the cached settings: the local demo sets it for each tick.
    count = Settings().generate_count
    created_at = _scheduled_time(event)
    # Seeded by the event id: a retried delivery rewrites the same tickets under the same keys
    # instead of adding duplicates.
    factory = TicketFactory(seed=event.get("id"))
    sink = S3Sink.connect(settings.raw_bucket, settings.endpoint_url, settings.region, check=False)
    try:
        written = run(factory, sink, count=count, start=created_at)
    finally:
        sink.close()
    metrics.add_metric(name="TicketsGenerated", unit=MetricUnit.Count, value=written)
    logger.info("tickets generated", extra={"count": written, "bucket": settings.raw_bucket, "created_at": created_at})
    return {"written": written, "bucket": settings.raw_bucket, "created_at": created_at}
