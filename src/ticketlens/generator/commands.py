"""`ticketlens generate` and the `ticket-generator` console script: one set of options,
one function behind both."""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import sys
from datetime import UTC, datetime
from pathlib import Path

from ticketlens.generator.core import DEFAULT_INTENT_WEIGHTS, TicketFactory, check_weights
from ticketlens.generator.errors import ConfigError, SinkError
from ticketlens.generator.sinks import JsonlSink, S3Sink, Sink
from ticketlens.generator.worker import (
    MAX_RATE_PER_MINUTE,
    DemoSchedule,
    RateSchedule,
    Schedule,
    StopFlag,
    run,
    stop_on_signals,
)

DESCRIPTION = (
    "Generate realistic support tickets with ground-truth labels (metadata.labels). "
    "By default: one every 8-15 s (at most 7 a minute) to the raw bucket, until stopped."
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of tickets, 1 or more (got {text!r})")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_RATE_PER_MINUTE:  # also false for NaN
        raise argparse.ArgumentTypeError(
            f"must be tickets per minute, above 0 and at most {MAX_RATE_PER_MINUTE:g} (got {text!r}); "
            "use --burst N to send as fast as possible"
        )
    return value


def _timestamp(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be Unix seconds or ISO 8601 like 2025-11-23T09:00:00Z (got {text!r})"
        ) from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _weights(text: str) -> dict[str, float]:
    weights = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        try:
            weights[name.strip()] = float(value) if sep else math.nan
        except ValueError:
            weights[name.strip()] = math.nan
    try:
        return check_weights(weights)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{error} (expected e.g. login_issue=2,bug_report=1)") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, metavar="FILE.jsonl", help="append JSON lines to a file (no AWS needed)")
    where.add_argument("--stdout", action="store_true", help="print JSON lines (no AWS needed)")
    where.add_argument(
        "--bucket", help="upload to this bucket (default: the raw bucket, TICKETLENS_RAW_BUCKET or tickets-raw)"
    )
    parser.add_argument("--endpoint-url", help="S3 endpoint for uploads ('aws' for AWS; default: AWS_ENDPOINT_URL, "
                                               "else the local emulator this checkout left running, else AWS)")
    how_many = parser.add_mutually_exclusive_group()
    how_many.add_argument("--count", type=_positive_int, metavar="N", help="stop after N tickets, paced as usual")
    how_many.add_argument(
        "--burst", type=_positive_int, metavar="N", help="write N tickets as fast as possible (load tests, datasets)"
    )
    parser.add_argument(
        "--rate", type=_rate, metavar="PER_MIN", help="average tickets per minute instead of one every 8-15 s"
    )
    parser.add_argument("--seed", help="make texts and labels reproducible (with --start, ids and timestamps too)")
    parser.add_argument(
        "--start", type=_timestamp, metavar="TIME",
        help="simulate the clock from TIME (Unix seconds or ISO 8601) instead of using the wall clock",
    )
    default_weights = ",".join(f"{k}={v:g}" for k, v in DEFAULT_INTENT_WEIGHTS.items())
    parser.add_argument(
        "--weights", type=_weights, metavar="INTENT=W,...",
        help=f"relative intent weights; intents not listed are not generated (default {default_weights})",
    )
    parser.set_defaults(func=generate)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("generate", help="generate labelled support tickets", description=DESCRIPTION)
    add_arguments(parser)


def _open_sink(args: argparse.Namespace) -> Sink:
    if args.endpoint_url and (args.out or args.stdout):
        raise ConfigError("--endpoint-url only applies to bucket uploads, not to --out or --stdout")
    if args.out:
        return JsonlSink.to_file(args.out)
    if args.stdout:
        return JsonlSink.to_stdout()
    from ticketlens.emulators.endpoint import choose
    from ticketlens.settings import get_settings

    choose(args.endpoint_url)  # else AWS_ENDPOINT_URL, else the local emulator this checkout left running
    settings = get_settings()
    return S3Sink.connect(args.bucket or settings.raw_bucket, settings.endpoint_url, settings.region)


def generate(args: argparse.Namespace) -> int:
    """Run the generator as the options say; errors come back as exit codes with one clear line."""
    pace_rng = random.Random(f"{args.seed}/pace") if args.seed is not None else random.Random()
    schedule: Schedule = RateSchedule(pace_rng, args.rate) if args.rate else DemoSchedule(pace_rng)
    try:
        sink = _open_sink(args)
    except ConfigError as error:
        print(f"generate: error: {error}", file=sys.stderr)
        return 2
    factory = TicketFactory(seed=args.seed, intent_weights=args.weights)
    realtime = args.burst is None
    if realtime:
        pace = f"{args.rate:g} a minute" if args.rate else "every 8-15 s"
        until = f"{args.count} tickets" if args.count else "until stopped (Ctrl+C)"
        print(f"generating tickets {pace} to {sink.name}, {until}", file=sys.stderr)
    stop, written = StopFlag(), 0
    try:
        with stop_on_signals(stop):
            written = run(
                factory,
                sink,
                count=args.burst or args.count,
                schedule=schedule,
                realtime=realtime,
                start=args.start,
                stop=stop,
            )
    except SinkError as error:
        print(f"generate: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader (e.g. `| head`) has gone: stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        sink.close()
    print(f"wrote {written} tickets to {sink.name}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The `ticket-generator` console script."""
    parser = argparse.ArgumentParser(prog="ticket-generator", description=DESCRIPTION)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log each ticket (-v) on stderr")
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has already printed the usage and the reason
        return int(exit_.code or 0)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
