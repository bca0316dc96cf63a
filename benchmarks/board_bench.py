"""The triage board's data calls with a big table: p50/p95 per endpoint, and what each costs.

    .venv/bin/python benchmarks/board_bench.py                          # 100,000 tickets over 30 days, moto
    .venv/bin/python benchmarks/board_bench.py --tickets 10000 --requests 30
    .venv/bin/python benchmarks/board_bench.py --dynamodb-endpoint http://127.0.0.1:4567   # e.g. dynalite

template.yaml is deployed to moto (in a process of its own, so it has its own GIL), N
metadata items are written straight into the table with ``batch_write_item`` (no
enrichment: the board only reads), the counts table holds what the handler's transactions
would have added for them, with full records in the enriched bucket for a sample,
rejects and dead letters; then the board's local server is started and each endpoint is
fetched over HTTP, one request at a time, exactly as the page fetches it.

Per endpoint it prints p50/p95/max latency, the DynamoDB calls per request (operation and
index; a Scan would be listed) and the items DynamoDB read for it. ``--dynamodb-endpoint``
puts the metadata and counts tables on another DynamoDB emulator instead (S3 and SQS stay on moto):
moto answers every Query, on an index or not, by walking the whole table, so its latency
grows with the table; an emulator with real indexes (dynalite keeps each index as a sorted
LevelDB range, as DynamoDB does) shows what the same calls cost when they read only what
they return.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e_bench import EmulatorProcess

INTENTS = {"login_issue": 14, "account_issue": 10, "payment_issue": 12, "billing_issue": 14, "bug_report": 18,
           "feature_request": 9, "security_concern": 5, "general_inquiry": 14, "other": 4}
URGENCIES = {"critical": 5, "high": 20, "medium": 45, "low": 30}
SENTIMENTS = {"NEGATIVE": 45, "NEUTRAL": 40, "POSITIVE": 15}


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def make_record(rng: random.Random, n: int, created_at: int) -> Any:
    """A metadata item like the handler's (sizes included: ~600 bytes)."""
    from ticketlens.schemas import TicketRecord

    intent = _pick(rng, INTENTS)
    return TicketRecord(
        ticket_id=f"BENCH-{n:07d}", created_at=created_at,
        subject=rng.choice(["Cannot log in", "Charged twice this month", "Export to CSV fails",
                            "Please add dark mode", "Invoice shows the wrong VAT number"]) + f" #{n}",
        customer_id=f"customer-{rng.randrange(20_000)}", priority=rng.choice([None, "low", "medium", "high"]),
        source=rng.choice(["email", "chat", "web"]), intent=intent, intent_confidence=round(rng.uniform(0.3, 1), 3),
        urgency=_pick(rng, URGENCIES), urgency_confidence=round(rng.uniform(0.3, 1), 3),
        sentiment=_pick(rng, SENTIMENTS), sentiment_confidence=round(rng.uniform(0.3, 1), 3),
        summary="Customer reports that the export of monthly reports to CSV fails with a timeout since the update.",
        processed_at="2026-01-01T00:00:00.000Z", model_version="bench", s3_key=f"tickets/bench/BENCH-{n:07d}.json",
        content_sha256=uuid.uuid4().hex * 2,
        # one ticket in 50 belongs to an incident opened by the first ticket of its 500
        incident=f"INC-BENCH-{n // 500 * 500:07d}" if n % 50 == 0 else None,
    )


