"""Which emulator answers at an endpoint, and the deployment mode chosen for it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ticketlens.emulators import deploy_target, identify
from ticketlens.emulators.moto import free_port


def test_moto_is_identified_and_gets_no_functions(emulator_endpoint: str) -> None:
    # WHEN the embedded moto server is asked about
    target = deploy_target(emulator_endpoint)
    # THEN it is moto, where the local runner plays the functions
    assert identify(emulator_endpoint) == "moto"
    assert (target.emulator, target.functions, target.runs_functions) == ("moto", False, False)
    # AND --functions on is obeyed, though moto still runs nothing
    forced = deploy_target(emulator_endpoint, functions=True)
    assert forced.functions and not forced.runs_functions


def test_nothing_listening_is_other_and_gets_no_functions() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    target = deploy_target(endpoint)
    assert (target.emulator, target.functions) == ("other", False)
    assert "--functions on" in target.reason


@pytest.mark.localstack
def test_localstack_on_the_host_gets_no_functions(localstack_endpoint: str) -> None:
    # WHEN LocalStack started without Docker is asked about
    target = deploy_target(localstack_endpoint)
    # THEN its Lambda service cannot run code: functions are left out, and the reason says why
    assert identify(localstack_endpoint) == "localstack"
    assert (target.emulator, target.functions) == ("localstack", False)
    assert "is_docker false" in target.reason


@pytest.fixture
def localstack_in_docker() -> Iterator[str]:
    """A server answering /_localstack/health and /_localstack/info as LocalStack's Docker image
    does (this machine has no Docker to run the image itself)."""
    documents = {
        "/_localstack/health": {"services": {"lambda": "available", "s3": "running"}, "edition": "community"},
        "/_localstack/info": {"version": "2026.3.0", "is_docker": True},
    }

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's name for GET
            document = documents.get(self.path)
            self.send_response(200 if document else 404)
            self.end_headers()
            self.wfile.write(json.dumps(document).encode() if document else b"")

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_localstack_in_docker_gets_the_functions(localstack_in_docker: str) -> None:
    target = deploy_target(localstack_in_docker)
    assert (target.emulator, target.functions, target.runs_functions) == ("localstack", True, True)
    # AND --functions off is obeyed
    assert deploy_target(localstack_in_docker, functions=False).functions is False
