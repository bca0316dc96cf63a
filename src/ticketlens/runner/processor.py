"""``ticket-processor``: the enrichment handler as a long-lived worker against any endpoint.

For machines without the Lambda service: an EC2 instance, a Kubernetes pod, a laptop with
LocalStack (Community edition runs no Lambda without Docker) or ``ticketlens emulator start``.
It polls the queue with the local SQS event-source runner configured from
``template.yaml`` (batch size, window, partial batch responses, concurrency) and calls the
same handler Lambda runs, each concurrent invocation in a worker process of its own (its
models load there, once). SIGTERM/SIGINT finish the batches in flight (up to
``--stop-timeout``), hand back to the queue what was received but not processed, then exit.
An endpoint that goes away is retried with backoff; the log says what failed and when it
came back.

The resources must exist (``ticketlens setup``, ``samlocal deploy`` or ``sam deploy``);
names come from ``TICKETLENS_*`` settings, the endpoint from ``--endpoint``,
``AWS_ENDPOINT_URL`` or the local emulator this checkout left running. Where the template
declares IndexFunction, its queue is served too (one worker process), so the similar-ticket
index grows as records land.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

from ticketlens.emulators.endpoint import ENDPOINT_HELP

if TYPE_CHECKING:  # imported where used: the parser and --help stay fast
    from ..deploy.stack import Stack
    from ..settings import Settings
    from .sqs import SqsEventSource

log = logging.getLogger("ticketlens.processor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ticket-processor",
        description="Poll the ticket queue and run the enrichment handler, as Lambda's SQS event source would.",
    )
    parser.add_argument("--endpoint", metavar="URL", help=ENDPOINT_HELP)
    parser.add_argument("--no-index", action="store_true",
                        help="leave the similar-ticket indexer (IndexFunction's queue) to another worker")
    parser.add_argument("--concurrency", type=int, help="concurrent invocations (default: the template's)")
    parser.add_argument("--batch-size", type=int, help="override the template's BatchSize")
    parser.add_argument("--window", type=float, help="override the template's batching window (seconds)")
    parser.add_argument("--retry-delay", type=int, metavar="S",
                        help="make failed messages visible again after S seconds "
                             "(default: the queue's visibility timeout)")
    parser.add_argument("--template", help="template.yaml to read the event source settings from")
    parser.add_argument("--setup", action="store_true", help="deploy template.yaml to the endpoint first (emulators)")
    parser.add_argument("--wait-endpoint", type=float, default=0, metavar="S",
                        help="wait up to S seconds for the endpoint to answer (services starting together)")
    parser.add_argument("--report-every", type=float, default=30.0, metavar="S", help="progress line interval")
    parser.add_argument("--stop-timeout", type=float, default=30.0, metavar="S",
                        help="on SIGTERM, how long batches in flight may take before they are handed back")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="ticketlens' own debug logs (AWS SDK logs stay at WARNING: they carry request bodies)")
    return parser


def configure_logging(verbose: int) -> None:
    """INFO by default, DEBUG for ticketlens with -v; botocore never below WARNING.

    botocore's DEBUG lines print every request body, which holds ticket subjects and
    summaries: they must not reach a log because someone asked for more detail.
    """
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("ticketlens").setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    from ..emulators.endpoint import choose

    choose(args.endpoint)

    from dataclasses import replace

    from ..deploy import stack as stack_module
    from ..settings import get_settings
    from .sqs import for_stack

    settings = get_settings()
    if args.wait_endpoint and not wait_for_endpoint(settings, args.wait_endpoint):
        log.error("no answer from %s after %.0f s", settings.endpoint_url or "AWS", args.wait_endpoint)
        return 1
    try:
        stack = (stack_module.deploy(settings, args.template, log=log.info) if args.setup
                 else stack_module.describe(settings, args.template,
                                               deployed=stack_module.deployed_parameters(settings)))
    except stack_module.DeployError as error:
        log.error("%s", error)
        return 1
    source = stack.event_source("EnrichFunction")
    if args.batch_size or args.window is not None:
        source = replace(source, batch_size=args.batch_size or source.batch_size,
                         window_seconds=source.window_seconds if args.window is None else args.window)
        stack.event_sources = [source if s.function == source.function else s for s in stack.event_sources]

    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.warning("%s: finishing the batches in flight", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, request_stop)

    try:
        runner = for_stack(stack, settings, concurrency=args.concurrency, retry_delay_s=args.retry_delay,
                           idle_wait_s=5)
    except Exception as error:
        log.error("cannot use queue %s at %s: %s", settings.queue_name, settings.endpoint_url or "AWS", error)
        return 1
    started = time.monotonic()
    # Each worker's init phase (imports, models) runs before the first message is taken.
    runner.start(warm=True)
    log.info(
        "polling %s at %s: batch %d, window %g s, concurrency %d (worker processes %s, ready in %.1f s), "
        "partial batch responses %s",
        settings.queue_name, settings.endpoint_url or "AWS", runner.batch_size, runner.window_s, runner.concurrency,
        ", ".join(str(pid) for pid in runner.worker_pids) or "-", time.monotonic() - started,
        "on" if runner.report_batch_item_failures else "off",
    )
    indexer = None if args.no_index else _start_indexer(stack, settings, args.retry_delay)
    last = 0
    while not stop.wait(args.report_every):
        stats = runner.stats
        log.info("enriched deliveries %d (+%d), failed %d, invocations %d%s", stats.succeeded,
                 stats.succeeded - last, stats.failed, stats.invocations,
                 f", last error: {stats.last_error}" if stats.last_error else "")
        last = stats.succeeded
    runner.stop(timeout_s=args.stop_timeout)
    if indexer is not None:
        indexer.stop(timeout_s=args.stop_timeout)
    log.info("stopped after %d invocations (%d messages succeeded, %d failed)", runner.stats.invocations,
             runner.stats.succeeded, runner.stats.failed)
    return 0


def _start_indexer(stack: Stack, settings: Settings, retry_delay: int | None) -> SqsEventSource | None:
    """IndexFunction's event source (one worker process), where the template and the stack have it."""
    from ..similar.local import index_runner

    try:
        indexer = index_runner(stack, settings, concurrency=1, retry_delay_s=retry_delay, idle_wait_s=5)
    except Exception as error:
        log.info("not indexing similar tickets: %s", error)
        return None
    indexer.start()
    log.info("indexing similar tickets from %s", indexer.queue_url)
    return indexer


def wait_for_endpoint(settings: Settings, timeout_s: float) -> bool:
    """True once the endpoint answers an S3 ListBuckets call."""
    from ..store import clients

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            clients(settings).s3.list_buckets()
            return True
        except Exception as error:
            if time.monotonic() > deadline:
                log.debug("endpoint not ready: %s", error)
                return False
            time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
