"""``ticketlens board`` locally: each HTTP request becomes the Function URL event Lambda
would send, and the same app answers it (as ``sam local start-api`` does, without Docker).

Loopback only, GET and HEAD only, and requests naming another host are refused (a page on
another site cannot reach the board through DNS rebinding). A powertools resolver keeps
the request it is resolving on itself, so concurrent requests each borrow a resolver of
their own from a small pool; the data layer behind them is shared.
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver

from ._app import create_app
from ._data import BoardData

log = logging.getLogger("ticketlens.board")

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def function_url_event(
    method: str, target: str, headers: dict[str, str], source_ip: str = "127.0.0.1"
) -> dict[str, Any]:
    """The payload (format 2.0) a Lambda Function URL sends for this request."""
    parts = urlsplit(target)
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value  # as API Gateway joins repeats
    now = datetime.now(UTC)
    lowered = {name.lower(): value for name, value in headers.items()}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": lowered,
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {"method": method, "path": parts.path or "/", "protocol": "HTTP/1.1",
                     "sourceIp": source_ip, "userAgent": lowered.get("user-agent", "")},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }


class _ResolverPool:
    def __init__(self, factory: Callable[[], LambdaFunctionUrlResolver]) -> None:
        self._factory = factory
        self._idle: queue.SimpleQueue[LambdaFunctionUrlResolver] = queue.SimpleQueue()

    def resolve(self, event: dict[str, Any]) -> dict[str, Any]:
        try:
            app = self._idle.get_nowait()
        except queue.Empty:
            app = self._factory()
        try:
            return app.resolve(event, None)  # type: ignore[arg-type]  # no Lambda context here
        finally:
            self._idle.put(app)


class BoardServer:
    """The board on ``http://127.0.0.1:<port>``, served from a daemon thread."""

    def __init__(self, data: BoardData | None = None, host: str = "127.0.0.1", port: int = 8765) -> None:
        if host not in LOOPBACK:
            raise ValueError("the board shows customer tickets and has no login: bind it to loopback only")
        shared = data or BoardData()
        self.data = shared
        self._pool = _ResolverPool(lambda: create_app(shared))
        self._httpd = ThreadingHTTPServer((host, port), _handler(self._pool))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BoardServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="board", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> BoardServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler(pool: _ResolverPool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ticketlens-board"
        sys_version = ""

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def _answer(self, send_body: bool) -> None:
            started = time.perf_counter()
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
            if host not in LOOPBACK:
                self._send(421, {"Content-Type": "text/plain"}, b"the board answers to 127.0.0.1 or localhost only\n",
                           send_body)
                return
            event = function_url_event("GET", self.path, dict(self.headers.items()), self.client_address[0])
            response = pool.resolve(event)
            body = response.get("body") or ""
            payload = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode("utf-8")
            headers = {name: str(value) for name, value in (response.get("headers") or {}).items()}
            self._send(int(response.get("statusCode", 200)), headers, payload, send_body)
            # Path only: query strings hold filter values and ticket ids, never bodies, but keep logs lean.
            log.debug("%s %s %s %.1f ms", self.command, urlsplit(self.path).path, response.get("statusCode"),
                      (time.perf_counter() - started) * 1000)

        def _send(self, status: int, headers: dict[str, str], payload: bytes, send_body: bool) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if send_body:
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
