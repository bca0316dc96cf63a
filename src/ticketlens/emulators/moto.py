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

Two gaps are patched, both where moto checks a condition and then writes without a lock:

* S3: two concurrent create-only PUTs (``If-None-Match``) of one key can both succeed. On
  AWS the check and the write are one atomic step, and the similar-ticket index relies on it
  (concurrent writers race for the next manifest generation); :func:`atomic_conditional_puts`
  makes moto's check-and-write one step too.
* DynamoDB: ``TransactWriteItems`` (a ticket's item and its counts, ``ticketlens.counts``)
  deep-copies every table it names to roll back, which costs ~70 µs per item in the table
  on every call (340 ms per ticket at 5,000 tickets), fails with "dictionary changed size"
  when another request writes meanwhile, and a rollback puts the whole copy back, erasing
  any write other requests made in between. :func:`atomic_dynamodb_writes` checks every
  condition, then applies the writes, under one lock that every item write takes, and on a
  failure restores only the items the transaction touched.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .endpoint import STATE_DIR, answers, read_json

if TYPE_CHECKING:
    from moto.core.common_types import TYPE_RESPONSE
    from moto.s3.responses import S3Response
    from werkzeug.serving import ThreadedWSGIServer

DEFAULT_PORT = 4566  # LocalStack's port, so `awslocal` reaches the emulator as is
STATE_FILE = STATE_DIR / "emulator.json"
LOG_FILE = STATE_DIR / "emulator.log"
_conditional_put_lock = threading.Lock()
_T = TypeVar("_T")
_atomic_puts_installed = threading.Event()


def atomic_conditional_puts() -> None:
    """Serialise moto's conditional S3 PUTs so the precondition check and the write are atomic."""
    from moto.s3.responses import S3Response

    with _conditional_put_lock:
        if _atomic_puts_installed.is_set():
            return
        original = S3Response.put_object

        def put_object(self: S3Response) -> TYPE_RESPONSE:
            if self.headers.get("If-None-Match") or self.headers.get("If-Match"):
                with _conditional_put_lock:
                    return original(self)
            return original(self)

        S3Response.put_object = put_object  # type: ignore[method-assign]  # moto's handler, wrapped on purpose
        _atomic_puts_installed.set()


_dynamodb_lock = threading.RLock()  # reentrant: a transaction's writes go through the wrapped methods
_atomic_dynamodb_installed = threading.Event()


def atomic_dynamodb_writes() -> None:
    """Make moto's item writes and transactions atomic with respect to each other, without copying tables."""
    from moto.dynamodb.models import DynamoDBBackend

    with _conditional_put_lock:
        if _atomic_dynamodb_installed.is_set():
            return
        for name in ("put_item", "update_item", "delete_item"):
            setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))
        DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign,assignment]
        _atomic_dynamodb_installed.set()


def _serialised(method: Callable[..., _T]) -> Callable[..., _T]:
    def locked(*args: Any, **kwargs: Any) -> _T:
        with _dynamodb_lock:
            return method(*args, **kwargs)

    return locked


def _transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """All conditions checked, then all writes applied, under the write lock (AWS's semantics)."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _dynamodb_lock:
        steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = []  # (operation, its parameters, item key)
        reasons: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
        seen: set[tuple[str, str]] = set()
        for entry in transact_items:
            if len(entry) != 1:
                raise TransactWriteSingleOpException
            operation, params = next(iter(entry.items()))
            if operation not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError(f"unsupported transaction operation {operation}")
            table = backend.get_table(params["TableName"])
            if operation == "Put":
                key_names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
                key = {name: params["Item"][name] for name in key_names}
            else:
                key = params["Key"]
            marker = (params["TableName"], json.dumps(key, sort_keys=True))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)
            steps.append((operation, params, key))
            current = backend.get_item(params["TableName"], key)
            condition = params.get("ConditionExpression")
            if condition is not None and not get_filter_expression(
                    condition, params.get("ExpressionAttributeNames"),
                    params.get("ExpressionAttributeValues")).expr(current):
                old = None
                if params.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old = current.to_json()["Attributes"]
                reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
            else:
                reasons.append((None, None, None))
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        before = [(params["TableName"], key, copy.deepcopy(backend.get_item(params["TableName"], key)))
                  for operation, params, key in steps if operation != "ConditionCheck"]
        try:
            for operation, params, key in steps:
                names, values = params.get("ExpressionAttributeNames"), params.get("ExpressionAttributeValues")
                if operation == "Put":
                    backend.put_item(params["TableName"], params["Item"], expression_attribute_names=names,
                                     expression_attribute_values=values)
                elif operation == "Delete":
                    backend.delete_item(params["TableName"], key, expression_attribute_names=names,
                                        expression_attribute_values=values)
                elif operation == "Update":
                    backend.update_item(params["TableName"], key, update_expression=params["UpdateExpression"],
                                        expression_attribute_names=names, expression_attribute_values=values)
        except Exception as error:
            for table_name, key, item in before:  # put back what this transaction touched, nothing else
                if item is None:
                    backend.delete_item(table_name, key)
                else:
                    backend.put_item(table_name, item.to_json()["Attributes"])
            raise TransactionCanceledException([(type(error).__name__, str(error), None)]) from error


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
        self._server: ThreadedWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Emulator:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import ThreadedWSGIServer

        # werkzeug logs every request at INFO; keep the terminal for ticketlens' output.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        atomic_conditional_puts()
        atomic_dynamodb_writes()

        class Handler(MotoRequestHandler):
            protocol_version = "HTTP/1.1" if self.keep_alive else "HTTP/1.0"

            def log_request(self, *args: object, **kwargs: object) -> None:  # quiet
                return

        app = DomainDispatcherApplication(create_backend_app)
        server = ThreadedWSGIServer(self.host, self.port, app, handler=Handler)  # make_server(threaded=True)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="aws-emulator", daemon=True)
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
    raw = read_json(state_file) or {}
    pid, url = raw.get("pid"), raw.get("url")
    if isinstance(pid, int) and isinstance(url, str):
        return State(pid=pid, url=url)
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
