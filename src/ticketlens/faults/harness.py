"""``ticketlens faults``: burst tickets with hostile objects mixed in, kill -9 the worker
mid-batch, restart it, and check that nothing was lost, overwritten or written twice.

The run, against a stack of its own (names with a random suffix) on an emulator:

1. an emulator starts in a process of its own (or ``--endpoint`` names one: LocalStack, a
   long-lived ``ticketlens emulator start``), and template.yaml is deployed with a short function
   timeout (so crashed invocations' in-progress records expire within the run) and a queue
   visibility timeout above it, as Lambda requires;
2. writes are counted by the emulator itself: the enriched bucket is versioned, the
   metadata table streams its writes;
3. ``ticket-processor`` starts as its own process group; N generated tickets and the hostile
   corpus (:mod:`ticketlens.faults.corpus`) are uploaded as a burst;
4. K times, once a share of the tickets is stored and a batch is in flight, the worker's
   whole process group gets SIGKILL and a new worker starts;
5. once the queue is drained, the worker gets SIGTERM and must exit 0; then the invariants:

   * every good ticket has exactly one item and one record, each written exactly once;
   * every hostile object ended as its corpus entry says (stored, duplicate, or a reject
     whose reason names the problem);
   * raw objects = stored records + rejects + duplicates (nothing unaccounted for);
   * the counts table counts every item exactly once, per minute and per hour;
   * the dead-letter queue is empty: every failure was transient and was retried;
   * the worker's memory (the sum over its process group) stays bounded.

The figures printed (time to drain, tickets/s, peak RSS) are what ``docs/pipeline.md``
quotes; any violation makes the command exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import counts
from ..settings import Settings
from .corpus import Hostile, hostile_corpus

if TYPE_CHECKING:
    from ..schemas import RawTicket
    from ..store import Clients, TicketStore

STAMP = 1_764_000_000  # the tickets' created_at: a fixed day, so records land under known keys


@dataclass(frozen=True)
class HarnessConfig:
    tickets: int = 300
    kills: int = 2
    concurrency: int = 2
    endpoint: str | None = None
    seed: str = "faults"
    big: bool = True
    function_timeout_s: int = 15
    visibility_s: int = 20
    timeout_s: float = 900.0
    log_dir: Path = Path(".ticketlens/faults")


@dataclass
class HarnessReport:
    tickets: int
    hostile: int
    kills: int
    emulator: str
    drain_s: float = 0.0
    tickets_per_s: float = 0.0
    worker_peak_rss_mb: float = 0.0
    worker_peak_process_rss_mb: float = 0.0
    stored: int = 0
    rejects: int = 0
    duplicates: int = 0
    raw_objects: int = 0
    counted: tuple[int, int] = (0, 0)  # tickets in the counts table: (per minute, per hour)
    dlq: int = 0
    worker_exit: int | None = None
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def lines(self) -> list[str]:
        return [
            f"emulator            {self.emulator}",
            f"tickets             {self.tickets} good + {self.hostile} hostile objects, "
            f"{self.kills} kill -9 of the worker",
            f"drained in          {self.drain_s:.1f} s "
            f"({self.tickets_per_s:.1f} good tickets/s, kills and retries included)",
            f"accounted for       {self.raw_objects} raw objects = {self.stored} stored + {self.rejects} rejects"
            f" + {self.duplicates} duplicates",
            f"counted             {self.counted[0]} per minute, {self.counted[1]} per hour",
            f"dead-letter queue   {self.dlq}",
            f"worker peak RSS     {self.worker_peak_rss_mb:.0f} MB (its process group), "
            f"{self.worker_peak_process_rss_mb:.0f} MB (largest process)",
            f"worker SIGTERM exit {self.worker_exit}",
            "invariants          " + ("all hold" if self.ok else f"{len(self.violations)} VIOLATED"),
            *(f"  - {v}" for v in self.violations),
        ]


# ------------------------------------------------------------------------ processes --
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: the process group
            pids.append(int(entry.name))
    return pids


class Worker:
    """``ticket-processor`` in a process group of its own, so a kill takes all its workers."""

    def __init__(self, env: dict[str, str], concurrency: int, log_path: Path) -> None:
        self.env, self.concurrency, self.log_path = env, concurrency, log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.peak_kb = 0
        self.peak_process_kb = 0

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ticketlens.runner.processor", "--concurrency", str(self.concurrency),
             "--report-every", "5", "--stop-timeout", "30"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()

    def sample(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        sizes = [_rss_kb(pid) for pid in _group_pids(self.process.pid)]
        self.peak_kb = max(self.peak_kb, sum(sizes))
        self.peak_process_kb = max([self.peak_process_kb, *sizes])

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int | None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return None


# ---------------------------------------------------------------------------- run --
def run(config: HarnessConfig, say: Callable[[str], None] = print) -> HarnessReport:
    """One harness run; returns the report (``report.ok`` tells whether every invariant held)."""
    from ..deploy.stack import deploy
    from ..generator import TicketFactory, object_key
    from ..store import TicketStore, clients

    config.log_dir.mkdir(parents=True, exist_ok=True)
    from ..emulators.endpoint import DUMMY_CREDENTIALS

    for name, value in DUMMY_CREDENTIALS.items():  # an emulator takes any credentials
        os.environ.setdefault(name, value)
    emulator: subprocess.Popen[bytes] | None = None
    endpoint = config.endpoint
    if endpoint is None:
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        emulator = subprocess.Popen(
            [sys.executable, "-m", "ticketlens.emulators.moto", "--port", str(port)],
            stdout=(config.log_dir / "emulator.log").open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
    suffix = uuid.uuid4().hex[:8]
    env = _stack_env(endpoint, suffix)
    settings = Settings(**_settings_kwargs(env))
    report = HarnessReport(tickets=config.tickets, hostile=0, kills=0,
                           emulator="embedded moto (own process)" if emulator else endpoint)
    worker: Worker | None = None
    try:
        _wait_for_endpoint(settings, 60)
        say(f"deploying template.yaml as {settings.stack_name} on {endpoint}")
        deploy(settings, overrides={"EnrichTimeoutSeconds": config.function_timeout_s,
                                    "QueueVisibilityTimeoutSeconds": config.visibility_s})
        store = TicketStore(settings, clients(settings))
        stream_arn = _count_writes(store)

        factory = TicketFactory(seed=config.seed)
        good = [factory.make(STAMP + n) for n in range(config.tickets)]
        corpus = hostile_corpus(f"f{suffix}", created_at=STAMP, big=config.big)
        report.hostile = len(corpus)
        uploads: list[tuple[str, bytes]] = [
            (object_key(t), t.model_dump_json(exclude_none=True).encode()) for t in good
        ]
        uploads += [(h.key, h.body) for h in corpus if not h.after]
        random.Random(config.seed).shuffle(uploads)

        worker = Worker({**os.environ, **env, "PYTHONUNBUFFERED": "1"}, config.concurrency,
                        config.log_dir / f"worker-{suffix}.log")
        worker.start()
        sampler_stop = threading.Event()
        sampler = threading.Thread(target=_sample_forever, args=(worker, sampler_stop), daemon=True)
        sampler.start()

        say(f"uploading {len(good)} tickets and {len(corpus)} hostile objects; {config.kills} kills planned")
        started = time.monotonic()
        uploader = threading.Thread(target=_upload_all, args=(store, uploads), daemon=True)
        uploader.start()
        pending_later = [h for h in corpus if h.after]
        by_name = {h.name: h for h in corpus}
        kills_at = [(k + 1) * config.tickets // (config.kills + 1) for k in range(config.kills)]
        deadline = started + config.timeout_s
        while time.monotonic() < deadline:
            time.sleep(1.0)
            stored = store.count_items()
            depth = store.queue_depth(settings.queue_name)
            if kills_at and stored >= kills_at[0] and depth["in_flight"] > 0:
                kills_at.pop(0)
                worker.kill()
                report.kills += 1
                say(f"  kill -9 #{report.kills} at {stored} stored ({depth['in_flight']} in flight); restarting")
                worker.start()
            for hostile in list(pending_later):
                first = by_name[hostile.after]
                if store.get_item(first.ticket_id) is not None:
                    store.put_raw(hostile.key, hostile.body)
                    pending_later.remove(hostile)
            if (not uploader.is_alive() and not pending_later and not kills_at
                    and depth == {"visible": 0, "in_flight": 0} and _settled(store, settings, good, corpus)):
                break
        report.drain_s = time.monotonic() - started
        report.tickets_per_s = config.tickets / report.drain_s if report.drain_s else 0.0
        sampler_stop.set()
        report.worker_exit = worker.stop()
        worker.sample()
        report.worker_peak_rss_mb = worker.peak_kb / 1024
        report.worker_peak_process_rss_mb = worker.peak_process_kb / 1024
        if time.monotonic() >= deadline:
            report.violations.append(f"not drained within {config.timeout_s:.0f} s")
        _check(report, store, settings, good, corpus, stream_arn)
        if report.worker_exit != 0:
            report.violations.append(f"worker exited {report.worker_exit} on SIGTERM (expected 0)")
        return report
    finally:
        if worker is not None and worker.process is not None and worker.process.poll() is None:
            os.killpg(worker.process.pid, signal.SIGKILL)
        if emulator is not None:
            os.killpg(emulator.pid, signal.SIGTERM)
            emulator.wait(10)


def _sample_forever(worker: Worker, stop: threading.Event) -> None:
    while not stop.wait(0.5):
        worker.sample()


def _upload_all(store: TicketStore, uploads: list[tuple[str, bytes]]) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda item: store.put_raw(*item), uploads))


def _stack_env(endpoint: str, suffix: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "TICKETLENS_STACK_NAME": f"faults-{suffix}",
        "TICKETLENS_RAW_BUCKET": f"faults-raw-{suffix}",
        "TICKETLENS_ENRICHED_BUCKET": f"faults-enriched-{suffix}",
        "TICKETLENS_QUEUE_NAME": f"faults-queue-{suffix}",
        "TICKETLENS_DLQ_NAME": f"faults-dlq-{suffix}",
        "TICKETLENS_TABLE_NAME": f"faults-metadata-{suffix}",
        "TICKETLENS_IDEMPOTENCY_TABLE": f"faults-idempotency-{suffix}",
        "TICKETLENS_COUNTS_TABLE": f"faults-counts-{suffix}",
    }


def _settings_kwargs(env: dict[str, str]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {name.removeprefix("TICKETLENS_").lower(): value
                              for name, value in env.items() if name.startswith("TICKETLENS_")}
    kwargs["AWS_ENDPOINT_URL"] = env["AWS_ENDPOINT_URL"]  # these two are read by their alias
    kwargs["AWS_REGION"] = env["AWS_REGION"]
    return kwargs


def _wait_for_endpoint(settings: Settings, timeout_s: float) -> None:
    from ..store import clients

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            clients(settings).s3.list_buckets()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _count_writes(store: TicketStore) -> str:
    """Version the enriched bucket and stream the table's writes; returns once the stream records.

    LocalStack's stream (a Kinesis mock behind it) drops writes for a moment after it is
    enabled: a probe item is written until its write shows up (moto: at once), then removed.
    """
    aws, s = store.aws, store.settings
    aws.s3.put_bucket_versioning(Bucket=s.enriched_bucket, VersioningConfiguration={"Status": "Enabled"})
    table = aws.dynamodb.update_table(TableName=s.table_name,
                                      StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    stream_arn = str(table["TableDescription"]["LatestStreamArn"])
    probe = {"ticket_id": {"S": "stream-probe"}, "created_at": {"N": "0"}}
    deadline = time.monotonic() + 60
    for attempt in range(10_000):
        aws.dynamodb.put_item(TableName=s.table_name, Item={**probe, "attempt": {"N": str(attempt)}})
        try:
            if _stream_writes(aws, s, stream_arn).get("stream-probe"):
                break
        except Exception as error:
            if "not currently ACTIVE" not in str(error) or time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise RuntimeError("the table's stream never recorded a write")
        time.sleep(0.5)
    aws.dynamodb.delete_item(TableName=s.table_name, Key=probe)
    return stream_arn


def _settled(store: TicketStore, settings: Settings, good: list[RawTicket], corpus: list[Hostile]) -> bool:
    if store.count_items() < len(good) + sum(1 for h in corpus if h.expect == "stored"):
        return False
    rejected = sum(1 for h in corpus if h.expect == "rejected")
    return store.count_objects(settings.enriched_bucket, f"{settings.rejects_prefix}objects/") >= rejected


# ------------------------------------------------------------------------ checks --
def _check(report: HarnessReport, store: TicketStore, settings: Settings, good: list[RawTicket], corpus: list[Hostile],
           stream_arn: str) -> None:
    from ..generator import object_key

    aws, v = store.aws, report.violations
    versions = _versions_per_key(aws, settings.enriched_bucket)
    item_writes = _stream_writes(aws, settings, stream_arn)
    items = _items_per_ticket(aws, settings.table_name)
    for ticket in good:
        tid = ticket.ticket_id
        if items.get(tid, 0) != 1:
            v.append(f"{tid}: {items.get(tid, 0)} items in the table (expected 1)")
            continue
        item = store.get_item(tid)
        if item is None:  # counted by the scan above, gone from the query since
            v.append(f"{tid}: no item found by its ticket_id")
            continue
        key = item["s3_key"]
        if versions.get(key, 0) != 1:
            v.append(f"{tid}: record written {versions.get(key, 0)} times (expected once)")
        if item_writes.get(tid, 0) != 1:
            v.append(f"{tid}: item written {item_writes.get(tid, 0)} times (expected once)")
        if store.get_rejected(object_key(ticket)) is not None:
            v.append(f"{tid}: a good ticket was rejected")
    for hostile in corpus:
        reject = store.get_rejected(hostile.key)
        if hostile.expect == "rejected":
            if reject is None:
                v.append(f"hostile '{hostile.name}': no reject recorded")
            elif hostile.reason not in reject["reason"]:
                v.append(f"hostile '{hostile.name}': reason {reject['reason']!r} lacks {hostile.reason!r}")
            elif len(reject.get("raw", "")) > 4096:
                v.append(f"hostile '{hostile.name}': reject keeps {len(reject['raw'])} characters of raw input")
        else:
            if reject is not None:
                v.append(f"hostile '{hostile.name}': rejected ({reject['reason']}), expected {hostile.expect}")
            elif items.get(hostile.ticket_id, 0) != 1:
                v.append(f"hostile '{hostile.name}': {items.get(hostile.ticket_id, 0)} items (expected 1)")
    report.raw_objects = store.count_objects(settings.raw_bucket)
    report.stored = len(versions)
    report.rejects = store.count_objects(settings.enriched_bucket, f"{settings.rejects_prefix}objects/")
    report.duplicates = sum(1 for h in corpus if h.expect == "duplicate")
    if report.raw_objects != report.stored + report.rejects + report.duplicates:
        v.append(f"{report.raw_objects} raw objects but {report.stored} stored + {report.rejects} rejects + "
                 f"{report.duplicates} duplicates")
    report.counted = (counts.totals(aws.dynamodb, settings.counts_table, counts.MINUTE),
                      counts.totals(aws.dynamodb, settings.counts_table, counts.HOUR))
    if report.counted != (sum(items.values()),) * 2:
        v.append(f"{sum(items.values())} items but the counts table counts {report.counted[0]} per minute and "
                 f"{report.counted[1]} per hour")
    dlq = store.queue_depth(settings.dlq_name)
    report.dlq = dlq["visible"] + dlq["in_flight"]
    if report.dlq:
        v.append(f"{report.dlq} message(s) in the dead-letter queue")


def _versions_per_key(aws: Clients, bucket: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for page in aws.s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="tickets/"):
        counts.update(version["Key"] for version in page.get("Versions", []))
    return counts


def _stream_writes(aws: Clients, settings: Settings, stream_arn: str) -> Counter[str]:
    import boto3

    streams = boto3.client("dynamodbstreams", endpoint_url=settings.endpoint_url, region_name=settings.region)
    writes: Counter[str] = Counter()
    description = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    for shard in description["Shards"]:
        iterator: str | None = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records = page.get("Records", [])
            writes.update(r["dynamodb"]["Keys"]["ticket_id"]["S"] for r in records
                          if r.get("eventName") in ("INSERT", "MODIFY"))
            iterator = page.get("NextShardIterator") if records else None
    return writes


def _items_per_ticket(aws: Clients, table: str) -> Counter[str]:
    per_ticket: Counter[str] = Counter()
    kwargs: dict[str, Any] = {"TableName": table, "ProjectionExpression": "ticket_id"}
    while True:
        page = aws.dynamodb.scan(**kwargs)
        per_ticket.update(item["ticket_id"]["S"] for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return per_ticket
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# -------------------------------------------------------------------------- CLI --
def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "faults", help="fault harness: burst tickets + hostile objects, kill -9 the worker, check the invariants",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    p.add_argument("--tickets", type=int, default=300, help="good tickets to burst (default 300)")
    p.add_argument("--kills", type=int, default=2, help="kill -9 the worker this many times mid-batch (default 2)")
    p.add_argument("--concurrency", type=int, default=2, help="the worker's concurrent invocations")
    p.add_argument("--endpoint", metavar="URL", help="an emulator to use (default: start moto in a process of its own)")
    p.add_argument("--seed", default="faults")
    p.add_argument("--no-big", action="store_true", help="leave the 5 MB and 30 MB objects out")
    p.add_argument("--timeout", type=float, default=900.0, metavar="S", help="give up draining after S seconds")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_faults)


def _cmd_faults(args: argparse.Namespace) -> int:
    from ..emulators.endpoint import is_emulator

    if args.endpoint and not is_emulator(args.endpoint):
        print(f"error: the harness deploys, fills and kills: it runs only on an emulator on this machine, "
              f"not {args.endpoint}", file=sys.stderr)
        return 2
    config = HarnessConfig(tickets=args.tickets, kills=args.kills, concurrency=args.concurrency,
                           endpoint=args.endpoint, seed=args.seed, big=not args.no_big, timeout_s=args.timeout)

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # unwinds through run(), which stops the worker and the emulator

    signal.signal(signal.SIGTERM, interrupted)
    report = run(config, say=lambda message: print(message, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    else:
        print("\n".join(report.lines()))
    return 0 if report.ok else 1
