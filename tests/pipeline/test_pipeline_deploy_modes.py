"""template.yaml with and without its functions (DeployFunctions), and how `deploy` picks the
mode, patches moto only, and cleans up a create that fails."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ticketlens.deploy import stack as stack_module

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
FUNCTION_KINDS = {"AWS::Lambda::Function", "AWS::Lambda::LayerVersion", "AWS::Lambda::EventSourceMapping",
                  "AWS::Lambda::Permission", "AWS::Lambda::Url", "AWS::Events::Rule", "AWS::IAM::Role"}


def created_resources(cfn: dict[str, Any], parameters: dict[str, str]) -> set[str]:
    """Logical ids CloudFormation would create with these parameters (conditions evaluated)."""
    from ticketlens.settings import Settings

    return stack_module._active_resources(cfn, parameters, Settings())


def transformed(overrides: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    template = stack_module.load_template(TEMPLATE)
    parameters = stack_module.parameter_values(template, overrides)
    stack_module.package_offline(template)
    return stack_module.translate(template, parameters), parameters


def test_deploy_functions_false_leaves_out_functions_layers_roles_mapping_and_schedule() -> None:
    # GIVEN the template transformed with the functions and without them
    with_cfn, with_params = transformed({})
    without_cfn, without_params = transformed({"DeployFunctions": "false"})
    everything = created_resources(with_cfn, with_params)
    kept = created_resources(without_cfn, without_params)

    # THEN without them, exactly the function-related resources are left out
    left_out = {name: with_cfn["Resources"][name]["Type"] for name in everything - kept}
    assert set(left_out.values()) == FUNCTION_KINDS
    assert {"EnrichFunction", "GenerateFunction", "EnrichFunctionRole", "GenerateFunctionRole", "IndexFunction",
            "IndexFunctionRole", "BoardFunction", "BoardFunctionRole"} <= set(left_out)
    # AND every other resource stays unconditional
    remaining = {with_cfn["Resources"][name]["Type"] for name in kept}
    assert remaining == {"AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::SQS::Queue", "AWS::SQS::QueuePolicy",
                         "AWS::DynamoDB::Table"}
    assert all("Condition" not in with_cfn["Resources"][name] for name in kept)
    # AND the function outputs are conditional on the same parameter
    assert with_cfn["Outputs"]["EnrichFunctionName"]["Condition"] == "FunctionsDeployed"
    assert with_cfn["Outputs"]["GenerateFunctionName"]["Condition"] == "FunctionsDeployed"
    assert with_cfn["Outputs"]["IndexFunctionName"]["Condition"] == "FunctionsDeployed"
    assert with_cfn["Outputs"]["BoardFunctionName"]["Condition"] == "FunctionsDeployed"
    assert with_params["DeployFunctions"] == "true"  # AWS gets the functions by default


@pytest.fixture
def stack_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point ticketlens at an endpoint with resource names unique to the test; the stack is
    deleted afterwards."""
    from ticketlens.settings import get_settings

    names: dict[str, str] = {}

    def use(endpoint: str) -> Any:
        suffix = uuid.uuid4().hex[:8]
        env = {
            "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
            "TICKETLENS_STACK_NAME": f"modes-{suffix}", "TICKETLENS_RAW_BUCKET": f"raw-{suffix}",
            "TICKETLENS_ENRICHED_BUCKET": f"enriched-{suffix}", "TICKETLENS_QUEUE_NAME": f"queue-{suffix}",
            "TICKETLENS_DLQ_NAME": f"dlq-{suffix}", "TICKETLENS_TABLE_NAME": f"table-{suffix}",
            "TICKETLENS_IDEMPOTENCY_TABLE": f"idem-{suffix}",
            "TICKETLENS_COUNTS_TABLE": f"counts-{suffix}",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        names.update(env)
        get_settings.cache_clear()
        return get_settings()

    yield use
    if names:
        stack_module.delete(get_settings())
    get_settings.cache_clear()


def lambda_functions(endpoint: str) -> list[str]:
    client = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")
    return [f["FunctionName"] for f in client.list_functions()["Functions"]]


def test_on_moto_the_functions_are_left_out_and_moto_gaps_are_patched(emulator_endpoint: str, stack_env) -> None:
    # GIVEN the embedded moto emulator
    settings = stack_env(emulator_endpoint)
    before = set(lambda_functions(emulator_endpoint))

    # WHEN the template is deployed with the mode left to the endpoint
    stack = stack_module.deploy(settings)

    # THEN moto gets no functions (the local runner plays them) and its gaps are patched
    assert (stack.emulator, stack.functions, stack.functions_run_in_emulator) == ("moto", False, False)
    assert stack.parameters["DeployFunctions"] == "false"
    assert set(lambda_functions(emulator_endpoint)) == before
    patched = " ".join(stack.patches)
    assert "NotificationConfiguration ignored by moto" in patched and "SetQueueAttributes" in patched
    assert "UpdateTimeToLive" in patched and "EventSourceMapping" not in patched
    assert "EnrichFunctionName" not in stack.outputs


def test_on_moto_functions_on_creates_them_with_the_event_source_mapping_disabled(emulator_endpoint: str,
                                                                                    stack_env) -> None:
    # GIVEN moto, told to deploy the functions
    settings = stack_env(emulator_endpoint)

    # WHEN deployed with --functions on
    stack = stack_module.deploy(settings, functions=True)

    # THEN the functions exist, but moto would run them in Docker: the mapping is disabled
    assert stack.functions and not stack.functions_run_in_emulator
    assert stack.outputs["EnrichFunctionName"] in lambda_functions(emulator_endpoint)
    client = boto3.client("lambda", endpoint_url=emulator_endpoint, region_name="us-east-1")
    mappings = client.list_event_source_mappings(FunctionName=stack.outputs["EnrichFunctionName"])
    (mapping,) = mappings["EventSourceMappings"]
    assert mapping["State"] in {"Disabled", "Disabling"}
    assert any("EnrichFunctionTicketQueue: created disabled" in p for p in stack.patches)


@pytest.mark.localstack
def test_on_localstack_without_docker_nothing_is_patched_and_the_template_applies_natively(
    localstack_endpoint: str, stack_env
) -> None:
    # GIVEN LocalStack started on the host (no Docker)
    settings = stack_env(localstack_endpoint)

    # WHEN the template is deployed with the mode left to the endpoint
    stack = stack_module.deploy(settings)

    # THEN the functions are left out and nothing is patched
    assert (stack.emulator, stack.functions, stack.patches) == ("localstack", False, [])
    # AND LocalStack's CloudFormation applied the notification, the queue policy and the TTL itself
    aws = boto3.session.Session(region_name="us-east-1")
    s3 = aws.client("s3", endpoint_url=localstack_endpoint)
    sqs = aws.client("sqs", endpoint_url=localstack_endpoint)
    dynamodb = aws.client("dynamodb", endpoint_url=localstack_endpoint)
    (notification,) = s3.get_bucket_notification_configuration(Bucket=settings.raw_bucket)["QueueConfigurations"]
    assert notification["QueueArn"] == stack.outputs["QueueArn"]
    assert notification["Events"] == ["s3:ObjectCreated:*"]
    policy = sqs.get_queue_attributes(QueueUrl=stack.outputs["QueueUrl"], AttributeNames=["Policy"])["Attributes"]
    assert f"arn:aws:s3:::{settings.raw_bucket}" in policy["Policy"]
    ttl = dynamodb.describe_time_to_live(TableName=settings.idempotency_table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}


@pytest.mark.localstack
def test_functions_on_without_sam_build_is_refused_before_anything_is_created(
    localstack_endpoint: str, stack_env, tmp_path: Path
) -> None:
    # GIVEN LocalStack and a checkout where `sam build` has not run
    shutil.copy(TEMPLATE, tmp_path / "template.yaml")
    settings = stack_env(localstack_endpoint)

    # WHEN the functions are asked for
    with pytest.raises(stack_module.DeployError, match=r"run `sam build` first.*--functions off"):
        stack_module.deploy(settings, template_path=tmp_path / "template.yaml", functions=True)

    # THEN no stack was created
    cfn = boto3.client("cloudformation", endpoint_url=localstack_endpoint, region_name="us-east-1")
    assert stack_module._stack_status(cfn, settings.stack_name) is None


@pytest.mark.localstack
def test_a_create_that_fails_on_localstack_lambda_leaves_no_stack(localstack_endpoint: str, stack_env,
                                                                  tmp_path: Path) -> None:
    # GIVEN a checkout with built functions and layers, and LocalStack that cannot run Lambda
    shutil.copy(TEMPLATE, tmp_path / "template.yaml")
    for logical_id in ("EnrichFunction", "GenerateFunction", "IndexFunction", "BoardFunction", "TicketlensLayer",
                       "ModelsLayer"):
        built = tmp_path / stack_module.BUILD_DIR / logical_id
        built.mkdir(parents=True)
        (built / "app.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    settings = stack_env(localstack_endpoint)
    cfn = boto3.client("cloudformation", endpoint_url=localstack_endpoint, region_name="us-east-1")

    # WHEN the functions are deployed anyway
    with pytest.raises(stack_module.DeployError) as failure:
        stack_module.deploy(settings, template_path=tmp_path / "template.yaml", functions=True)

    # THEN the error names LocalStack's reason and the way out, and the stack is gone
    message = str(failure.value)
    assert "Function: " in message and "lambda" in message.lower()
    assert f"stack {settings.stack_name} deleted" in message and "--functions off" in message
    assert stack_module._stack_status(cfn, settings.stack_name) is None
    # AND the same stack name deploys again at once, without the functions
    stack = stack_module.deploy(settings, template_path=tmp_path / "template.yaml")
    assert stack.created and not stack.functions
