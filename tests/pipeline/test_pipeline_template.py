"""template.yaml and samconfig.toml, checked offline: the SAM transform (aws-sam-translator)
turns the template into CloudFormation, and the resources are what the pipeline needs."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ticketlens.deploy import stack as stack_module

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


def transformed(overrides: dict[str, str] | None = None) -> dict[str, Any]:
    template = stack_module.load_template(TEMPLATE)
    parameters = stack_module.parameter_values(template, overrides or {})
    stack_module.package_offline(template)
    return stack_module.translate(template, parameters)


def of_type(cfn: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == kind}


def resolved(value: Any, params: dict[str, str]) -> Any:
    return stack_module.resolve(stack_module.load_template(TEMPLATE), params, value)


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    """GIVEN template.yaml through the SAM transform, offline, with default parameters."""
    return transformed()


@pytest.fixture(scope="module")
def params() -> dict[str, str]:
    return stack_module.parameter_values(stack_module.load_template(TEMPLATE))


def test_transform_yields_the_pipeline_resources(cfn: dict[str, Any]) -> None:
    # THEN every resource of the pipeline is there, as plain CloudFormation
    kinds = sorted(r["Type"] for r in cfn["Resources"].values())
    assert not any(k.startswith("AWS::Serverless::") for k in kinds)
    assert kinds.count("AWS::S3::Bucket") == 2
    assert kinds.count("AWS::SQS::Queue") == 4  # tickets + DLQ, index + DLQ
    assert kinds.count("AWS::DynamoDB::Table") == 3  # tickets, idempotency records, counts
    assert kinds.count("AWS::Lambda::Function") == 4  # enrich, generate, board, index
    assert kinds.count("AWS::Lambda::LayerVersion") == 2
    assert {"AWS::SQS::QueuePolicy", "AWS::Lambda::EventSourceMapping", "AWS::Events::Rule"} <= set(kinds)


def test_raw_bucket_notifies_the_queue_which_s3_may_send_to(cfn: dict[str, Any]) -> None:
    raw = cfn["Resources"]["RawBucket"]
    configs = raw["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert configs == [{"Event": "s3:ObjectCreated:*", "Queue": {"Fn::GetAtt": ["ProcessingQueue", "Arn"]}}]
    # S3 checks its permission when the notification is created: the policy must exist first
    assert raw["DependsOn"] == "ProcessingQueuePolicy"
    policy = cfn["Resources"]["ProcessingQueuePolicy"]["Properties"]
    statement = policy["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert "aws:SourceArn" in statement["Condition"]["ArnLike"]


def test_queue_redrives_to_the_dlq_and_outlasts_the_function(cfn: dict[str, Any], params: dict[str, str]) -> None:
    queue = cfn["Resources"]["ProcessingQueue"]["Properties"]
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    assert int(resolved(redrive["maxReceiveCount"], params)) == 3
    # AWS guidance for SQS event sources: visibility timeout >= 6x the function timeout
    visibility = int(resolved(queue["VisibilityTimeout"], params))
    timeout = int(resolved(cfn["Resources"]["EnrichFunction"]["Properties"]["Timeout"], params))
    assert visibility >= 6 * timeout


def test_samconfig_profiles_keep_the_visibility_rule() -> None:
    template = stack_module.load_template(TEMPLATE)
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for profile in ("default", "localstack"):
        overrides = _overrides(config[profile]["deploy"]["parameters"]["parameter_overrides"])
        assert set(overrides) <= set(template["Parameters"]), f"{profile}: unknown parameter"
        values = stack_module.parameter_values(template, overrides)
        assert int(values["QueueVisibilityTimeoutSeconds"]) >= 6 * int(values["EnrichTimeoutSeconds"])


def test_enrich_event_source_batches_and_reports_item_failures(cfn: dict[str, Any], params: dict[str, str]) -> None:
    (mapping,) = [m for m in of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["FunctionName"] == {"Ref": "EnrichFunction"}]
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["ProcessingQueue", "Arn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert int(resolved(props["BatchSize"], params)) == 10
    assert int(resolved(props["MaximumBatchingWindowInSeconds"], params)) >= 1
    assert int(resolved(props["ScalingConfig"]["MaximumConcurrency"], params)) >= 2


def test_enrich_function_gets_library_and_model_layers(cfn: dict[str, Any]) -> None:
    function = cfn["Resources"]["EnrichFunction"]["Properties"]
    layers = json.dumps(function["Layers"])
    assert "TicketlensLayer" in layers and "ModelsLayer" in layers
    env = function["Environment"]["Variables"]
    assert env["TICKETLENS_MODEL_DIR"] == {"Fn::If": ["ModelsOnEfs", "/mnt/models", "/opt/ticketlens/models"]}
    assert env["TICKETLENS_BUILD_IF_MISSING"] == "false"
    assert env["TICKETLENS_TABLE_NAME"] == {"Ref": "MetadataTable"}
    assert function["Handler"] == "app.lambda_handler"
    assert function["Runtime"] == "python3.12"


def test_models_can_come_from_efs_instead(params: dict[str, str]) -> None:
    # WHEN the stack is asked for models on EFS
    efs = transformed({
        "ModelSource": "efs",
        "EfsAccessPointArn": "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0",
        "EfsFileSystemArn": "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0",
        "EfsSubnetIds": "subnet-0123456789abcdef0",
        "EfsSecurityGroupIds": "sg-0123456789abcdef0",
    })
    # THEN the function mounts the access point, and the model layer is conditional on layer mode
    function = efs["Resources"]["EnrichFunction"]["Properties"]
    assert function["FileSystemConfigs"]["Fn::If"][0] == "ModelsOnEfs"
    assert function["FileSystemConfigs"]["Fn::If"][1][0]["LocalMountPath"] == "/mnt/models"
    (models_layer,) = [r for n, r in efs["Resources"].items() if n.startswith("ModelsLayer")]
    assert models_layer["Condition"] == "ModelsInLayer"
    assert efs["Conditions"]["ModelsOnEfs"] == {"Fn::Equals": [{"Ref": "ModelSource"}, "efs"]}


def test_enrich_role_is_least_privilege(cfn: dict[str, Any]) -> None:
    role = cfn["Resources"]["EnrichFunctionRole"]["Properties"]
    managed = json.dumps(role["ManagedPolicyArns"])
    assert "AWSLambdaBasicExecutionRole" in managed
    assert "SQSQueueExecutionRole" not in managed  # SAM's poller policy allows every queue
    assert "AWSLambdaVPCAccessExecutionRole" in managed and "ModelsOnEfs" in managed  # only with EFS
    (policy,) = role["Policies"]
    statements = [s for s in policy["PolicyDocument"]["Statement"] if "Fn::If" not in s]
    grants = {s["Sid"]: (s["Action"], s["Resource"]) for s in statements}
    assert grants["ReadRawTickets"] == ("s3:GetObject", {"Fn::Sub": "${RawBucket.Arn}/*"})
    assert grants["WriteEnrichedRecords"] == (["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                                              {"Fn::Sub": "${EnrichedBucket.Arn}/tickets/*"})
    assert grants["WriteRejects"] == ("s3:PutObject", {"Fn::Sub": "${EnrichedBucket.Arn}/rejects/*"})
    assert grants["WriteMetadata"] == (["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
                                       {"Fn::GetAtt": ["MetadataTable", "Arn"]})
    # counting each ticket, and reading the last week's counters (the deployment's traffic)
    assert grants["CountTickets"] == (["dynamodb:UpdateItem", "dynamodb:Query"],
                                      {"Fn::GetAtt": ["CountsTable", "Arn"]})
    assert grants["IdempotencyRecords"][1] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}
    assert grants["ConsumeTicketQueue"][1] == {"Fn::GetAtt": ["ProcessingQueue", "Arn"]}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "*" not in json.dumps(statement["Action"])
        assert statement["Resource"] != "*"


def test_data_is_encrypted_at_rest_and_buckets_refuse_plain_http(cfn: dict[str, Any]) -> None:
    resources = cfn["Resources"]
    # GIVEN every bucket, table and queue of the stack
    buckets = {n: r for n, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    tables = {n: r for n, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    queues = {n: r for n, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    assert set(buckets) == {"RawBucket", "EnrichedBucket"} and len(tables) == 3 and len(queues) >= 2
    # THEN each is encrypted at rest
    for bucket in buckets.values():
        (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert all(t["Properties"]["SSESpecification"]["SSEEnabled"] is True for t in tables.values())
    assert all(q["Properties"]["SqsManagedSseEnabled"] is True for q in queues.values())
    # AND each bucket has a policy denying every request not made over TLS
    policies = {r["Properties"]["Bucket"]["Ref"]: r["Properties"]["PolicyDocument"]
                for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"}
    assert set(policies) == set(buckets)
    for name, document in policies.items():
        (deny,) = document["Statement"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert {"Fn::Sub": f"${{{name}.Arn}}/*"} in deny["Resource"]


def test_rejects_expire_after_a_retention_parameter(cfn: dict[str, Any], params: dict[str, str]) -> None:
    (rule,) = cfn["Resources"]["EnrichedBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["Prefix"] == "rejects/"
    assert rule["ExpirationInDays"] == {"Ref": "RejectsRetentionDays"}
    assert params["RejectsRetentionDays"] == "30"


def test_tables_have_the_keys_gsis_and_ttl_the_queries_need(cfn: dict[str, Any]) -> None:
    table = cfn["Resources"]["MetadataTable"]["Properties"]
    assert table["KeySchema"] == [
        {"AttributeName": "ticket_id", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert types["created_at"] == "N"
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table["GlobalSecondaryIndexes"]}
    assert indexes["urgency-index"] == ["urgency", "created_at"]
    assert indexes["sentiment-index"] == ["sentiment", "created_at"]
    idempotency = cfn["Resources"]["IdempotencyTable"]["Properties"]
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert idempotency["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_generator_runs_on_a_parameterised_schedule(cfn: dict[str, Any]) -> None:
    (rule,) = of_type(cfn, "AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "GenerateSchedule"}
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["GenerateFunction", "Arn"]}
    generate_role = cfn["Resources"]["GenerateFunctionRole"]["Properties"]
    (policy,) = generate_role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"] == {"Fn::Sub": "${RawBucket.Arn}/*"}


def test_outputs_name_everything_a_client_needs(cfn: dict[str, Any]) -> None:
    assert {
        "RawBucketName", "EnrichedBucketName", "QueueName", "QueueUrl", "DeadLetterQueueName", "DeadLetterQueueUrl",
        "TableName", "IdempotencyTableName", "CountsTableName", "EnrichFunctionName", "GenerateFunctionName", "Region",
    } <= set(cfn["Outputs"])


def test_template_passes_cfn_lint() -> None:
    # `sam validate --lint` runs cfn-lint on the template; the same check, in-process
    from cfnlint.api import lint_all

    matches = lint_all(TEMPLATE.read_text())
    # errors and warnings, as the CLI reports them (informational rules are opt-in there)
    assert [str(m) for m in matches if m.rule.id[0] in "EW"] == []


def test_local_settings_come_from_the_template(params: dict[str, str]) -> None:
    # The local runner and demo read the event source and schedule from the template itself
    described = stack_module.describe(template_path=TEMPLATE)
    source = described.event_source("EnrichFunction")
    assert (source.batch_size, source.window_seconds, source.report_batch_item_failures) == (10, 1.0, True)
    assert source.function_timeout_seconds == float(params["EnrichTimeoutSeconds"])
    schedule = described.schedule("GenerateFunction")
    assert schedule.expression == params["GenerateSchedule"]
    assert schedule.interval_seconds == 60


def _overrides(text: str) -> dict[str, str]:
    import shlex

    return dict(item.split("=", 1) for item in shlex.split(text))
