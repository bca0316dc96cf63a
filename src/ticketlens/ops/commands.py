"""Operations on a deployed stack, against any endpoint: setup, seed, clean, reset, status,
show, redrive, invoke.

Every command takes ``--endpoint URL``; without it, ``AWS_ENDPOINT_URL``, else the local
emulator this checkout left running, else AWS (:mod:`ticketlens.emulators.endpoint`).
The seed's Makefile targets map to ``setup`` (create the resources: here, deploy
``template.yaml``), ``seed`` (upload sample tickets), ``clean`` and ``reset``; its shell
helpers map to ``show results|sentiment|urgent|ticket`` and ``status``. Commands that delete
decide before opening any connection whether the endpoint is an emulator on this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cli import group_help
from ..emulators.endpoint import ENDPOINT_HELP

if TYPE_CHECKING:  # imported where used: the CLI starts without boto3
    from mypy_boto3_sqs.type_defs import DeleteMessageBatchRequestEntryTypeDef, SendMessageBatchRequestEntryTypeDef

    from ..settings import Settings
    from ..store import TicketStore

SAMPLES = "samples/tickets.jsonl"
FUNCTIONS = {"auto": None, "on": True, "off": False}  # --functions


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint", metavar="URL", help=ENDPOINT_HELP)
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="machine-readable output")
    functions = argparse.ArgumentParser(add_help=False)
    functions.add_argument(
        "--functions", choices=["auto", "on", "off"], default="auto",
        help="deploy the template's functions (DeployFunctions): auto asks the endpoint (moto, LocalStack without "
             "Docker: off, ticketlens' runner plays them; LocalStack in Docker: on, needs `sam build`)",
    )

    p = subparsers.add_parser("setup", parents=[common, functions],
                              help="deploy template.yaml to the endpoint (make setup)")
    p.add_argument("--template")
    p.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                   help="template parameter override (repeatable)")
    p.add_argument("--replace", action="store_true",
                   help="delete and recreate a stack deployed from a different template (its data goes)")
    p.set_defaults(func=cmd_setup)

    p = subparsers.add_parser("seed", parents=[common], help="upload sample tickets to the raw bucket (make seed)")
    p.add_argument("--file", default=None, help=f"JSON-lines tickets to upload (default {SAMPLES})")
    p.add_argument("--generate", type=int, metavar="N", help="upload N generated tickets instead")
    p.set_defaults(func=cmd_seed)

    destructive = argparse.ArgumentParser(add_help=False)
    destructive.add_argument("--allow-aws", action="store_true",
                             help="allow deleting on AWS (or any endpoint that is not a loopback emulator); "
                                  "lists what will be deleted and asks for the stack name first")
    destructive.add_argument("--yes", action="store_true", help="with --allow-aws: skip the typed confirmation")

    p = subparsers.add_parser("clean", parents=[common, destructive],
                              help="empty the buckets, queues and tables (make clean); emulators only by default")
    p.set_defaults(func=cmd_clean)

    p = subparsers.add_parser("reset", parents=[common, destructive, functions],
                              help="clean, setup, seed (make reset); emulators only by default")
    p.add_argument("--no-seed", action="store_true")
    p.add_argument("--template")
    p.set_defaults(func=cmd_reset)

    p = subparsers.add_parser("redrive", parents=[common],
                              help="move messages from the dead-letter queue back to the queue (after a fix)")
    p.add_argument("--limit", type=int, metavar="N", help="move at most N messages (default: all)")
    p.set_defaults(func=cmd_redrive)

    p = subparsers.add_parser("status", parents=[common, output], help="queue depth, DLQ depth, counts")
    p.set_defaults(func=cmd_status)

    show = subparsers.add_parser("show", help="query enriched tickets")
    what = show.add_subparsers(dest="what", metavar="WHAT")
    for name, help_text in (
        ("results", "the newest enriched tickets"),
        ("urgent", "critical and high urgency, newest first (urgency-index GSI)"),
    ):
        q = what.add_parser(name, parents=[common, output], help=help_text)
        q.add_argument("--limit", type=int, default=20)
        q.set_defaults(func=cmd_show, what=name)
    q = what.add_parser("sentiment", parents=[common, output], help="tickets with a sentiment (sentiment-index GSI)")
    q.add_argument("value", nargs="?", default="NEGATIVE", choices=["NEGATIVE", "NEUTRAL", "POSITIVE"],
                   type=str.upper)
    q.add_argument("--limit", type=int, default=20)
    q.set_defaults(func=cmd_show, what="sentiment")
    q = what.add_parser("intent", parents=[common, output], help="tickets with an intent (intent-index GSI)")
    q.add_argument("value")
    q.add_argument("--limit", type=int, default=20)
    q.set_defaults(func=cmd_show, what="intent")
    q = what.add_parser("ticket", parents=[common, output], help="one ticket's full record from the enriched bucket")
    q.add_argument("value", metavar="TICKET_ID")
    q.set_defaults(func=cmd_show, what="ticket")
    q = what.add_parser("dlq", parents=[common, output],
                        help="messages in the dead-letter queue (transient failures after maxReceiveCount)")
    q.add_argument("--limit", type=int, default=10)
    q.set_defaults(func=cmd_show, what="dlq")
    q = what.add_parser("rejects", parents=[common, output],
                        help="objects and messages that were not tickets, newest first, with the reason")
    q.add_argument("--limit", type=int, default=20)
    q.set_defaults(func=cmd_show, what="rejects")
    show.set_defaults(func=group_help(show))

    p = subparsers.add_parser(
        "invoke", parents=[common],
        help="run a handler in-process with an event file (sam local invoke without Docker)",
    )
    p.add_argument("function", choices=["enrich", "generate"])
    p.add_argument("--event", required=True, metavar="FILE.json", help="event JSON, e.g. events/sqs-s3-put.json")
    p.add_argument("--timeout", type=float, default=60.0, help="the context's timeout in seconds")
    p.set_defaults(func=cmd_invoke)


# ------------------------------------------------------------------------ plumbing --
def _endpoint(args: argparse.Namespace) -> None:
    from ..emulators.endpoint import choose

    choose(getattr(args, "endpoint", None))


def confirm_destruction(args: argparse.Namespace, action: str) -> bool:
    """Decide, before any connection is opened, whether ``action`` may delete at this endpoint.

    An emulator on this machine: yes. Anything else (AWS when no endpoint is set, or a
    remote endpoint) only with ``--allow-aws``, after listing what would be deleted and a
    typed confirmation (``--yes`` skips the prompt, for scripts that mean it).
    """
    from ..emulators.endpoint import is_emulator
    from ..settings import get_settings

    settings = get_settings()
    if is_emulator(settings.endpoint_url):
        return True
    where = settings.endpoint_url or f"AWS (region {settings.region})"
    if not args.allow_aws:
        print(f"error: refusing to {action} at {where}: it is not an emulator on this machine. Nothing was touched.\n"
              "  Point at an emulator with --endpoint http://127.0.0.1:4566 (or AWS_ENDPOINT_URL), or pass --allow-aws "
              "to delete on AWS after a confirmation.", file=sys.stderr)
        return False
    print(f"{action} at {where} deletes:", file=sys.stderr)
    for kind, names in (("objects in buckets", [settings.raw_bucket, settings.enriched_bucket]),
                        ("messages in queues", queues_to_empty(settings)),
                        ("items in tables", [settings.table_name, settings.idempotency_table,
                                             settings.counts_table])):
        print(f"  every {kind}: {', '.join(names)}", file=sys.stderr)
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print("error: not a terminal: pass --yes with --allow-aws to confirm. Nothing was touched.", file=sys.stderr)
        return False
    answer = input(f"type the stack name ({settings.stack_name}) to confirm: ").strip()
    if answer != settings.stack_name:
        print("not confirmed. Nothing was touched.", file=sys.stderr)
        return False
    return True


def _store() -> TicketStore:
    from ..store import TicketStore

    return TicketStore()


def _friendly(error: Exception) -> str:
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    from ..settings import get_settings

    endpoint = get_settings().endpoint_url or "AWS"
    if isinstance(error, EndpointConnectionError):
        return (f"cannot reach {endpoint}: start an emulator (`ticketlens emulator start`, `ticketlens demo` or "
                "`ticketlens localstack start`), or pass --endpoint")
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials: any value works for an emulator (AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test)"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("ResourceNotFoundException", "AWS.SimpleQueueService.NonExistentQueue", "NoSuchBucket",
                    "QueueDoesNotExist"):
            return f"{error.response['Error'].get('Message', code)} at {endpoint}: run `ticketlens setup` first"
    return f"{type(error).__name__}: {error}"


def _guard(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapped(args: argparse.Namespace) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        from ..deploy.stack import DeployError

        _endpoint(args)
        try:
            return int(func(args) or 0)
        except (BotoCoreError, ClientError, DeployError) as error:
            print(f"error: {_friendly(error) if not isinstance(error, DeployError) else error}", file=sys.stderr)
            return 1

    return wrapped


def table(rows: list[dict[str, Any]], columns: list[str], widths: dict[str, int] | None = None) -> str:
    """A plain-text table; long cells are cut to their column's width."""
    widths = widths or {}
    if not rows:
        return "(none)"
    sizes = {c: min(widths.get(c, 60), max(len(c), *(len(str(r.get(c, ""))) for r in rows))) for c in columns}
    lines = ["  ".join(c.upper().ljust(sizes[c]) for c in columns).rstrip()]
    for row in rows:
        cells = []
        for c in columns:
            text = str(row.get(c, "")).replace("\n", " ")
            if len(text) > sizes[c]:
                text = text[: sizes[c] - 1] + "…"
            cells.append(text.ljust(sizes[c]))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _when(ts: Any) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(int(ts)))
    except (TypeError, ValueError):
        return str(ts)


