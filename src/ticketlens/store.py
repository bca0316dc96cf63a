"""Everything ticketlens reads from and writes to AWS: S3 objects, DynamoDB items, queue depths.

One place builds the boto3 clients (from :class:`Settings`, so ``AWS_ENDPOINT_URL`` points
every caller at LocalStack or the embedded emulator alike), and one place knows the shapes:
where an enriched record is stored, what the DynamoDB item looks like, how the query
commands read the table through its GSIs (never a scan, except for ``counts``).
"""

from __future__ import annotations

import heapq
import json
import random
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from . import counts
from .schemas import (
    MAX_REJECT_RAW_CHARS,
    URGENCY_LEVELS,
    EnrichedTicket,
    RawTicket,
    Rejected,
    TicketRecord,
    Traffic,
    fingerprint,
    utc_now_iso,
)
from .settings import Settings, get_settings

if TYPE_CHECKING:  # the stubs type the calls; at run time boto3 builds the clients
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

ENRICHED_PREFIX = "tickets/"
# Under the settings' rejects prefix: rejected raw objects (by their raw key) and queue
# messages that were not S3 events (by message id).
REJECTED_OBJECTS = "objects/"
REJECTED_MESSAGES = "messages/"
# Ticket-id claims live in the idempotency table beside powertools' records, never expiring.
CLAIM_PREFIX = "ticket-id#"
URGENCY_INDEX = "urgency-index"
SENTIMENT_INDEX = "sentiment-index"
INTENT_INDEX = "intent-index"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


# --------------------------------------------------------------------------- clients --
@dataclass(frozen=True)
class Clients:
    s3: S3Client
    sqs: SQSClient
    dynamodb: DynamoDBClient
    cloudformation: CloudFormationClient


_clients_lock = threading.Lock()
_clients_cache: dict[tuple[str | None, str], Clients] = {}


def clients(settings: Settings | None = None) -> Clients:
    """boto3 clients for the configured endpoint and region, built once per process.

    Clients are thread-safe (resources are not), so the local runner's concurrent
    invocations share them.
    """
    settings = settings or get_settings()
    key = (settings.endpoint_url, settings.region)
    with _clients_lock:
        cached = _clients_cache.get(key)
        if cached is None:
            config = Config(
                retries={"max_attempts": 5, "mode": "standard"},
                max_pool_connections=32,
                connect_timeout=5,
                read_timeout=60,
            )
            session = boto3.session.Session(region_name=settings.region)
            endpoint = settings.endpoint_url
            cached = Clients(
                s3=session.client("s3", endpoint_url=endpoint, config=config),
                sqs=session.client("sqs", endpoint_url=endpoint, config=config),
                dynamodb=session.client("dynamodb", endpoint_url=endpoint, config=config),
                cloudformation=session.client("cloudformation", endpoint_url=endpoint, config=config),
            )
            _clients_cache[key] = cached
        return cached


def reset_clients() -> None:
    """Forget cached clients (tests that switch endpoints)."""
    with _clients_lock:
        _clients_cache.clear()


