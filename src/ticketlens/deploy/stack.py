"""Deploy ``template.yaml`` to any CloudFormation endpoint, with no Docker and no AWS account.

``sam deploy`` needs AWS (it calls the SAM transform there); ``samlocal deploy`` needs
LocalStack. Here the same template goes through the SAM transform **offline**
(aws-sam-translator, the library behind the AWS::Serverless transform) and the resulting
plain CloudFormation is created on the configured endpoint: the embedded moto server,
a long-lived emulator, or LocalStack.

**Functions or not.** The template's ``DeployFunctions`` parameter leaves the functions,
their layers, roles, event source mapping and schedule out where nothing can run them;
:func:`ticketlens.emulators.deploy_target` chooses (moto: out; LocalStack: in when it runs
in Docker, out when it runs on the host; ``--functions on|off`` decides instead). Without
them, :mod:`ticketlens.runner.sqs` plays Lambda's SQS poller in-process with the
mapping's settings (batch size, window, partial batch responses, concurrency), and
``ticketlens demo`` runs the generator on the template's schedule. Where the emulator runs
the functions itself (LocalStack in Docker) they need their built code: ``sam build``.

**moto only** (LocalStack's CloudFormation does all of this natively): what moto does not
do, and what this module does about it (applied by :func:`patch_for_emulator` and
:func:`_apply_post_create_patches`, listed in ``Stack.patches``):

* moto's CloudFormation ignores a bucket's ``NotificationConfiguration``: after the stack
  is created, the same configuration is applied with ``PutBucketNotificationConfiguration``;
* it ignores ``TimeToLiveSpecification``: applied with ``UpdateTimeToLive``;
* it ignores a bucket's ``LifecycleConfiguration``: applied with
  ``PutBucketLifecycleConfiguration``;
* it does not support ``AWS::SQS::QueuePolicy``: set with ``SetQueueAttributes``;
* it does not support ``AWS::S3::BucketPolicy`` either, and the template's bucket policies
  deny every request not made over TLS, which an emulator on loopback HTTP would refuse:
  they are left out (and listed as such);
* it does not support ``AWS::Lambda::Url`` (the board's function URL): left out;
* with the functions deployed (``--functions on``) it would try to run them in Docker: the
  SQS ``EventSourceMapping`` is created disabled, and the local runner plays it.

A create that fails is deleted again, so no stack is left stuck in ROLLBACK_COMPLETE
(LocalStack without Docker fails a stack with functions at the first one, "Installation of
lambda-runtime ... failed"). The delete waits out LocalStack's early DELETE_FAILED while it
is still deleting; a delete that fails for good is retried retaining what failed, and
where the emulator ignores that (LocalStack) the resources are deleted with their own APIs
and the error says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..emulators import EmulatorKind, deploy_target
from ..settings import Settings, get_settings
from ..store import Clients, clients

if TYPE_CHECKING:  # the stubs type the calls; at run time boto3 builds the clients
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import FilterRuleTypeDef, ObjectIdentifierTypeDef, QueueConfigurationTypeDef

ARTIFACT_BUCKET = "ticketlens-artifacts"
EMULATOR_ACCOUNT_ID = "123456789012"  # moto's default account
TEMPLATE_NAME = "template.yaml"
_SERVERLESS_URIS = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


class DeployError(RuntimeError):
    pass


# ------------------------------------------------------------------------ template --
def find_template(explicit: str | Path | None = None) -> Path:
    """template.yaml: the given path, else the current directory or the checkout this runs from."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise DeployError(f"no template at {path}")
        return path
    candidates = [Path.cwd(), *Path.cwd().parents, *Path(__file__).resolve().parents]
    for directory in candidates:
        path = directory / TEMPLATE_NAME
        if path.is_file() and "AWS::Serverless" in path.read_text(encoding="utf-8")[:2000]:
            return path
    raise DeployError(
        f"cannot find {TEMPLATE_NAME}: run from the ticketlens checkout or pass --template PATH"
    )


def load_template(path: str | Path) -> dict[str, Any]:
    """Parse a SAM template, short-form intrinsics (!Ref, !Sub, ...) included."""
    from samtranslator.yaml_helper import yaml_parse

    template: dict[str, Any] = yaml_parse(Path(path).read_text(encoding="utf-8"))
    return template


