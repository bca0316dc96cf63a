"""The enrichment Lambda handler: an SQS batch of S3 ObjectCreated events in, enriched records out.

One code path for every caller: AWS Lambda (``functions/enrich/app.py`` re-exports
:func:`lambda_handler`), ``ticketlens invoke enrich``, the local SQS event-source runner
behind ``ticketlens demo`` / ``ticket-processor`` (one worker process per concurrent
invocation, as Lambda runs one invocation per execution environment), and the tests.

This module knows AWS and nothing of models: it asks :func:`ticketlens.enrichment.get_enricher`
for the process-wide engine (models load once per container) and calls ``enrich`` once per
batch with every ticket that still needs it.

Per SQS message (one S3 object, in practice):

* the body is parsed as an S3 event; keys are URL-decoded (``unquote_plus``); S3's
  ``s3:TestEvent`` is acknowledged and skipped;
* the object is read with one ranged GET of at most ``max_object_bytes``; ``parse_ticket``
  validates it (errors are values);
* a valid ticket is enriched, its ``ticket_id`` claimed (:meth:`TicketStore.claim`: one id,
  one ticket), then written once: the full record to the enriched bucket, the metadata item
  (no embedding) to DynamoDB. Powertools Idempotency, keyed on (bucket, key, ETag), makes a
  redelivered object a no-op, and a look-up before the batch's enrichment call keeps it from
  being enriched twice;
* **deterministic rejects settle on their first delivery**: a ticket that fails validation,
  an object over the size limit or gone, an id another object holds, or a message that is
  not an S3 event at all has its ``Rejected`` (where, reason, a bounded prefix of the raw
  input) written under the rejects prefix, and the message is acknowledged. Retrying would
  give the same answer, so it is not retried and never reaches the dead-letter queue;
* **transient failures are retried**: throttling, the network, the engine. The message is
  reported as a batch item failure, SQS redelivers it after its visibility timeout, and only
  after ``maxReceiveCount`` such failures does it reach the dead-letter queue
  (``ticketlens redrive`` replays it after a fix).

Partial batch failure (``BatchProcessor`` + ``ReportBatchItemFailures``): only the failed
messages go back to the queue. Logs are structured JSON (ticket ids, keys and reasons, never
bodies or email addresses, and reasons never echo field values); metrics are CloudWatch EMF
on stdout.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemNotFoundError
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from ..schemas import EnrichedTicket, RawTicket, Rejected, Traffic, parse_ticket
from ..settings import Settings, get_settings
from ..store import Claim, TicketStore, clients, is_missing, reject_key, rejected_message_key

SERVICE = "ticketlens-enrich"
METRICS_NAMESPACE = "ticketlens"
IDEMPOTENCY_KEY_PREFIX = "ticketlens-enrich"
TRAFFIC_TTL_S = 60.0  # how stale the deployment's traffic may be (one Query of the counts table)

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class NotAnS3Event(Exception):
    """The SQS message body is not an S3 event notification."""


class IdTaken(Exception):
    """Another raw object holds this ticket_id with different content (a deterministic reject)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    etag: str | None = None

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def idempotency_data(self) -> dict[str, str | None]:
        return {"bucket": self.bucket, "key": self.key, "etag": self.etag}


def parse_s3_event(body: str) -> list[ObjectRef]:
    """The objects an SQS message body announces: [] for S3's test event.

    Raises NotAnS3Event for anything else. Keys arrive URL-encoded (``+`` for spaces),
    on AWS as on the emulators.
    """
    try:
        event = json.loads(body)
    except (TypeError, ValueError) as error:
        raise NotAnS3Event(f"message body is not JSON: {error}") from None
    if not isinstance(event, dict):
        raise NotAnS3Event("message body is not a JSON object")
    if event.get("Event") == "s3:TestEvent":
        return []
    records = event.get("Records")
    if not isinstance(records, list):
        raise NotAnS3Event("message body has no S3 'Records'")
    refs: list[ObjectRef] = []
    for record in records:
        try:
            s3 = record["s3"]
            name = s3["bucket"]["name"]
            key = unquote_plus(s3["object"]["key"])
        except (KeyError, TypeError):
            raise NotAnS3Event("an S3 record lacks s3.bucket.name or s3.object.key") from None
        event_name = str(record.get("eventName", "ObjectCreated:"))
        if not event_name.startswith("ObjectCreated"):
            continue  # deletes, restores, ... are not new tickets
        refs.append(ObjectRef(bucket=name, key=key, etag=s3["object"].get("eTag")))
    return refs


