"""The triage board: a read-only web view of the tickets, live, in the browser.

One app (:func:`create_app`, powertools' event handler) behind two front doors:
``ticketlens board`` serves it on 127.0.0.1 (:class:`BoardServer`), and template.yaml's
``BoardFunction`` serves it behind a Lambda Function URL (:func:`lambda_handler`).
It reads through the metadata table's GSIs, the enriched bucket and the queues; it
never writes. See docs/board.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._app import create_app, explain_urgency
from ._data import BoardData, Counts, Page, TicketFilter
from ._server import BoardServer, function_url_event

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

DEFAULT_PORT = 8765


def start_board(port: int = DEFAULT_PORT, data: BoardData | None = None) -> BoardServer:
    """Serve the board for the configured deployment from a daemon thread; returns the server
    (``.url`` to print, ``.stop()`` when done). ``port=0`` picks a free port. Raises OSError
    when the port is taken."""
    return BoardServer(data=data, port=port).start()


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The BoardFunction's entry point (functions/board/app.py)."""
    from ._lambda import lambda_handler as handler

    return handler(event, context)


__all__ = [
    "DEFAULT_PORT",
    "BoardData",
    "BoardServer",
    "Counts",
    "Page",
    "TicketFilter",
    "create_app",
    "explain_urgency",
    "function_url_event",
    "lambda_handler",
    "start_board",
]
