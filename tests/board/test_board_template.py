"""template.yaml's BoardFunction, through the SAM transform offline: the same app behind an
IAM-authenticated Function URL, with a role that can read and never write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ticketlens.deploy import stack as stack_module

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    """GIVEN template.yaml through the SAM transform, with default parameters."""
    template = stack_module.load_template(ROOT / "template.yaml")
    parameters = stack_module.parameter_values(template)
    stack_module.package_offline(template)
    return stack_module.translate(template, parameters)


def test_board_function_serves_the_library_app_behind_an_iam_function_url(cfn: dict[str, Any]) -> None:
    resources = cfn["Resources"]
    function = resources["BoardFunction"]["Properties"]
    # THEN the function runs the board's entry point from the library layer
    assert function["Handler"] == "app.lambda_handler"
    assert (ROOT / "functions/board/app.py").read_text().count("from ticketlens.board import lambda_handler") == 1
    # (SAM names layer versions TicketlensLayer<hash>) and no model layer: it runs no model
    assert [layer["Ref"][: len("TicketlensLayer")] for layer in function["Layers"]] == ["TicketlensLayer"]
    # AND its Function URL takes only IAM-signed requests, with no public permission
    urls = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Url"]
    assert [u["Properties"]["AuthType"] for u in urls] == ["AWS_IAM"]
    assert urls[0]["Properties"]["TargetFunctionArn"] == {"Ref": "BoardFunction"}
    public = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"
              and r["Properties"].get("FunctionUrlAuthType") == "NONE"]
    assert public == []
    # AND it is told where to read
    env = function["Environment"]["Variables"]
    assert {"TICKETLENS_TABLE_NAME", "TICKETLENS_QUEUE_NAME", "TICKETLENS_DLQ_NAME",
            "TICKETLENS_ENRICHED_BUCKET"} <= set(env)


def test_board_role_reads_and_never_writes(cfn: dict[str, Any]) -> None:
    role = cfn["Resources"]["BoardFunctionRole"]["Properties"]
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    # THEN it may query and get the table, get records and rejects, list rejects, read queue depths and peek
    assert actions == {"dynamodb:Query", "dynamodb:GetItem", "s3:GetObject", "s3:ListBucket",
                       "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}
    assert all(s["Effect"] == "Allow" and "*" not in str(s["Action"]) for s in statements)
    by_sid = {s["Sid"]: s for s in statements}
    # AND each on the pipeline's own resources only: the table and its indexes, two prefixes, the two queues
    assert by_sid["QueryTickets"]["Resource"] == [{"Fn::GetAtt": ["MetadataTable", "Arn"]},
                                                   {"Fn::Sub": "${MetadataTable.Arn}/index/*"}]
    assert by_sid["ReadRecordsAndRejects"]["Resource"] == [{"Fn::Sub": "${EnrichedBucket.Arn}/tickets/*"},
                                                           {"Fn::Sub": "${EnrichedBucket.Arn}/rejects/*"}]
    assert by_sid["ListRejects"]["Condition"] == {"StringLike": {"s3:prefix": "rejects/*"}}
    assert by_sid["PeekDeadLetters"]["Resource"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    assert role["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}]


def test_outputs_name_the_board_function(cfn: dict[str, Any]) -> None:
    assert cfn["Outputs"]["BoardFunctionName"]["Value"] == {"Ref": "BoardFunction"}