def parameter_values(template: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Every declared parameter's effective value (defaults, then overrides), as strings."""
    values: dict[str, str] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if "Default" in spec:
            values[name] = str(spec["Default"])
    for name, value in (overrides or {}).items():
        if name not in (template.get("Parameters") or {}):
            raise DeployError(f"template has no parameter {name!r}")
        values[name] = str(value)
    return values


def settings_parameters(template: Mapping[str, Any], settings: Settings) -> dict[str, str]:
    """Resource names from Settings, so what is deployed is what the tools then query."""
    by_parameter = {
        "RawBucketName": settings.raw_bucket,
        "EnrichedBucketName": settings.enriched_bucket,
        "QueueName": settings.queue_name,
        "DeadLetterQueueName": settings.dlq_name,
        "TableName": settings.table_name,
        "IdempotencyTableName": settings.idempotency_table,
        "CountsTableName": settings.counts_table,
        "IdempotencyTtlSeconds": str(settings.idempotency_ttl_seconds),
    }
    declared = template.get("Parameters") or {}
    return {name: value for name, value in by_parameter.items() if name in declared}


def package_offline(template: dict[str, Any], bucket: str = ARTIFACT_BUCKET) -> dict[str, str]:
    """Point local CodeUri/ContentUri at s3://bucket/<LogicalId>.zip, as `sam package` would.

    Returns {s3 key: local path}. Mutates the template.
    """
    artifacts: dict[str, str] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        prop = _SERVERLESS_URIS.get(resource.get("Type", ""))
        if not prop:
            continue
        uri = resource.get("Properties", {}).get(prop)
        if isinstance(uri, str) and not uri.startswith("s3://"):
            key = f"{logical_id}.zip"
            artifacts[key] = uri
            resource["Properties"][prop] = f"s3://{bucket}/{key}"
    return artifacts


def translate(
    template: dict[str, Any],
    parameters: Mapping[str, str] | None = None,
    region: str = "us-east-1",
    account_id: str = EMULATOR_ACCOUNT_ID,
) -> dict[str, Any]:
    """Apply the AWS::Serverless transform offline: SAM template in, CloudFormation out.

    Local code paths must already be S3 URIs (:func:`package_offline`).
    """
    import boto3
    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    # A session only to tell the translator the region/partition: no call is made.
    session = boto3.session.Session(region_name=region, aws_access_key_id="offline", aws_secret_access_key="offline")
    metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
    translator = Translator(managed_policy_map={}, sam_parser=Parser(), boto_session=session, metrics=metrics)
    values = {"AWS::AccountId": account_id, "AWS::Region": region, **(parameters or {})}
    try:
        cfn: dict[str, Any] = translator.translate(json.loads(json.dumps(template)), parameter_values=values)
        return cfn
    finally:
        metrics.publish()  # to the dummy publisher: nothing leaves the machine


# Resource types moto's CloudFormation skips: created from the template after the stack.
_APPLIED_AFTER = {"AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy", "AWS::Lambda::Url"}


def patch_for_emulator(cfn: dict[str, Any], active: set[str] | None = None) -> tuple[list[str], dict[str, Any]]:
    """Adjust the translated template for moto, which runs no Lambda code (moto only).

    ``active`` names the resources whose condition holds (default: all). Returns what
    changed, and the resources taken out to be applied after the stack (moto's
    CloudFormation does not support them).
    """
    patches: list[str] = []
    deferred: dict[str, Any] = {}
    resources = cfn["Resources"]
    for logical_id in list(resources):
        resource = resources[logical_id]
        if active is not None and logical_id not in active:
            continue
        if resource["Type"] == "AWS::Lambda::EventSourceMapping":
            resource["Properties"]["Enabled"] = False
            patches.append(f"{logical_id}: created disabled (moto would run the function in Docker); "
                           "the local SQS event-source runner invokes the handler")
        elif resource["Type"] in _APPLIED_AFTER:
            deferred[logical_id] = resources.pop(logical_id)
    for resource in resources.values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str) and depends in deferred:
            del resource["DependsOn"]
        elif isinstance(depends, list):
            kept = [d for d in depends if d not in deferred]
            if kept:
                resource["DependsOn"] = kept
            else:
                del resource["DependsOn"]
    return patches, deferred


# ----------------------------------------------------------------- resolved settings --
def resolve(template: Mapping[str, Any], parameters: Mapping[str, str], value: Any,
            settings: Settings | None = None) -> Any:
    """A template value with its intrinsics resolved before any stack exists (parameters,
    conditions, pseudo parameters); a reference to a resource raises DeployError."""
    return _Intrinsics(None, template, parameters, {}, settings or get_settings()).resolve(value)


@dataclass(frozen=True)
class EventSourceSettings:
    """An SQS event source mapping as the template declares it, with parameters resolved."""

    function: str
    handler: str
    batch_size: int = 10
    window_seconds: float = 0.0
    report_batch_item_failures: bool = False
    max_concurrency: int = 2
    function_timeout_seconds: float = 3.0
    memory_mb: int = 128


@dataclass(frozen=True)
class ScheduleSettings:
    function: str
    handler: str
    expression: str
    interval_seconds: float | None  # None for cron() expressions
    enabled: bool
    environment: dict[str, str] = field(default_factory=dict)