# ------------------------------------------------------------------------- runtime --
class Runtime:
    """What one container builds once: settings, clients, the idempotency layer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = TicketStore(settings)
        self.idempotency_config = IdempotencyConfig(
            event_key_jmespath="[bucket, key, etag]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=settings.idempotency_ttl_seconds,
        )
        self.persistence = DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table, boto3_client=clients(settings).dynamodb
        )
        # The same prefix everywhere (Lambda, local runner, `ticketlens invoke`), so a ticket
        # processed by one is not reprocessed by another against the same table.
        self.persistence.configure(self.idempotency_config, key_prefix=IDEMPOTENCY_KEY_PREFIX)
        self._traffic: dict[str, Traffic] | None = None
        self._traffic_at: float | None = None
        self._traffic_lock = threading.Lock()
        self.write_once = idempotent_function(
            data_keyword_argument="obj",
            persistence_store=self.persistence,
            config=self.idempotency_config,
            key_prefix=IDEMPOTENCY_KEY_PREFIX,
        )(self._write)

    def traffic(self) -> dict[str, Traffic] | None:
        """The deployment's recent traffic per head (it sets the intent head's temperature),
        read from the counts table at most once every ``TRAFFIC_TTL_S``. Unreadable: None,
        and the enricher falls back to the tickets this container has enriched."""
        now = time.monotonic()
        with self._traffic_lock:
            if self._traffic_at is None or now - self._traffic_at >= TRAFFIC_TTL_S:
                try:
                    self._traffic = self.store.traffic()
                except (ClientError, BotoCoreError) as error:
                    logger.warning("could not read the deployment's traffic; using this container's",
                                   extra={"error": type(error).__name__})
                    self._traffic = None
                self._traffic_at = now
            return self._traffic

    def already_done(self, ref: ObjectRef) -> bool:
        """True when the idempotency table holds a completed, unexpired record for the object."""
        try:
            record = self.persistence.get_record(ref.idempotency_data())
        except IdempotencyItemNotFoundError:
            return False
        return record is not None and record.status == "COMPLETED" and not record.is_expired

    def _write(self, obj: dict[str, Any], item: _Item) -> dict[str, Any]:
        """Runs at most once per (bucket, key, etag): claim the id, enrich if the batch did not, write."""
        assert item.ticket is not None
        claim = self.store.claim(item.ticket, source=item.ref.where)
        if claim.kind == "conflict":
            raise IdTaken(
                f"ticket_id {item.ticket.ticket_id!r} is already used by {claim.holder} with different content;"
                " a ticket_id names one ticket: upload this one under a new ticket_id"
                " (or replace the ticket by uploading it to the same key)"
            )
        enriched = item.enriched
        if enriched is None:  # the pre-check saw it done, then its record expired or vanished
            enriched = _enrich_and_relate([item.ticket])[0]
        started = time.perf_counter()
        s3_key, written = self.store.put_enriched(enriched, claim)
        item.timings["store_ms"] = (time.perf_counter() - started) * 1000
        item.written = written
        item.claim = claim
        return {"ticket_id": enriched.ticket_id, "s3_key": s3_key, "intent": enriched.enrichment.intent,
                "urgency": enriched.enrichment.urgency, "sentiment": enriched.enrichment.sentiment,
                "claim": claim.kind, "written": written}


_runtime: Runtime | None = None


def runtime() -> Runtime:
    """The container's runtime; rebuilt only if the process-wide settings were reloaded."""
    global _runtime
    settings = get_settings()
    if _runtime is None or _runtime.settings is not settings:
        _runtime = Runtime(settings)
    return _runtime


