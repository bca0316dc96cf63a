"""Which AWS endpoint a command talks to, decided in one place.

In order: ``--endpoint URL`` (``--endpoint aws`` for AWS itself); ``AWS_ENDPOINT_URL`` (or
``TICKETLENS_ENDPOINT_URL``); else a local emulator this checkout started and that still
answers (the moto stack ``ticketlens demo`` / ``ticketlens emulator start`` leaves running,
then LocalStack's default instance from ``ticketlens localstack start``); else AWS.

An emulator takes any credentials: for one on this machine, dummy ones are filled in when
none are set, so ``ticketlens show urgent`` works in a new shell after ``make demo``.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

AWS = "aws"  # --endpoint aws: AWS itself, even with a local emulator running
# The --endpoint help of every command that goes through choose(): one text, one order.
ENDPOINT_HELP = ("AWS API endpoint (LocalStack, an emulator; 'aws' for AWS itself); default $AWS_ENDPOINT_URL, "
                 "else the local emulator this checkout left running, else AWS")
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "localstack", "localhost.localstack.cloud"}
STATE_DIR = Path(".ticketlens")


def is_emulator(endpoint: str | None) -> bool:
    """True for an endpoint on this machine (the embedded emulator, LocalStack): never AWS."""
    if not endpoint:
        return False
    host = (urlsplit(endpoint).hostname or "").lower()
    return host in LOCAL_HOSTS or host.startswith("127.")


def use_endpoint(url: str | None) -> None:
    """Point this process's boto3 and ticketlens Settings at ``url`` (None: AWS).

    For an emulator on this machine, dummy credentials and a region are filled in when the
    environment has none.
    """
    if url:
        os.environ["AWS_ENDPOINT_URL"] = url
    else:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        os.environ.pop("TICKETLENS_ENDPOINT_URL", None)
    if is_emulator(url):
        for name, value in DUMMY_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        os.environ.setdefault("AWS_REGION", "us-east-1")
        os.environ.setdefault("AWS_DEFAULT_REGION", os.environ["AWS_REGION"])
    from ..settings import get_settings

    get_settings.cache_clear()


@dataclass(frozen=True)
class LocalEmulator:
    url: str
    what: str  # "moto" or "LocalStack", for the user
    started_by: str  # the command that stops it


def answers(url: str, timeout_s: float = 2.0) -> bool:
    """Whether something answers HTTP at ``url``."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/moto-api/config", timeout=timeout_s):
            return True
    except OSError as error:  # an HTTP error status still means it answers
        return hasattr(error, "code")


def running_local() -> LocalEmulator | None:
    """The local emulator this checkout left running, if it still answers."""
    from . import moto

    state = moto.read_state()
    if state is not None and moto.alive(state):
        return LocalEmulator(state.url, "moto", "ticketlens emulator stop")
    try:
        from . import localstack

        found = localstack.status(localstack.Layout.find())
    except Exception:
        return None
    if found.running and found.url:
        return LocalEmulator(found.url, "LocalStack", "ticketlens localstack stop")
    return None


def choose(explicit: str | None, quiet: bool = False) -> str | None:
    """Decide the endpoint for this command (see the module's docstring); None means AWS."""
    if explicit:
        url = None if explicit.lower() == AWS else explicit
        use_endpoint(url)
        return url
    configured = os.environ.get("TICKETLENS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
    if configured:
        use_endpoint(configured)
        return configured
    local = running_local()
    if local is None:
        use_endpoint(None)
        return None
    if not quiet:
        print(f"(using the {local.what} stack at {local.url} that this checkout left running; "
              f"`--endpoint aws` for AWS, `{local.started_by}` to stop it)", file=sys.stderr)
    use_endpoint(local.url)
    return local.url


def read_json(path: Path) -> dict[str, object] | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None
