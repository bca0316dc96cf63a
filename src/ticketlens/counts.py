"""Tickets per minute and per hour, kept as the tickets are stored.

A chart over a day would otherwise read every ticket of that day. Instead the store adds
each ticket to two counter items in the counts table, in the same ``TransactWriteItems``
as the ticket's create-only item (:meth:`ticketlens.store.TicketStore.put_enriched`): a
retry, a duplicate delivery or a crash between the writes can never count a ticket twice
or not at all, and a corrected upload moves its counts from its old labels to its new
ones. A chart is then one ``Query`` of at most a few hundred small items, whatever the
traffic.

Layout: hash key ``period`` (``"minute"`` or ``"hour"``), range key ``bucket_start``
(Unix seconds); attributes ``n`` (tickets) and ``intent:<label>``, ``urgency:<level>``,
``sentiment:<value>``, and ``incident:<id>`` for tickets the similar-ticket search put in an
incident (the board's list of current incidents); ``traffic:<head>`` and
``traffic_n:<head>`` sum the head's disagreement over the tickets that carry it
(``ticketlens.schemas.Traffic``: the enrich handler reads the last week's to set the intent
head's temperature). Minute items expire after two days, hour items after 400 (TTL on
``expires_at``). Every ticket updates the same two items within a minute, so one
deployment writes at most a few hundred tickets a second (the rate DynamoDB accepts on
one item); a support queue is far below that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .schemas import Traffic, traffic_units

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DIMENSIONS = ("intent", "urgency", "sentiment", "incident")  # incident: only tickets that belong to one
TOTAL = "n"
TRAFFIC_HEADS = ("intent", "sentiment")
TRAFFIC_WINDOW_S = 7 * 24 * 3600  # the recent tickets that describe a deployment's traffic


@dataclass(frozen=True)
class Period:
    name: str
    seconds: int
    keep_s: int  # TTL: how long a counter item is kept after its bucket starts


MINUTE = Period("minute", 60, 2 * 24 * 3600)
HOUR = Period("hour", 3600, 400 * 24 * 3600)
PERIODS = (MINUTE, HOUR)

Deltas = dict[str, int]  # counter attribute -> change


def labels_of(item: Mapping[str, Any]) -> Deltas:
    """+1 for the ticket and for each of its labels, and its heads' disagreement in traffic
    units (a plain item or a TicketRecord dump)."""
    deltas: Deltas = {TOTAL: 1}
    for dimension in DIMENSIONS:
        value = item.get(dimension)
        if value is not None:
            deltas[f"{dimension}:{value}"] = 1
    for head in TRAFFIC_HEADS:
        disagreement = item.get(f"{head}_disagreement")
        if disagreement is not None:
            deltas[f"traffic:{head}"] = traffic_units(float(disagreement))
            deltas[f"traffic_n:{head}"] = 1
    return deltas


def difference(new: Deltas, old: Deltas) -> Deltas:
    """What moves when a ticket's labels change from ``old`` to ``new`` (zeros left out)."""
    keys = set(new) | set(old)
    moved = {key: new.get(key, 0) - old.get(key, 0) for key in sorted(keys)}
    return {key: change for key, change in moved.items() if change}


def negated(deltas: Deltas) -> Deltas:
    return {key: -change for key, change in deltas.items()}


def updates(table: str, created_at: int, deltas: Deltas) -> list[dict[str, Any]]:
    """The ``TransactWriteItems`` entries that apply ``deltas`` to the ticket's minute and hour."""
    if not deltas:
        return []
    names = {f"#c{i}": key for i, key in enumerate(deltas)}
    values: dict[str, Any] = {f":c{i}": {"N": str(change)} for i, change in enumerate(deltas.values())}
    adds = ", ".join(f"#c{i} :c{i}" for i in range(len(deltas)))
    entries = []
    for period in PERIODS:
        start = created_at - created_at % period.seconds
        entries.append({"Update": {
            "TableName": table,
            "Key": {"period": {"S": period.name}, "bucket_start": {"N": str(start)}},
            "UpdateExpression": f"ADD {adds} SET #expires = :expires",
            "ExpressionAttributeNames": {**names, "#expires": "expires_at"},
            "ExpressionAttributeValues": {**values, ":expires": {"N": str(start + period.keep_s)}},
        }})
    return entries


