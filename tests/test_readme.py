"""The README's examples run as written: its console block is what the command prints today,
and the commands it tells a new user to type exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ticketlens.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

pytestmark = pytest.mark.slow  # loads the real models


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", README, flags=re.S)


def test_the_console_example_is_what_the_command_prints(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the README's console block: a command line, then what it printed
    (block,) = blocks("console")
    command, *shown = block.rstrip("\n").splitlines()
    argv = shlex.split(command.removeprefix("$ "))
    assert argv[0] == "ticketlens"
    # WHEN the command runs now, from the repository root
    monkeypatch.chdir(ROOT)
    capsys.readouterr()
    assert main(argv[1:]) == 0
    # THEN it prints exactly what the README shows (regenerate the block when models change)
    assert capsys.readouterr().out.rstrip("\n").splitlines() == shown


def test_the_commands_a_new_user_is_told_to_type_exist() -> None:
    # GIVEN every `ticketlens ...` line of the README's shell blocks
    lines = [line.split("#")[0].strip() for block in blocks("bash") for line in block.splitlines()]
    commands = [shlex.split(line) for line in lines if line.startswith("ticketlens ")]
    assert len(commands) >= 8
    parser = build_parser()
    # THEN each parses as a ticketlens command (a typo or a renamed command fails here)
    for argv in commands:
        try:
            args = parser.parse_args(argv[1:])
        except SystemExit as error:  # argparse exits on an unknown command or option
            raise AssertionError(f"README command does not parse: {' '.join(argv)}") from error
        assert getattr(args, "func", None) is not None, argv
