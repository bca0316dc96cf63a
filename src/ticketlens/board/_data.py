"""What the board reads, and how: GSI queries on the metadata table, never a scan.

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
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ..schemas import SENTIMENTS, URGENCY_LEVELS
from ..store import INTENT_INDEX, SENTIMENT_INDEX, URGENCY_INDEX, TicketStore, from_item, is_missing

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
COUNT_PAGE_SIZE = 5_000  # keys and labels only; DynamoDB still stops a page at 1 MB read
DEFAULT_READ_CAP = 2_000
COUNT_READ_CAP = 100_000
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
    complete: bool = True


@dataclass
class _CountCache:
    """Counts of closed buckets, which no longer change (bar a late or corrected ticket:
    entries expire after ``ttl_s``). Keyed by (bucket size, bucket start)."""

    ttl_s: float = 600.0
    entries: dict[tuple[int, int], tuple[float, dict[str, dict[str, int]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, bucket_s: int, start: int, now: float) -> dict[str, dict[str, int]] | None:
        with self.lock:
            hit = self.entries.get((bucket_s, start))
        if hit is None or now - hit[0] > self.ttl_s:
            return None
        return hit[1]

    def put(self, bucket_s: int, start: int, counts: dict[str, dict[str, int]], now: float) -> None:
        with self.lock:
            if len(self.entries) > 20_000:  # a long-lived server: forget what expired
                self.entries = {k: v for k, v in self.entries.items() if now - v[0] <= self.ttl_s}
            self.entries[(bucket_s, start)] = (now, counts)


class BoardData:
    """Read-only queries behind the board's JSON API."""

    def __init__(self, store: TicketStore | None = None, clock: Callable[[], float] = time.time,
                 settle_s: int = 120) -> None:
        self.store = store or TicketStore()
        self.clock = clock
        # A bucket is cached once it ended this long ago (tickets arrive after processing).
        self.settle_s = settle_s
        self._counts = _CountCache()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="board-query")

    def clear_cache(self) -> None:
        """Forget cached counts (a benchmark's cold start; a corrected past you want now)."""
        with self._counts.lock:
            self._counts.entries.clear()

    @property
    def _table(self) -> str:
        return self.store.settings.table_name

    @property
    def _dynamodb(self) -> Any:
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

        Reads every ticket in the window once (three sentiment-index queries, keys and
        labels only), except buckets that closed a while ago, which are cached: a refresh
        reads only the newest buckets.
        """
        now = self.clock()
        end = int(now // bucket_s + 1) * bucket_s
        buckets = list(range(end - (window_s // bucket_s) * bucket_s, end, bucket_s))
        since = buckets[0]
        cached: dict[int, dict[str, dict[str, int]]] = {}
        for start in buckets:
            hit = self._counts.get(bucket_s, start, now)
            if hit is None:
                break
            cached[start] = hit
        read_from = since + len(cached) * bucket_s
        fresh: dict[int, dict[str, dict[str, int]]] = {
            start: _empty_counts() for start in buckets if start >= read_from
        }
        items_read = 0
        complete = True
        if fresh:
            results = self._parallel(
                lambda sentiment: self._query(
                    SENTIMENT_INDEX, "sentiment", sentiment, limit=COUNT_READ_CAP, newest_first=False,
                    since=read_from, projection=("created_at", "intent", "urgency"), read_cap=COUNT_READ_CAP,
                    page_size=COUNT_PAGE_SIZE),
                SENTIMENTS,
            )
            for sentiment, (items, done, read) in zip(SENTIMENTS, results, strict=True):
                items_read += read
                complete = complete and done
                for item in items:
                    start = since + (int(item["created_at"]) - since) // bucket_s * bucket_s
                    slot = fresh.get(start)
                    if slot is None:
                        continue  # created in the future (a producer's clock ahead): not on this chart
                    for dimension, value in (("intent", item.get("intent")), ("urgency", item.get("urgency")),
                                             ("sentiment", sentiment)):
                        if value is not None:
                            slot[dimension][value] = slot[dimension].get(value, 0) + 1
            if complete:
                for start, slot in fresh.items():
                    if start + bucket_s <= now - self.settle_s:
                        self._counts.put(bucket_s, start, slot, now)
        per_bucket = [cached.get(start) or fresh[start] for start in buckets]
        series: dict[str, dict[str, list[int]]] = {}
        for dimension, known in (("intent", ()), ("urgency", URGENCY_LEVELS), ("sentiment", SENTIMENTS)):
            seen = list(known) + sorted({v for slot in per_bucket for v in slot[dimension]} - set(known))
            series[dimension] = {value: [slot[dimension].get(value, 0) for slot in per_bucket] for value in seen}
        total = sum(sum(slot["sentiment"].values()) for slot in per_bucket)
        return Counts(since=since, bucket_s=bucket_s, buckets=buckets, series=series, total=total,
                      items_read=items_read, complete=complete)

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
        """The newest rejects (without the raw input they keep: it is ticket text), and how many there are."""
        settings = self.store.settings
        listed: list[tuple[Any, str]] = []
        paginator = self.store.aws.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=settings.enriched_bucket, Prefix=settings.rejects_prefix):
            listed.extend((obj["LastModified"], obj["Key"]) for obj in page.get("Contents", []))
        newest = [key for _, key in heapq.nlargest(limit, listed)]

        def load(key: str) -> dict[str, Any] | None:
            try:
                body = self.store.aws.s3.get_object(Bucket=settings.enriched_bucket, Key=key)["Body"].read()
            except ClientError as error:
                if is_missing(error):
                    return None  # expired or cleaned between the listing and the read
                raise
            document = json.loads(body)
            return {
                "where": str(document.get("where", "")),
                "reason": str(document.get("reason", "")),
                "raw_size": document.get("raw_size"),
                "recorded_at": str(document.get("recorded_at", "")),
                "reject_key": key,
            }

        found = [r for r in self._parallel(load, newest) if r is not None]
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
    def _parallel(self, function: Callable[[Any], Any], values: Iterable[Any]) -> list[Any]:
        values = list(values)
        if len(values) == 1:
            return [function(values[0])]
        return list(self._pool.map(function, values))

    def _query(
        self, index: str, attribute: str, value: str, *, limit: int, newest_first: bool, since: int | None = None,
        filter_spec: tuple[str, dict[str, str], dict[str, Any]] | None = None,
        projection: Sequence[str] = LIST_ATTRIBUTES, read_cap: int = DEFAULT_READ_CAP, page_size: int = PAGE_SIZE,
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """One GSI partition, in created_at order: (items, exhausted or limit reached, items read)."""
        names = {"#k": attribute, **{f"#p{i}": name for i, name in enumerate(projection)}}
        values: dict[str, Any] = {":k": {"S": value}}
        condition = "#k = :k"
        if since is not None:
            names["#t"] = "created_at"
            values[":t"] = {"N": str(int(since))}
            condition += " AND #t >= :t"
        kwargs: dict[str, Any] = {
            "TableName": self._table, "IndexName": index, "KeyConditionExpression": condition,
            "ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(projection))),
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
            wanted = page_size if filter_spec is not None else min(page_size, limit - len(items))
            page = self._dynamodb.query(**kwargs, Limit=max(1, min(wanted, read_cap - read)))
            read += int(page.get("ScannedCount", len(page.get("Items", []))))
            items.extend(from_item(item) for item in page.get("Items", []))
            if len(items) >= limit or "LastEvaluatedKey" not in page:
                return items[:limit], True, read
            if read >= read_cap:
                return items, False, read
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _empty_counts() -> dict[str, dict[str, int]]:
    return {"intent": {}, "urgency": {}, "sentiment": {}}
