"""The pipeline relates each ticket to earlier ones: a resubmitted ticket arrives with
``duplicate_of`` and ``similar`` in its DynamoDB item and its full record, through the real
path (S3 upload → enrich handler → enriched bucket → index queue → IndexFunction → index →
the next enrichment)."""

from __future__ import annotations

import json
import uuid

import pytest
from pipeline_helpers import run_runner_until, wait_for

from ticketlens.handlers.enrich import lambda_handler

pytestmark = pytest.mark.slow

BODY = ("Since this morning every CSV export from the reports page fails with error 500. "
        "I tried Chrome and Firefox and cleared the cache. We need the numbers for the board meeting.")


def test_a_resubmitted_ticket_is_marked_as_a_duplicate_of_the_first(pipeline) -> None:
    from ticketlens.similar.local import index_runner
    from ticketlens.similar.service import forget_indexes, open_index

    forget_indexes()
    store, tag = pipeline.store, uuid.uuid4().hex[:6]
    first = {"ticket_id": f"DUP-{tag}-1", "subject": "CSV export fails", "body": BODY,
             "created_at": 1_764_300_000, "customer_id": "CUST-7"}
    # GIVEN a ticket enriched and indexed through the pipeline
    store.put_raw(f"tickets/{first['ticket_id']}.json", json.dumps(first))
    runner = pipeline.runner(lambda_handler)
    assert run_runner_until(runner, lambda: store.get_item(first["ticket_id"]) is not None, timeout_s=60)
    index = open_index(settings=pipeline.settings)
    indexer = index_runner(pipeline.stack, pipeline.settings, concurrency=1, retry_delay_s=0).start()
    try:
        assert wait_for(lambda: index.snapshot().locate(first["ticket_id"]) is not None, timeout_s=60)
    finally:
        indexer.stop()

    # WHEN the same customer files the same problem again an hour later, under a new id
    again = {**first, "ticket_id": f"DUP-{tag}-2", "created_at": first["created_at"] + 3600}
    store.put_raw(f"tickets/{again['ticket_id']}.json", json.dumps(again))
    runner = pipeline.runner(lambda_handler)
    assert run_runner_until(runner, lambda: store.get_item(again["ticket_id"]) is not None, timeout_s=60)

    # THEN its item and its full record name the first ticket as the duplicate and the most similar
    item = store.get_item(again["ticket_id"])
    assert item["duplicate_of"] == first["ticket_id"]
    assert item["similar"][0] == first["ticket_id"]
    record = store.get_ticket(again["ticket_id"])["enrichment"]
    assert record["duplicate_of"] == first["ticket_id"]
    assert record["similar"][0]["ticket_id"] == first["ticket_id"] and record["similar"][0]["score"] > 0.9
    forget_indexes()