def period_for(bucket_s: int) -> Period:
    """The coarsest period that adds up exactly to buckets of ``bucket_s`` seconds."""
    for period in sorted(PERIODS, key=lambda p: -p.seconds):
        if bucket_s % period.seconds == 0:
            return period
    raise ValueError(f"buckets of {bucket_s} s are not a whole number of minutes")


@dataclass(frozen=True)
class CounterRead:
    buckets: dict[int, dict[str, dict[str, int]]]  # bucket start -> dimension -> value -> tickets
    items_read: int


def read(dynamodb: DynamoDBClient, table: str, buckets: Sequence[int], bucket_s: int) -> CounterRead:
    """Tickets per bucket and label for ``buckets`` (starts, ``bucket_s`` apart): one Query."""
    period = period_for(bucket_s)
    out: dict[int, dict[str, dict[str, int]]] = {start: {d: {} for d in DIMENSIONS} for start in buckets}
    if not buckets:
        return CounterRead(out, 0)
    first = buckets[0]
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#p = :p AND #s BETWEEN :from AND :to",
        "ExpressionAttributeNames": {"#p": "period", "#s": "bucket_start"},
        "ExpressionAttributeValues": {":p": {"S": period.name}, ":from": {"N": str(first)},
                                      ":to": {"N": str(buckets[-1] + bucket_s - 1)}},
    }
    items_read = 0
    while True:
        page = dynamodb.query(**kwargs)
        for item in page.get("Items", []):
            items_read += 1
            start = first + (int(item["bucket_start"]["N"]) - first) // bucket_s * bucket_s
            slot = out.get(start)
            if slot is None:
                continue
            for key, value in _counters(item):
                dimension, _, label = key.partition(":")
                if dimension in slot and label and value:
                    slot[dimension][label] = slot[dimension].get(label, 0) + value
        if "LastEvaluatedKey" not in page:
            return CounterRead(out, items_read)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def traffic(dynamodb: DynamoDBClient, table: str, now: int) -> dict[str, Traffic]:
    """Per head, the traffic of the tickets stored in the hours of the last week: one Query."""
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#p = :p AND #s >= :from",
        "ExpressionAttributeNames": {"#p": "period", "#s": "bucket_start"},
        "ExpressionAttributeValues": {":p": {"S": HOUR.name}, ":from": {"N": str(now - TRAFFIC_WINDOW_S)}},
    }
    sums = {head: [0, 0] for head in TRAFFIC_HEADS}
    while True:
        page = dynamodb.query(**kwargs)
        for item in page.get("Items", []):
            for head in TRAFFIC_HEADS:
                sums[head][0] += int(item.get(f"traffic_n:{head}", {}).get("N", 0))
                sums[head][1] += int(item.get(f"traffic:{head}", {}).get("N", 0))
        if "LastEvaluatedKey" not in page:
            return {head: Traffic(n, units) for head, (n, units) in sums.items()}
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _counters(item: Mapping[str, Any]) -> Iterable[tuple[str, int]]:
    for key, value in item.items():
        if ":" in key and "N" in value:
            yield key, int(value["N"])


def totals(dynamodb: DynamoDBClient, table: str, period: Period = HOUR) -> int:
    """Every ticket ever counted in ``period`` items (a check that the counts add up)."""
    total = 0
    kwargs: dict[str, Any] = {
        "TableName": table, "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": "period", "#n": TOTAL},
        "ExpressionAttributeValues": {":p": {"S": period.name}},
        "ProjectionExpression": "#n",
    }
    while True:
        page = dynamodb.query(**kwargs)
        total += sum(int(item.get(TOTAL, {}).get("N", 0)) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
