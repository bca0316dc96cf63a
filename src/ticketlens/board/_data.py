"""What the board reads, and how: GSI queries on the metadata table and key queries on the
counts table (``ticketlens.counts``), never a scan.

Every ticket has a sentiment (three values) and an urgency (four), so "all tickets, newest
first" is three ``sentiment-index`` queries merged, and any filter picks the index whose
key it names (intent, then sentiment, then urgency) with the other filters as a
``FilterExpression``. Reads are bounded: a filtered query stops after ``read_cap`` items
and says so (``complete: false``) instead of walking the whole table.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from .. import counts
from ..schemas import SENTIMENTS, URGENCY_LEVELS
from ..store import INTENT_INDEX, SENTIMENT_INDEX, URGENCY_INDEX, TicketStore, from_item, is_missing

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_In = TypeVar("_In")
_Out = TypeVar("_Out")

# What a list row needs: no body, no customer, no embedding (the item has none anyway).
LIST_ATTRIBUTES = (
    "ticket_id", "created_at", "subject", "priority", "source", "intent", "intent_confidence", "urgency",
    "urgency_confidence", "sentiment", "sentiment_confidence", "summary", "processed_at",
    # Optional, from similar-ticket search once it writes them: shown when present.
    "similar", "duplicate_of", "incident",
)
# Fields a ticket page takes from the item when the S3 record lacks them (an indexer may
# add them to the item after the record was written).
ITEM_EXTRAS = ("similar", "duplicate_of", "incident")
PAGE_SIZE = 200  # items read per request when a filter may drop some
DEFAULT_READ_CAP = 2_000
URGENT_LEVELS = ("critical", "high")


@dataclass(frozen=True)
class TicketFilter:
    """The list's filters; empty means any. ``max_confidence`` keeps tickets whose least
    confident prediction (intent, urgency or sentiment) is at most this."""

    intent: str = ""
    urgency: str = ""
    sentiment: str = ""
    max_confidence: float | None = None


@dataclass(frozen=True)
class Page:
    """Tickets found, and whether the search was exhaustive up to ``limit``."""

    tickets: list[dict[str, Any]]
    complete: bool
    items_read: int
    index: str


@dataclass
class Counts:
    """Tickets per time bucket for each value of intent, urgency and sentiment."""

    since: int
    bucket_s: int
    buckets: list[int]
    series: dict[str, dict[str, list[int]]]
    total: int
    items_read: int


class BoardData:
    """Read-only queries behind the board's JSON API."""

    def __init__(self, store: TicketStore | None = None, clock: Callable[[], float] = time.time) -> None:
        self.store = store or TicketStore()
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="board-query")
        self._lock = threading.Lock()
        self._rejects: dict[tuple[str, str], dict[str, Any]] = {}  # (key, ETag) -> what the panel shows

    def forget_rejects(self) -> None:
        """Forget the reject documents read so far (a cold start, as a new Lambda container has)."""
        with self._lock:
            self._rejects.clear()

    @property
    def _table(self) -> str:
        return self.store.settings.table_name

    @property
    def _dynamodb(self) -> DynamoDBClient:
        return self.store.aws.dynamodb

    # -- the list ------------------------------------------------------------------------
    def tickets(self, filters: TicketFilter, limit: int = 50, read_cap: int = DEFAULT_READ_CAP) -> Page:
        """Newest first, matching every filter."""
        if filters.intent:
            index, attribute, values = INTENT_INDEX, "intent", [filters.intent]
        elif filters.sentiment:
            index, attribute, values = SENTIMENT_INDEX, "sentiment", [filters.sentiment.upper()]
        elif filters.urgency:
            index, attribute, values = URGENCY_INDEX, "urgency", [filters.urgency]
        else:
            index, attribute, values = SENTIMENT_INDEX, "sentiment", list(SENTIMENTS)
        conditions: list[str] = []
        names: dict[str, str] = {}
        values_map: dict[str, Any] = {}
        for name, value in (("intent", filters.intent), ("urgency", filters.urgency),
                            ("sentiment", filters.sentiment.upper())):
            if value and name != attribute:
                conditions.append(f"#f_{name} = :f_{name}")
                names[f"#f_{name}"] = name
                values_map[f":f_{name}"] = {"S": value}
        if filters.max_confidence is not None:
            names.update({"#ic": "intent_confidence", "#uc": "urgency_confidence", "#sc": "sentiment_confidence"})
            values_map[":mc"] = {"N": repr(float(filters.max_confidence))}
            conditions.append("(#ic <= :mc OR #uc <= :mc OR #sc <= :mc)")
        filter_spec = (" AND ".join(conditions), names, values_map) if conditions else None
        results = self._parallel(
            lambda value: self._query(index, attribute, value, limit=limit, newest_first=True,
                                      filter_spec=filter_spec, read_cap=read_cap),
            values,
        )
        merged = heapq.merge(*(found for found, _, _ in results),
                             key=lambda item: (item["created_at"], item["ticket_id"]), reverse=True)
        tickets = list(merged)[:limit]
        complete = all(done for _, done, _ in results)
        return Page(tickets=tickets, complete=complete, items_read=sum(n for _, _, n in results), index=index)

    def urgent(self, since: int, limit: int = 50) -> list[dict[str, Any]]:
        """Critical and high tickets created since ``since``, oldest first (the queue's order)."""
        results = self._parallel(
            lambda level: self._query(URGENCY_INDEX, "urgency", level, limit=limit, newest_first=False, since=since)[0],
            URGENT_LEVELS,
        )
        merged = heapq.merge(*results, key=lambda item: (item["created_at"], item["ticket_id"]))
        return list(merged)[:limit]

    # -- counts over time ----------------------------------------------------------------
    def counts(self, window_s: int, bucket_s: int) -> Counts:
        """Tickets per bucket over the last ``window_s`` seconds, by intent, urgency, sentiment.

        One Query of the counts table, which the store keeps with every ticket it writes
        (``ticketlens.counts``): at most a few hundred small items, however many tickets.
        """
        now = self.clock()
        end = int(now // bucket_s + 1) * bucket_s
        buckets = list(range(end - (window_s // bucket_s) * bucket_s, end, bucket_s))
        read = counts.read(self._dynamodb, self.store.settings.counts_table, buckets, bucket_s)
        per_bucket = [read.buckets[start] for start in buckets]
        series: dict[str, dict[str, list[int]]] = {}
        for dimension, known in (("intent", ()), ("urgency", URGENCY_LEVELS), ("sentiment", SENTIMENTS)):
            seen = list(known) + sorted({v for slot in per_bucket for v in slot[dimension]} - set(known))
            series[dimension] = {value: [slot[dimension].get(value, 0) for slot in per_bucket] for value in seen}
        total = sum(sum(slot["sentiment"].values()) for slot in per_bucket)
        return Counts(since=buckets[0], bucket_s=bucket_s, buckets=buckets, series=series, total=total,
                      items_read=read.items_read)

    def incidents(self, hours: int, limit: int = 10) -> list[dict[str, Any]]:
        """Incidents with tickets in the last ``hours`` hours, largest first, each with its first ticket.

        Read from the hour counters (one Query) and, per incident, the ticket that opened it
        (incident ids are ``INC-<first ticket id>``): no scan, whatever the traffic.
        """
        now = self.clock()
        end = int(now // 3600 + 1) * 3600
        buckets = list(range(end - hours * 3600, end, 3600))
        read = counts.read(self._dynamodb, self.store.settings.counts_table, buckets, 3600)
        found: dict[str, dict[str, Any]] = {}
        for start in buckets:
            for incident, n in read.buckets[start]["incident"].items():
                if n <= 0:
                    continue  # moved away by corrected uploads
                entry = found.setdefault(incident, {"incident": incident, "tickets": 0, "first_hour": start})
                entry["tickets"] += n
                entry["last_hour"] = start
        largest = sorted(found.values(), key=lambda e: (-e["tickets"], -e["last_hour"], e["incident"]))[:limit]

        def opened_by(entry: dict[str, Any]) -> dict[str, Any]:
            first = self.store.get_item(entry["incident"].removeprefix("INC-"))
            if first is not None:
                entry["first_ticket"] = {name: first[name] for name in LIST_ATTRIBUTES if name in first}
            return entry

        return self._parallel(opened_by, largest)

    # -- one ticket ----------------------------------------------------------------------
    def ticket(self, ticket_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(the table's item, the full record from the enriched bucket), or None."""
        item = self.store.get_item(ticket_id)
        if item is None:
            return None
        body = self.store.aws.s3.get_object(Bucket=self.store.settings.enriched_bucket, Key=item["s3_key"])["Body"]
        record: dict[str, Any] = json.loads(body.read())
        for name in ITEM_EXTRAS:
            if name in item and name not in record:
                record[name] = item[name]
        return item, record

    # -- what went wrong -----------------------------------------------------------------
    def rejects(self, limit: int = 20) -> tuple[list[dict[str, Any]], int]:
        """The newest rejects (without the raw input they keep: it is ticket text), and how many there are.

        One listing per call; a reject's document is read once and kept while it is among the
        newest (by key and ETag: a raw object rejected again is read again).
        """
        settings = self.store.settings
        listed: list[tuple[datetime, str, str]] = []
        paginator = self.store.aws.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=settings.enriched_bucket, Prefix=settings.rejects_prefix):
            listed.extend((obj["LastModified"], obj["Key"], obj.get("ETag", "")) for obj in page.get("Contents", []))
        newest = [(key, etag) for _, key, etag in heapq.nlargest(limit, listed)]

        def load(version: tuple[str, str]) -> dict[str, Any] | None:
            with self._lock:
                if version in self._rejects:
                    return self._rejects[version]
            key = version[0]
            try:
                body = self.store.aws.s3.get_object(Bucket=settings.enriched_bucket, Key=key)["Body"].read()
            except ClientError as error:
                if is_missing(error):
                    return None  # expired or cleaned between the listing and the read
                raise
            document = json.loads(body)
            summary = {
                "where": str(document.get("where", "")),
                "reason": str(document.get("reason", "")),
                "raw_size": document.get("raw_size"),
                "recorded_at": str(document.get("recorded_at", "")),
                "reject_key": key,
            }
            with self._lock:
                self._rejects[version] = summary
            return summary

        found = [r for r in self._parallel(load, newest) if r is not None]
        with self._lock:
            wanted = set(newest)
            if len(self._rejects) > 4 * limit:  # forget what is no longer among the newest
                self._rejects = {v: doc for v, doc in self._rejects.items() if v in wanted}
        return found, len(listed)

    def dead_letters(self, limit: int = 10) -> list[dict[str, Any]]:
        """A peek at the dead-letter queue (received with visibility 0: nothing moves)."""
        from ..ops.commands import dead_letters

        return dead_letters(self.store, limit)

    def queues(self) -> dict[str, dict[str, Any]]:
        s = self.store.settings
        depths = self._parallel(self.store.queue_depth, (s.queue_name, s.dlq_name))
        return {"queue": {"name": s.queue_name, **depths[0]}, "dlq": {"name": s.dlq_name, **depths[1]}}

    # -- plumbing ------------------------------------------------------------------------
    def _parallel(self, function: Callable[[_In], _Out], values: Iterable[_In]) -> list[_Out]:
        items = list(values)
        if len(items) == 1:
            return [function(items[0])]
        return list(self._pool.map(function, items))

    def _query(
        self, index: str, attribute: str, value: str, *, limit: int, newest_first: bool, since: int | None = None,
        filter_spec: tuple[str, dict[str, str], dict[str, Any]] | None = None,
        read_cap: int = DEFAULT_READ_CAP,
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """One GSI partition, in created_at order: (items, exhausted or limit reached, items read)."""
        names = {"#k": attribute, **{f"#p{i}": name for i, name in enumerate(LIST_ATTRIBUTES)}}
        values: dict[str, Any] = {":k": {"S": value}}
        condition = "#k = :k"
        if since is not None:
            names["#t"] = "created_at"
            values[":t"] = {"N": str(int(since))}
            condition += " AND #t >= :t"
        kwargs: dict[str, Any] = {
            "TableName": self._table, "IndexName": index, "KeyConditionExpression": condition,
            "ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(LIST_ATTRIBUTES))),
            "ScanIndexForward": not newest_first,
        }
        if filter_spec is not None:
            expression, filter_names, filter_values = filter_spec
            kwargs["FilterExpression"] = expression
            names.update(filter_names)
            values.update(filter_values)
        kwargs["ExpressionAttributeNames"] = names
        kwargs["ExpressionAttributeValues"] = values
        items: list[dict[str, Any]] = []
        read = 0
        while True:
            wanted = PAGE_SIZE if filter_spec is not None else min(PAGE_SIZE, limit - len(items))
            page = self._dynamodb.query(**kwargs, Limit=max(1, min(wanted, read_cap - read)))
            read += int(page.get("ScannedCount", len(page.get("Items", []))))
            items.extend(from_item(item) for item in page.get("Items", []))
            if len(items) >= limit or "LastEvaluatedKey" not in page:
                return items[:limit], True, read
            if read >= read_cap:
                return items, False, read
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