def reset_runtime() -> None:
    """Rebuild clients and idempotency from the current settings on next use (tests)."""
    global _runtime
    _runtime = None


def _enricher() -> Callable[[Sequence[RawTicket], Mapping[str, Traffic] | None], list[EnrichedTicket]]:
    """The engine's ``enrich`` (the seam tests wrap to count what the engine was asked)."""
    from ..enrichment import get_enricher

    return get_enricher().enrich


def _enrich_and_relate(tickets: Sequence[RawTicket]) -> list[EnrichedTicket]:
    """Enrich, then relate each ticket to earlier ones (similar, duplicate_of, incident).

    The similar-ticket index is read once per batch and never written here (IndexFunction
    adds records once they land); an unreadable index leaves the three fields out.
    """
    from ..similar import annotate

    return annotate(_enricher()(tickets, runtime().traffic()))


# --------------------------------------------------------------------------- batch --
@dataclass
class _Item:
    """One S3 object of one SQS message, through the stages of the batch."""

    ref: ObjectRef
    ticket: RawTicket | None = None
    raw: bytes = b""  # the object as read (at most max_object_bytes), for a reject record
    rejected: Rejected | None = None
    error: BaseException | None = None
    done_before: bool = False
    enriched: EnrichedTicket | None = None
    written: bool = False
    claim: Claim | None = None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class _Junk:
    """A message that is not an S3 event: rejected as a whole, by message id."""

    message_id: str
    reason: str
    body: str


Outcome = dict[str, Any] | BaseException


