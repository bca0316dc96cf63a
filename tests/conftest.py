"""Shared fixtures. The AWS emulator is a real moto server on loopback: tests make real
boto3 calls over HTTP, nothing is patched in-process."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from emulator_fixtures import localstack_endpoint, pipeline_endpoint  # noqa: F401 - fixtures

DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def emulator_endpoint() -> Iterator[str]:
    """GIVEN a moto server on a loopback port, for the whole test session.

    ticketlens' own emulator wrapper: moto's server app, HTTP/1.1 keep-alive.
    """
    from ticketlens.emulators.moto import Emulator

    emulator = Emulator().start()
    try:
        yield emulator.url
    finally:
        emulator.stop()


def _forget_cached_clients() -> None:
    from ticketlens.handlers.enrich import reset_runtime
    from ticketlens.settings import get_settings

    get_settings.cache_clear()
    reset_runtime()


@pytest.fixture
def aws_env(emulator_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point boto3 and ticketlens at the emulator with dummy credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator_endpoint)
    for name, value in DUMMY_AWS.items():
        monkeypatch.setenv(name, value)
    from ticketlens.settings import get_settings

    get_settings.cache_clear()
    yield emulator_endpoint
    get_settings.cache_clear()


@dataclass
class Pipeline:
    """template.yaml deployed to the emulator under names of its own."""

    stack: Any
    settings: Any
    store: Any
    endpoint: str

    def runner(self, handler: Any = None, **kwargs: Any) -> Any:
        """The template's event source; ``handler`` (a callable, e.g. a spy around the real
        handler) runs in this process, else the real handler runs in worker processes."""
        from ticketlens.runner.sqs import for_stack

        kwargs.setdefault("idle_wait_s", 1)
        return for_stack(self.stack, self.settings, handler=handler, **kwargs)


def pipeline_env(endpoint: str, suffix: str | None) -> dict[str, str]:
    """Environment for a stack whose resources are named ``<seed name>-<suffix>``."""
    env = {"AWS_ENDPOINT_URL": endpoint, **DUMMY_AWS}
    if suffix:
        env.update(
            TICKETLENS_STACK_NAME=f"ticketlens-{suffix}",
            TICKETLENS_RAW_BUCKET=f"tickets-raw-{suffix}",
            TICKETLENS_ENRICHED_BUCKET=f"tickets-enriched-{suffix}",
            TICKETLENS_QUEUE_NAME=f"ticket-processing-queue-{suffix}",
            TICKETLENS_DLQ_NAME=f"ticket-processing-dlq-{suffix}",
            TICKETLENS_TABLE_NAME=f"tickets-metadata-{suffix}",
            TICKETLENS_IDEMPOTENCY_TABLE=f"tickets-idempotency-{suffix}",
            TICKETLENS_COUNTS_TABLE=f"tickets-counts-{suffix}",
        )
    return env


def deploy_pipeline(endpoint: str, suffix: str | None = None) -> Iterator[Pipeline]:
    from ticketlens.deploy.stack import deploy
    from ticketlens.settings import get_settings
    from ticketlens.store import TicketStore

    with pytest.MonkeyPatch.context() as mp:
        for name, value in pipeline_env(endpoint, suffix).items():
            mp.setenv(name, value)
        _forget_cached_clients()
        settings = get_settings()
        stack = deploy(settings)
        try:
            yield Pipeline(stack=stack, settings=settings, store=TicketStore(settings), endpoint=endpoint)
        finally:
            _forget_cached_clients()


@pytest.fixture(scope="module")
def pipeline(pipeline_endpoint: str) -> Iterator[Pipeline]:  # noqa: F811 - the imported fixture, by name
    """GIVEN template.yaml deployed to the emulator (SAM transform offline + CloudFormation),
    with resource names unique to this test module. moto, or LocalStack too where the test
    is parametrised over both (tests/emulator_fixtures.py)."""
    yield from deploy_pipeline(pipeline_endpoint, uuid.uuid4().hex[:8])


@contextlib.contextmanager
def captured_logs(logger: Any) -> Iterator[io.StringIO]:
    """A powertools Logger's output, captured. Its handler keeps the stream it was created
    with (maybe an earlier test's, long closed), so the stream is swapped directly, not
    through setStream(), which would flush the old one."""
    stream = io.StringIO()
    handler = logger.registered_handler
    previous, handler.stream = handler.stream, stream
    try:
        yield stream
    finally:
        handler.stream = previous