def event_sources(template: Mapping[str, Any], parameters: Mapping[str, str],
                  settings: Settings) -> list[EventSourceSettings]:
    """SQS event sources of the SAM template's functions (read before the transform)."""
    resolve = _Intrinsics(None, template, parameters, {}, settings).resolve
    found = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "SQS":
                continue
            ev = event.get("Properties", {})
            scaling = ev.get("ScalingConfig") or {}
            found.append(
                EventSourceSettings(
                    function=logical_id,
                    handler=str(props.get("Handler", "")),
                    batch_size=int(resolve(ev.get("BatchSize", 10))),
                    window_seconds=float(resolve(ev.get("MaximumBatchingWindowInSeconds", 0))),
                    report_batch_item_failures="ReportBatchItemFailures" in (ev.get("FunctionResponseTypes") or []),
                    max_concurrency=int(resolve(scaling.get("MaximumConcurrency", 2))),
                    function_timeout_seconds=float(resolve(props.get("Timeout", 3))),
                    memory_mb=int(resolve(props.get("MemorySize", 128))),
                )
            )
    return found


_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs of an EventBridge rate() expression; None for cron()."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def schedules(template: Mapping[str, Any], parameters: Mapping[str, str],
              settings: Settings) -> list[ScheduleSettings]:
    """Scheduled functions of the SAM template, with the environment they would get.

    Environment values that name a stack resource (``!Ref MetadataTable``) are left out: a
    local run takes those from its settings.
    """
    intrinsics = _Intrinsics(None, template, parameters, {}, settings)
    found = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        env = {}
        for name, value in ((props.get("Environment") or {}).get("Variables") or {}).items():
            try:
                resolved = intrinsics.resolve(value)
            except DeployError:
                continue  # names a resource of the stack
            if isinstance(resolved, str | int | float | bool):
                env[name] = str(resolved)
        for event in (props.get("Events") or {}).values():
            if event.get("Type") not in ("Schedule", "ScheduleV2"):
                continue
            ev = event.get("Properties", {})
            expression = str(intrinsics.resolve(ev.get("Schedule") or ev.get("ScheduleExpression")))
            state = intrinsics.resolve(ev.get("State", ev.get("Enabled", True)))
            found.append(
                ScheduleSettings(
                    function=logical_id,
                    handler=str(props.get("Handler", "")),
                    expression=expression,
                    interval_seconds=rate_seconds(expression),
                    enabled=str(state).upper() in {"TRUE", "ENABLED"},
                    environment=env,
                )
            )
    return found


# ----------------------------------------------------------------------------- stack --
@dataclass
class Stack:
    name: str
    outputs: dict[str, str]
    parameters: dict[str, str]
    event_sources: list[EventSourceSettings]
    schedules: list[ScheduleSettings]
    patches: list[str] = field(default_factory=list)
    created: bool = False
    emulator: EmulatorKind = "other"  # ticketlens.emulators.identify
    functions: bool = False  # the functions were deployed (DeployFunctions=true)
    functions_run_in_emulator: bool = False  # and the emulator invokes them (not the local runner)

    def event_source(self, function: str = "EnrichFunction") -> EventSourceSettings:
        for source in self.event_sources:
            if source.function == function:
                return source
        raise DeployError(f"template has no SQS event source for {function}")

    def schedule(self, function: str = "GenerateFunction") -> ScheduleSettings:
        for schedule in self.schedules:
            if schedule.function == function:
                return schedule
        raise DeployError(f"template has no schedule for {function}")


def describe(
    settings: Settings | None = None,
    template_path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    deployed: Mapping[str, str] | None = None,
) -> Stack:
    """The template's local settings without deploying anything (for workers on any endpoint).

    ``deployed`` (:func:`deployed_parameters`) are the values a stack was deployed with; those
    the template still declares take the place of its defaults.
    """
    settings = settings or get_settings()
    template = load_template(find_template(template_path))
    declared = template.get("Parameters") or {}
    kept = {name: value for name, value in (deployed or {}).items() if name in declared}
    parameters = parameter_values(template, {**kept, **settings_parameters(template, settings), **(overrides or {})})
    return Stack(
        name=settings.stack_name,
        outputs={},
        parameters=parameters,
        event_sources=event_sources(template, parameters, settings),
        schedules=schedules(template, parameters, settings),
    )


def deployed_parameters(settings: Settings | None = None) -> dict[str, str]:
    """The parameters the stack was deployed with ({} when there is no such stack to ask).

    A worker configures its event source from these, so a stack deployed with other timeouts
    or batch sizes than the template's defaults is served as deployed.
    """
    settings = settings or get_settings()
    try:
        stacks = clients(settings).cloudformation.describe_stacks(StackName=settings.stack_name)["Stacks"]
    except Exception:
        return {}
    return {p["ParameterKey"]: p["ParameterValue"] for p in (stacks[0].get("Parameters") or []) if stacks}


