"""The board's routes: pages, static assets and the JSON API, on powertools' event handler.

One app for both front doors: Lambda hands it Function URL events, and ``ticketlens board``
turns each local HTTP request into the same event (:mod:`._server`). Everything is GET:
the board reads and never writes. Pages are fixed HTML shells that fetch the JSON API and
build the DOM with text nodes only, so nothing a customer wrote is ever parsed as markup.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from importlib import resources
from typing import Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from ..enrichment import urgency as urgency_rules
from ..schemas import DEFAULT_INTENTS, SENTIMENTS, URGENCY_LEVELS
from ._data import BoardData, TicketFilter

log = logging.getLogger("ticketlens.board")

STATIC = resources.files("ticketlens.board") / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Only the app's own files, no inline script or style, no frames, no forms posting anywhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
# Counts over time: window -> (seconds, bucket seconds).
WINDOWS: dict[str, tuple[int, int]] = {
    "1h": (3600, 120),
    "6h": (6 * 3600, 900),
    "24h": (24 * 3600, 3600),
    "7d": (7 * 24 * 3600, 6 * 3600),
}
MAX_LIMIT = 200
_INTENT = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class BadRequest(ValueError):
    """A query parameter the API cannot use; the message says which and why."""


def create_app(data: BoardData | None = None, clock: Callable[[], float] | None = None) -> LambdaFunctionUrlResolver:
    """The board app. ``data`` defaults to the configured deployment, built on first use."""
    import time

    now = clock or time.time
    app = LambdaFunctionUrlResolver()
    holder: list[BoardData] = [data] if data is not None else []

    def board() -> BoardData:
        if not holder:
            holder.append(BoardData())
        return holder[0]

    def query(name: str, default: str = "") -> str:
        params = app.current_event.query_string_parameters or {}
        return str(params.get(name, default)).strip()

    # -- pages and assets ----------------------------------------------------------------
    @app.get("/")
    def index() -> Response[str]:
        return _static("index.html")

    @app.get("/ticket")
    def ticket_page() -> Response[str]:
        return _static("ticket.html")

    @app.get("/static/<name>")
    def static(name: str) -> Response[str]:
        return _static(name)

    # -- the JSON API --------------------------------------------------------------------
    @app.get("/api/meta")
    def meta() -> Response[str]:
        s = board().store.settings
        return _json(200, {
            "intents": list(DEFAULT_INTENTS), "urgencies": list(URGENCY_LEVELS), "sentiments": list(SENTIMENTS),
            "windows": list(WINDOWS), "table": s.table_name, "endpoint": s.endpoint_url or "AWS",
        })

    @app.get("/api/tickets")
    def tickets() -> Response[str]:
        filters = TicketFilter(
            intent=_choice("intent", query("intent"), None),
            urgency=_choice("urgency", query("urgency"), URGENCY_LEVELS),
            sentiment=_choice("sentiment", query("sentiment").upper(), SENTIMENTS),
            max_confidence=_fraction("max_confidence", query("max_confidence")),
        )
        page = board().tickets(filters, limit=_limit(query("limit")))
        return _json(200, {"tickets": page.tickets, "complete": page.complete, "items_read": page.items_read,
                           "index": page.index, "filters": asdict(filters), "now": int(now())})

    @app.get("/api/urgent")
    def urgent() -> Response[str]:
        hours = _number("hours", query("hours", "24"), 0, 24 * 90)
        since = 0 if hours == 0 else int(now() - hours * 3600)
        return _json(200, {"tickets": board().urgent(since, limit=_limit(query("limit"))), "since": since,
                           "levels": ["critical", "high"], "now": int(now())})

    @app.get("/api/counts")
    def counts() -> Response[str]:
        window = query("window", "1h")
        if window not in WINDOWS:
            raise BadRequest(f"window must be one of {', '.join(WINDOWS)}")
        seconds, bucket_s = WINDOWS[window]
        return _json(200, {"window": window, **asdict(board().counts(seconds, bucket_s))})

    @app.get("/api/incidents")
    def incidents() -> Response[str]:
        hours = _number("hours", query("hours", "24"), 1, 24 * 7)
        return _json(200, {"incidents": board().incidents(int(hours), limit=_limit(query("limit", "10"))),
                           "hours": int(hours), "now": int(now())})

    @app.get("/api/ticket")
    def ticket() -> Response[str]:
        ticket_id = query("id")
        if not 1 <= len(ticket_id) <= 128:
            raise BadRequest("id must be a ticket id (1 to 128 characters)")
        found = board().ticket(ticket_id)
        if found is None:
            return _json(404, {"error": "no such ticket", "ticket_id": ticket_id})
        item, record = found
        return _json(200, ticket_view(item, record))

    @app.get("/api/status")
    def status() -> Response[str]:
        return _json(200, {**board().queues(), "now": int(now())})

    @app.get("/api/dlq")
    def dlq() -> Response[str]:
        b = board()
        return _json(200, {"messages": b.dead_letters(_limit(query("limit", "10"))), **b.queues()})

    @app.get("/api/rejects")
    def rejects() -> Response[str]:
        found, total = board().rejects(_limit(query("limit", "20")))
        return _json(200, {"rejects": found, "total": total})

    # -- errors are JSON with a reason -------------------------------------------------------
    @app.exception_handler(BadRequest)  # type: ignore[untyped-decorator]  # powertools' decorator is unannotated
    def bad_request(error: BadRequest) -> Response[str]:
        return _json(400, {"error": str(error)})

    @app.exception_handler(BotoCoreError)  # type: ignore[untyped-decorator]  # powertools' decorator is unannotated
    def unreachable(error: BotoCoreError) -> Response[str]:
        log.warning("board: AWS call failed: %s", type(error).__name__)
        reason = "cannot reach the AWS endpoint" if isinstance(error, EndpointConnectionError) else str(error)
        return _json(503, {"error": reason})

    @app.exception_handler(ClientError)  # type: ignore[untyped-decorator]  # powertools' decorator is unannotated
    def aws_error(error: ClientError) -> Response[str]:
        code = error.response.get("Error", {}).get("Code", "")
        log.warning("board: AWS said %s", code)
        missing = code in ("ResourceNotFoundException", "NoSuchBucket", "AWS.SimpleQueueService.NonExistentQueue",
                           "QueueDoesNotExist")
        hint = " (is the stack deployed? `ticketlens setup`)" if missing else ""
        return _json(502, {"error": f"{code}: {error.response.get('Error', {}).get('Message', '')}{hint}"})

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        return _json(404, {"error": "not found"})

    return app


def ticket_view(item: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """A ticket's page: the full record (the embedding as its size) and why it got its urgency."""
    enrichment = dict(record.get("enrichment") or {})
    embedding = enrichment.pop("embedding", None)
    if isinstance(embedding, list):
        enrichment["embedding_dimensions"] = len(embedding)
    view = {**record, "enrichment": enrichment, "s3_key": item.get("s3_key")}
    return {"ticket": view, "urgency": explain_urgency(record)}


