"""``ticketlens localstack install|start|stop|status``: LocalStack without Docker (see
:mod:`ticketlens.emulators.localstack` for what it installs and patches)."""

from __future__ import annotations

import argparse
import json
import sys

from . import localstack


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "localstack", help="start/stop LocalStack on this machine, without Docker (make localstack)",
        description="LocalStack's runtime from .venv-localstack (Python 3.13), on 127.0.0.1, with DynamoDB Local "
                    "from npm and this machine's Java; state and log under .ticketlens/localstack/<instance>/.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--instance", default="default",
                        help="a name of its own for a second LocalStack (the tests use 'tests'; default 'default')")

    q = actions.add_parser("install", parents=[common], help="create .venv-localstack and fetch DynamoDB Local (once)")
    q.set_defaults(func=cmd_install)
    q = actions.add_parser("start", parents=[common], help="start it in the background and wait until it is usable")
    q.add_argument("--port", type=int, default=localstack.DEFAULT_PORT, help="gateway port (default 4566)")
    q.add_argument("--timeout", type=float, default=180.0, metavar="S", help="give up after S seconds (default 180)")
    q.set_defaults(func=cmd_start)
    q = actions.add_parser("stop", parents=[common], help="stop it (and DynamoDB Local with it)")
    q.set_defaults(func=cmd_stop)
    q = actions.add_parser("status", parents=[common], help="running or not, services, memory")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_status)
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


def _layout(args: argparse.Namespace) -> localstack.Layout:
    return localstack.Layout.find(args.instance)


def _say(message: str) -> None:
    print(message, flush=True)


def cmd_install(args: argparse.Namespace) -> int:
    try:
        localstack.install(_layout(args), log=_say)
    except localstack.LocalStackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("LocalStack installed (.venv-localstack, .ticketlens/localstack/lib)")
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    try:
        running = localstack.start(_layout(args), port=args.port, timeout_s=args.timeout, log=_say)
    except localstack.LocalStackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not running.reused:
        rss = localstack.tree_rss_mb(running.pid)
        print(f"LocalStack ready on {running.url}: healthy after {running.healthy_s:.1f} s, DynamoDB answering after "
              f"{running.dynamodb_s:.1f} s" + (f", {rss:.0f} MB resident" if rss is not None else ""))
    print(f"export AWS_ENDPOINT_URL={running.url} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    layout = _layout(args)
    if not localstack.stop(layout, log=_say):
        print(f"LocalStack ({layout.instance}) was not running")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    layout = _layout(args)
    found = localstack.status(layout)
    if args.json:
        print(json.dumps({**found.__dict__, "log_file": str(found.log_file) if found.log_file else None}, indent=2))
        return 0 if found.running else 3
    if not found.running:
        print(f"LocalStack ({layout.instance}) is not running" + (f"; last log: {found.log_file}" if found.log_file else ""))
        return 3
    wanted = {s: found.services.get(s, "missing") for s in localstack.SERVICES}
    print(f"LocalStack {found.version} ({layout.instance}) on {found.url}, pid {found.pid}"
          + (f", {found.rss_mb:.0f} MB resident" if found.rss_mb is not None else ""))
    print("services " + "  ".join(f"{name} {state}" for name, state in wanted.items()))
    print(f"log {found.log_file}")
    return 0
