"""`ticketlens board` on the command line."""

from __future__ import annotations

import socket

from ticketlens.board.commands import cmd_board
from ticketlens.cli import build_parser


def test_board_command_is_registered_with_endpoint_and_port() -> None:
    # WHEN the CLI parses `ticketlens board --endpoint URL --port N`
    args = build_parser().parse_args(["board", "--endpoint", "http://127.0.0.1:4566", "--port", "0"])
    # THEN the board command runs with them (default port 8765 otherwise)
    assert args.func is cmd_board and args.endpoint == "http://127.0.0.1:4566" and args.port == 0
    assert build_parser().parse_args(["board"]).port == 8765


def test_a_taken_port_is_an_error_with_a_way_out(aws_env, capsys) -> None:
    # GIVEN a port already in use on loopback
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # WHEN the board is asked to serve there
        code = cmd_board(build_parser().parse_args(["board", "--port", str(port)]))
    # THEN it exits 1 and says to pick another port
    assert code == 1
    assert f"cannot serve on 127.0.0.1:{port}" in capsys.readouterr().err