def explain_urgency(record: dict[str, Any]) -> dict[str, Any]:
    """The urgency rules replayed on the stored record (text, intent, sentiment, priority).

    The record keeps the winning sentiment's confidence only, so P(NEGATIVE) is exact for
    a NEGATIVE ticket and bounded otherwise; the rules' version says whether today's rules
    are the ones that judged it.
    """
    e = record.get("enrichment") or {}
    subject, body = str(record.get("subject") or ""), str(record.get("body") or "")
    text = f"{subject}\n{body}" if subject and body else subject or body
    sentiment, confidence = e.get("sentiment"), float(e.get("sentiment_confidence") or 0.0)
    if sentiment == "NEGATIVE":
        low, high = confidence, None
    else:
        low, high = 0.0, max(0.0, 1.0 - confidence)
    explained = urgency_rules.explain(text, str(e.get("intent", "")), low, record.get("priority"), high)
    version = f"urgency-{urgency_rules.RULES_VERSION}"
    return {
        "level": e.get("urgency"),
        "confidence": e.get("urgency_confidence"),
        "score": round(explained.score, 3),
        "score_max": round(explained.score_max, 3),
        "replayed_level": explained.level,
        "replayed_level_max": explained.level_max,
        "contributions": [asdict(c) for c in explained.contributions],
        "thresholds": dict(explained.thresholds),
        "rules_version": version,
        "same_rules": version in str(e.get("model_version", "")),
    }


# -- helpers ----------------------------------------------------------------------------
def _static(name: str) -> Response[str]:
    suffix = name[name.rfind("."):] if "." in name else ""
    path = STATIC / name
    if "/" in name or "\\" in name or name.startswith(".") or suffix not in CONTENT_TYPES or not path.is_file():
        return _json(404, {"error": "not found"})
    return Response(200, CONTENT_TYPES[suffix], path.read_text(encoding="utf-8"), headers=dict(SECURITY_HEADERS))


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    """Every response carries the security headers; JSON is never sniffed as HTML."""
    text = json.dumps(body, separators=(",", ":"), default=_plain)
    return Response(status, "application/json", text, headers=dict(SECURITY_HEADERS))


def _plain(value: object) -> object:
    """DynamoDB's nested numbers (Decimal) and sets, as JSON has them."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _limit(raw: str) -> int:
    if not raw:
        return 50
    return int(_number("limit", raw, 1, MAX_LIMIT))


def _number(name: str, raw: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low:g} and {high:g}")
    return value


def _fraction(name: str, raw: str) -> float | None:
    return None if not raw else _number(name, raw, 0.0, 1.0)


def _choice(name: str, raw: str, allowed: tuple[str, ...] | None) -> str:
    if not raw:
        return ""
    if allowed is None:
        if not _INTENT.match(raw):
            raise BadRequest(f"{name} must be letters, digits, '_', '-' or '.' (at most 64)")
        return raw
    if raw not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(allowed)}")
    return raw