@dataclass
class Batch:
    """One SQS batch, in three phases.

    1. fetch every object, validate it, look up its idempotency record (I/O, in parallel);
    2. one engine call for every ticket that still needs it (CPU, batched);
    3. settle every message: idempotent write, or record the reject (I/O, in parallel).

    ``BatchProcessor`` then reports each message from its settled outcome. The I/O phases
    run on a few threads because a batch is dozens of S3/DynamoDB round trips, on Lambda
    as locally; boto3 clients are thread-safe, and metrics are added on the calling thread.
    """

    rt: Runtime
    items: dict[str, list[_Item] | _Junk] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    enrich_ms: float = 0.0
    enriched_count: int = 0

    @classmethod
    def prepare(cls, records: Sequence[dict[str, Any]], rt: Runtime) -> Batch:
        batch = cls(rt=rt)
        started = time.perf_counter()
        refs: dict[str, list[ObjectRef]] = {}
        for record in records:
            message_id = record.get("messageId", "")
            try:
                refs[message_id] = parse_s3_event(record.get("body", ""))
            except NotAnS3Event as error:
                batch.items[message_id] = _Junk(message_id, str(error), str(record.get("body", "")))
        flat = [(message_id, ref) for message_id, message_refs in refs.items() for ref in message_refs]
        fetched = _parallel(batch._fetch, [ref for _, ref in flat])
        grouped: dict[str, list[_Item]] = {message_id: [] for message_id in refs}
        for (message_id, _), item in zip(flat, fetched, strict=True):
            grouped[message_id].append(item)
        batch.items.update(grouped)
        if flat:
            metrics.add_metric(name="FetchLatency", unit=MetricUnit.Milliseconds,
                               value=(time.perf_counter() - started) * 1000)
        batch._enrich([item for item in fetched if item.ticket is not None and not item.done_before])
        return batch

    def _enrich(self, pending: list[_Item]) -> None:
        # The same object twice in one batch (S3 delivers events at least once): enrich it once.
        unique: dict[ObjectRef, _Item] = {}
        for item in pending:
            unique.setdefault(item.ref, item)
        if not unique:
            return
        started = time.perf_counter()
        firsts = list(unique.values())
        try:
            results = _enrich_and_relate([i.ticket for i in firsts if i.ticket is not None])
            if len(results) != len(firsts):
                raise RuntimeError(f"engine returned {len(results)} results for {len(firsts)} tickets")
            for item, enriched in zip(firsts, results, strict=True):
                item.enriched = enriched
            self.enriched_count = len(results)
        except Exception as error:  # the engine failed: every pending ticket is retried
            logger.exception("enrichment failed for the batch", extra={"tickets": len(firsts)})
            for item in firsts:
                item.error = error
        for item in pending:
            first = unique[item.ref]
            item.enriched, item.error = first.enriched, first.error
        self.enrich_ms = (time.perf_counter() - started) * 1000
        metrics.add_metric(name="EnrichLatency", unit=MetricUnit.Milliseconds, value=self.enrich_ms)
        metrics.add_metric(name="EnrichLatencyPerTicket", unit=MetricUnit.Milliseconds,
                           value=self.enrich_ms / len(firsts))

    def _fetch(self, ref: ObjectRef) -> _Item:
        limit = self.rt.settings.max_object_bytes
        try:
            raw = self.rt.store.get_raw(ref.bucket, ref.key, max_bytes=limit)
        except Exception as error:
            if is_missing(error):
                return _Item(ref=ref, rejected=Rejected.of(ref.where, "object not found: deleted before it was read"))
            return _Item(ref=ref, error=error)  # throttling, network: worth a retry
        # Key on what is enriched: the ETag of the bytes actually read.
        ref = ObjectRef(bucket=ref.bucket, key=ref.key, etag=raw.etag or ref.etag)
        if not raw.complete:
            reason = (f"object too large: {raw.size:,} bytes, over the {limit:,}-byte limit "
                      "(TICKETLENS_MAX_OBJECT_BYTES)")
            return _Item(ref=ref, rejected=Rejected.of(ref.where, reason, raw.body, raw_size=raw.size))
        parsed = parse_ticket(raw.body, where=ref.where)
        if isinstance(parsed, Rejected):
            return _Item(ref=ref, rejected=parsed)
        item = _Item(ref=ref, ticket=parsed, raw=raw.body)
        try:
            item.done_before = self.rt.already_done(ref)
        except Exception as error:
            item.error = error
        return item

    def settle(self) -> None:
        """Write (once) or record the reject for every message; outcomes are kept, not raised."""
        # Messages about an object already seen in this batch settle after the first one, so
        # the duplicate finds a completed idempotency record rather than one in progress.
        first_round: list[str] = []
        second_round: list[str] = []
        seen: set[ObjectRef] = set()
        for message_id, items in self.items.items():
            refs = set() if isinstance(items, _Junk) else {item.ref for item in items}
            (second_round if refs & seen else first_round).append(message_id)
            seen |= refs
        for ids in (first_round, second_round):
            self.outcomes.update(zip(ids, _parallel(self._settle, ids), strict=True))
        self._count()

    def _count(self) -> None:
        for items in self.items.values():  # metrics, on this thread
            if isinstance(items, _Junk):
                metrics.add_metric(name="MessagesInvalid", unit=MetricUnit.Count, value=1)
                continue
            for item in items:
                if item.rejected is not None:
                    metrics.add_metric(name="TicketsRejected", unit=MetricUnit.Count, value=1)
                elif item.error is not None:
                    metrics.add_metric(name="TicketsFailed", unit=MetricUnit.Count, value=1)
                elif item.written:
                    metrics.add_metric(name="TicketsProcessed", unit=MetricUnit.Count, value=1)
                    metrics.add_metric(name="StoreLatency", unit=MetricUnit.Milliseconds,
                                       value=item.timings.get("store_ms", 0.0))
                else:
                    metrics.add_metric(name="TicketsDuplicate", unit=MetricUnit.Count, value=1)

    def _settle(self, message_id: str) -> Outcome:
        items = self.items[message_id]
        try:
            if isinstance(items, _Junk):
                key = self.rt.store.put_rejected(
                    Rejected.of(f"sqs message {message_id}", items.reason, items.body),
                    rejected_message_key(self.rt.settings, message_id))
                logger.warning("message is not an S3 event",
                               extra={"message_id": message_id, "reason": items.reason, "reject_key": key})
                return {"rejected": [key]}
            return {"objects": [self._settle_item(item) for item in items]}
        except Exception as error:
            return error

    def _settle_item(self, item: _Item) -> dict[str, Any]:
        if item.error is None and item.rejected is None:
            try:
                result: dict[str, Any] = self.rt.write_once(obj=item.ref.idempotency_data(), item=item)
            except IdTaken as taken:
                item.rejected = Rejected.of(item.ref.where, taken.reason, item.raw)
            except Exception as error:
                item.error = error
            else:
                if item.written:
                    logger.info("ticket enriched", extra={"ticket_id": result["ticket_id"], "s3_key": result["s3_key"],
                                                          "intent": result["intent"], "urgency": result["urgency"]})
                else:
                    logger.info("duplicate delivery: already stored", extra={"where": item.ref.where,
                                                                             "ticket_id": result["ticket_id"]})
                return result
        if item.error is not None:
            logger.warning("ticket failed, will be retried", extra={"where": item.ref.where,
                                                                    "error": type(item.error).__name__})
            raise item.error
        assert item.rejected is not None
        key = self.rt.store.put_rejected(item.rejected, reject_key(self.rt.settings, item.ref.key))
        logger.warning("ticket rejected",
                       extra={"where": item.ref.where, "reason": item.rejected.reason, "reject_key": key})
        return {"rejected": key, "reason": item.rejected.reason}

    def handle(self, record: SQSRecord) -> dict[str, Any]:
        """BatchProcessor's record handler: raise to report this message as failed."""
        outcome = self.outcomes.get(record.message_id)
        if outcome is None:
            raise RuntimeError("record was not prepared")
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


