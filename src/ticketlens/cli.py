"""`ticketlens` command line: one thin front door per job, all onto the same library.

Each command lives in the module that owns its job and exposes
``register(subparsers) -> None``; the parser it adds sets ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable

# Modules that add subcommands, in the order `ticketlens --help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "ticketlens.enrichment.commands",  # enrich, bench
    "ticketlens.models.commands",  # build-models
    "ticketlens.training.commands",  # train, eval
    "ticketlens.training.summary_eval",  # eval-summary
    "ticketlens.training.urgency_fit",  # eval-urgency
    "ticketlens.training.language_eval",  # eval-language
    "ticketlens.generator.commands",  # generate
    "ticketlens.demo",  # demo
    "ticketlens.ops.commands",  # setup, seed, clean, reset, status, show, redrive, invoke
    "ticketlens.similar.commands",  # index, similar, search, incidents, eval-similar
    "ticketlens.faults.harness",  # faults
    "ticketlens.board.commands",  # board
    "ticketlens.emulators.commands",  # emulator, localstack
)


def group_help(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """The ``func`` of a command group run without its subcommand: its help, exit status 2."""

    def show(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return show


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ticketlens",
        description="Enrich customer-support tickets on a CPU: embedding, intent, urgency, sentiment, summary.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is None or not name.startswith(error.name):
                raise  # a real missing dependency inside the module: surface it
            continue  # this command group is not part of this build
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
