"""An AWS emulator in this process: moto's server on a loopback port, nothing to install by hand.

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

import logging
import os
import socket
import threading
import time
from contextlib import contextmanager
from collections.abc import Iterator

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
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


def use_endpoint(url: str) -> None:
    """Point this process's boto3 and ticketlens Settings at ``url`` (dummy credentials if none)."""
    os.environ["AWS_ENDPOINT_URL"] = url
    for name, value in DUMMY_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_REGION", "us-east-1")
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ["AWS_REGION"])
    from ..settings import get_settings

    get_settings.cache_clear()


@contextmanager
def running(port: int = 0, keep_alive: bool = True) -> Iterator[Emulator]:
    emulator = Emulator(port=port, keep_alive=keep_alive).start()
    try:
        yield emulator
    finally:
        emulator.stop()