# ----------------------------------------------------------------------- commands --
@_guard
def cmd_setup(args: argparse.Namespace) -> int:
    from ..deploy.stack import deploy

    overrides = dict(p.split("=", 1) for p in args.parameter)
    stack = deploy(template_path=args.template, overrides=overrides, log=print, replace=args.replace,
                   functions=FUNCTIONS[args.functions])
    for key, value in sorted(stack.outputs.items()):
        print(f"  {key:<22} {value}")
    return 0


@_guard
def cmd_seed(args: argparse.Namespace) -> int:
    from ..schemas import RawTicket, parse_ticket

    store = _store()
    tickets: list[RawTicket] = []
    if args.generate:
        from ..generator import TicketFactory

        factory = TicketFactory()
        now = int(time.time())
        tickets = [factory.make(now) for _ in range(args.generate)]
    else:
        path = Path(args.file or SAMPLES)
        if not path.is_file():
            print(f"error: no {path} (pass --file or --generate N)", file=sys.stderr)
            return 1
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                parsed = parse_ticket(line, f"{path}:{n}")
                if isinstance(parsed, RawTicket):
                    tickets.append(parsed)
                else:
                    print(f"skipped {parsed.where}: {parsed.reason}", file=sys.stderr)
    from ..generator import object_key

    for ticket in tickets:
        key = object_key(ticket)
        store.put_raw(key, ticket.model_dump_json(exclude_none=True))
        print(f"uploaded s3://{store.settings.raw_bucket}/{key}")
    print(f"{len(tickets)} tickets uploaded")
    return 0