IO_THREADS = 8
_T = TypeVar("_T")
_R = TypeVar("_R")


def _parallel(function: Callable[[_T], _R], values: Sequence[_T]) -> list[_R]:
    """``[function(v) for v in values]`` on a few threads (S3 and DynamoDB round trips)."""
    if len(values) <= 1:
        return [function(v) for v in values]
    with ThreadPoolExecutor(max_workers=min(IO_THREADS, len(values)), thread_name_prefix="batch-io") as pool:
        return list(pool.map(function, values))


# ------------------------------------------------------------------------- handler --
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS event (S3 notifications) -> ``{"batchItemFailures": [...]}``."""
    started = time.perf_counter()
    rt = runtime()
    # In-progress idempotency records expire with the invocation: a retry after a crash
    # proceeds once the function's timeout has passed.
    rt.idempotency_config.register_lambda_context(context)
    records = event.get("Records") or []
    batch = Batch.prepare(records, rt)
    batch.settle()
    response = process_partial_response(event=event, record_handler=batch.handle, processor=processor,
                                        context=context)
    failures = len(response.get("batchItemFailures", []))
    metrics.add_metric(name="BatchSize", unit=MetricUnit.Count, value=len(records))
    metrics.add_metric(name="MessagesFailed", unit=MetricUnit.Count, value=failures)
    metrics.add_metric(name="HandlerLatency", unit=MetricUnit.Milliseconds,
                       value=(time.perf_counter() - started) * 1000)
    logger.info("batch done", extra={"messages": len(records), "failed": failures,
                                     "enriched": batch.enriched_count, "enrich_ms": round(batch.enrich_ms, 1)})
    return dict(response)
