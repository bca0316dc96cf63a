"""IndexFunction end to end on the emulator: template.yaml deployed (index queue, DLQ,
enriched bucket notification), enriched records written, the handler run behind the local
SQS event source, the index read back from the stack's S3 prefix."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "pipeline"))
from pipeline_helpers import wait_for
from similar_helpers import unit

from ticketlens.schemas import EnrichedTicket, EnrichmentData, RawTicket


def _enriched(n: int, text: str = "The export to CSV fails with error 500") -> EnrichedTicket:
    raw = RawTicket(ticket_id=f"TKT-IDX-{n:04d}", subject="Export broken", body=f"{text} (case {n})",
                    created_at=1_763_856_000 + n, customer_id=f"CUST-{n % 4}")
    data = EnrichmentData(embedding=unit(n).tolist(), intent="bug_report", intent_confidence=0.9, urgency="high",
                          urgency_confidence=0.8, sentiment="NEGATIVE", sentiment_confidence=0.9,
                          summary=f"export fails {n}", processed_at="2025-11-23T00:00:00.000Z",
                          model_version="test", incident="INC-TKT-IDX-0000" if n < 3 else None)
    return EnrichedTicket.from_raw(raw, data)


@pytest.fixture(scope="module")
def stack_index(pipeline: Any) -> Any:
    """GIVEN the deployed stack and its index (s3://<enriched bucket>/index/)."""
    from ticketlens.similar.service import forget_indexes, open_index

    forget_indexes()
    yield open_index(settings=pipeline.settings)
    forget_indexes()


def _queue_depth(pipeline: Any, url: str) -> int:
    attributes = pipeline.store.aws.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_the_template_declares_the_indexer_and_its_encrypted_queues(pipeline: Any) -> None:
    # GIVEN the deployed stack WHEN its outputs and the indexer's event source are read
    source = pipeline.stack.event_source("IndexFunction")
    sqs = pipeline.store.aws.sqs
    attributes = sqs.get_queue_attributes(QueueUrl=pipeline.stack.outputs["IndexQueueUrl"],
                                          AttributeNames=["All"])["Attributes"]
    # THEN the index queue is encrypted, dead-letters after the template's receive count,
    # and IndexFunction reports partial batch failures
    assert attributes.get("SqsManagedSseEnabled") == "true"
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 3
    assert source.report_batch_item_failures and source.batch_size == 100
    assert pipeline.stack.outputs["IndexUri"] == f"s3://{pipeline.settings.enriched_bucket}/index/"


def test_enriched_records_reach_the_index_through_the_queue(pipeline: Any, stack_index: Any) -> None:
    from ticketlens.similar.local import index_runner

    # GIVEN 30 enriched records written the way the enrich handler writes them, and a reject
    tickets = [_enriched(n) for n in range(30)]
    for ticket in tickets:
        pipeline.store.put_enriched(ticket)
    pipeline.store.aws.s3.put_object(Bucket=pipeline.settings.enriched_bucket,
                                     Key="rejects/tickets/2025/11/23/bad.json", Body=b"{}")
    # WHEN IndexFunction runs behind the local event source, two invocations at a time
    runner = index_runner(pipeline.stack, pipeline.settings, concurrency=2, retry_delay_s=0)
    runner.start()
    try:
        assert wait_for(lambda: sum(stack_index.snapshot().locate(t.ticket_id) is not None for t in tickets) == 30,
                        timeout_s=90)
    finally:
        runner.stop()
    # THEN every record is in the index once, with its fields; the reject never was announced
    snapshot = stack_index.snapshot()
    indexed = np.concatenate([s.ticket_id for s in snapshot.segments]).tolist()
    ids = sorted(i for i in indexed if i.startswith("TKT-IDX-"))
    assert ids == sorted(t.ticket_id for t in tickets)  # (other tests of this module may add their own)
    segment, row = snapshot.locate("TKT-IDX-0001")
    assert (segment.customer_id[row], segment.intent[row], segment.urgency[row], segment.incident[row]) == \
        ("CUST-1", "bug_report", "high", "INC-TKT-IDX-0000")
    assert runner.stats.failed == 0
    # AND a ticket's nearest neighbour by its own vector is itself
    query = snapshot.query_for("TKT-IDX-0007")
    assert snapshot.search([query], 1)[0][0].ticket_id == "TKT-IDX-0007"


def test_a_record_that_is_not_an_enriched_ticket_is_dead_lettered(pipeline: Any, stack_index: Any) -> None:
    from ticketlens.similar.local import index_queue_url, index_runner

    # GIVEN an object under tickets/ that is not an enriched ticket
    before = len(stack_index.snapshot())
    pipeline.store.aws.s3.put_object(Bucket=pipeline.settings.enriched_bucket,
                                     Key="tickets/2025/11/23/not-a-ticket.json", Body=b'{"hello": "world"}')
    dlq = pipeline.stack.outputs["IndexDeadLetterQueueUrl"]
    # WHEN the indexer keeps failing it (retried at once locally)
    runner = index_runner(pipeline.stack, pipeline.settings, retry_delay_s=0)
    runner.start()
    try:
        assert wait_for(lambda: _queue_depth(pipeline, dlq) >= 1, timeout_s=90)
    finally:
        runner.stop()
    # THEN it lands in the index dead-letter queue, the queue is drained, the index unchanged
    assert _queue_depth(pipeline, index_queue_url(pipeline.stack, pipeline.settings)) == 0
    assert len(stack_index.snapshot()) == before
    body = pipeline.store.aws.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=1)["Messages"][0]["Body"]
    assert "not-a-ticket.json" in body


def test_similar_without_index_reads_the_deployed_stacks_index(pipeline: Any, stack_index: Any,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from ticketlens.cli import main
    from ticketlens.similar.segment import IndexRow

    # GIVEN the stack's index holding a few tickets (appended directly, as IndexFunction would)
    stack_index.append([IndexRow(ticket_id=f"TKT-CLI-{n}", created_at=1_763_900_000 + n, embedding=unit(1000 + n),
                                 text="refund for a double charge") for n in range(4)])
    # WHEN `ticketlens similar` runs with no --index, against the stack's endpoint
    status = main(["similar", "TKT-CLI-1", "-k", "2", "--json", "--endpoint", pipeline.endpoint])
    line = json.loads(capsys.readouterr().out)
    # THEN it answers from s3://<enriched bucket>/index/: two others, never itself
    assert status == 0 and line["ticket_id"] == "TKT-CLI-1" and len(line["similar"]) == 2
    assert "TKT-CLI-1" not in {s["ticket_id"] for s in line["similar"]}