TEMPLATE_TAG = "ticketlens:template-sha256"


def deploy(
    settings: Settings | None = None,
    template_path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    timeout_s: float = 120.0,
    log: Callable[[str], None] | None = None,
    replace: bool = False,
    functions: bool | None = None,
) -> Stack:
    """Create the stack on the configured endpoint unless it exists; returns its settings.

    Idempotent: a complete stack deployed from the same template and parameters is reused
    (``ticketlens clean`` empties it). One deployed from a different template is reused
    with a warning, or deleted and created again with ``replace`` (its data goes with it).
    ``functions`` deploys the functions (True), leaves them out (False), or lets the
    endpoint decide (None: :func:`ticketlens.emulators.deploy_target`); an explicit
    ``DeployFunctions`` in ``overrides`` wins. Needs an endpoint: on AWS use ``sam deploy``.
    """
    from dataclasses import replace as replace_target

    settings = settings or get_settings()
    if not settings.endpoint_url:
        raise DeployError("no endpoint: set AWS_ENDPOINT_URL (or --endpoint); for AWS use `sam deploy`")
    say = log or (lambda message: None)
    path = find_template(template_path)
    template = load_template(path)
    target = deploy_target(settings.endpoint_url, functions)
    decided_here = functions is None and "DeployFunctions" not in (overrides or {})
    stack, fingerprint = _planned(settings, path, template, overrides, target.functions, target.emulator)
    aws = clients(settings)
    cfn_client = aws.cloudformation

    existing = _stack_status(cfn_client, settings.stack_name)
    if existing and existing.endswith("_COMPLETE") and "DELETE" not in existing and "ROLLBACK" not in existing:
        deployed = _tags(cfn_client, settings.stack_name).get(TEMPLATE_TAG)
        if deployed == fingerprint or not replace:
            if deployed != fingerprint:
                say(f"stack {settings.stack_name} was deployed from a different template or parameters; "
                    "reusing it (`ticketlens setup --replace` recreates it, emptying it)")
            else:
                say(f"stack {settings.stack_name} already deployed ({existing})")
            stack.outputs = _outputs(cfn_client, settings.stack_name)
            stack.functions = "EnrichFunctionName" in stack.outputs
            stack.functions_run_in_emulator = stack.functions and target.emulator != "moto"
            return stack
        existing = "REPLACE"
    if existing and "DELETE_COMPLETE" not in existing:
        say(f"replacing stack {settings.stack_name}" if existing == "REPLACE"
            else f"stack {settings.stack_name} is {existing}: deleting it first")
        say(f"  {_delete_stack(aws, settings.stack_name, timeout_s, settings)}")

    built = None
    if stack.functions_run_in_emulator:
        code_ids = [key.removesuffix(".zip") for key in package_offline(json.loads(json.dumps(template)))]
        built, why_not = _built_code(path, code_ids)
        if why_not and decided_here:
            say(f"functions left out: {why_not}")
            target = replace_target(target, functions=False, reason=why_not)
            stack, fingerprint = _planned(settings, path, template, overrides, False, target.emulator)
        elif why_not:
            raise DeployError(f"{why_not}; deploy with `--functions off` (ticket-processor then plays them)")
    artifacts = package_offline(template)
    _upload_artifacts(aws.s3, path.parent, artifacts, built)
    account_id = EMULATOR_ACCOUNT_ID if target.emulator == "moto" else _account_id(settings)
    cfn = translate(template, stack.parameters, region=settings.region, account_id=account_id)
    deferred: dict[str, Any] = {}
    if target.emulator == "moto":
        active = _active_resources(cfn, stack.parameters, settings)
        stack.patches, deferred = patch_for_emulator(cfn, active)
    say(f"deploying {path.name} as stack {settings.stack_name} to {target.emulator} "
        f"(SAM transform offline, then CloudFormation); functions "
        f"{'deployed' if stack.functions else 'left out'}: {target.reason}")
    cfn_client.create_stack(
        StackName=settings.stack_name,
        TemplateBody=json.dumps(cfn),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in stack.parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        Tags=[{"Key": TEMPLATE_TAG, "Value": fingerprint}],
    )
    status = _wait(cfn_client, settings.stack_name, {"CREATE_COMPLETE"}, timeout_s)
    if status != "CREATE_COMPLETE":
        reasons = _failure_reasons(cfn_client, settings.stack_name)
        cleanup = _delete_stack(aws, settings.stack_name, timeout_s, settings)
        hint = ("; the emulator could not run the functions: deploy with `--functions off` "
                "(ticket-processor then plays them)" if stack.functions_run_in_emulator else "")
        raise DeployError(f"stack {settings.stack_name} ended {status}: {reasons}; {cleanup}{hint}")
    stack.outputs = _outputs(cfn_client, settings.stack_name)
    if target.emulator == "moto":
        stack.patches += _apply_post_create_patches(aws, cfn, deferred, stack.parameters, settings)
    stack.created = True
    for patch in stack.patches:
        say(f"  patched: {patch}")
    return stack


