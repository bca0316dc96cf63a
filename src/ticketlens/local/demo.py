"""``ticketlens demo``: the whole serverless pipeline on this machine, in one command.

1. an AWS emulator starts in this process on a loopback port (moto; nothing to install),
   unless ``--endpoint``/``AWS_ENDPOINT_URL`` names one (LocalStack, a long-lived emulator);
2. ``template.yaml`` is deployed to it (SAM transform offline, then CloudFormation; see
   :mod:`ticketlens.local.stack` for what is patched and why);
3. the enrichment handler runs behind the local SQS event-source runner with the
   template's batch size, window, partial batch responses and concurrency, each concurrent
   invocation in a worker process of its own whose init phase loads the models once (as a
   Lambda execution environment does);
5. the generator runs on the template's schedule, sped up by ``--speed``: each tick
   invokes the GenerateFunction handler in-process with an EventBridge scheduled event;
6. the indexer (IndexFunction) runs behind its own local runner on the index queue, so the
   similar-ticket index grows as records land in the enriched bucket;
7. a live summary (counts by intent/urgency/sentiment, latest tickets, queue and DLQ
   depth, end-to-end latency, incidents of the last hour) refreshes until Ctrl-C or
   ``--tickets N``.

While it runs, the data is queryable from another terminal with the endpoint it prints.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from .context import LocalLambdaContext, redirect_handler_logs

log = logging.getLogger(__name__)

DEFAULT_PORT = 4566  # LocalStack's port, so `awslocal` reaches the embedded emulator as is
LOG_DIR = Path(".ticketlens")


@dataclass
class DemoOptions:
    endpoint: str | None = None
    port: int = DEFAULT_PORT
    tickets: int | None = None
    speed: float = 30.0
    concurrency: int | None = None
    generate: bool = True
    template: str | None = None
    refresh_s: float = 1.0
    retry_delay_s: int | None = 5
    keep: bool = False
    keep_alive: bool = True
    functions: bool | None = None  # deploy the template's functions; None: the endpoint decides


# ------------------------------------------------------------------------ scheduling --
def scheduled_event(rule_arn: str, when: datetime | None = None, region: str = "us-east-1") -> dict[str, Any]:
    """The event EventBridge sends a function on a schedule."""
    when = when or datetime.now(timezone.utc)
    return {
        "version": "0",
        "id": f"local-{int(when.timestamp() * 1000)}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": rule_arn.split(":")[4] if rule_arn.count(":") >= 5 else "123456789012",
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class ScheduledGenerator:
    """Fires the generator handler on the template's schedule, ``speed`` times faster."""

    def __init__(self, schedule: Any, speed: float, handler: Any, settings: Any, limit: int | None = None,
                 on_tick: Any = None) -> None:
        self.schedule = schedule
        self.interval_s = (schedule.interval_seconds or 60.0) / max(speed, 1e-6)
        self.per_tick = int(schedule.environment.get("TICKETLENS_GENERATE_COUNT", "5"))
        self.handler = handler
        self.settings = settings
        self.limit = limit
        self.on_tick = on_tick
        self.generated = 0
        self.ticks = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self.rule_arn = f"arn:aws:events:{settings.region}:123456789012:rule/{settings.stack_name}-{schedule.function}"

    def start(self) -> ScheduledGenerator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    @property
    def done(self) -> bool:
        return self.limit is not None and self.generated >= self.limit

    def _loop(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set() and not self.done:
            wait = next_at - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                break
            next_at += self.interval_s
            count = self.per_tick if self.limit is None else min(self.per_tick, self.limit - self.generated)
            try:
                self.generated += self._fire(count)
                self.ticks += 1
            except Exception as error:  # noqa: BLE001 - keep the demo alive, show the error
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("generator tick failed: %s", error)
            if self.on_tick:
                self.on_tick(self)

    def _fire(self, count: int) -> int:
        event = scheduled_event(self.rule_arn, region=self.settings.region)
        env = {**self.schedule.environment, "TICKETLENS_GENERATE_COUNT": str(count)}
        with _environment(env):
            context = LocalLambdaContext(function_name=self.schedule.function, timeout_seconds=30,
                                         region=self.settings.region)
            response = self.handler(event, context)
        return _written(response, count)


def _written(response: Any, default: int) -> int:
    if isinstance(response, dict):
        for key in ("written", "count", "tickets"):
            value = response.get(key)
            if isinstance(value, int):
                return value
            if isinstance(value, list):
                return len(value)
    return default


_env_lock = threading.Lock()


@contextlib.contextmanager
def _environment(values: dict[str, str]):  # type: ignore[no-untyped-def]
    """Set the function's environment for one invocation (Lambda gives each its own)."""
    with _env_lock:
        saved = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def generate_handler() -> Any:
    """The GenerateFunction handler (the same code Lambda runs)."""
    from ..handlers.generate import lambda_handler

    return lambda_handler


# --------------------------------------------------------------------------- summary --
def snapshot(store: Any, latest: int = 5) -> dict[str, Any]:
    """Counts by intent/urgency/sentiment (a projected scan) and the newest tickets (GSI queries)."""
    counts: dict[str, Counter[str]] = {"urgency": Counter(), "sentiment": Counter(), "intent": Counter()}
    kwargs: dict[str, Any] = {
        "TableName": store.settings.table_name,
        "ProjectionExpression": "urgency, sentiment, intent",
    }
    total = 0
    while True:
        page = store.aws.dynamodb.scan(**kwargs)
        for item in page.get("Items", []):
            total += 1
            for name, counter in counts.items():
                if name in item:
                    counter[item[name]["S"]] += 1
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return {
        "total": total,
        "counts": {name: dict(counter.most_common()) for name, counter in counts.items()},
        "latest": store.recent(latest) if total and latest else [],
        "queue": store.queue_depth(store.settings.queue_name),
        "dlq": store.queue_depth(store.settings.dlq_name),
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def render(snap: dict[str, Any], header: list[str], runner_stats: Any, elapsed_s: float, width: int = 100) -> str:
    """The summary; ``runner_stats`` is None where the emulator invokes the function itself."""
    lines = list(header)
    if runner_stats is None:
        lines.append(f"enriched {snap['total']}   (invoked by the emulator's event source mapping: see its logs)")
    else:
        latencies = list(runner_stats.latencies_s)
        rate = runner_stats.succeeded / elapsed_s if elapsed_s > 0 else 0.0
        lines.append(
            f"enriched {snap['total']}   invocations {runner_stats.invocations}   failed deliveries {runner_stats.failed}"
            f"   {rate:.1f} tickets/s   upload->stored p50 {percentile(latencies, 50):.2f} s"
            f" p95 {percentile(latencies, 95):.2f} s"
        )
    q, d = snap["queue"], snap["dlq"]
    lines.append(f"queue {q['visible']} waiting, {q['in_flight']} in flight   dead-letter queue {d['visible']}")
    if runner_stats is not None and runner_stats.last_error:
        lines.append(f"last error: {runner_stats.last_error}"[:width])
    lines.append("")
    for name in ("urgency", "sentiment", "intent"):
        counts = snap["counts"][name]
        cells = "  ".join(f"{k} {v}" for k, v in counts.items()) or "-"
        lines.append(f"{name:<10} {cells}"[:width])
    lines.append("")
    lines.append("latest")
    for item in snap["latest"]:
        summary = str(item.get("summary", "")).replace("\n", " ")
        lines.append(
            f"  {item['ticket_id']:<24} {item['urgency']:<8} {item['sentiment']:<8} {item['intent']:<16} {summary}"[:width]
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------ demo --
def run_demo(options: DemoOptions, out: TextIO = sys.stdout) -> int:
    from . import stack as stack_module
    from .emulator import Emulator, free_port, use_endpoint

    started = time.monotonic()
    emulator = None
    endpoint = options.endpoint or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        use_endpoint(endpoint)
        print(f"using the AWS endpoint {endpoint}", file=out)
    else:
        port = options.port if _port_free(options.port) else free_port()
        emulator = Emulator(port=port, keep_alive=options.keep_alive).start()
        use_endpoint(emulator.url)
        print(f"AWS emulator (moto) listening on {emulator.url}", file=out)

    from ..settings import get_settings
    from ..store import TicketStore

    settings = get_settings()
    LOG_DIR.mkdir(exist_ok=True)
    log_path = LOG_DIR / "demo.log"
    log_file = log_path.open("a", encoding="utf-8")
    try:
        stack = stack_module.deploy(settings, options.template, log=lambda m: print(m, file=out),
                                    functions=options.functions)
        print(f"stack ready in {time.monotonic() - started:.1f} s", file=out)

        from .runner import for_stack

        runner = indexer = None
        if not stack.functions_run_in_emulator:  # else the emulator's event source mapping invokes it
            t0 = time.monotonic()
            runner = for_stack(stack, settings, concurrency=options.concurrency,
                               retry_delay_s=options.retry_delay_s, output=str(log_path.resolve()))
            runner.start(warm=True)
            print(f"{runner.concurrency} enrich workers ready in {time.monotonic() - t0:.1f} s (models load once "
                  "per worker process, like a Lambda execution environment's init)", file=out)
            indexer = _start_indexer(stack, settings, options.retry_delay_s, str(log_path.resolve()))
        generator = None
        if options.generate:
            schedule = stack.schedule("GenerateFunction")
            handler = generate_handler()
            redirect_handler_logs(log_file)
            generator = ScheduledGenerator(schedule, options.speed, handler, settings, limit=options.tickets).start()
        source = stack.event_source("EnrichFunction")
        header = [
            f"ticketlens demo   endpoint {settings.endpoint_url}   stack {settings.stack_name}",
            f"query it meanwhile: AWS_ENDPOINT_URL={settings.endpoint_url} ticketlens show urgent",
            f"runner: batch {source.batch_size}, window {source.window_seconds:g} s, concurrency {runner.concurrency},"
            f" partial batch responses {'on' if source.report_batch_item_failures else 'off'}" if runner else
            f"runner: none here; {stack.emulator} runs EnrichFunction from its event source mapping",
        ]
        if generator:
            header.append(
                f"generator: {generator.schedule.expression} x{options.speed:g} -> every {generator.interval_s:.1f} s,"
                f" {generator.per_tick} tickets per run"
            )
        header.append("")
        print(f"tickets flowing after {time.monotonic() - started:.1f} s; Ctrl-C to stop", file=out)
        status = _live(options, out, TicketStore(settings), runner, generator, header, started)
        _stop(generator, runner, indexer)
        final = snapshot(TicketStore(settings))
        print(render(final, ["final", *incident_lines(settings)], runner.stats if runner else None,
                     time.monotonic() - started), file=out)
        print(f"handler logs: {log_file.name}", file=out)
        if emulator and options.keep:
            print(f"emulator still serving {emulator.url}; Ctrl-C to quit", file=out)
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
        return status
    finally:
        log_file.close()
        if emulator:
            emulator.stop()


def _live(options: DemoOptions, out: TextIO, store: Any, runner: Any, generator: Any, header: list[str],
          started: float) -> int:
    tty = out.isatty()
    last_plain = 0.0
    baseline = snapshot(store, latest=0)["total"]  # an endpoint may hold tickets from before
    try:
        while True:
            time.sleep(options.refresh_s)
            elapsed = time.monotonic() - started
            snap = snapshot(store)
            head = header + ([f"generated {generator.generated}" + (f"/{options.tickets}" if options.tickets else "")
                              + (f"   generator error: {generator.last_error}" if generator.last_error else "")]
                             if generator else []) + incident_lines(store.settings)
            if tty:
                out.write("\x1b[H\x1b[J" + render(snap, head, runner.stats if runner else None, elapsed) + "\n")
                out.flush()
            elif elapsed - last_plain >= 5:
                last_plain = elapsed
                c = snap["counts"]
                print(f"[{elapsed:5.0f} s] enriched {snap['total']}  queue {snap['queue']['visible']}"
                      f"  dlq {snap['dlq']['visible']}  urgency {c['urgency']}  sentiment {c['sentiment']}", file=out)
            if options.tickets is not None:
                done_generating = generator is None or generator.done
                if done_generating and snap["total"] - baseline >= options.tickets \
                        and snap["queue"]["visible"] == 0 and snap["queue"]["in_flight"] == 0:
                    return 0
    except KeyboardInterrupt:
        print("\nstopping: finishing in-flight batches ...", file=out)
        return 0


def _start_indexer(stack: Any, settings: Any, retry_delay_s: int | None, output: str) -> Any:
    """IndexFunction behind the local SQS runner (one worker process), when the template declares it."""
    from ..similar.local import index_runner
    from .stack import DeployError

    try:
        return index_runner(stack, settings, concurrency=1, retry_delay_s=retry_delay_s, output=output).start()
    except DeployError:
        return None


def incident_lines(settings: Any, within_s: int = 3600, limit: int = 3, width: int = 100) -> list[str]:
    """The largest incidents of the last ``within_s`` seconds, one line each (from the index)."""
    from ..similar.commands import incidents
    from ..similar.service import open_index

    try:
        found = incidents(open_index(settings=settings).snapshot(), int(time.time()) - within_s)
    except Exception as error:  # noqa: BLE001 - the summary must not die with the index
        return [f"incidents: unavailable ({type(error).__name__})"]
    if not found:
        return ["incidents  none in the last hour"]
    return [f"incident   {i['incident']}  {i['size']} tickets  {i['summary']}"[:width] for i in found[:limit]]


def _stop(generator: Any, runner: Any, indexer: Any = None) -> None:
    # A second Ctrl-C while stopping should not leave threads half-way.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if generator:
            generator.stop()
        if runner:
            runner.stop()
        if indexer:
            indexer.stop()
    finally:
        signal.signal(signal.SIGINT, previous)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)
