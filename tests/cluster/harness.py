"""A cluster of Elanus role processes for the multi-process tests.

Each role runs as ``python -m elanus.cli run --role R`` with the stores given through
``ELANUS_*`` variables (short session TTLs so losses are noticed in seconds). Output goes to
one log file per process; :meth:`Cluster.logs` shows the tails when something fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from elanus.cluster.election import active
from elanus.cluster.infra import free_port, tail
from elanus.cluster.launch_procs import busy_ports
from elanus.cluster.session import live_sessions
from elanus.storage import open_meta
from elanus.storage.meta.base import MetaStore

SESSION_TTL = 3.0
READY_TIMEOUT = 90.0


def free_port_run(count: int) -> int:
    """A port p such that p .. p+count-1 are all free right now."""
    for _ in range(100):
        p = free_port()
        if p + count <= 65536 and not busy_ports("127.0.0.1", range(p, p + count)):
            return p
    raise RuntimeError("no run of free ports")


@dataclass
class Proc:
    name: str
    role: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int = 0

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        return tail(self.log, lines)


@dataclass
class Cluster:
    """Processes sharing one meta store prefix, bucket prefix and WAL namespace."""

    workdir: Path
    env: dict[str, str]
    meta_url: str
    procs: dict[str, Proc] = field(default_factory=dict)
    _meta: MetaStore | None = None

    @property
    def meta(self) -> MetaStore:
        if self._meta is None:
            self._meta = open_meta(self.meta_url)
        return self._meta

    def spawn(self, name: str, role: str, *, port: int | None = None, config_file: bool = False) -> Proc:
        """Start ``elanus run --role role``; with ``config_file`` the stores and session settings
        come from a TOML file (``--config``) instead of the ``ELANUS_*`` variables."""
        log = self.workdir / f"{name}.log"
        argv = [sys.executable, "-m", "elanus.cli", "run", "--role", role,
                "--data-dir", str(self.workdir / name), "--log-level", "info"]
        env = self.env
        if config_file:
            env = {k: v for k, v in self.env.items() if not k.startswith("ELANUS_")}
            argv += ["--config", str(self.write_config(name))]
        if role == "proxy":
            port = port or free_port()
            argv += ["--port", str(port)]
        with open(log, "ab") as out:
            popen = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        proc = Proc(name, role, popen, log, port or 0)
        self.procs[name] = proc
        return proc

    def write_config(self, name: str) -> Path:
        """A TOML settings file equivalent to this cluster's ``ELANUS_*`` variables."""
        e = self.env
        path = self.workdir / f"{name}.toml"
        path.write_text(
            f'[storage]\nmeta = "{e["ELANUS_META"]}"\nobjects = "{e["ELANUS_OBJECTS"]}"\nwal = "{e["ELANUS_WAL"]}"\n'
            f'[session]\nttl = {e["ELANUS_SESSION_TTL"]}\nkeepalive = {e["ELANUS_SESSION_KEEPALIVE"]}\n'
            f'[seal]\nmax_rows = {e["ELANUS_SEAL_MAX_ROWS"]}\n')
        return path

    def uri(self, name: str) -> str:
        return f"http://127.0.0.1:{self.procs[name].port}"

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        if proc.alive():
            os.kill(proc.popen.pid, sig)
        proc.popen.wait(timeout=30)

    def stop(self, name: str) -> None:
        self.kill(name, signal.SIGTERM)

    def count(self, role: str) -> int:
        return len(live_sessions(self.meta, role))

    def active_node(self, role: str = "mixcoord") -> int | None:
        info = active(self.meta, role)
        return None if info is None else info.node_id

    def wait(self, cond: Callable[[], bool], what: str, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            dead = [p.name for p in self.procs.values() if not p.alive() and p.popen.returncode not in (0, -9)]
            if dead or time.monotonic() > deadline:
                raise AssertionError(f"{what}: not reached (exited: {dead})\n{self.logs()}")
            time.sleep(0.2)

    def wait_ready(self, counts: dict[str, int]) -> None:
        """Every role has at least ``counts[role]`` live sessions, and a mixcoord is active."""
        self.wait(lambda: self.active_node() is not None
                  and all(self.count(r) >= n for r, n in counts.items()), "cluster ready")

    def logs(self, lines: int = 25) -> str:
        return "\n".join(f"--- {p.name} ({p.role}, rc={p.popen.returncode})\n{p.tail(lines)}"
                         for p in self.procs.values())

    def shutdown(self) -> None:
        for p in self.procs.values():  # SIGTERM all at once, then wait
            if p.alive():
                os.kill(p.popen.pid, signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(p.popen.pid, signal.SIGKILL)
                p.popen.wait(timeout=10)
        if self._meta is not None:
            self._meta.close()
            self._meta = None


def cluster_env(meta: str, objects: str, wal: str, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env.update({
        "ELANUS_META": meta, "ELANUS_OBJECTS": objects, "ELANUS_WAL": wal,
        "ELANUS_SESSION_TTL": str(SESSION_TTL), "ELANUS_SESSION_KEEPALIVE": "0.5",
        "ELANUS_SEAL_MAX_ROWS": "50000", "PYTHONUNBUFFERED": "1",
    })
    env.pop("ELANUS_ROLE", None)
    return env
