"""Process plumbing of ``elanus cluster up`` (:mod:`elanus.cluster.launcher`): ports, children, sessions.

Everything here is stateless: free ports, starting a child so that it dies with
the launcher, stopping children (SIGTERM, grace, SIGKILL), probing gRPC health
of many addresses at once, and reading session records out of the meta store.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from elanus.cluster.healthcheck import ServingStatus, check
from elanus.cluster.infra import free_ports, tail, terminate
from elanus.cluster.session import PREFIX as SESSION_PREFIX

__all__ = ["SESSION_PREFIX", "alive", "busy_ports", "free_ports", "parse_sessions", "probe_all", "spawn", "tail",
           "terminal_keys", "terminate"]


def busy_ports(host: str, ports: Iterable[int]) -> list[int]:
    """Those of ``ports`` that cannot be bound on ``host`` right now (in use, or not allowed)."""
    busy = []
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                busy.append(port)
    return busy


def parse_sessions(items: Iterable[tuple[str, bytes]]) -> dict[int, list[dict[str, Any]]]:
    """Session records by pid, from ``(key, value)`` pairs under ``session/``.

    Values that are not JSON objects with an integer ``pid`` (counters, election
    keys in another shape) are ignored.
    """
    by_pid: dict[int, list[dict[str, Any]]] = {}
    for key, value in items:
        try:
            record = json.loads(value)
        except (ValueError, UnicodeDecodeError):
            continue
        if not isinstance(record, dict) or not isinstance(record.get("pid"), int):
            continue
        record.setdefault("role", key[len(SESSION_PREFIX):].split("/", 1)[0])
        by_pid.setdefault(record["pid"], []).append(record)
    return by_pid


def probe_all(addresses: list[str]) -> dict[str, ServingStatus]:
    """Health of each address, probed concurrently (fail-fast: no waiting for a server to appear)."""
    if not addresses:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(addresses))) as pool:
        results = pool.map(lambda a: check(a, timeout=1.0, wait_for_ready=False), addresses)
        return dict(zip(addresses, results, strict=True))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# Run first in the child (a tiny Python prologue, then exec of the real command, same pid): ask Linux for
# SIGTERM when the launcher dies, so no role outlives a killed launcher. A prologue instead of a
# ``preexec_fn``: that one would run Python's after-fork hooks in the child (gRPC's among them), and it
# forces a plain fork of a threaded parent. If the launcher is already gone (parent pid changed), exit.
_PROLOGUE = (
    "import os, signal, sys\n"
    "if sys.platform.startswith('linux'):\n"
    "    import ctypes\n"
    "    ctypes.CDLL(None).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def spawn(argv: Sequence[str], log_path: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own process group (a terminal's Ctrl-C reaches only the launcher), stdout and
    stderr appended to ``log_path``, and (Linux) SIGTERM'd when the launcher dies."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-c", _PROLOGUE, str(os.getpid()), *argv],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=dict(env),
                                process_group=0)


@contextlib.contextmanager
def terminal_keys(on_quit: Callable[[], None]) -> Iterator[None]:
    """While inside: on a terminal stdin, Ctrl-C, ``q`` or end of input call ``on_quit`` (once per key).

    The terminal's own Ctrl-C handling (ISIG) and echo are switched off meanwhile, because a
    terminal's SIGINT goes to the whole foreground process group, infrastructure servers
    included, which must outlive the roles during an orderly stop. Restored on exit. Without a
    terminal stdin this does nothing (signals then stop the launcher, as usual).
    """
    if not sys.stdin.isatty():
        yield
        return
    import termios

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    raw = termios.tcgetattr(fd)
    raw[3] &= ~(termios.ISIG | termios.ICANON | termios.ECHO)
    raw[6][termios.VMIN], raw[6][termios.VTIME] = 1, 0
    termios.tcsetattr(fd, termios.TCSANOW, raw)
    done = threading.Event()

    def read_keys() -> None:
        while not done.is_set():
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            key = os.read(fd, 1)
            if key in (b"\x03", b"q", b"Q", b""):
                on_quit()
            if key == b"":
                return

    reader = threading.Thread(target=read_keys, name="launcher-keys", daemon=True)
    reader.start()
    try:
        yield
    finally:
        done.set()
        reader.join(timeout=1.0)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