@_guard
def cmd_clean(args: argparse.Namespace) -> int:
    if not confirm_destruction(args, "clean"):
        return 2
    clean(_store())
    print("buckets, queues and tables emptied")
    return 0


def queues_to_empty(settings: Settings) -> list[str]:
    """The ticket queues and the similar-ticket index's (named after the stack in template.yaml)."""
    return [settings.queue_name, settings.dlq_name, f"{settings.stack_name}-index", f"{settings.stack_name}-index-dlq"]


def clean(store: TicketStore) -> None:
    """Empty what the stack holds; the index queues too, or their messages would point at deleted records."""
    from botocore.exceptions import ClientError

    s, aws = store.settings, store.aws
    for bucket in (s.raw_bucket, s.enriched_bucket):
        keys = list(store.iter_keys(bucket))
        for start in range(0, len(keys), 1000):
            aws.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]]})
    for queue in queues_to_empty(s):
        try:
            url = store.queue_url(queue)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("AWS.SimpleQueueService.NonExistentQueue",
                                                                   "QueueDoesNotExist"):
                raise
            continue  # a stack deployed before the index existed
        aws.sqs.purge_queue(QueueUrl=url)
    for table_name in (s.table_name, s.idempotency_table, s.counts_table):
        try:
            key_schema = aws.dynamodb.describe_table(TableName=table_name)["Table"]["KeySchema"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            continue  # a stack deployed before the counts table existed
        key_names = [k["AttributeName"] for k in key_schema]
        kwargs: dict[str, Any] = {"TableName": table_name,
                                  "ProjectionExpression": ", ".join(f"#k{i}" for i in range(len(key_names))),
                                  "ExpressionAttributeNames": {f"#k{i}": k for i, k in enumerate(key_names)}}
        while True:
            page = aws.dynamodb.scan(**kwargs)
            items = page.get("Items", [])
            for start in range(0, len(items), 25):
                aws.dynamodb.batch_write_item(RequestItems={table_name: [
                    {"DeleteRequest": {"Key": item}} for item in items[start:start + 25]
                ]})
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@_guard
def cmd_reset(args: argparse.Namespace) -> int:
    from ..deploy.stack import deploy

    if not confirm_destruction(args, "reset"):
        return 2
    deploy(template_path=args.template, log=print, functions=FUNCTIONS[args.functions])
    clean(_store())
    print("emptied buckets, queues and tables")
    if not args.no_seed:
        return cmd_seed(argparse.Namespace(file=None, generate=None, endpoint=None))
    return 0


@_guard
def cmd_status(args: argparse.Namespace) -> int:
    status = _store().status()
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print(f"endpoint          {status['endpoint']}")
    print(f"queue             {status['queue']['name']}: {status['queue']['visible']} waiting, "
          f"{status['queue']['in_flight']} in flight")
    print(f"dead-letter queue {status['dlq']['name']}: {status['dlq']['visible']} messages")
    print(f"raw objects       {status['raw_objects']}")
    print(f"enriched records  {status['enriched_objects']}")
    print(f"rejects           {status['rejects']}")
    print(f"table items       {status['table_items']}")
    return 0


_COLUMNS = ["ticket_id", "created", "urgency", "sentiment", "intent", "summary"]


@_guard
def cmd_show(args: argparse.Namespace) -> int:
    store = _store()
    if args.what == "ticket":
        record = store.get_ticket(args.value)
        if record is None:
            print(f"no ticket {args.value!r}", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(record, indent=2))
        else:
            e = record.get("enrichment", {})
            record_view = {**record, "enrichment": {**e, "embedding": f"[{len(e.get('embedding', []))} floats]"}}
            print(json.dumps(record_view, indent=2))
        return 0
    if args.what == "dlq":
        rows = dead_letters(store, args.limit)
        print(json.dumps(rows, indent=2) if args.json else table(rows, ["message_id", "receives", "object", "sent"],
                                                               {"object": 70}))
        return 0
    if args.what == "rejects":
        rejects = store.rejects(args.limit)
        if args.json:
            print(json.dumps(rejects, indent=2))
        else:
            rows = [{**r, "recorded": str(r.get("recorded_at", ""))[:19].replace("T", " ")} for r in rejects]
            print(table(rows, ["recorded", "where", "reason"], {"where": 60, "reason": 90}))
        return 0
    if args.what == "results":
        items = store.recent(args.limit)
    elif args.what == "urgent":
        items = store.urgent(args.limit)
    elif args.what == "sentiment":
        items = store.by_sentiment(args.value, args.limit)
    else:
        items = store.by_intent(args.value, args.limit)
    if args.json:
        print(json.dumps(items, indent=2))
    else:
        rows = [{**item, "created": _when(item.get("created_at"))} for item in items]
        print(table(rows, _COLUMNS, {"summary": 60, "ticket_id": 32}))
    return 0


def dead_letters(store: Any, limit: int = 10) -> list[dict[str, Any]]:
    """Peek at the DLQ (messages become visible again at once).

    Only transient failures get here (deterministic rejects are recorded and acknowledged
    on their first delivery: ``show rejects``); the handler's logs say what failed.
    """
    from ..handlers.enrich import NotAnS3Event, parse_s3_event

    url = store.queue_url(store.settings.dlq_name)
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(max(1, limit // 10 + 1)):
        messages = store.aws.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            if message["MessageId"] in seen or len(seen) >= limit:
                continue
            try:
                objects = [f"s3://{r.bucket}/{r.key}" for r in parse_s3_event(message["Body"])]
            except NotAnS3Event as error:
                objects = [f"(not an S3 event: {error})"]
            sent = message.get("Attributes", {}).get("SentTimestamp")
            seen[message["MessageId"]] = {
                "message_id": message["MessageId"],
                "receives": int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0)),
                "object": ", ".join(objects) or "-",
                "sent": _when(int(sent) // 1000) if sent else "",
            }
    return list(seen.values())


@_guard
def cmd_redrive(args: argparse.Namespace) -> int:
    store = _store()
    moved = redrive(store, args.limit)
    print(f"moved {moved} message(s) from {store.settings.dlq_name} back to {store.settings.queue_name}")
    return 0


def redrive(store: TicketStore, limit: int | None = None) -> int:
    """Move dead letters back to the processing queue: send each, then delete it from the DLQ.

    Send before delete: a crash in between leaves a message in both queues, and the
    handler's idempotency makes the second delivery a no-op; nothing is lost.
    """
    sqs = store.aws.sqs
    dlq, queue = store.queue_url(store.settings.dlq_name), store.queue_url(store.settings.queue_name)
    moved = 0
    while limit is None or moved < limit:
        want = 10 if limit is None else min(10, limit - moved)
        messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=want, VisibilityTimeout=60,
                                       WaitTimeSeconds=1, MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            break
        entries: list[SendMessageBatchRequestEntryTypeDef] = []
        for n, m in enumerate(messages):
            entry: SendMessageBatchRequestEntryTypeDef = {"Id": str(n), "MessageBody": m["Body"]}
            if m.get("MessageAttributes"):
                entry["MessageAttributes"] = m["MessageAttributes"]
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=queue, Entries=entries)
        ok = {entry["Id"] for entry in sent.get("Successful", [])}
        done: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages) if str(n) in ok
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=dlq, Entries=done)
        moved += len(done)
        if len(done) < len(messages):
            raise RuntimeError(f"{len(messages) - len(done)} message(s) could not be sent back; they stay in the DLQ")
    return moved


@_guard
def cmd_invoke(args: argparse.Namespace) -> int:
    from ..runner.context import LocalLambdaContext, handler_output_to

    event = json.loads(Path(args.event).read_text(encoding="utf-8"))
    if args.function == "enrich":
        from ..handlers.enrich import lambda_handler
    else:
        from ..handlers.generate import lambda_handler
    from ..settings import get_settings

    context = LocalLambdaContext(function_name=f"ticketlens-{args.function}", timeout_seconds=args.timeout,
                                 region=get_settings().region)
    started = time.monotonic()
    with handler_output_to(sys.stderr):
        response = lambda_handler(event, context)
    print(json.dumps(response, indent=2, default=str))
    print(f"duration {1000 * (time.monotonic() - started):.0f} ms   request id {context.aws_request_id}",
          file=sys.stderr)
    return 0