def _planned(settings: Settings, path: Path, template: dict[str, Any], overrides: Mapping[str, Any] | None,
             functions: bool, emulator: EmulatorKind) -> tuple[Stack, str]:
    """The stack as it will be deployed, and the fingerprint tagged on it."""
    values = dict(overrides or {})
    if "DeployFunctions" in (template.get("Parameters") or {}):
        values.setdefault("DeployFunctions", "true" if functions else "false")
    stack = describe(settings, path, values)
    stack.emulator = emulator
    stack.functions = stack.parameters.get("DeployFunctions", "true") == "true"
    stack.functions_run_in_emulator = stack.functions and emulator != "moto"
    fingerprint = hashlib.sha256(json.dumps([template, stack.parameters], sort_keys=True, default=str).encode())
    return stack, fingerprint.hexdigest()


def _built_code(path: Path, code_ids: list[str]) -> tuple[Path | None, str | None]:
    """``sam build``'s output for the functions and layers (``code_ids``), or why it is missing."""
    built = path.parent / BUILD_DIR
    missing = [logical_id for logical_id in code_ids if not (built / logical_id).is_dir()]
    if missing:
        return None, (f"the emulator would run the functions, which need their built code and layers "
                      f"({', '.join(missing)} missing under {built}): run `sam build` first")
    return built, None


def _account_id(settings: Settings) -> str:
    """The emulator's account (LocalStack: 000000000000), for the SAM transform's ARNs."""
    import boto3

    sts = boto3.client("sts", endpoint_url=settings.endpoint_url, region_name=settings.region)
    return str(sts.get_caller_identity()["Account"])


def _active_resources(cfn: Mapping[str, Any], parameters: Mapping[str, str], settings: Settings) -> set[str]:
    """Logical ids of the resources whose Condition holds with these parameters."""
    conditions = _Intrinsics(None, cfn, parameters, {}, settings)
    return {
        logical_id for logical_id, resource in cfn["Resources"].items()
        if "Condition" not in resource or conditions.condition(resource["Condition"])
    }


BUILD_DIR = Path(".aws-sam") / "build"  # where `sam build` leaves the functions' code and layers


def _upload_artifacts(s3: S3Client, root: Path, artifacts: Mapping[str, str], built: Path | None = None) -> None:
    """The zips the template's CodeUri/ContentUri point at.

    From ``built`` (``sam build``'s output, every file) where the emulator runs the code;
    otherwise small stand-ins, each function's own source files, since nothing runs them.
    """
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    for key, local in artifacts.items():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            if built is not None:
                source = built / key.removesuffix(".zip")
                for file in sorted(p for p in source.rglob("*") if p.is_file()):
                    archive.write(file, file.relative_to(source).as_posix())
            else:
                source = root / local
                files = sorted(p for p in source.glob("*.py")) if source.is_dir() else []
                for file in files:
                    archive.write(file, file.name)
                if not files:
                    archive.writestr("README.txt", f"placeholder for {local}: built by `sam build` for AWS\n")
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=buffer.getvalue())


