"""How the local runner invokes a handler: one invocation per execution environment, as Lambda.

Lambda runs one invocation at a time in each execution environment (a process with its own
module state: the handler's logger, metrics, batch processor and models). The local runner
keeps that promise with an :class:`Invoker` per concurrent poller:

* :class:`ProcessInvoker`, the default: a worker process per poller, started once (the
  "init phase": imports, an optional preload such as the models) and reused for every
  invocation, replaced after a crash or a timeout (killed, as Lambda kills a timed-out
  invocation). The handler never shares state with another invocation, so it needs no
  locks or thread-locals.
* :class:`InProcessInvoker`: the handler called in the caller's thread. For tests that wrap
  the handler with spies and for ``ticketlens invoke``; one invocation at a time.

Handlers are named by import path (``"ticketlens.handlers.enrich:lambda_handler"``) to cross
the process boundary.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

from aws_lambda_powertools.utilities.typing import LambdaContext

from .context import LocalLambdaContext

log = logging.getLogger(__name__)

# A Lambda handler: the event (JSON), the context; its response is JSON too, checked by the caller.
Handler = Callable[[dict[str, Any], LambdaContext], object]


@dataclass(frozen=True)
class FunctionConfig:
    """What Lambda knows about a function: its name, limits and environment."""

    name: str = "ticketlens-local"
    timeout_s: float = 60.0
    memory_mb: int = 2048
    region: str = "us-east-1"
    environment: Mapping[str, str] = field(default_factory=dict)

    def context(self) -> LocalLambdaContext:
        return LocalLambdaContext(function_name=self.name, memory_limit_in_mb=self.memory_mb,
                                  timeout_seconds=self.timeout_s, region=self.region)


@dataclass(frozen=True)
class Result:
    """One invocation's outcome: the handler's response, or why there is none."""

    response: object = None
    error: str | None = None
    request_id: str = ""


class Invoker(Protocol):
    def invoke(self, event: dict[str, Any]) -> Result: ...

    def close(self) -> None: ...


def resolve(path: str) -> Handler:
    """``"package.module:function"`` -> the function."""
    handler: Handler = _attribute(path)
    return handler


def _attribute(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"a handler path is 'module:function', got {path!r}")
    return getattr(importlib.import_module(module_name), attribute)


class InProcessInvoker:
    """The handler in the caller's thread: one invocation at a time, sharing this process."""

    def __init__(self, handler: Handler, function: FunctionConfig) -> None:
        self.handler = handler
        self.function = function

    def invoke(self, event: dict[str, Any]) -> Result:
        context = self.function.context()
        try:
            return Result(response=self.handler(event, context), request_id=context.aws_request_id)
        except Exception as error:
            log.exception("handler raised: the whole batch returns to the queue")
            return Result(error=f"{type(error).__name__}: {error}", request_id=context.aws_request_id)

    def close(self) -> None:
        return None


class ProcessInvoker:
    """One execution environment: a worker process that runs one invocation at a time.

    ``preload`` (an import path of a zero-argument callable) runs in the init phase, before
    the first invocation: the models load there, as in a Lambda container's init.
    ``output`` is a file the worker's stdout and stderr go to (the handler's JSON logs and
    EMF metrics), else they share this process's.
    """

    def __init__(self, handler: str, function: FunctionConfig, preload: str | None = None,
                 output: str | None = None) -> None:
        self.handler = handler
        self.function = function
        self.preload = preload
        self.output = output
        self.starts = 0
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.is_alive() else None

    def start(self) -> None:
        """Start the worker and wait for its init phase (imports, preload) to finish."""
        if self._process is not None and self._process.is_alive():
            return
        spawn = multiprocessing.get_context("spawn")
        parent, child = spawn.Pipe()
        env = dict(self.function.environment)
        process = spawn.Process(
            target=_serve,
            args=(child, self.handler, self.preload, env, self.output, os.getpid()),
            name=f"lambda-{self.function.name}",
            daemon=True,
        )
        process.start()
        child.close()
        self._process, self._conn = process, parent
        self.starts += 1
        try:
            status, detail = parent.recv()
        except EOFError:
            status, detail = "error", f"worker exited during init (exit code {process.exitcode})"
        if status != "ready":
            self._kill()
            raise RuntimeError(f"{self.function.name} failed to initialise: {detail}")

    def invoke(self, event: dict[str, Any]) -> Result:
        try:
            self.start()
        except RuntimeError as error:
            return Result(error=str(error))
        conn, process = self._conn, self._process
        assert conn is not None and process is not None
        context = self.function.context()
        spec = {"name": self.function.name, "memory_mb": self.function.memory_mb, "region": self.function.region,
                "timeout_s": self.function.timeout_s, "request_id": context.aws_request_id}
        try:
            conn.send((event, spec))
            # Lambda stops an invocation at its timeout: so does this, by killing the worker.
            if not conn.poll(self.function.timeout_s + 1.0):
                self._kill()
                return Result(error=f"timed out after {self.function.timeout_s:.0f} s: worker killed, "
                                    "as Lambda stops the execution environment", request_id=context.aws_request_id)
            status, payload = conn.recv()
        except (EOFError, OSError) as error:
            process.join(5)
            code = process.exitcode
            self._kill()
            return Result(error=f"worker died during the invocation (exit code {code}): {type(error).__name__}",
                          request_id=context.aws_request_id)
        if status == "ok":
            return Result(response=payload, request_id=context.aws_request_id)
        return Result(error=str(payload), request_id=context.aws_request_id)

    def close(self, timeout_s: float = 10.0) -> None:
        """Let the worker exit after its current invocation; kill it if it does not."""
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(None)
        if self._process is not None:
            self._process.join(timeout_s)
        self._kill()

    def kill(self) -> None:
        """Stop the worker now, from another thread: its invocation ends as a failure."""
        process = self._process
        if process is not None and process.is_alive():
            process.kill()

    def _kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process, self._conn = None, None


# ------------------------------------------------------------------ in the worker --
def _die_with_parent(parent_pid: int) -> None:
    """Linux: SIGKILL this worker when the runner dies (a kill -9 leaves no orphans)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:
        os._exit(1)


def _serve(conn: Connection, handler_path: str, preload: str | None, env: dict[str, str], output: str | None,
           parent_pid: int) -> None:
    """The worker's loop: init once, then one invocation per message until told to stop."""
    _die_with_parent(parent_pid)
    # The runner decides when to stop (SIGINT from a terminal reaches the whole group).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if output:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    os.environ.update(env)
    try:
        handler = resolve(handler_path)
        if preload:
            init: Callable[[], object] = _attribute(preload)
            init()
    except BaseException as error:
        conn.send(("error", f"{type(error).__name__}: {error}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        event, spec = message
        context = LocalLambdaContext(function_name=spec["name"], memory_limit_in_mb=spec["memory_mb"],
                                     timeout_seconds=spec["timeout_s"], region=spec["region"],
                                     aws_request_id=spec["request_id"])
        try:
            response = handler(event, context)
            sys.stdout.flush()
            conn.send(("ok", response))
        except Exception as error:
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
            conn.send(("error", f"{type(error).__name__}: {error}"))
