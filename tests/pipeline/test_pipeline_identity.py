"""Ticket identity: one ticket_id names one ticket, and no upload ever erases another's record.

The rule (docs/pipeline.md, "Ticket identity"): the first raw object to claim an id holds it
(a conditional write). The same content from any key is the same ticket (a no-op); new content
from the key that holds the id is a corrected upload (it replaces the record); new content
from another key is a reject that names the holder, and the stored ticket is untouched.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pipeline_helpers import count_writes, dynamodb_writes, run_runner_until, s3_writes

from ticketlens.handlers.enrich import lambda_handler
from ticketlens.schemas import traffic_units

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def counted(pipeline) -> str:
    """GIVEN the enriched bucket versioned and the metadata table streaming its writes."""
    return count_writes(pipeline)


def ticket(ticket_id: str, body: str, created_at: int = 1_764_100_000) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "subject": "Export broken", "body": body, "created_at": created_at,
            "customer_id": "CUST-1"}


def upload_and_drain(pipeline, objects: list[tuple[str, dict[str, Any]]]) -> None:
    """Upload each object in turn and let the handler settle it before the next one."""
    store = pipeline.store
    for key, document in objects:
        store.put_raw(key, json.dumps(document))
        drain_one(pipeline.runner(lambda_handler))


def drain_one(runner) -> None:
    settled = run_runner_until(runner, lambda: runner.stats.succeeded >= 1, timeout_s=30)
    assert settled and runner.stats.failed == 0, runner.stats


def items_of(pipeline, ticket_id: str) -> list[dict[str, Any]]:
    page = pipeline.store.aws.dynamodb.query(
        TableName=pipeline.settings.table_name, KeyConditionExpression="ticket_id = :id",
        ExpressionAttributeValues={":id": {"S": ticket_id}})
    return page["Items"]


def minute_counts(pipeline, created_at: int) -> dict[str, int]:
    """The counts table's minute item for ``created_at`` (the board's charts read these)."""
    item = pipeline.store.aws.dynamodb.get_item(
        TableName=pipeline.settings.counts_table, ConsistentRead=True,
        Key={"period": {"S": "minute"}, "bucket_start": {"N": str(created_at - created_at % 60)}}).get("Item", {})
    return {name: int(value["N"]) for name, value in item.items() if name == "n" or ":" in name}


def labels(item: dict[str, Any]) -> dict[str, int]:
    """What one stored ticket adds to its minute: itself, its labels and its heads' disagreement."""
    out = {"n": 1, **{f"{d}:{item[d]['S']}": 1 for d in ("intent", "urgency", "sentiment")}}
    for head in ("intent", "sentiment"):
        if f"{head}_disagreement" in item:
            out[f"traffic:{head}"] = traffic_units(float(item[f"{head}_disagreement"]["N"]))
            out[f"traffic_n:{head}"] = 1
    return out


def unique_time() -> int:
    """A minute of this test's own, so the counts it reads are its tickets' alone."""
    return 1_500_000_000 + uuid.uuid4().int % 3_000_000 * 60


def test_a_reused_id_with_other_content_is_a_reject_naming_the_holder(pipeline, counted) -> None:
    # GIVEN a ticket stored from one object
    tid = f"ID-{uuid.uuid4().hex[:8]}"
    first = ticket(tid, "The export button does nothing since Monday.")
    # WHEN another producer uploads a different ticket under the same id, to another key, later
    second = ticket(tid, "Please close my account.", created_at=1_764_100_500)
    upload_and_drain(pipeline, [(f"a/{tid}.json", first), (f"b/{tid}.json", second)])

    # THEN the first ticket's record is untouched: one item, one S3 write, its own body
    store = pipeline.store
    assert store.get_ticket(tid)["body"] == first["body"]
    assert len(items_of(pipeline, tid)) == 1
    assert s3_writes(pipeline, store.get_item(tid)["s3_key"]) == 1
    assert dynamodb_writes(pipeline, counted, tid) == 1
    # AND the second object is a reject whose reason names the conflict and the holder
    reason = store.get_rejected(f"b/{tid}.json")["reason"]
    assert "already used by" in reason and f"s3://{pipeline.settings.raw_bucket}/a/{tid}.json" in reason


