"""The board on Lambda: a Function URL (IAM auth by default) in front of the same app."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ._app import create_app

# Built once per execution environment; the data layer (clients, the counts cache) is
# created on the first request and kept while the environment is warm.
app = create_app()


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
