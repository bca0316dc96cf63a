"""``ticketlens demo``: the whole serverless pipeline on this machine, in one command.

1. an AWS emulator (moto; nothing to install) starts in the background on a loopback port
   and keeps running after the demo, with its data, for the query commands and the board
   (``ticketlens emulator stop`` ends it), unless ``--endpoint``/``AWS_ENDPOINT_URL`` names
   one or this checkout left one running;
2. ``template.yaml`` is deployed to it (SAM transform offline, then CloudFormation; see
   :mod:`ticketlens.deploy.stack` for what is patched and why);
3. the enrichment handler runs behind the local SQS event-source runner with the
   template's batch size, window, partial batch responses and concurrency, each concurrent
   invocation in a worker process of its own whose init phase loads the models once (as a
   Lambda execution environment does);
5. the generator runs on the template's schedule, sped up by ``--speed``: each tick
   invokes the GenerateFunction handler in-process with an EventBridge scheduled event;
6. the indexer (IndexFunction) runs behind its own local runner on the index queue, so the
   similar-ticket index grows as records land in the enriched bucket;
7. the triage board serves on 127.0.0.1 (``ticketlens board`` afterwards);
8. a live summary (counts by intent/urgency/sentiment, latest tickets, queue and DLQ
   depth, end-to-end latency, incidents of the last hour as they form), fitted to the
   terminal's width, refreshes until Ctrl-C or ``--tickets N``; progress lines go to stderr.

While it runs and after, the data is queryable from any shell in this folder.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .runner.context import LocalLambdaContext, handler_output_to

log = logging.getLogger(__name__)

DEFAULT_PORT = 4566  # LocalStack's port, so `awslocal` reaches the embedded emulator as is
LOG_DIR = Path(".ticketlens")


@dataclass
class DemoOptions:
    endpoint: str | None = None
    port: int = DEFAULT_PORT
    tickets: int | None = None
    speed: float = 60.0
    concurrency: int | None = None
    generate: bool = True
    template: str | None = None
    refresh_s: float = 1.0
    retry_delay_s: int | None = 5
    functions: bool | None = None  # deploy the template's functions; None: the endpoint decides
    board_port: int | None = 8765  # None: no board
    stop_emulator: bool = False  # stop the background emulator at the end


# ------------------------------------------------------------------------ scheduling --
def scheduled_event(rule_arn: str, when: datetime | None = None, region: str = "us-east-1") -> dict[str, Any]:
    """The event EventBridge sends a function on a schedule."""
    when = when or datetime.now(UTC)
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
                 on_tick: Any = None, output: TextIO | None = None) -> None:
        self.schedule = schedule
        self.interval_s = (schedule.interval_seconds or 60.0) / max(speed, 1e-6)
        self.per_tick = int(schedule.environment.get("TICKETLENS_GENERATE_COUNT", "5"))
        self.handler = handler
        self.settings = settings
        self.limit = limit
        self.on_tick = on_tick
        self.output = output  # where the handler's logs and EMF metrics go (Lambda: CloudWatch)
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
            except Exception as error:
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("generator tick failed: %s", error)
            if self.on_tick:
                self.on_tick(self)

    def _fire(self, count: int) -> int:
        event = scheduled_event(self.rule_arn, region=self.settings.region)
        env = {**self.schedule.environment, "TICKETLENS_GENERATE_COUNT": str(count)}
        output = handler_output_to(self.output) if self.output else contextlib.nullcontext()
        with _environment(env), output:
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
    from .handlers.generate import lambda_handler

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


def _fit(text: str, width: int) -> str:
    """``text`` cut at a word boundary to ``width`` characters, with an ellipsis when cut."""
    if len(text) <= width:
        return text
    cut = text[: max(1, width - 1)]
    if " " in cut[width // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


def _wrap_cells(label: str, cells: list[str], width: int) -> list[str]:
    """``label`` then the cells, wrapped onto more lines rather than cut inside a cell."""
    lines, line = [], f"{label:<10}"
    for cell in cells or ["-"]:
        if len(line) > 10 and len(line) + 2 + len(cell) > width:
            lines.append(line.rstrip())
            line = " " * 10
        line += ("  " if line.strip() else " ") + cell
    lines.append(line.rstrip())
    return lines


def render(snap: dict[str, Any], header: list[str], runner_stats: Any, elapsed_s: float, width: int = 100) -> str:
    """The summary, fitted to ``width`` columns without cutting a count or a word in two.

    ``runner_stats`` is None where the emulator invokes the function itself.
    """
    lines = [_fit(line, width) for line in header]
    if runner_stats is None:
        lines.append(f"enriched {snap['total']}   (invoked by the emulator's event source mapping: see its logs)")
    else:
        latencies = list(runner_stats.latencies_s)
        rate = runner_stats.succeeded / elapsed_s if elapsed_s > 0 else 0.0
        parts = [f"enriched {snap['total']}", f"invocations {runner_stats.invocations}",
                 f"failed deliveries {runner_stats.failed}", f"{rate:.1f} tickets/s",
                 f"upload->stored p50 {percentile(latencies, 50):.2f} s p95 {percentile(latencies, 95):.2f} s"]
        lines.append(_join_wrapped(parts, width))
    q, d = snap["queue"], snap["dlq"]
    lines.append(f"queue {q['visible']} waiting, {q['in_flight']} in flight   dead-letter queue {d['visible']}")
    if runner_stats is not None and runner_stats.last_error:
        lines.append(_fit(f"last error: {runner_stats.last_error}", width))
    lines.append("")
    for name in ("urgency", "sentiment", "intent"):
        counts = snap["counts"][name]
        lines.extend(_wrap_cells(name, [f"{k} {v}" for k, v in counts.items()], width))
    lines.append("")
    lines.append("latest")
    for item in snap["latest"]:
        head = f"  {item['ticket_id']:<28} {item['urgency']:<8} {item['sentiment']:<8} {item['intent']:<16} "
        summary = str(item.get("summary", "")).replace("\n", " ")
        lines.append(head + _fit(summary, max(20, width - len(head))))
    return "\n".join(lines)


def _join_wrapped(parts: list[str], width: int) -> str:
    """Parts joined by three spaces, broken onto new lines between parts, never inside one."""
    lines, line = [], ""
    for part in parts:
        if line and len(line) + 3 + len(part) > width:
            lines.append(line)
            line = part
        else:
            line = f"{line}   {part}" if line else part
    lines.append(line)
    return "\n".join(lines)


def terminal_width(out: TextIO) -> int:
    return shutil.get_terminal_size((100, 24)).columns if out.isatty() else 100


# ------------------------------------------------------------------------------ demo --
def run_demo(options: DemoOptions, out: TextIO = sys.stdout) -> int:
    """The demo; progress goes to stderr (log lines), the live and final summaries to ``out``."""
    from .deploy import stack as stack_module
    from .emulators import moto
    from .emulators.endpoint import running_local, use_endpoint

    started = time.monotonic()
    endpoint = options.endpoint or os.environ.get("AWS_ENDPOINT_URL")
    background: moto.State | None = None
    if endpoint:
        use_endpoint(endpoint)
        log.info("using the AWS endpoint %s", endpoint)
    elif (local := running_local()) is not None:
        use_endpoint(local.url)
        log.info("using the %s stack this checkout left running at %s", local.what, local.url)
        if local.what == "moto":
            background = moto.read_state()
    else:
        background, _ = moto.start_background(options.port)
        use_endpoint(background.url)
        taken = "" if background.url.endswith(f":{options.port}") else f" (port {options.port} is taken)"
        log.info("started the AWS emulator (moto) in the background on %s%s in %.1f s", background.url, taken,
                 time.monotonic() - started)

    from .settings import get_settings
    from .store import TicketStore

    settings = get_settings()
    LOG_DIR.mkdir(exist_ok=True)
    log_path = LOG_DIR / "demo.log"
    log_file = log_path.open("a", encoding="utf-8")
    board = None
    runner = indexer = generator = None
    try:
        stack = stack_module.deploy(settings, options.template, log=log.info, functions=options.functions)
        log.info("stack %s ready after %.1f s", settings.stack_name, time.monotonic() - started)

        from .runner.sqs import for_stack

        if not stack.functions_run_in_emulator:  # else the emulator's event source mapping invokes it
            t0 = time.monotonic()
            runner = for_stack(stack, settings, concurrency=options.concurrency,
                               retry_delay_s=options.retry_delay_s, output=str(log_path.resolve()))
            runner.start(warm=True)
            log.info("%d enrich workers ready after %.1f s (each loads the models once, like a Lambda execution "
                     "environment's init)", runner.concurrency, time.monotonic() - t0)
            indexer = _start_indexer(stack, settings, options.retry_delay_s, str(log_path.resolve()))
        if options.board_port is not None:
            board = _start_board(options.board_port)
        if options.generate:
            schedule = stack.schedule("GenerateFunction")
            generator = ScheduledGenerator(schedule, options.speed, generate_handler(), settings, limit=options.tickets,
                                           output=log_file).start()
        header = _header(settings, stack, runner, generator, board, options)
        until = f"stops after {options.tickets} tickets (Ctrl-C stops sooner)" if options.tickets else "Ctrl-C to stop"
        log.info("tickets flowing after %.1f s; %s", time.monotonic() - started, until)
        status = _live(options, out, TicketStore(settings), runner, generator, header, started)
        _stop(generator, runner, indexer)
        runner_stats = runner.stats if runner else None
        runner = indexer = generator = None
        final = snapshot(TicketStore(settings))
        width = terminal_width(out)
        print(render(final, ["final", *incident_lines(settings, width=width)], runner_stats,
                     time.monotonic() - started, width), file=out)
        print(_next_steps(settings.endpoint_url or "", background, log_path), file=out)
        return status
    finally:
        _stop(generator, runner, indexer)
        if board is not None:
            board.stop()
        log_file.close()
        if background is not None and options.stop_emulator:
            moto.stop_background()
            log.info("stopped the background emulator (--stop-emulator): its data is gone")


def _header(settings: Any, stack: Any, runner: Any, generator: Any, board: Any, options: DemoOptions) -> list[str]:
    source = stack.event_source("EnrichFunction")
    header = [
        f"ticketlens demo   endpoint {settings.endpoint_url}   stack {settings.stack_name}",
        "query it meanwhile: ticketlens show urgent   ticketlens status" + (f"   board {board.url}" if board else ""),
        f"runner: batch {source.batch_size}, window {source.window_seconds:g} s, concurrency {runner.concurrency}, "
        f"partial batch responses {'on' if source.report_batch_item_failures else 'off'}" if runner else
        f"runner: none here; {stack.emulator} runs EnrichFunction from its event source mapping",
    ]
    if generator:
        header.append(f"generator: {generator.schedule.expression} x{options.speed:g} -> every "
                      f"{generator.interval_s:.1f} s, {generator.per_tick} tickets per run")
    header.append("")
    return header


def _next_steps(endpoint: str, background: Any, log_path: Path) -> str:
    """What to type next: the stack stays up when the demo started it in the background."""
    venv = Path(sys.executable).parent
    on_path = shutil.which("ticketlens") == str(venv / "ticketlens")
    lines = ["", f"handler logs: {log_path}"]
    if background is not None:
        lines += [
            f"The stack keeps running at {endpoint} (moto, in the background). In any shell, from this folder:",
            "  ticketlens show urgent      ticketlens show results      ticketlens status",
            "  ticketlens board            ticketlens search \"refund\"   ticketlens incidents",
            "  ticketlens emulator stop    (stops it; its data goes with it)",
        ]
    if not on_path:
        lines += [f"  ticketlens is {venv / 'ticketlens'}; to put it on PATH:", f"  source {venv / 'activate'}"]
    return "\n".join(lines)


def _start_board(port: int) -> Any:
    """The triage board on 127.0.0.1 (another free port when ``port`` is taken)."""
    from .board import start_board

    try:
        board = start_board(port=port)
    except OSError:
        board = start_board(port=0)
    log.info("triage board: %s", board.url)
    return board


def _live(options: DemoOptions, out: TextIO, store: Any, runner: Any, generator: Any, header: list[str],
          started: float) -> int:
    tty = out.isatty()
    last_plain = 0.0
    incidents: list[str] = []
    last_incidents = 0.0
    baseline = snapshot(store, latest=0)["total"]  # an endpoint may hold tickets from before
    try:
        while True:
            time.sleep(options.refresh_s)
            elapsed = time.monotonic() - started
            snap = snapshot(store)
            width = terminal_width(out)
            if elapsed - last_incidents >= 5:  # incidents as they form, from the index
                incidents, last_incidents = incident_lines(store.settings, width=width), elapsed
            head = header + ([f"generated {generator.generated}" + (f"/{options.tickets}" if options.tickets else "")
                              + (f"   generator error: {generator.last_error}" if generator.last_error else "")]
                             if generator else []) + incidents
            if tty:
                out.write("\x1b[H\x1b[J" + render(snap, head, runner.stats if runner else None, elapsed, width) + "\n")
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
        log.info("stopping: finishing the batches in flight")
        return 0


def _start_indexer(stack: Any, settings: Any, retry_delay_s: int | None, output: str) -> Any:
    """IndexFunction behind the local SQS runner (one worker process), when the template declares it."""
    from .deploy.stack import DeployError
    from .similar.local import index_runner

    try:
        return index_runner(stack, settings, concurrency=1, retry_delay_s=retry_delay_s, output=output).start()
    except DeployError:
        return None


def incident_lines(settings: Any, within_s: int = 3600, limit: int = 3, width: int = 100) -> list[str]:
    """The largest incidents of the last ``within_s`` seconds, one line each (from the index)."""
    from .similar.commands import incidents
    from .similar.service import open_index

    try:
        found = incidents(open_index(settings=settings).snapshot(), int(time.time()) - within_s)
    except Exception as error:
        return [f"incidents: unavailable ({type(error).__name__})"]
    if not found:
        return ["incidents  none in the last hour"]
    return [_fit(f"incident   {i['incident']}  {i['size']} tickets  {i['summary']}", width) for i in found[:limit]]


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


# ----------------------------------------------------------------------------- CLI --
def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "demo",
        help="run the whole pipeline here: emulator, template, generator, enrichment, board, live summary",
        description="Start an AWS emulator (moto) in the background unless one is given or already running, "
                    "deploy template.yaml to it, run the generator on the template's schedule and the enrichment "
                    "and index handlers behind Lambda-like SQS runners, serve the triage board, and show a live "
                    "summary. The emulator keeps running afterwards, with the data (`ticketlens emulator stop`).",
    )
    p.add_argument("--endpoint", metavar="URL", help="an emulator to use instead (LocalStack, a running one)")
    p.add_argument("--functions", choices=["auto", "on", "off"], default="auto",
                   help="deploy the template's functions (as for `setup`)")
    p.add_argument("--tickets", type=int, metavar="N", help="stop once N generated tickets are enriched")
    p.add_argument("--speed", type=float, default=60.0,
                   help="run the generator's schedule this many times faster (default 60: rate(1 minute) -> every 1 s)")
    p.add_argument("--port", type=int, default=moto_port(),
                   help="emulator port (default 4566 if free, so awslocal works)")
    p.add_argument("--board-port", type=int, default=8765, help="the triage board's port (default 8765 if free)")
    p.add_argument("--no-board", action="store_true", help="do not serve the triage board")
    p.add_argument("--concurrency", type=int,
                   help="concurrent invocations (default: the template's MaximumConcurrency)")
    p.add_argument("--retry-delay", type=int, default=5, metavar="S",
                   help="seconds before a failed message is retried "
                        "(local shortcut; Lambda waits the visibility timeout)")
    p.add_argument("--no-generator", action="store_true", help="only process what arrives (e.g. from ticket-generator)")
    p.add_argument("--stop-emulator", action="store_true",
                   help="stop the background emulator at the end (its data goes with it)")
    p.add_argument("--template", help="path to template.yaml (default: found from the current directory)")
    p.set_defaults(func=cmd_demo)


def moto_port() -> int:
    from .emulators.moto import DEFAULT_PORT as port

    return port


def cmd_demo(args: argparse.Namespace) -> int:
    from .deploy.stack import DeployError

    logging.getLogger("ticketlens").setLevel(logging.INFO)  # progress lines on stderr
    options = DemoOptions(
        endpoint=args.endpoint,
        port=args.port,
        tickets=args.tickets,
        speed=args.speed,
        concurrency=args.concurrency,
        generate=not args.no_generator,
        template=args.template,
        retry_delay_s=args.retry_delay,
        functions={"auto": None, "on": True, "off": False}[args.functions],
        board_port=None if args.no_board else args.board_port,
        stop_emulator=args.stop_emulator,
    )
    try:
        return run_demo(options)
    except DeployError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
