"""End-to-end throughput and latency of the local stack: S3 put -> S3 event -> SQS -> enrich
handler -> DynamoDB + S3, with the real engine and, in the same run and through the same
emulator, with a no-op engine (constant enrichment, no model time).

    .venv/bin/python benchmarks/e2e_bench.py                     # 1,000 tickets, <= 50 waiting at a time
    .venv/bin/python benchmarks/e2e_bench.py --backlog 0         # upload all as fast as possible
    .venv/bin/python benchmarks/e2e_bench.py --pace 10 --backlog 0   # open loop at 10 uploads/s
    .venv/bin/python benchmarks/e2e_bench.py --http10            # moto's connection-per-request server
    .venv/bin/python benchmarks/e2e_bench.py --emulator-process  # the emulator in its own process

Both modes run the same handler, runner, template and emulator; only the engine differs,
so the ratio of the two rates is what enrichment costs end to end (target: >= 0.70). The
handler runs in the runner's worker processes (one per concurrent invocation, models loaded
in their init phase before the clock starts), as ``ticket-processor`` and the demo run it.
Latency is from the S3 notification's SentTimestamp to the end of the invocation.

Figures depend on the emulator as much as on ticketlens: moto's SQS walks the whole queue
on every send and receive, so a large backlog drains slowly whatever the handler does.
By default uploads are paced by the pipeline itself (closed loop: at most ``--backlog``
tickets uploaded but not yet stored), and the emulator speaks HTTP/1.1 keep-alive on a
threaded WSGI server (``--http10`` gives moto's connection-per-request server instead);
the output says which.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class Result:
    mode: str
    tickets: int
    stored: int
    upload_s: float
    total_s: float
    latencies: list[float]
    invocations: int
    failed: int

    @property
    def rate(self) -> float:
        return self.stored / self.total_s if self.total_s else 0.0

    def line(self) -> str:
        q = statistics.quantiles(self.latencies, n=100, method="inclusive") if len(self.latencies) > 1 else [0] * 99
        return (
            f"{self.mode:<6} {self.stored:>5}/{self.tickets:<5} {self.rate:7.1f} tickets/s   "
            f"p50 {q[49]:6.2f} s   p95 {q[94]:6.2f} s   uploads {self.tickets / self.upload_s:6.1f}/s   "
            f"invocations {self.invocations}   failed deliveries {self.failed}"
        )


class NoOpEngine:
    """Constant enrichment at no cost: everything but the models stays in the path."""

    def enrich(self, tickets: Any, traffic: Any = None) -> list[Any]:
        from ticketlens.schemas import EnrichedTicket, EnrichmentData, utc_now_iso

        data = EnrichmentData(
            embedding=[0.0] * 384, intent="other", intent_confidence=1.0, urgency="low", urgency_confidence=1.0,
            sentiment="NEUTRAL", sentiment_confidence=1.0, summary="no-op", processed_at=utc_now_iso(),
            model_version="no-op",
        )
        return [EnrichedTicket.from_raw(t, data) for t in tickets]


def noop_handler(event: dict[str, Any], context: Any) -> Any:
    """The real handler with the no-op engine behind its engine seam (runs in a worker process)."""
    import ticketlens.handlers.enrich as enrich

    engine = NoOpEngine()
    enrich._enricher = lambda: engine.enrich  # type: ignore[assignment]
    return enrich.lambda_handler(event, context)


HANDLERS = {"real": "ticketlens.handlers.enrich:lambda_handler", "no-op": "e2e_bench:noop_handler"}


def run_mode(mode: str, endpoint: str, count: int, pace: float, backlog: int, seed: str, timeout_s: float) -> Result:
    from ticketlens.deploy.stack import deploy
    from ticketlens.generator import TicketFactory, object_key
    from ticketlens.runner.sqs import for_stack
    from ticketlens.settings import get_settings
    from ticketlens.store import TicketStore

    suffix = f"{mode}-{uuid.uuid4().hex[:6]}"
    for name, value in {
        "TICKETLENS_STACK_NAME": f"bench-{suffix}",
        "TICKETLENS_RAW_BUCKET": f"raw-{suffix}",
        "TICKETLENS_ENRICHED_BUCKET": f"enriched-{suffix}",
        "TICKETLENS_QUEUE_NAME": f"queue-{suffix}",
        "TICKETLENS_DLQ_NAME": f"dlq-{suffix}",
        "TICKETLENS_TABLE_NAME": f"table-{suffix}",
        "TICKETLENS_IDEMPOTENCY_TABLE": f"idem-{suffix}",
        "TICKETLENS_COUNTS_TABLE": f"counts-{suffix}",
    }.items():
        os.environ[name] = value
    get_settings.cache_clear()
    settings = get_settings()
    stack = deploy(settings)
    store = TicketStore(settings)
    # the S3 test event from the notification set-up is not part of the measurement
    store.aws.sqs.purge_queue(QueueUrl=store.queue_url(settings.queue_name))

    # The template's event source, its handler in worker processes (models load in their init).
    log_path = os.path.abspath(f".ticketlens/e2e-bench-{mode}.log")  # the handler's JSON logs and EMF metrics
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    runner = for_stack(stack, settings, handler=HANDLERS[mode], idle_wait_s=1, output=log_path).start(warm=True)
    factory = TicketFactory(seed=seed)
    tickets = [factory.make(1_763_856_000 + n) for n in range(count)]
    finished: list[float] = []
    try:
        started = time.monotonic()
        for n, ticket in enumerate(tickets):
            if pace:
                delay = started + n / pace - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            while backlog and n - runner.stats.succeeded >= backlog:  # closed loop
                time.sleep(0.01)
            store.put_raw(object_key(ticket), ticket.model_dump_json(exclude_none=True))
        upload_s = time.monotonic() - started
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and runner.stats.succeeded < count:
            time.sleep(0.05)
        finished.append(time.monotonic())
    finally:
        runner.stop()
    stored = min(runner.stats.succeeded, count)
    return Result(
        mode=mode, tickets=count, stored=stored, upload_s=upload_s, total_s=finished[0] - started,
        latencies=sorted(runner.stats.latencies_s), invocations=runner.stats.invocations,
        failed=runner.stats.failed,
    )


class EmulatorProcess:
    """`ticketlens emulator` in a child process: the emulator gets a GIL of its own."""

    def __init__(self, keep_alive: bool = True) -> None:
        from ticketlens.emulators.moto import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.keep_alive = keep_alive
        self.process: Any = None

    def start(self) -> EmulatorProcess:
        import socket
        import subprocess

        code = (
            "import sys, time; from ticketlens.emulators.moto import Emulator; "
            f"Emulator(port={self.port}, keep_alive={self.keep_alive}).start(); "
            "sys.stdin.read()"
        )
        self.process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("emulator process did not start")

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--pace", type=float, default=0.0, help="uploads per second (0: no fixed pace)")
    parser.add_argument("--backlog", type=int, default=50,
                        help="upload only while fewer than this many tickets are waiting (0: no bound)")
    parser.add_argument("--http10", action="store_true", help="moto's connection-per-request server")
    parser.add_argument("--emulator-process", action="store_true",
                        help="run the emulator in its own process (its own GIL) instead of in this one")
    parser.add_argument("--modes", default="no-op,real", help="comma-separated: no-op, real")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from ticketlens.emulators.endpoint import use_endpoint
    from ticketlens.emulators.moto import Emulator

    if args.emulator_process:
        emulator = EmulatorProcess(keep_alive=not args.http10).start()
    else:
        emulator = Emulator(keep_alive=not args.http10).start()
    use_endpoint(emulator.url)
    print(f"emulator {emulator.url} "
          f"({'HTTP/1.0, a connection per request' if args.http10 else 'HTTP/1.1 keep-alive, threaded WSGI'}, "
          f"{'own process' if args.emulator_process else 'in this process'}); "
          f"uploads {f'paced at {args.pace:g}/s' if args.pace else 'unpaced'}"
          f"{f', at most {args.backlog:d} waiting' if args.backlog else ', unbounded backlog'}; "
          f"{os.cpu_count()} CPUs", flush=True)
    results = []
    try:
        for mode in args.modes.split(","):
            result = run_mode(mode.strip(), emulator.url, args.tickets, args.pace, args.backlog, f"bench-{mode}",
                              args.timeout)
            results.append(result)
            print(result.line(), flush=True)
    finally:
        emulator.stop()
    by_mode = {r.mode: r for r in results}
    if "no-op" in by_mode and "real" in by_mode and by_mode["no-op"].rate:
        ratio = by_mode["real"].rate / by_mode["no-op"].rate
        print(f"real / no-op throughput: {ratio:.2f} (target >= 0.70)")
    return 0 if all(r.stored == r.tickets for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
