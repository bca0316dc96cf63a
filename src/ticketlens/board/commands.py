"""``ticketlens board``: the triage board on http://127.0.0.1:8765 for the configured stack."""

from __future__ import annotations

import argparse
import sys
import time

from ..emulators.endpoint import ENDPOINT_HELP


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "board",
        help="serve the live triage board on 127.0.0.1 (read-only)",
        description="Serve the triage board (newest tickets, urgent queue, counts over time, dead letters, "
                    "rejects, each ticket's record and urgency) for the stack at --endpoint "
                    "(default $AWS_ENDPOINT_URL, else the local emulator this checkout left running, else AWS). "
                    "Loopback only; Ctrl-C stops.",
    )
    p.add_argument("--endpoint", metavar="URL", help=ENDPOINT_HELP)
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0 picks a free one)")
    p.set_defaults(func=cmd_board)


def cmd_board(args: argparse.Namespace) -> int:
    from ..emulators.endpoint import choose
    from ..settings import get_settings
    from . import start_board

    choose(args.endpoint)
    try:
        server = start_board(port=args.port)
    except OSError as error:
        print(f"error: cannot serve on 127.0.0.1:{args.port}: {error.strerror or error} (try --port 0)",
              file=sys.stderr)
        return 1
    settings = get_settings()
    print(f"triage board: {server.url}   (data: {settings.endpoint_url or 'AWS'}, table {settings.table_name}; "
          "Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()
