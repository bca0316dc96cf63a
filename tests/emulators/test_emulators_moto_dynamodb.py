"""The embedded moto server's DynamoDB under concurrent writers: transactions are atomic, and
a cancelled transaction erases nothing but itself.

moto's own TransactWriteItems deep-copies the tables it names and puts the copy back on a
cancel, which loses other requests' writes made meanwhile; ticketlens' emulator patches it
(``ticketlens.emulators.moto.atomic_dynamodb_writes``). On unpatched moto 5.2.5 the first test
fails (a re-sent item is created and counted again: the cancel before it had put back a copy
without it) and the second gets a ValidationException where DynamoDB cancels the transaction.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def tables(aws_env: str) -> tuple[Any, str, str]:
    """GIVEN an items table (hash and range key, like the metadata table) and a counters table."""
    client = boto3.client("dynamodb", endpoint_url=aws_env, region_name="us-east-1")
    suffix = uuid.uuid4().hex[:8]
    items, counters = f"items-{suffix}", f"counters-{suffix}"
    client.create_table(TableName=items, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"},
                                   {"AttributeName": "at", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                                              {"AttributeName": "at", "AttributeType": "N"}])
    client.create_table(TableName=counters, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}])
    return client, items, counters


def _counted_put(client: Any, items: str, counters: str, item_id: str) -> bool:
    """Create the item and count it, in one transaction; False when the item already exists."""
    try:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": items, "Item": {"id": {"S": item_id}, "at": {"N": "1"}},
                     "ConditionExpression": "attribute_not_exists(id)"}},
            {"Update": {"TableName": counters, "Key": {"name": {"S": "total"}}, "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
        return True
    except ClientError as error:
        assert error.response["Error"]["Code"] == "TransactionCanceledException"
        assert error.response["CancellationReasons"][0]["Code"] == "ConditionalCheckFailed"
        return False


def _count(client: Any, counters: str) -> int:
    item = client.get_item(TableName=counters, Key={"name": {"S": "total"}}, ConsistentRead=True).get("Item", {})
    return int(item.get("n", {"N": "0"})["N"])


def _ids(client: Any, items: str) -> set[str]:
    found: set[str] = set()
    kwargs: dict[str, Any] = {"TableName": items}
    while True:
        page = client.scan(**kwargs)
        found |= {item["id"]["S"] for item in page["Items"]}
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_cancelled_transactions_never_erase_other_writers_items(tables: tuple[Any, str, str]) -> None:
    client, items, counters = tables
    # GIVEN four writers counting new items, each also re-sending items that already exist
    # (their transactions are cancelled), and four writers putting items without a transaction
    errors: list[BaseException] = []
    created: list[str] = []
    plain: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def counting(w: int) -> None:
        barrier.wait()
        try:
            for n in range(25):
                item_id = f"tx-{w}-{n}"
                assert _counted_put(client, items, counters, item_id)
                with lock:
                    created.append(item_id)
                assert not _counted_put(client, items, counters, item_id)  # a duplicate delivery
        except BaseException as error:
            errors.append(error)

    def putting(w: int) -> None:
        barrier.wait()
        try:
            for n in range(25):
                item_id = f"plain-{w}-{n}"
                client.put_item(TableName=items, Item={"id": {"S": item_id}, "at": {"N": "1"}})
                with lock:
                    plain.append(item_id)
        except BaseException as error:
            errors.append(error)

    # WHEN they all run at once
    threads = [threading.Thread(target=counting, args=(w,)) for w in range(4)]
    threads += [threading.Thread(target=putting, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # THEN no call failed, every item of every writer is there, and each created item was
    # counted exactly once (the cancelled duplicates not at all)
    assert errors == []
    assert _ids(client, items) == set(created) | set(plain)
    assert _count(client, counters) == len(created) == 100


def test_a_transaction_that_fails_midway_leaves_nothing_behind(tables: tuple[Any, str, str]) -> None:
    client, items, counters = tables
    # GIVEN a counter holding a string, which ADD cannot add to
    client.put_item(TableName=counters, Item={"name": {"S": "total"}, "n": {"S": "not a number"}})

    # WHEN a transaction creates an item and then fails on that counter
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": items, "Item": {"id": {"S": "half"}, "at": {"N": "1"}}}},
            {"Update": {"TableName": counters, "Key": {"name": {"S": "total"}}, "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])

    # THEN it is cancelled whole: the item it created first is gone, the counter untouched
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _ids(client, items) == set()
    counter = client.get_item(TableName=counters, Key={"name": {"S": "total"}})["Item"]
    assert counter["n"] == {"S": "not a number"}
