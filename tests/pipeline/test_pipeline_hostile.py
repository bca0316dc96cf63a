"""What a hostile or careless producer uploads: each object ends as a stored record or a reject
with a clear reason, on its first delivery; good tickets among them all get through; memory
reads stay bounded; reasons never echo the input's values."""

from __future__ import annotations

import json
import uuid

import pytest
from pipeline_helpers import run_runner_until, upload_generated

from ticketlens.faults import hostile_corpus
from ticketlens.handlers.enrich import lambda_handler
from ticketlens.ops.commands import dead_letters

pytestmark = pytest.mark.slow


def test_every_hostile_object_is_stored_or_rejected_with_its_reason(pipeline) -> None:
    # GIVEN good tickets and the hostile corpus (5 MB and 30 MB bodies included) in the raw bucket
    store = pipeline.store
    prefix = f"h{uuid.uuid4().hex[:6]}"
    corpus = hostile_corpus(prefix, created_at=1_764_200_000)
    first, later = [h for h in corpus if not h.after], [h for h in corpus if h.after]
    good = upload_generated(pipeline, 10, seed=prefix, start=1_764_200_000)
    for hostile in first:
        store.put_raw(hostile.key, hostile.body)

    # WHEN the handler settles them (the entries whose outcome depends on order go second)
    runner = pipeline.runner(lambda_handler)
    assert run_runner_until(runner, lambda: runner.stats.succeeded >= len(first) + len(good), timeout_s=120)
    for hostile in later:
        store.put_raw(hostile.key, hostile.body)
    assert run_runner_until(runner, lambda: runner.stats.succeeded >= len(corpus) + len(good), timeout_s=60)

    # THEN nothing was retried and nothing reached the dead-letter queue
    assert runner.stats.failed == 0, runner.stats.last_error
    assert dead_letters(store) == []
    # AND every good ticket is stored
    assert all(store.get_item(t.ticket_id) for t in good)
    # AND each hostile object ended as expected
    raw_bucket = pipeline.settings.raw_bucket
    for hostile in corpus:
        reject = store.get_rejected(hostile.key)
        if hostile.expect == "rejected":
            assert reject is not None, hostile.name
            assert hostile.reason in reject["reason"], (hostile.name, reject["reason"])
            assert reject["where"] == f"s3://{raw_bucket}/{hostile.key}"
            # a bounded prefix of the raw input, and its size
            assert len(reject["raw"]) <= 4096 and reject["raw_size"] == len(hostile.body), hostile.name
        else:
            assert reject is None, (hostile.name, reject)
            record = store.get_ticket(hostile.ticket_id)
            assert record is not None, hostile.name
    # AND stored text comes back exactly as sent (emoji, right-to-left, markup)
    emoji = next(h for h in corpus if h.name == "emoji and right-to-left text")
    assert store.get_ticket(emoji.ticket_id)["body"] == json.loads(emoji.body)["body"]
    # AND reasons do not echo what the producer sent
    iso = store.get_rejected(next(h.key for h in corpus if h.name == "created_at as ISO string"))
    assert "2025-11-23" not in iso["reason"]