# ------------------------------------------------------------------- item encoding --
def to_item(record: TicketRecord) -> dict[str, Any]:
    """The DynamoDB item (attribute-value form): floats become Decimal, None is left out."""
    plain = json.loads(record.model_dump_json(exclude_none=True), parse_float=Decimal)
    return {name: _serializer.serialize(value) for name, value in plain.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain Python: Decimal becomes int or float."""
    out: dict[str, Any] = {}
    for name, value in item.items():
        plain = _deserializer.deserialize(value)
        if isinstance(plain, Decimal):
            plain = int(plain) if plain == plain.to_integral_value() else float(plain)
        out[name] = plain
    return out


def enriched_key(ticket: EnrichedTicket) -> str:
    """Where the full record lives in the enriched bucket: tickets/YYYY/MM/DD/<id>.json."""
    day = datetime.fromtimestamp(ticket.created_at, tz=UTC)
    return f"{ENRICHED_PREFIX}{day:%Y/%m/%d}/{ticket.ticket_id}.json"


def reject_key(settings: Settings, source_key: str) -> str:
    """Rejects mirror the raw key under the rejects prefix, so one raw object has one reject."""
    return f"{settings.rejects_prefix}{REJECTED_OBJECTS}{source_key}"


def rejected_message_key(settings: Settings, message_id: str) -> str:
    """A queue message that was not an S3 event at all has no raw key: it is kept by its id."""
    return f"{settings.rejects_prefix}{REJECTED_MESSAGES}{message_id}.json"


@dataclass(frozen=True)
class RawObject:
    """What was read of a raw object: all of it, or a prefix when it is over the limit."""

    body: bytes
    etag: str
    size: int  # the whole object, in bytes

    @property
    def complete(self) -> bool:
        return len(self.body) == self.size


ClaimKind = Literal["new", "same", "update", "conflict"]


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a ticket id for one raw object (see :meth:`TicketStore.claim`)."""

    kind: ClaimKind
    holder: str = ""  # the object that holds the id (for "conflict")
    previous_created_at: int | None = None  # for "update": where the old record lives


class IdConflict(Exception):
    """Another object already holds this ticket_id with different content."""


class StoreBusy(RuntimeError):
    """A ticket's item kept losing to concurrent writes; the delivery fails and is retried."""


TRANSACT_ATTEMPTS = 8


def _backoff(attempt: int) -> None:
    time.sleep(min(0.5, 0.01 * 2 ** attempt) * random.uniform(0.5, 1.5))


# ----------------------------------------------------------------------- the store --
class TicketStore:
    """Reads and writes tickets for one configured deployment."""

    def __init__(self, settings: Settings | None = None, aws: Clients | None = None) -> None:
        self.settings = settings or get_settings()
        self.aws = aws or clients(self.settings)

    # -- raw tickets ------------------------------------------------------------------
    def get_raw(self, bucket: str, key: str, max_bytes: int | None = None) -> RawObject:
        """The object's bytes, at most ``max_bytes`` of them, with its ETag and full size.

        One ranged GET: memory stays bounded whatever a producer uploads. An object over
        the limit comes back as a short prefix (enough for a reject record).
        """
        limit = max_bytes if max_bytes is not None else self.settings.max_object_bytes
        try:
            response = self.aws.s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{limit}")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "InvalidRange":  # a 0-byte object
                return RawObject(body=b"", etag="", size=0)
            raise
        etag = response.get("ETag", "").strip('"')
        content_range = response.get("ContentRange") or ""
        size = int(content_range.rsplit("/", 1)[-1]) if "/" in content_range else int(response.get("ContentLength", 0))
        stream = response["Body"]
        try:
            body = stream.read(limit if size <= limit else MAX_REJECT_RAW_CHARS)
        finally:
            stream.close()
        return RawObject(body=body, etag=etag, size=size)

    def put_raw(self, key: str, body: bytes | str) -> None:
        self.aws.s3.put_object(
            Bucket=self.settings.raw_bucket, Key=key, Body=body, ContentType="application/json"
        )

    # -- ticket identity --------------------------------------------------------------
    def claim(self, ticket: RawTicket, source: str) -> Claim:
        """Claim ``ticket.ticket_id`` for the raw object ``source`` (s3://bucket/key).

        One conditional write, no read-then-write: the first object to claim an id holds
        it. The same content from anywhere is the same ticket ("same"); new content from
        the object that holds the id is a corrected upload ("update"); new content from
        another object is a "conflict" and must not touch the stored ticket.
        """
        sha = fingerprint(ticket)
        table = self.settings.idempotency_table
        item = {
            "id": {"S": f"{CLAIM_PREFIX}{ticket.ticket_id}"},
            "content_sha256": {"S": sha},
            "source": {"S": source},
            "created_at": {"N": str(ticket.created_at)},
            "claimed_at": {"S": utc_now_iso()},
        }
        try:
            self.aws.dynamodb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(id)",
                                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
            return Claim("new")
        except ClientError as error:
            if not _conditional_failed(error):
                raise
            returned = error.response.get("Item")  # ReturnValuesOnConditionCheckFailure, where supported
            old = returned if isinstance(returned, dict) and returned else self._claim_item(ticket.ticket_id)
        if old is None:  # the claim vanished in between (a `clean`): try again from the start
            return self.claim(ticket, source)
        old_sha, holder = old["content_sha256"]["S"], old["source"]["S"]
        if old_sha == sha:
            return Claim("same", holder=holder)
        if holder != source:
            return Claim("conflict", holder=holder)
        try:  # the holder's corrected upload: move the claim on, unless someone else just did
            self.aws.dynamodb.put_item(TableName=table, Item=item, ConditionExpression="content_sha256 = :old",
                                       ExpressionAttributeValues={":old": {"S": old_sha}})
        except ClientError as error:
            if _conditional_failed(error):
                return self.claim(ticket, source)
            raise
        return Claim("update", holder=holder, previous_created_at=int(old["created_at"]["N"]))

    def _claim_item(self, ticket_id: str) -> dict[str, Any] | None:
        response = self.aws.dynamodb.get_item(TableName=self.settings.idempotency_table,
                                              Key={"id": {"S": f"{CLAIM_PREFIX}{ticket_id}"}}, ConsistentRead=True)
        return response.get("Item")

    # -- results ----------------------------------------------------------------------
    def put_enriched(self, ticket: EnrichedTicket, claim: Claim | None = None) -> tuple[str, bool]:
        """Store the full record in S3, then the metadata item; returns (S3 key, written).

        Each record is written once: the S3 put is create-only (``If-None-Match``) and the
        item put is conditional on the content, so a retry after a crash completes what is
        missing and rewrites nothing, and the same ticket delivered again writes nothing.
        S3 first, so an item in the table always points at a record that exists. The item
        and the ticket's counts (``ticketlens.counts``) are one transaction. A corrected
        upload (``claim.kind == "update"``) replaces the record and removes the old one if
        its date moved, moving its counts with it.
        """
        key = enriched_key(ticket)
        sha = fingerprint(ticket)
        body = ticket.model_dump_json().encode("utf-8")
        bucket, metadata = self.settings.enriched_bucket, {"content-sha256": sha}
        written = False
        try:
            self.aws.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", Metadata=metadata,
                                   IfNoneMatch="*")
            written = True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
                raise
            head = self.aws.s3.head_object(Bucket=bucket, Key=key)
            if head.get("Metadata", {}).get("content-sha256") != sha:  # an older version of this ticket
                self.aws.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json",
                                       Metadata=metadata)
                written = True
        record = TicketRecord.from_enriched(ticket, s3_key=key)
        if self._put_item(record):
            written = True
        if claim is not None and claim.kind == "update" and claim.previous_created_at not in (None, ticket.created_at):
            self._remove_moved(ticket, claim.previous_created_at, key)
        return key, written

    def _put_item(self, record: TicketRecord) -> bool:
        """The metadata item and its counts in one transaction; False when this content is already stored.

        A new ticket is a create-only ``Put`` plus +1 on its minute and hour counters; new
        content for the same key replaces the item only if it still holds the content just
        read, and moves the counts from the old labels to the new ones.
        """
        item = to_item(record)
        key = {"ticket_id": item["ticket_id"], "created_at": item["created_at"]}
        labels = counts.labels_of(record.model_dump())
        condition, moved = "attribute_not_exists(ticket_id)", labels
        expected: dict[str, Any] = {}
        for attempt in range(TRANSACT_ATTEMPTS):
            put: dict[str, Any] = {"TableName": self.settings.table_name, "Item": item,
                                   "ConditionExpression": condition}
            if expected:
                put["ExpressionAttributeValues"] = expected
            outcome = self._transact(
                [{"Put": put}, *counts.updates(self.settings.counts_table, record.created_at, moved)])
            if outcome == "done":
                return True
            if outcome == "condition":  # an item is there (or has just gone): what holds the key now?
                old = self._item_at(key)
                if old is None:
                    condition, expected, moved = "attribute_not_exists(ticket_id)", {}, labels
                elif old.get("content_sha256") == item["content_sha256"]:
                    return False
                else:
                    condition, expected = _holds(old)
                    moved = counts.difference(labels, counts.labels_of(from_item(old)))
                continue
            _backoff(attempt)
        raise StoreBusy(f"ticket {record.ticket_id}: the item kept conflicting with other writes")

    def _remove_moved(self, ticket: EnrichedTicket, old_created_at: int, new_key: str) -> None:
        """A corrected upload changed created_at: the old item (and its counts) and record are that ticket's past."""
        old_key = enriched_key(ticket.model_copy(update={"created_at": old_created_at}))
        key = {"ticket_id": {"S": ticket.ticket_id}, "created_at": {"N": str(old_created_at)}}
        for attempt in range(TRANSACT_ATTEMPTS):
            old = self._item_at(key)
            if old is None:
                break
            condition, expected = _holds(old)
            delete: dict[str, Any] = {"TableName": self.settings.table_name, "Key": key,
                                      "ConditionExpression": condition}
            if expected:
                delete["ExpressionAttributeValues"] = expected
            gone = counts.updates(self.settings.counts_table, old_created_at,
                                  counts.negated(counts.labels_of(from_item(old))))
            if self._transact([{"Delete": delete}, *gone]) == "done":
                break
            _backoff(attempt)
        else:
            raise StoreBusy(f"ticket {ticket.ticket_id}: its old item kept conflicting with other writes")
        if old_key != new_key:
            self.aws.s3.delete_object(Bucket=self.settings.enriched_bucket, Key=old_key)

    def _item_at(self, key: dict[str, Any]) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.aws.dynamodb.get_item(
            TableName=self.settings.table_name, Key=key, ConsistentRead=True).get("Item")
        return item

    def _transact(self, entries: list[dict[str, Any]]) -> Literal["done", "condition", "conflict"]:
        """One TransactWriteItems: done, cancelled by the first entry's condition, or by a concurrent write."""
        try:
            self.aws.dynamodb.transact_write_items(TransactItems=entries)  # type: ignore[arg-type]
            return "done"
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [str(r.get("Code", "")) for r in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return "condition"
            if "TransactionConflict" in reasons or not reasons:
                return "conflict"
            raise

    def put_rejected(self, rejected: Rejected, key: str) -> str:
        """Record why something could not be enriched, next to the enriched records.

        Rejects keep a bounded prefix of the raw input (``Rejected.of``) and expire with
        the rejects prefix's lifecycle rule (``RejectsRetentionDays`` in template.yaml).
        """
        document = {**rejected.model_dump(), "recorded_at": utc_now_iso()}
        self.aws.s3.put_object(
            Bucket=self.settings.enriched_bucket,
            Key=key,
            Body=json.dumps(document, ensure_ascii=False).encode("utf-8"),
            ContentType="application/json",
        )
        return key

    def get_rejected(self, source_key: str) -> dict[str, Any] | None:
        """The reject recorded for a raw object, or None."""
        return self._get_json(self.settings.enriched_bucket, reject_key(self.settings, source_key))

    def rejects(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest reject records (objects and messages), newest first."""
        listed: list[tuple[datetime, str]] = []
        paginator = self.aws.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.settings.enriched_bucket, Prefix=self.settings.rejects_prefix):
            listed.extend((obj["LastModified"], obj["Key"]) for obj in page.get("Contents", []))
        newest = heapq.nlargest(limit, listed)
        found = []
        for _, key in newest:
            document = self._get_json(self.settings.enriched_bucket, key)
            if document is not None:
                found.append({**document, "reject_key": key})
        return found

    def _get_json(self, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            body = self.aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        document: dict[str, Any] = json.loads(body)
        return document

    # -- queries ----------------------------------------------------------------------
    def _query_index(self, index: str, attribute: str, value: str, limit: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.settings.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#a = :v",
            "ExpressionAttributeNames": {"#a": attribute},
            "ExpressionAttributeValues": {":v": {"S": value}},
            "ScanIndexForward": False,  # newest first
        }
        while len(items) < limit:
            kwargs["Limit"] = limit - len(items)
            page = self.aws.dynamodb.query(**kwargs)
            items.extend(from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return items

    def _newest_across(self, index: str, attribute: str, values: Iterable[str], limit: int) -> list[dict[str, Any]]:
        per_value = [self._query_index(index, attribute, value, limit) for value in values]
        merged = heapq.merge(*per_value, key=lambda item: (item["created_at"], item["ticket_id"]), reverse=True)
        return list(merged)[:limit]

    def by_urgency(self, levels: Iterable[str], limit: int = 20) -> list[dict[str, Any]]:
        """Tickets at the given urgency levels, newest first (urgency-index GSI)."""
        return self._newest_across(URGENCY_INDEX, "urgency", levels, limit)

    def urgent(self, limit: int = 20) -> list[dict[str, Any]]:
        return self.by_urgency(("critical", "high"), limit)

    def by_sentiment(self, sentiment: str, limit: int = 20) -> list[dict[str, Any]]:
        return self._query_index(SENTIMENT_INDEX, "sentiment", sentiment.upper(), limit)

    def by_intent(self, intent: str, limit: int = 20) -> list[dict[str, Any]]:
        return self._query_index(INTENT_INDEX, "intent", intent, limit)

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest tickets overall: one GSI query per urgency level, merged (no scan)."""
        return self.by_urgency(URGENCY_LEVELS, limit)

    def get_item(self, ticket_id: str) -> dict[str, Any] | None:
        page = self.aws.dynamodb.query(
            TableName=self.settings.table_name,
            KeyConditionExpression="ticket_id = :id",
            ExpressionAttributeValues={":id": {"S": ticket_id}},
            ScanIndexForward=False,
            Limit=1,
        )
        items = page.get("Items", [])
        return from_item(items[0]) if items else None

    def get_ticket(self, ticket_id: str) -> dict[str, Any] | None:
        """The full enriched record (with the embedding) from the enriched bucket."""
        item = self.get_item(ticket_id)
        if item is None:
            return None
        body = self.aws.s3.get_object(Bucket=self.settings.enriched_bucket, Key=item["s3_key"])["Body"].read()
        record: dict[str, Any] = json.loads(body)
        return record

    def traffic(self) -> dict[str, Traffic]:
        """Per head, the deployment's tickets of the last week as the counts table sums them."""
        return counts.traffic(self.aws.dynamodb, self.settings.counts_table, int(time.time()))

    # -- counts -----------------------------------------------------------------------
    def queue_url(self, name: str) -> str:
        return self.aws.sqs.get_queue_url(QueueName=name)["QueueUrl"]

    def queue_depth(self, name: str) -> dict[str, int]:
        attributes = self.aws.sqs.get_queue_attributes(
            QueueUrl=self.queue_url(name),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return {
            "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        }

    def count_items(self) -> int:
        """Items in the metadata table (a COUNT scan: fine for a status line, not for queries)."""
        total = 0
        kwargs: dict[str, Any] = {"TableName": self.settings.table_name, "Select": "COUNT"}
        while True:
            page = self.aws.dynamodb.scan(**kwargs)
            total += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def count_objects(self, bucket: str, prefix: str = "") -> int:
        return sum(1 for _ in self.iter_keys(bucket, prefix))

    def iter_keys(self, bucket: str, prefix: str = "") -> Iterator[str]:
        paginator = self.aws.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"]

    def status(self) -> dict[str, Any]:
        s = self.settings
        return {
            "endpoint": s.endpoint_url or "AWS",
            "queue": {"name": s.queue_name, **self.queue_depth(s.queue_name)},
            "dlq": {"name": s.dlq_name, **self.queue_depth(s.dlq_name)},
            "raw_objects": self.count_objects(s.raw_bucket),
            "enriched_objects": self.count_objects(s.enriched_bucket, ENRICHED_PREFIX),
            "rejects": self.count_objects(s.enriched_bucket, s.rejects_prefix),
            "table_items": self.count_items(),
        }


def _holds(item: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A condition that the item still holds the content just read (items from before
    content hashes have none: then it must still have none)."""
    if "content_sha256" in item:
        return "content_sha256 = :old", {":old": item["content_sha256"]}
    return "attribute_exists(ticket_id) AND attribute_not_exists(content_sha256)", {}


def _conditional_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _is_missing(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    return code in {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}


def is_missing(error: BaseException) -> bool:
    """True for S3's 'the object (or bucket) is not there'."""
    return isinstance(error, ClientError) and _is_missing(error)