def test_the_same_ticket_under_a_second_key_is_stored_once(pipeline, counted) -> None:
    # GIVEN one ticket uploaded twice with identical content under two keys (a producer retry)
    tid = f"ID-{uuid.uuid4().hex[:8]}"
    document = ticket(tid, "Invoices from March are missing in the portal.", created_at=unique_time())
    upload_and_drain(pipeline, [(f"a/{tid}.json", document), (f"retry/{tid}.json", document)])

    # THEN one record, written once, counted once, and no reject: the second delivery was a no-op
    store = pipeline.store
    (item,) = items_of(pipeline, tid)
    assert minute_counts(pipeline, document["created_at"]) == labels(item)
    assert s3_writes(pipeline, store.get_item(tid)["s3_key"]) == 1
    assert dynamodb_writes(pipeline, counted, tid) == 1
    assert store.get_rejected(f"retry/{tid}.json") is None


def test_a_corrected_upload_that_moves_its_date_replaces_the_record(pipeline) -> None:
    # GIVEN a stored ticket
    tid = f"ID-{uuid.uuid4().hex[:8]}"
    key = f"a/{tid}.json"
    first = unique_time()
    upload_and_drain(pipeline, [(key, ticket(tid, "Sync fails.", created_at=first))])
    old_key = pipeline.store.get_item(tid)["s3_key"]

    # WHEN the producer replaces the object with a corrected ticket dated two days later
    corrected = ticket(tid, "Sync fails on every device since the update.", created_at=first + 172_800)
    upload_and_drain(pipeline, [(key, corrected)])

    # THEN there is one item, at the new date, and one record with the new content
    store = pipeline.store
    (item,) = items_of(pipeline, tid)
    assert int(item["created_at"]["N"]) == corrected["created_at"]
    # AND the ticket is counted once, at its new minute; its old minute counts nothing any more
    assert minute_counts(pipeline, corrected["created_at"]) == labels(item)
    assert set(minute_counts(pipeline, first).values()) == {0}
    assert store.get_ticket(tid)["body"] == corrected["body"]
    assert store.get_item(tid)["s3_key"] != old_key
    assert list(store.iter_keys(pipeline.settings.enriched_bucket, old_key)) == []


def test_a_corrected_upload_with_new_labels_moves_its_counts(pipeline) -> None:
    # GIVEN a stored billing ticket, counted in its minute
    tid = f"ID-{uuid.uuid4().hex[:8]}"
    key, at = f"a/{tid}.json", unique_time()
    upload_and_drain(pipeline, [(key, ticket(tid, "I was charged twice for my subscription this month, "
                                                   "please refund the second charge.", created_at=at))])
    (before,) = items_of(pipeline, tid)
    assert minute_counts(pipeline, at) == labels(before)

    # WHEN the producer corrects it, same date, into a different request
    upload_and_drain(pipeline, [(key, ticket(tid, "Suggestion: please add a dark mode to the mobile app, "
                                                   "it would be lovely.", created_at=at))])

    # THEN the minute still counts one ticket, under the new labels only
    (after,) = items_of(pipeline, tid)
    assert after["intent"] != before["intent"]
    assert {name: n for name, n in minute_counts(pipeline, at).items() if n} == labels(after)


def test_two_objects_racing_for_one_id_in_one_batch_leave_one_winner(pipeline) -> None:
    # GIVEN two different tickets with one id, uploaded together (they may share a batch)
    tid = f"ID-{uuid.uuid4().hex[:8]}"
    store = pipeline.store
    store.put_raw(f"x/{tid}.json", json.dumps(ticket(tid, "Login loops back to the start page.")))
    store.put_raw(f"y/{tid}.json", json.dumps(ticket(tid, "Refund my last invoice.")))

    # WHEN the handler settles both
    runner = pipeline.runner(lambda_handler)
    assert run_runner_until(runner, lambda: runner.stats.succeeded >= 2, timeout_s=30)

    # THEN exactly one is stored and the other is a reject naming it
    stored = store.get_ticket(tid)["body"]
    rejects = [store.get_rejected(f"{side}/{tid}.json") for side in "xy"]
    (reject,) = [r for r in rejects if r is not None]
    assert "already used by" in reject["reason"]
    assert len(items_of(pipeline, tid)) == 1 and stored in {"Login loops back to the start page.",
                                                            "Refund my last invoice."}
