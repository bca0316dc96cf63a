"""moto's server on a loopback port: in this process (:class:`Emulator`), or as a background
service that outlives the command that started it (:func:`start_background`).

The background service is what ``ticketlens demo`` and ``ticketlens emulator start`` leave
running, so the data stays there to query; its state (pid, URL) is in
``.ticketlens/emulator.json`` of the directory it was started from, where the other commands
find it (:mod:`ticketlens.emulators.endpoint`). ``ticketlens emulator stop`` ends it.

moto's own ``ThreadedMotoServer`` answers HTTP/1.0 and closes every connection, so each
boto3 call pays a new TCP connection; this server speaks HTTP/1.1 with keep-alive on the
same threaded werkzeug server (``keep_alive=False`` gives moto's behaviour back, for
comparison). Loopback only: the emulator has no authentication.

One gap is patched: moto checks a conditional PUT's ``If-None-Match`` / ``If-Match`` and
then writes, without a lock, so two concurrent create-only PUTs of one key can both succeed.
On AWS the check and the write are one atomic step, and the similar-ticket index relies on
it (concurrent writers race for the next manifest generation); :func:`atomic_conditional_puts`
makes moto's check-and-write one step too.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .endpoint import STATE_DIR, answers, read_json

DEFAULT_PORT = 4566  # LocalStack's port, so `awslocal` reaches the emulator as is
STATE_FILE = STATE_DIR / "emulator.json"
LOG_FILE = STATE_DIR / "emulator.log"
_conditional_put_lock = threading.Lock()


def atomic_conditional_puts() -> None:
    """Serialise moto's conditional S3 PUTs so the precondition check and the write are atomic."""
    from moto.s3.responses import S3Response

    original = S3Response.put_object
    if getattr(original, "_ticketlens_atomic", False):
        return

    def put_object(self: S3Response) -> object:
        if self.headers.get("If-None-Match") or self.headers.get("If-Match"):
            with _conditional_put_lock:
                return original(self)
        return original(self)

    put_object._ticketlens_atomic = True  # type: ignore[attr-defined]
    S3Response.put_object = put_object  # type: ignore[method-assign]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Emulator:
    """moto server in a daemon thread. ``url`` is the endpoint to give boto3."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, keep_alive: bool = True) -> None:
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("the emulator has no authentication: bind it to loopback only")
        self.host = host
        self.port = port or free_port(host)
        self.keep_alive = keep_alive
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Emulator:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        # werkzeug logs every request at INFO; keep the terminal for ticketlens' output.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        atomic_conditional_puts()

        class Handler(MotoRequestHandler):
            protocol_version = "HTTP/1.1" if self.keep_alive else "HTTP/1.0"

            def log_request(self, *args: object, **kwargs: object) -> None:  # quiet
                return

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-emulator", daemon=True)
        self._thread.start()
        self._wait_ready()
        return self

    def _wait_ready(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"emulator did not start on {self.url}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running(port: int = 0, keep_alive: bool = True) -> Iterator[Emulator]:
    emulator = Emulator(port=port, keep_alive=keep_alive).start()
    try:
        yield emulator
    finally:
        emulator.stop()


# ------------------------------------------------------------- background service --
@dataclass(frozen=True)
class State:
    pid: int
    url: str


def read_state(state_file: Path = STATE_FILE) -> State | None:
    raw = read_json(state_file)
    if raw and isinstance(raw.get("pid"), int) and isinstance(raw.get("url"), str):
        return State(pid=int(raw["pid"]), url=str(raw["url"]))  # type: ignore[call-overload]
    return None


def alive(state: State) -> bool:
    """The recorded process exists and the emulator answers at its URL."""
    try:
        os.kill(state.pid, 0)
    except OSError:
        return False
    return answers(state.url)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def start_background(
    port: int = DEFAULT_PORT, state_file: Path = STATE_FILE, timeout_s: float = 30.0
) -> tuple[State, bool]:
    """The background emulator: the running one, or a new one on ``port`` (another free port
    if that one is taken). Returns its state and whether it was started now."""
    state = read_state(state_file)
    if state is not None and alive(state):
        return state, False
    port = port if port and port_free(port) else free_port()
    state_file.parent.mkdir(parents=True, exist_ok=True)
    log = (state_file.parent / LOG_FILE.name).open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "ticketlens.emulators.moto", "--port", str(port)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    state = State(pid=process.pid, url=f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + timeout_s
    while not answers(state.url, timeout_s=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the emulator did not start on {state.url}: see {state_file.parent / LOG_FILE.name}")
        time.sleep(0.1)
    state_file.write_text(json.dumps({"pid": state.pid, "url": state.url, "started_at": time.time()}),
                          encoding="utf-8")
    return state, True


def stop_background(state_file: Path = STATE_FILE, timeout_s: float = 10.0) -> State | None:
    """Stop the background emulator (its data goes with it); returns what was stopped."""
    state = read_state(state_file)
    if state is None:
        return None
    try:
        os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            os.kill(state.pid, 0)
            time.sleep(0.1)
        os.kill(state.pid, signal.SIGKILL)
    except OSError:
        pass  # gone
    state_file.unlink(missing_ok=True)
    return state


def main(argv: list[str] | None = None) -> int:
    """The background service's process: serve until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m ticketlens.emulators.moto")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    emulator = Emulator(port=args.port).start()
    print(f"moto serving {emulator.url}", flush=True)
    stop.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
