"""The Flox manifest (untestable here: Flox is not installable on this machine) at least
parses, follows manifest.toml(5)'s shape, and names console scripts that exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / ".flox" / "env" / "manifest.toml"

# manifest.toml(5): top-level tables and what a service descriptor may hold
SECTIONS = {"version", "schema-version", "install", "vars", "hook", "profile", "services", "options", "build",
            "containerize", "include"}
SERVICE_KEYS = {"command", "vars", "is-daemon", "shutdown", "systems"}


def manifest() -> dict:
    return tomllib.loads(MANIFEST.read_text())


def console_scripts() -> set[str]:
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])


def test_manifest_parses_with_the_documented_sections() -> None:
    data = manifest()
    assert data["version"] == 1
    assert set(data) <= SECTIONS
    for name, descriptor in data["install"].items():
        assert set(descriptor) <= {"pkg-path", "pkg-group", "version", "systems", "priority"}, name
        assert descriptor["pkg-path"]
    for name, service in data["services"].items():
        assert set(service) <= SERVICE_KEYS, name
        if service.get("is-daemon"):
            assert service["shutdown"]["command"], f"{name}: a daemon needs shutdown.command"
    assert set(data["options"]["systems"]) <= {"aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"}


def test_manifest_gives_what_the_seed_environment_gave() -> None:
    data = manifest()
    assert {"python3", "aws-sam-cli", "localstack"} <= set(data["install"])
    assert "awscli-local" in data["vars"].values() or "awscli-local" in data["hook"]["on-activate"]
    variables = data["vars"]
    assert variables["AWS_ENDPOINT_URL"] == "http://localhost:4566"
    assert variables["AWS_REGION"] == "us-east-1"
    assert variables["AWS_ACCESS_KEY_ID"] and variables["AWS_SECRET_ACCESS_KEY"]
    assert "TICKETLENS_MODEL_DIR" in data["hook"]["on-activate"]  # the model cache
    assert {"localstack", "ticket-processor", "ticket-generator"} <= set(data["services"])


def test_services_run_console_scripts_that_exist() -> None:
    scripts = console_scripts()
    assert {"ticketlens", "ticket-processor", "ticket-generator"} <= scripts
    for name in ("ticket-processor", "ticket-generator"):
        command = manifest()["services"][name]["command"]
        used = set(re.findall(r"venv/bin/([\w-]+)", command))
        assert name in used
        assert used <= scripts, f"{name} calls {used - scripts}"