def _apply_post_create_patches(
    aws: Clients,
    cfn: Mapping[str, Any],
    deferred: Mapping[str, Any],
    parameters: Mapping[str, str],
    settings: Settings,
) -> list[str]:
    applied: list[str] = []
    physical = _physical_ids(aws.cloudformation, settings.stack_name)
    intrinsics = _Intrinsics(aws, cfn, parameters, physical, settings)
    for logical_id, resource in deferred.items():
        if resource["Type"] == "AWS::SQS::QueuePolicy":
            props = intrinsics.resolve(resource["Properties"])
            for queue_url in props["Queues"]:
                aws.sqs.set_queue_attributes(
                    QueueUrl=queue_url, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
                )
            applied.append(f"{logical_id}: not supported by moto's CloudFormation; set with SetQueueAttributes")
        elif resource["Type"] == "AWS::S3::BucketPolicy":
            applied.append(f"{logical_id}: left out: TLS-only, and moto serves plain HTTP on loopback")
        elif resource["Type"] == "AWS::Lambda::Url":
            applied.append(f"{logical_id}: left out: moto's CloudFormation does not support function URLs")
    for logical_id, resource in cfn["Resources"].items():
        props = resource.get("Properties", {})
        if logical_id not in physical:  # its condition is false: not created
            continue
        if resource["Type"] == "AWS::S3::Bucket" and "NotificationConfiguration" in props:
            notification = intrinsics.resolve(props["NotificationConfiguration"])
            queue_configs: list[QueueConfigurationTypeDef] = []
            for qc in notification.get("QueueConfigurations", []):
                entry: QueueConfigurationTypeDef = {"QueueArn": qc["Queue"], "Events": [qc["Event"]]}
                if "Filter" in qc:  # CloudFormation's S3Key.Rules is the API's Key.FilterRules
                    rules = qc["Filter"].get("S3Key", {}).get("Rules", [])
                    filter_rules: list[FilterRuleTypeDef] = [{"Name": r["Name"], "Value": r["Value"]} for r in rules]
                    entry["Filter"] = {"Key": {"FilterRules": filter_rules}}
                queue_configs.append(entry)
            aws.s3.put_bucket_notification_configuration(
                Bucket=physical[logical_id], NotificationConfiguration={"QueueConfigurations": queue_configs}
            )
            applied.append(f"{logical_id}: NotificationConfiguration ignored by moto's CloudFormation; "
                           "applied with PutBucketNotificationConfiguration")
        if resource["Type"] == "AWS::S3::Bucket" and "LifecycleConfiguration" in props:
            rules = [_lifecycle_rule(rule) for rule in intrinsics.resolve(props["LifecycleConfiguration"])["Rules"]]
            aws.s3.put_bucket_lifecycle_configuration(Bucket=physical[logical_id],
                                                      LifecycleConfiguration={"Rules": rules})
            applied.append(f"{logical_id}: LifecycleConfiguration ignored by moto's CloudFormation; "
                           "applied with PutBucketLifecycleConfiguration")
        if resource["Type"] == "AWS::DynamoDB::Table" and "TimeToLiveSpecification" in props:
            ttl = intrinsics.resolve(props["TimeToLiveSpecification"])
            aws.dynamodb.update_time_to_live(
                TableName=physical[logical_id],
                TimeToLiveSpecification={
                    "AttributeName": ttl["AttributeName"], "Enabled": bool(ttl.get("Enabled", True))
                },
            )
            applied.append(f"{logical_id}: TimeToLiveSpecification ignored by moto's CloudFormation; "
                           "applied with UpdateTimeToLive")
    return applied


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule (the subset the template uses) in the S3 API's shape."""
    api: dict[str, Any] = {"ID": rule.get("Id", "rule"), "Status": rule["Status"],
                           "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    return api


class _Intrinsics:
    """Just enough of CloudFormation's intrinsic functions to apply the patched resources."""

    _NO_VALUE = object()

    def __init__(self, aws: Clients | None, cfn: Mapping[str, Any], parameters: Mapping[str, str],
                 physical: Mapping[str, str], settings: Settings) -> None:
        self.aws = aws  # None where only conditions are evaluated
        self.resources = cfn["Resources"]
        self.conditions = cfn.get("Conditions") or {}
        self.physical = physical
        self.values: dict[str, Any] = {
            **{name: _parameter_value(cfn, name, value) for name, value in parameters.items()},
            "AWS::Region": settings.region,
            "AWS::AccountId": EMULATOR_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": settings.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not self._NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Ref":
                return self._ref(arg)
            if fn == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._get_att(logical, attribute)
            if fn == "Fn::Sub":
                return self._sub(arg)
            if fn == "Fn::If":
                name, if_true, if_false = arg
                return self.resolve(if_true if self.condition(name) else if_false)
            if fn == "Fn::Join":
                separator, items = arg
                return separator.join(str(v) for v in self.resolve(items))
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not self._NO_VALUE}

    def condition(self, name: str) -> bool:
        return self._evaluate(self.conditions[name])

    def _evaluate(self, spec: Any) -> bool:
        (fn, arg), = spec.items()
        if fn == "Fn::Equals":
            left, right = (self.resolve(v) for v in arg)
            return str(left) == str(right)
        if fn == "Fn::Not":
            return not self._evaluate(arg[0])
        if fn == "Fn::And":
            return all(self._evaluate(a) for a in arg)
        if fn == "Fn::Or":
            return any(self._evaluate(a) for a in arg)
        if fn == "Condition":
            return self.condition(arg)
        raise DeployError(f"unsupported condition function {fn}")

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return self._NO_VALUE
        if name in self.values:
            return self.values[name]
        if name in self.physical:
            return self.physical[name]
        raise DeployError(f"cannot resolve Ref {name}")

    def _get_att(self, logical: str, attribute: str) -> str:
        if logical not in self.physical:
            raise DeployError(f"cannot resolve Fn::GetAtt {logical}.{attribute}: {logical} is not created yet")
        kind = self.resources[logical]["Type"]
        physical = self.physical[logical]
        if kind == "AWS::SQS::Queue" and attribute == "QueueName":
            return physical.rstrip("/").rsplit("/", 1)[-1]
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{physical}"
        if self.aws is None:
            raise DeployError(f"cannot resolve Fn::GetAtt {logical}.{attribute} before the stack exists")
        if kind == "AWS::SQS::Queue" and attribute == "Arn":
            attributes = self.aws.sqs.get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])["Attributes"]
            return attributes["QueueArn"]
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return self.aws.dynamodb.describe_table(TableName=physical)["Table"]["TableArn"]
        raise DeployError(f"cannot resolve Fn::GetAtt {logical}.{attribute}")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                return str(self._get_att(*name.split(".", 1)))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


