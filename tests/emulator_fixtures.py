"""The pipeline tests' two emulators: moto in-process, and LocalStack started without Docker.

A test runs on moto alone unless it (or its module) carries :data:`ON_BOTH_EMULATORS`, which
runs it once per emulator; the LocalStack run is marked ``localstack``
(``pytest -m "not localstack"`` leaves those out). LocalStack is started once per session
by ``ticketlens localstack start --instance tests`` on a free port and stopped at the end,
or taken from ``$TICKETLENS_TEST_LOCALSTACK_URL`` when one is already running.

Without Python 3.13 LocalStack cannot run: its tests are skipped with that reason, except
in CI (``CI=true``), where they fail, as they do anywhere LocalStack fails to start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

LOCALSTACK_URL_ENV = "TICKETLENS_TEST_LOCALSTACK_URL"

ON_BOTH_EMULATORS = pytest.mark.parametrize(
    "pipeline_endpoint", ["moto", pytest.param("localstack", marks=pytest.mark.localstack)], indirect=True
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def localstack_endpoint() -> Iterator[str]:
    """GIVEN LocalStack's runtime on a loopback port, for the whole session."""
    from ticketlens.emulators import localstack
    from ticketlens.emulators.moto import free_port

    url = os.environ.get(LOCALSTACK_URL_ENV)
    if url:
        if localstack.health(url) is None:
            pytest.fail(f"${LOCALSTACK_URL_ENV} is {url}, but no LocalStack answers there")
        yield url
        return
    layout = localstack.Layout.find("tests")
    try:
        running = localstack.start(layout, port=free_port(), log=print)
    except localstack.PythonNotFound as error:
        if in_ci():
            pytest.fail(f"CI must run the LocalStack tests: {error}")
        pytest.skip(str(error))
    except localstack.LocalStackError as error:
        pytest.fail(f"LocalStack did not start: {error}")
    try:
        yield running.url
    finally:
        localstack.stop(layout)


@pytest.fixture(scope="session")
def pipeline_endpoint(request: pytest.FixtureRequest) -> str:
    """The emulator a pipeline test runs on: moto, or the one :data:`ON_BOTH_EMULATORS` names."""
    kind = getattr(request, "param", "moto")
    return str(request.getfixturevalue("emulator_endpoint" if kind == "moto" else "localstack_endpoint"))
