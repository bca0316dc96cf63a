"""`ticketlens localstack`: where it keeps things, how it finds Python 3.13, and a whole
start / status / stop cycle of a LocalStack of its own."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from emulator_fixtures import in_ci

from ticketlens.cli import main
from ticketlens.emulators import localstack
from ticketlens.emulators.moto import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_layout_keeps_everything_under_the_checkouts_ignored_folders() -> None:
    # WHEN the layout is found from a folder inside the checkout
    layout = localstack.Layout.find("demo", start=ROOT / "src" / "ticketlens")
    # THEN the venv and the state live in ignored folders of the checkout
    assert layout.project == ROOT
    assert layout.venv == ROOT / ".venv-localstack"
    assert layout.filesystem_root == ROOT / ".ticketlens" / "localstack" / "demo" / "fs"
    assert layout.log_file.parent == layout.state_file.parent == ROOT / ".ticketlens" / "localstack" / "demo"
    ignored = subprocess.run(["git", "check-ignore", ".venv-localstack", ".ticketlens/localstack/demo/fs"],
                             cwd=ROOT, capture_output=True, text=True, check=False)
    assert ignored.stdout.split() == [".venv-localstack", ".ticketlens/localstack/demo/fs"]


def test_runtime_env_runs_it_on_loopback_with_its_own_filesystem(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a shell pointed at some AWS endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    layout = localstack.Layout.find("demo")
    # WHEN the runtime's environment is made
    env = localstack.runtime_env(layout, 4599)
    # THEN it listens on loopback, keeps its files under the instance, and takes no AWS client settings
    assert env["GATEWAY_LISTEN"] == env["LOCALSTACK_HOST"] == "127.0.0.1:4599"
    assert env["FILESYSTEM_ROOT"] == str(layout.filesystem_root)
    assert env["OVERRIDE_IN_DOCKER"] == "0" and env["DNS_ADDRESS"] == "0" and env["DISABLE_EVENTS"] == "1"
    assert not [name for name in env if name.startswith("AWS_")]


def test_without_python_313_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN a machine whose only Python is this one (3.11) and an empty pyenv
    monkeypatch.setenv(localstack.PYTHON_ENV, sys.executable)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    # WHEN LocalStack's Python is looked for
    with pytest.raises(localstack.PythonNotFound) as missing:
        localstack.find_python()
    # THEN the message names the version and how to get it
    message = str(missing.value)
    assert "Python 3.13" in message and "pyenv install 3.13" in message and localstack.PYTHON_ENV in message


def test_python_313_is_found_where_the_machine_has_one() -> None:
    try:
        python = localstack.find_python()
    except localstack.PythonNotFound as error:
        if in_ci():
            raise
        pytest.skip(str(error))
    version = subprocess.run([str(python), "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == "(3, 13)"


def test_start_refuses_a_port_another_program_holds() -> None:
    # GIVEN a port in use
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        # THEN start says so instead of starting a LocalStack that cannot listen
        with pytest.raises(localstack.LocalStackError, match=f"port {port} is in use"):
            localstack.start(localstack.Layout.find("port-test"), port=port)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
@pytest.mark.localstack
def test_start_status_stop_cycle(localstack_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN LocalStack installed (the session's LocalStack is running), and an instance of this test's own
    instance, port = "cycle-test", free_port()
    try:
        # WHEN it is started from the CLI
        assert main(["localstack", "start", "--instance", instance, "--port", str(port)]) == 0
        started = capsys.readouterr().out
        assert f"LocalStack ready on http://127.0.0.1:{port}" in started and "DynamoDB answering after" in started

        # THEN status reports it with the services ticketlens needs, and it serves AWS calls
        assert main(["localstack", "status", "--instance", instance, "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["running"] and status["url"] == f"http://127.0.0.1:{port}" and status["rss_mb"] > 0
        assert {status["services"][s] for s in localstack.SERVICES} <= {"available", "running"}
        s3 = boto3.client("s3", endpoint_url=status["url"], region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
        s3.create_bucket(Bucket="cycle-test")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["cycle-test"]
        # AND a second start reuses it
        assert main(["localstack", "start", "--instance", instance, "--port", str(port)]) == 0
        assert "already running" in capsys.readouterr().out
        layout = localstack.Layout.find(instance)
        tree = localstack._process_tree(status["pid"])
        assert len(tree) >= 2  # LocalStack and DynamoDB Local

        # WHEN it is stopped
        assert main(["localstack", "stop", "--instance", instance]) == 0
        # THEN it and every process it started are gone, and status says so
        assert [pid for pid in tree if _alive(pid)] == []
        assert not layout.state_file.exists()
        assert main(["localstack", "status", "--instance", instance]) == 3
        assert "is not running" in capsys.readouterr().out
    finally:
        localstack.stop(localstack.Layout.find(instance))