def fill(store: Any, tickets: int, days: float, seed: int, threads: int = 8) -> tuple[list[str], float]:
    """Write the items in batches of 25 from a few threads; returns sample ids and seconds taken."""
    from ticketlens.store import to_item

    rng = random.Random(seed)
    now = int(time.time())
    span = int(days * 86400)
    records = [make_record(rng, n, now - int(span * (n / tickets) ** 1.0) - rng.randrange(60)) for n in range(tickets)]
    table = store.settings.table_name
    chunks = [records[i:i + 25] for i in range(0, len(records), 25)]
    done = [0]
    lock = threading.Lock()

    def write(chunk: list[Any]) -> None:
        request = {table: [{"PutRequest": {"Item": to_item(r)}} for r in chunk]}
        while request:
            response = store.aws.dynamodb.batch_write_item(RequestItems=request)
            request = response.get("UnprocessedItems") or {}
        with lock:
            done[0] += len(chunk)
            if done[0] % 10_000 < 25:
                print(f"  {done[0]:>7} items written", file=sys.stderr, flush=True)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, chunks))
        counters = _chunks(counter_items(records))
        list(pool.map(lambda chunk: _write_all(store, store.settings.counts_table, chunk), counters))
    took = time.perf_counter() - started
    sample = [r.ticket_id for r in rng.sample(records, min(50, len(records)))]
    for ticket_id in sample:  # full records for the ticket pages measured
        record = next(r for r in records if r.ticket_id == ticket_id)
        body = {"ticket_id": record.ticket_id, "subject": record.subject, "body": "The export fails. " * 20,
                "created_at": record.created_at, "customer_id": record.customer_id, "priority": record.priority,
                "metadata": {"source": record.source},
                "enrichment": {"embedding": [0.01] * 384, "intent": record.intent,
                               "intent_confidence": record.intent_confidence, "urgency": record.urgency,
                               "urgency_confidence": record.urgency_confidence, "sentiment": record.sentiment,
                               "sentiment_confidence": record.sentiment_confidence, "summary": record.summary,
                               "processed_at": record.processed_at, "model_version": record.model_version}}
        store.aws.s3.put_object(Bucket=store.settings.enriched_bucket, Key=record.s3_key, Body=json.dumps(body))
    return sample, took


def counter_items(records: list[Any]) -> list[dict[str, Any]]:
    """The counts table after the handler stored ``records``: its transactions add up to this."""
    from ticketlens import counts

    totals: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    for record in records:
        for period in counts.PERIODS:
            start = record.created_at - record.created_at % period.seconds
            totals[(period.name, start)].update(counts.labels_of(record.model_dump()))
    return [{"period": {"S": name}, "bucket_start": {"N": str(start)},
             **{attribute: {"N": str(n)} for attribute, n in added.items()}}
            for (name, start), added in totals.items()]


def _chunks(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [items[i:i + 25] for i in range(0, len(items), 25)]


def _write_all(store: Any, table: str, items: list[dict[str, Any]]) -> None:
    request: Any = {table: [{"PutRequest": {"Item": item}} for item in items]}
    while request:
        request = store.aws.dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def add_rejects_and_dead_letters(store: Any, rejects: int, dead: int) -> None:
    from ticketlens.schemas import Rejected

    for n in range(rejects):
        store.put_rejected(Rejected.of(f"s3://raw/tickets/bench/bad-{n}.json", "not valid JSON: EOF", b'{"x": '),
                           f"{store.settings.rejects_prefix}objects/tickets/bench/bad-{n}.json")
    url = store.queue_url(store.settings.dlq_name)
    for n in range(dead):
        s3 = {"bucket": {"name": "raw"}, "object": {"key": f"tickets/bench/dead-{n}.json"}}
        body = {"Records": [{"eventName": "ObjectCreated:Put", "s3": s3}]}
        store.aws.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))


def tables_on(endpoint: str, settings: Any, template_path: Path) -> Any:
    """The template's metadata and counts tables, created on another DynamoDB endpoint; returns its client."""
    import boto3

    from ticketlens.deploy.stack import load_template

    resources = load_template(template_path)["Resources"]
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=settings.region,
                          aws_access_key_id="bench", aws_secret_access_key="bench")
    for logical_id, name in (("MetadataTable", settings.table_name), ("CountsTable", settings.counts_table)):
        spec = resources[logical_id]["Properties"]
        if name not in client.list_tables()["TableNames"]:
            indexes = {key: spec[key] for key in ("GlobalSecondaryIndexes",) if key in spec}
            client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=spec["KeySchema"],
                                AttributeDefinitions=spec["AttributeDefinitions"], **indexes)
            client.get_waiter("table_exists").wait(TableName=name)
    return client


