"""The similar-ticket index's resources in template.yaml, checked offline through the SAM
transform: the enriched bucket feeds the index queue, the indexer may do only its job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ticketlens.deploy import stack as stack_module

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    """GIVEN template.yaml through the SAM transform, offline, with default parameters."""
    template = stack_module.load_template(TEMPLATE)
    parameters = stack_module.parameter_values(template)
    stack_module.package_offline(template)
    return stack_module.translate(template, parameters)


def test_enriched_records_and_only_they_notify_the_index_queue(cfn: dict[str, Any]) -> None:
    bucket = cfn["Resources"]["EnrichedBucket"]
    (config,) = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    # THEN ObjectCreated under tickets/*.json goes to the index queue (not rejects/, not index/)
    assert config["Queue"] == {"Fn::GetAtt": ["IndexQueue", "Arn"]}
    rules = {r["Name"]: r["Value"] for r in config["Filter"]["S3Key"]["Rules"]}
    assert rules == {"prefix": "tickets/", "suffix": ".json"}
    # AND S3 may send to the queue before the notification is created
    assert bucket["DependsOn"] == "IndexQueuePolicy"
    statement = cfn["Resources"]["IndexQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"


def test_index_queues_are_encrypted_and_redrive(cfn: dict[str, Any]) -> None:
    queue = cfn["Resources"]["IndexQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert cfn["Resources"]["IndexDeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["IndexDeadLetterQueue", "Arn"]}
    timeout = int(cfn["Resources"]["IndexFunction"]["Properties"]["Timeout"])
    assert int(queue["VisibilityTimeout"]) >= 6 * timeout


def test_the_indexer_role_is_least_privilege(cfn: dict[str, Any]) -> None:
    (policy,) = cfn["Resources"]["IndexFunctionRole"]["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    # THEN it consumes its own queue, reads records, writes only under index/, lists only index/
    assert statements["ConsumeIndexQueue"]["Resource"] == {"Fn::GetAtt": ["IndexQueue", "Arn"]}
    assert statements["ReadEnrichedRecords"]["Action"] == "s3:GetObject"
    assert statements["ReadEnrichedRecords"]["Resource"] == {"Fn::Sub": "${EnrichedBucket.Arn}/tickets/*"}
    assert statements["WriteIndexObjects"]["Resource"] == {"Fn::Sub": "${EnrichedBucket.Arn}/index/*"}
    assert statements["ListIndexObjects"]["Condition"] == {"StringLike": {"s3:prefix": "index/*"}}
    assert all(json.dumps(s["Resource"]) != '"*"' for s in statements.values())  # no account-wide resource
    assert not any(a.endswith("*") for s in statements.values()
                   for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))


def test_the_indexer_is_fed_in_batches_with_partial_failures(cfn: dict[str, Any]) -> None:
    (mapping,) = [m for m in cfn["Resources"].values() if m["Type"] == "AWS::Lambda::EventSourceMapping"
                  and m["Properties"]["FunctionName"] == {"Ref": "IndexFunction"}]
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["IndexQueue", "Arn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    env = cfn["Resources"]["IndexFunction"]["Properties"]["Environment"]["Variables"]
    assert env["TICKETLENS_INDEX_URI"] == {"Fn::Sub": "s3://${EnrichedBucket}/index/"}
    assert cfn["Resources"]["IndexFunction"]["Properties"]["Role"] == {"Fn::GetAtt": ["IndexFunctionRole", "Arn"]}
