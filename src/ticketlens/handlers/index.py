"""The indexer Lambda handler: enriched records announced by S3 in, one index segment out.

``IndexFunction`` (template.yaml) is fed by the enriched bucket's ObjectCreated
notifications for ``tickets/*.json`` through the index queue. Per invocation it reads every
announced record, turns the valid ones into index rows and appends them to the similar-ticket
index as ONE immutable segment (:meth:`SegmentedIndex.append`: a create-only manifest
commit, retried on a lost race, then compaction when the tail has grown). Concurrent
invocations never overwrite each other and never wait on a lock.

A message whose object is missing or is not an enriched ticket is reported as a batch item
failure (after the queue's receive limit it moves to the index dead-letter queue, where
``ticketlens show``-style tools can find it); if the commit itself fails, every message
that contributed a row is retried. Indexing the same record twice is harmless: the newer row
of a ticket id wins at read time and compaction drops the older one. Logs carry ticket ids
and keys, never ticket text.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from ..schemas import EnrichedTicket
from ..settings import get_settings
from ..similar.segment import IndexRow
from ..similar.service import open_index, row_from_enriched
from ..store import ENRICHED_PREFIX, clients, is_missing
from .enrich import NotAnS3Event, parse_s3_event

SERVICE = "ticketlens-index"
METRICS_NAMESPACE = "ticketlens"

logger = Logger(service=SERVICE)


def _rows_of(record: dict[str, Any], s3: Any) -> list[IndexRow]:
    """The index rows one SQS message announces; raises for anything to retry or dead-letter."""
    rows = []
    for ref in parse_s3_event(record.get("body", "")):
        if not ref.key.startswith(ENRICHED_PREFIX) or not ref.key.endswith(".json"):
            continue  # rejects and index files are not tickets
        try:
            body = s3.get_object(Bucket=ref.bucket, Key=ref.key)["Body"].read()
        except Exception as error:
            if is_missing(error):
                raise LookupError(f"{ref.where}: object not found") from None
            raise
        try:
            ticket = EnrichedTicket.model_validate_json(body)
        except ValidationError as error:
            raise ValueError(f"{ref.where}: not an enriched ticket ({error.error_count()} errors)") from None
        rows.append(row_from_enriched(ticket))
    return rows


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS event (S3 notifications of enriched records) -> ``{"batchItemFailures": [...]}``."""
    settings = get_settings()
    s3 = clients(settings).s3
    metrics = EphemeralMetrics(namespace=METRICS_NAMESPACE, service=SERVICE)
    failed: list[str] = []
    contributed: list[str] = []
    rows: list[IndexRow] = []
    try:
        for record in event.get("Records") or []:
            message_id = record.get("messageId", "")
            try:
                found = _rows_of(record, s3)
            except (NotAnS3Event, LookupError, ValueError) as error:
                logger.warning("message not indexed", extra={"message_id": message_id, "reason": str(error)})
                failed.append(message_id)
                continue
            except Exception:  # throttling, network: worth a retry
                logger.exception("could not read an announced record", extra={"message_id": message_id})
                failed.append(message_id)
                continue
            if found:
                rows.extend(found)
                contributed.append(message_id)
        if rows:
            try:
                result = open_index(settings=settings).append(rows)
            except Exception:
                logger.exception("index commit failed; the batch is retried", extra={"rows": len(rows)})
                failed.extend(contributed)
            else:
                metrics.add_metric(name="TicketsIndexed", unit=MetricUnit.Count, value=result.rows)
                metrics.add_metric(name="CommitAttempts", unit=MetricUnit.Count, value=result.attempts)
                metrics.add_metric(name="SegmentsCompacted", unit=MetricUnit.Count, value=len(result.compacted))
                logger.info("indexed", extra={"rows": result.rows, "generation": result.generation,
                                              "attempts": result.attempts, "compacted": len(result.compacted),
                                              "tickets": [r.ticket_id for r in rows][:20]})
        metrics.add_metric(name="MessagesFailed", unit=MetricUnit.Count, value=len(failed))
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}
    finally:
        metrics.flush_metrics()