class CallLog:
    """DynamoDB calls made while a request is served: operation/index and items read."""

    def __init__(self, client: Any, counts_table: str) -> None:
        self.counts_table = counts_table
        self.calls: Counter[str] = Counter()
        self.read = 0
        self._lock = threading.Lock()
        client.meta.events.register("provide-client-params.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        with self._lock:
            where = "counts" if params.get("TableName") == self.counts_table else params.get("IndexName") or "table"
            self.calls[f"{model.name}({where})"] += 1

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.read += int(parsed.get("ScannedCount", 0))  # Query and Scan; S3 and SQS read no items

    def take(self) -> tuple[Counter[str], int]:
        with self._lock:
            calls, read = self.calls, self.read
            self.calls, self.read = Counter(), 0
        return calls, read


def measure(url: str, path: str, requests: int, log: CallLog, before: Any = None) -> dict[str, Any]:
    latencies: list[float] = []
    calls: Counter[str] = Counter()
    read = 0
    for _ in range(requests):
        if before:
            before()
        log.take()
        started = time.perf_counter()
        with urllib.request.urlopen(url + path, timeout=600) as response:
            response.read()
            assert response.status == 200, (path, response.status)
        latencies.append((time.perf_counter() - started) * 1000)
        c, r = log.take()
        calls.update(c)
        read += r
    q = statistics.quantiles(latencies, n=20, method="inclusive") if len(latencies) > 1 else latencies * 19
    return {"path": path, "requests": requests, "p50_ms": statistics.median(latencies), "p95_ms": q[18],
            "max_ms": max(latencies), "calls_per_request": {k: v / requests for k, v in sorted(calls.items())},
            "items_read_per_request": read / requests}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--days", type=float, default=30.0,
                        help="the tickets' created_at spans this many days up to now")
    parser.add_argument("--requests", type=int, default=20, help="requests per endpoint")
    parser.add_argument("--dynamodb-endpoint", metavar="URL", help="put the metadata table on this DynamoDB emulator")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)

    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"})
    suffix = uuid.uuid4().hex[:6]
    os.environ["TICKETLENS_TABLE_NAME"] = f"tickets-metadata-{suffix}"
    os.environ["TICKETLENS_COUNTS_TABLE"] = f"tickets-counts-{suffix}"
    from ticketlens.board import BoardData, BoardServer
    from ticketlens.deploy.stack import deploy, find_template
    from ticketlens.emulators.endpoint import use_endpoint
    from ticketlens.settings import get_settings
    from ticketlens.store import Clients, TicketStore, clients

    emulator = EmulatorProcess().start()
    server = None
    try:
        use_endpoint(emulator.url)
        settings = get_settings()
        deploy(settings)
        aws = clients(settings)
        where = "moto (own process)"
        if args.dynamodb_endpoint:
            aws = Clients(s3=aws.s3, sqs=aws.sqs, cloudformation=aws.cloudformation,
                          dynamodb=tables_on(args.dynamodb_endpoint, settings, find_template()))
            where = f"DynamoDB at {args.dynamodb_endpoint}, S3/SQS on moto"
        store = TicketStore(settings, aws=aws)
        print(f"writing {args.tickets} items over {args.days:g} days to {settings.table_name} ({where})",
              file=sys.stderr, flush=True)
        sample, took = fill(store, args.tickets, args.days, args.seed)
        print(f"  written in {took:.0f} s ({args.tickets / took:.0f} items/s)", file=sys.stderr, flush=True)
        add_rejects_and_dead_letters(store, rejects=200, dead=5)

        data = BoardData(store)
        server = BoardServer(data=data, port=0).start()
        log = CallLog(aws.dynamodb, settings.counts_table)
        ids = iter(sample * (args.requests // len(sample) + 2))
        rows: list[dict[str, Any]] = []
        plan: list[tuple[str, str, Any]] = [
            ("newest tickets", "/api/tickets", None),
            ("filter urgency+sentiment", "/api/tickets?urgency=high&sentiment=NEGATIVE", None),
            ("filter intent", "/api/tickets?intent=billing_issue", None),
            ("filter confidence <= 0.5", "/api/tickets?max_confidence=0.5", None),
            ("urgent queue, 24 h", "/api/urgent?hours=24&limit=20", None),
            ("counts 1 h", "/api/counts?window=1h", None),
            ("counts 6 h", "/api/counts?window=6h", None),
            ("counts 24 h", "/api/counts?window=24h", None),
            ("counts 7 days", "/api/counts?window=7d", None),
            ("incidents, 24 h", "/api/incidents?hours=24&limit=10", None),
            ("ticket page", None, None),
            ("queue depths", "/api/status", None),
            ("rejects, 200 kept, first load", "/api/rejects?limit=10", data.forget_rejects),
            ("rejects, 200 kept, refresh", "/api/rejects?limit=10", None),
            ("dead-letter peek", "/api/dlq?limit=10", None),
        ]
        for name, path, before in plan:
            if path is None:
                result = measure_many(server.url, [f"/api/ticket?id={next(ids)}" for _ in range(args.requests)], log)
            else:
                if before is None and "refresh" in name:
                    urllib.request.urlopen(server.url + path, timeout=600).read()  # as the page's first load did
                result = measure(server.url, path, args.requests, log, before)
            result["name"] = name
            rows.append(result)
            print(f"  {name:<26} p50 {result['p50_ms']:8.1f} ms  p95 {result['p95_ms']:8.1f} ms", file=sys.stderr,
                  flush=True)
        report(args, where, rows)
    finally:
        if server is not None:
            server.stop()
        stop(emulator)
    return 0


def report(args: argparse.Namespace, where: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{args.tickets} tickets over {args.days:g} days; {where}; {args.requests} requests per endpoint; "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| endpoint | p50 ms | p95 ms | max ms | DynamoDB calls per request | items read per request |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        calls = ", ".join(f"{v:g} {k}" for k, v in r["calls_per_request"].items()) or "none"
        print(f"| {r['name']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['max_ms']:.1f} | {calls} | "
              f"{r['items_read_per_request']:.0f} |")
    scans = [r["name"] for r in rows if any(k.startswith("Scan") for k in r["calls_per_request"])]
    print(f"\nscans: {scans or 'none'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"tickets": args.tickets, "where": where, "rows": rows}, indent=2))


def stop(emulator: EmulatorProcess) -> None:
    """A moto holding 100,000 items can take a while to exit: wait, then end it."""
    import subprocess

    try:
        emulator.stop()
    except subprocess.TimeoutExpired:
        emulator.process.kill()
        emulator.process.wait(timeout=10)


def measure_many(url: str, paths: list[str], log: CallLog) -> dict[str, Any]:
    """One request to each path (ticket pages: a different ticket each time)."""
    results = [measure(url, path, 1, log) for path in paths]
    latencies = [r["p50_ms"] for r in results]
    calls: dict[str, float] = defaultdict(float)
    for r in results:
        for k, v in r["calls_per_request"].items():
            calls[k] += v / len(results)
    q = statistics.quantiles(latencies, n=20, method="inclusive") if len(latencies) > 1 else latencies * 19
    return {"path": "/api/ticket?id=…", "requests": len(paths), "p50_ms": statistics.median(latencies),
            "p95_ms": q[18], "max_ms": max(latencies), "calls_per_request": dict(calls),
            "items_read_per_request": sum(r["items_read_per_request"] for r in results) / len(results)}


if __name__ == "__main__":
    sys.exit(main())