def _parameter_value(cfn: Mapping[str, Any], name: str, value: str) -> Any:
    spec = (cfn.get("Parameters") or {}).get(name, {})
    if spec.get("Type") == "CommaDelimitedList":
        return [v for v in value.split(",")] if value else [""]
    return value


def _tags(cfn_client: CloudFormationClient, stack_name: str) -> dict[str, str]:
    stack = cfn_client.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {t["Key"]: t["Value"] for t in stack.get("Tags", [])}


def _empty_buckets(aws: Clients, cfn_client: CloudFormationClient, stack_name: str) -> None:
    """CloudFormation cannot delete a bucket with objects in it."""
    for resource in cfn_client.describe_stack_resources(StackName=stack_name)["StackResources"]:
        if resource.get("ResourceType") != "AWS::S3::Bucket" or not resource.get("PhysicalResourceId"):
            continue
        bucket = resource["PhysicalResourceId"]
        paginator = aws.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            keys: list[ObjectIdentifierTypeDef] = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                aws.s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})


def _physical_ids(cfn_client: CloudFormationClient, stack_name: str) -> dict[str, str]:
    resources = cfn_client.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r.get("LogicalResourceId") and r.get("PhysicalResourceId")
    }


def _stack_status(cfn_client: CloudFormationClient, stack_name: str) -> str | None:
    try:
        stacks = cfn_client.describe_stacks(StackName=stack_name)["Stacks"]
    except cfn_client.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return stacks[0]["StackStatus"] if stacks else None


def _wait(cfn_client: CloudFormationClient, stack_name: str, targets: set[str | None], timeout_s: float) -> str | None:
    """The stack's status once it reaches one of ``targets`` or stops changing (a failure)."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = _stack_status(cfn_client, stack_name)
        if status in targets or (status and not status.endswith("_IN_PROGRESS")):
            return status
        if time.monotonic() > deadline:
            raise DeployError(f"stack {stack_name} still {status} after {timeout_s:.0f} s")
        time.sleep(0.2)


def _wait_deleted(cfn_client: CloudFormationClient, stack_name: str, timeout_s: float) -> str | None:
    """The stack's status once nothing in it is in progress any more (None: it is gone).

    LocalStack reports DELETE_FAILED as soon as one resource fails to delete while it goes on
    deleting the others (and retrying), often to DELETE_COMPLETE: only a DELETE_FAILED with no
    resource in progress is final.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        status = _wait(cfn_client, stack_name, {"DELETE_COMPLETE", None}, timeout_s)
        if status != "DELETE_FAILED":
            return status
        try:
            resources = cfn_client.describe_stack_resources(StackName=stack_name)["StackResources"]
        except cfn_client.exceptions.ClientError:
            return None  # deleted meanwhile
        if not any(r.get("ResourceStatus", "").endswith("_IN_PROGRESS") for r in resources):
            return status
        if time.monotonic() > deadline:
            raise DeployError(f"stack {stack_name} still deleting after {timeout_s:.0f} s")
        time.sleep(0.5)


def _delete_stack(aws: Clients, stack_name: str, timeout_s: float, settings: Settings | None = None) -> str:
    """Delete the stack, whatever state it is in; returns what was done, for the user.

    Where a resource cannot be deleted (DELETE_FAILED for good), the stack is deleted again
    retaining the resources that failed, as CloudFormation allows. LocalStack's CloudFormation
    ignores ``RetainResources``: there the stack's resources are deleted with their own APIs,
    so their names are free, and the error says that the stack record stays DELETE_FAILED
    until LocalStack restarts.
    """
    cfn_client = aws.cloudformation
    status = _wait_deleted(cfn_client, stack_name, timeout_s)
    if status in (None, "DELETE_COMPLETE"):
        return "no stack left"
    if status != "DELETE_FAILED":
        _empty_buckets(aws, cfn_client, stack_name)
        cfn_client.delete_stack(StackName=stack_name)
        status = _wait_deleted(cfn_client, stack_name, timeout_s)
        if status in (None, "DELETE_COMPLETE"):
            return f"stack {stack_name} deleted"
    stuck = sorted(
        r["LogicalResourceId"] for r in cfn_client.describe_stack_resources(StackName=stack_name)["StackResources"]
        if r.get("ResourceStatus") == "DELETE_FAILED"
    )
    if status == "DELETE_FAILED" and stuck:
        cfn_client.delete_stack(StackName=stack_name, RetainResources=stuck)
        status = _wait_deleted(cfn_client, stack_name, timeout_s)
        if status in (None, "DELETE_COMPLETE"):
            return f"stack {stack_name} deleted, retaining {', '.join(stuck)}, which the emulator could not delete"
    deleted, failed = _delete_resources(settings or get_settings(), stack_name)
    raise DeployError(
        f"stack {stack_name} is {status} and its record cannot be deleted "
        f"({_failure_reasons(cfn_client, stack_name)}); "
        f"its resources were deleted with their own APIs ({', '.join(deleted) or 'none left'}"
        + (f"; not deleted: {'; '.join(failed)}" if failed else "")
        + "). The emulator keeps the stack record (LocalStack's CloudFormation ignores RetainResources) until it "
        "restarts: `ticketlens localstack stop && ticketlens localstack start`"
    )


