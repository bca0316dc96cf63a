"""Which emulator answers at an endpoint, and whether the template's functions can run there."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Literal

EmulatorKind = Literal["moto", "localstack", "other"]

_TIMEOUT_S = 5.0


def _get_json(url: str) -> Any:
    """The JSON an HTTP GET returns, or None for any failure (refused, 404, not JSON)."""
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
            return json.loads(response.read().decode("utf-8") or "null")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def identify(endpoint: str) -> EmulatorKind:
    """LocalStack answers ``/_localstack/health``, moto's server ``/moto-api/config`` (its
    small settings document: ``data.json`` would serialise every backend, and fails once a
    Lambda function exists without Docker)."""
    base = endpoint.rstrip("/")
    health = _get_json(f"{base}/_localstack/health")
    if isinstance(health, dict) and "services" in health:
        return "localstack"
    if isinstance(_get_json(f"{base}/moto-api/config"), dict):
        return "moto"
    return "other"


@dataclass(frozen=True)
class DeployTarget:
    """Where the template goes, and whether its functions (and their layers, roles, event
    source mapping and schedule) are deployed, with the reason, for the user."""

    emulator: EmulatorKind
    functions: bool
    reason: str

    @property
    def runs_functions(self) -> bool:
        """The emulator itself invokes the deployed functions (moto never does: the local
        runner plays the event source there)."""
        return self.functions and self.emulator != "moto"


def deploy_target(endpoint: str, functions: bool | None = None) -> DeployTarget:
    """Decide the deployment mode for ``endpoint``; ``functions`` forces it.

    moto cannot run Lambda code without Docker; LocalStack can when it runs in Docker (as
    users usually start it: ``is_docker`` in ``/_localstack/info``), not when its runtime
    runs on the host (``ticketlens localstack start``).
    """
    emulator = identify(endpoint)
    if functions is not None:
        return DeployTarget(emulator, functions, "as asked (--functions)")
    if emulator == "moto":
        return DeployTarget(emulator, False, "moto runs no Lambda code: the local SQS runner plays the functions")
    if emulator == "localstack":
        info = _get_json(f"{endpoint.rstrip('/')}/_localstack/info")
        if isinstance(info, dict) and info.get("is_docker") is True:
            return DeployTarget(emulator, True, "LocalStack runs in Docker: its Lambda service runs the functions")
        return DeployTarget(
            emulator, False,
            "LocalStack runs without Docker (is_docker false in /_localstack/info): its Lambda service cannot "
            "run functions, so ticket-processor / the demo's runner plays them",
        )
    return DeployTarget(
        emulator, False, "not an emulator ticketlens knows: functions left out (--functions on to deploy them)"
    )