_GONE = ("NotFound", "NoSuch", "NonExistent", "does not exist", "not found", "Unable to find")


def _delete_resources(settings: Settings, stack_name: str) -> tuple[list[str], list[str]]:
    """Delete a stack's resources one by one with their own APIs (buckets emptied first).

    Returns the logical ids deleted and, for those that could not be, why.
    """
    import boto3

    aws = clients(settings)
    endpoint, region = settings.endpoint_url, settings.region
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=region)
    lambda_client = boto3.client("lambda", endpoint_url=endpoint, region_name=region)
    events = boto3.client("events", endpoint_url=endpoint, region_name=region)
    resources = aws.cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    deleted: list[str] = []
    failed: list[str] = []
    for resource in resources:
        kind, physical = resource["ResourceType"], resource.get("PhysicalResourceId")
        if not physical or resource.get("ResourceStatus") == "DELETE_COMPLETE":
            continue
        try:
            if kind == "AWS::S3::Bucket":
                for page in aws.s3.get_paginator("list_objects_v2").paginate(Bucket=physical):
                    if page.get("Contents"):
                        objects: list[ObjectIdentifierTypeDef] = [{"Key": o["Key"]} for o in page["Contents"]]
                        aws.s3.delete_objects(Bucket=physical, Delete={"Objects": objects})
                aws.s3.delete_bucket(Bucket=physical)
            elif kind == "AWS::SQS::Queue":
                aws.sqs.delete_queue(QueueUrl=physical)
            elif kind == "AWS::DynamoDB::Table":
                aws.dynamodb.delete_table(TableName=physical)
            elif kind == "AWS::IAM::Role":
                for policy in iam.list_attached_role_policies(RoleName=physical)["AttachedPolicies"]:
                    iam.detach_role_policy(RoleName=physical, PolicyArn=policy["PolicyArn"])
                for name in iam.list_role_policies(RoleName=physical)["PolicyNames"]:
                    iam.delete_role_policy(RoleName=physical, PolicyName=name)
                iam.delete_role(RoleName=physical)
            elif kind == "AWS::Lambda::Function":
                lambda_client.delete_function(FunctionName=physical)
            elif kind == "AWS::Lambda::EventSourceMapping":
                lambda_client.delete_event_source_mapping(UUID=physical)
            elif kind == "AWS::Lambda::LayerVersion":
                name, version = physical.rsplit(":", 2)[-2:]
                lambda_client.delete_layer_version(LayerName=name, VersionNumber=int(version))
            elif kind == "AWS::Events::Rule":
                targets = events.list_targets_by_rule(Rule=physical)["Targets"]
                if targets:
                    events.remove_targets(Rule=physical, Ids=[t["Id"] for t in targets])
                events.delete_rule(Name=physical)
            else:
                continue  # policies and permissions go with their queue, role or function
        except Exception as error:
            if not any(marker in str(error) for marker in _GONE):
                failed.append(f"{resource['LogicalResourceId']}: {error}")
            continue
        deleted.append(resource["LogicalResourceId"])
    return deleted, failed


def _outputs(cfn_client: CloudFormationClient, stack_name: str) -> dict[str, str]:
    stack = cfn_client.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _failure_reasons(cfn_client: CloudFormationClient, stack_name: str) -> str:
    try:
        events = cfn_client.describe_stack_events(StackName=stack_name)["StackEvents"]
    except Exception:
        return "(no events)"
    reasons = dict.fromkeys(  # newest first, each once
        f"{e['LogicalResourceId']}: {e['ResourceStatusReason']}"
        for e in events
        if e.get("ResourceStatus", "").endswith("FAILED") and e.get("ResourceStatusReason")
    )
    return "; ".join(reasons) or "(no reason given)"


def delete(settings: Settings | None = None, timeout_s: float = 120.0) -> str:
    """Delete the stack and everything in it; returns what was done."""
    settings = settings or get_settings()
    return _delete_stack(clients(settings), settings.stack_name, timeout_s, settings)
