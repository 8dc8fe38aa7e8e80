"""``elanus cluster up``: a whole cluster of role processes on 127.0.0.1, for trying cluster mode.

What it does, in order:

1. **Infrastructure.** For each of meta store, object store and WAL, an
   ``ELANUS_META`` / ``ELANUS_OBJECTS`` / ``ELANUS_WAL`` already set in the
   environment is used as is; otherwise the server is started through
   :mod:`elanus.cluster.infra` (etcd, moto's S3 server, nats-server with
   JetStream, from the test extras) on free loopback ports. An etcd that cannot
   be started is fatal (there is no other multi-process meta store); without an
   S3 server the objects go to a shared local directory, and without nats-server
   the WAL falls back to ``objectstore``, each with a warning.
2. **Roles.** ``mixcoord`` first, then the data, index and query nodes and the
   proxies, each as ``python -m elanus run --role R`` in its own process group
   and set to receive SIGTERM if the launcher dies. Proxies listen on
   ``--port``, ``--port``+1, …; the other roles get free internal ports. Logs go
   to ``<data-dir>/logs/<name>.log``.
3. **Readiness.** A role is *up* when its gRPC server answers
   ``grpc.health.v1.Health/Check`` with SERVING (a proxy: any gRPC answer on its
   port) and, when the meta store is readable, its session
   ``session/<role>/<node_id>`` with its pid exists. It is *lost* when its
   process exits or, once seen, its session disappears. Startup fails
   (everything is stopped, exit 1) if a role exits or is not up within
   ``--ready-timeout`` seconds.
4. **Status.** A table (name, role, node id, pid, address, state) of the
   infrastructure and the roles: redrawn every second on a terminal; with
   ``--no-tty``/``--once`` (or when stdout is not a terminal) printed once
   when all are up, followed by the line ``elanus cluster: ready`` and then one
   line per later state change. The pymilvus URIs are printed with it.
5. **Shutdown** on SIGINT/SIGTERM, or Ctrl-C/``q`` on the terminal (in tty mode
   the terminal's own SIGINT is switched off: it would hit the infrastructure
   servers, which share the launcher's process group, before the roles are
   down): SIGTERM to proxies and nodes, then to the coordinator, each group
   killed if still alive after ``--grace`` seconds; then the infrastructure
   servers are stopped. Exit status 0 after a requested stop, also during
   startup.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from elanus.cluster import infra
from elanus.cluster.healthcheck import ServingStatus
from elanus.cluster.launch_procs import (
    SESSION_PREFIX,
    busy_ports,
    free_ports,
    parse_sessions,
    probe_all,
    spawn,
    tail,
    terminal_keys,
    terminate,
)

META_ENV, OBJECTS_ENV, WAL_ENV = "ELANUS_META", "ELANUS_OBJECTS", "ELANUS_WAL"
READY_LINE = "elanus cluster: ready"


class Service(Protocol):
    """What :mod:`elanus.cluster.infra` hands back for a started server."""

    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def env(self) -> dict[str, str]: ...
    @property
    def pid(self) -> int: ...

    def alive(self) -> bool: ...

    def stop(self) -> None: ...


@dataclass
class Options:
    """The launcher's settings (the ``cluster up`` flags)."""

    query_nodes: int = 1
    proxies: int = 1
    data_nodes: int = 1
    index_nodes: int = 1
    wal: str = "nats"
    port: int = 19530
    host: str = "127.0.0.1"
    data_dir: Path | None = None
    tty: bool = True
    ready_timeout: float = 180.0
    grace: float = 10.0
    # How to invoke ``elanus`` for a role (tests substitute a stand-in with the same flags).
    role_command: tuple[str, ...] = (sys.executable, "-m", "elanus")


@dataclass
class Member:
    """One role process and what the launcher knows about it."""

    name: str
    role: str
    port: int
    log_path: Path
    data_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    node_id: str = "-"
    address: str = ""
    state: str = "starting"
    had_session: bool = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def argv(self, command: Sequence[str], host: str = "127.0.0.1") -> list[str]:
        """``command`` (the ``elanus`` executable) + ``run --role R`` with this member's ports and directory."""
        base = [*command, "run", "--role", self.role, "--host", host, "--data-dir", str(self.data_dir)]
        if self.role == "proxy":
            return [*base, "--port", str(self.port)]
        return [*base, "--internal-port", str(self.port)]


@dataclass
class InfraRow:
    """A row of the table for an infrastructure server, or for a URL given in the environment (no process)."""

    name: str
    url: str
    service: Service | None = None
    state: str = "up"

    @property
    def pid(self) -> int | None:
        return self.service.pid if self.service is not None else None


class StartupError(RuntimeError):
    """The cluster could not be brought up; the message says which piece and why."""


class StopRequested(Exception):
    """A signal asked for a stop while the cluster was still starting."""


def plan_members(opts: Options, root: Path) -> list[Member]:
    """The role processes to run, in start order: mixcoord, data/index/query nodes, proxies."""
    counts = [("mixcoord", 1), ("datanode", opts.data_nodes), ("indexnode", opts.index_nodes),
              ("querynode", opts.query_nodes)]
    internal = iter(free_ports(sum(n for _, n in counts), opts.host))
    members: list[Member] = []
    for role, n in [*counts, ("proxy", opts.proxies)]:
        for i in range(1, n + 1):
            name = role if n == 1 and role == "mixcoord" else f"{role}-{i}"
            port = opts.port + i - 1 if role == "proxy" else next(internal)
            members.append(Member(name, role, port, root / "logs" / f"{name}.log", root / "roles" / name,
                                  address=f"{opts.host}:{port}"))
    return members


class Launcher:
    """Starts, watches and stops one local cluster. Use :meth:`run`, or the steps for tests."""

    def __init__(self, opts: Options, out: TextIO | None = None) -> None:
        self.opts = opts
        self.out = out if out is not None else sys.stdout
        self.stop_event = threading.Event()
        self._own_dir = opts.data_dir is None
        self.root = Path(tempfile.mkdtemp(prefix="elanus-cluster-")) if opts.data_dir is None \
            else opts.data_dir.resolve()
        self.services: list[Service] = []
        self.infra_rows: list[InfraRow] = []
        self.members: list[Member] = []
        self.env: dict[str, str] = {}
        self._read_sessions: Callable[[], list[tuple[str, bytes]]] | None = None
        self._meta: Any = None
        self._drawn_lines = 0

    # -- infrastructure -------------------------------------------------------------------------------------

    def start_infra(self) -> None:
        """Fill ``self.env`` with the three ELANUS_* URLs, starting what is not given (see module docstring)."""
        self.root.mkdir(parents=True, exist_ok=True)
        meta = os.environ.get(META_ENV)
        if meta:
            self._add_external("meta", meta)
        else:
            try:
                meta = self._add_service(infra.start_etcd(str(self.root / "etcd")))
            except Exception as exc:
                raise StartupError(f"cannot start etcd ({exc}); install the test extras or set {META_ENV}") from exc
        objects = os.environ.get(OBJECTS_ENV)
        if objects:
            self._add_external("objects", objects)
        else:
            try:
                objects = self._add_service(infra.start_s3())
                self._warn("objects live in moto's in-memory S3: they are gone when the cluster stops")
            except Exception as exc:
                objects = (self.root / "objects").as_uri().replace("file://", "local://", 1)
                self._warn(f"no S3 server ({exc}); objects in the shared directory {objects}")
                self._add_external("objects", objects)
        wal = os.environ.get(WAL_ENV)
        if wal:
            self._add_external("wal", wal)
        elif self.opts.wal == "objectstore":
            wal = "objectstore"
        else:
            try:
                wal = self._add_service(infra.start_nats(str(self.root / "nats")))
            except Exception as exc:
                self._warn(f"no NATS server ({exc}); the WAL falls back to objectstore")
                wal = "objectstore"
        self.env.update({META_ENV: meta, OBJECTS_ENV: objects, WAL_ENV: wal})
        self._open_session_reader(meta)

    def _add_service(self, service: Service) -> str:
        self.services.append(service)
        self.infra_rows.append(InfraRow(service.name, service.url, service))
        self.env.update(service.env)
        return service.url

    def _add_external(self, name: str, url: str) -> None:
        self.infra_rows.append(InfraRow(name, url, None, "given"))

    def _open_session_reader(self, meta_url: str) -> None:
        """Read sessions through the meta store backend; without it, readiness is judged by health alone."""
        try:
            from elanus.storage import open_meta

            self._meta = open_meta(meta_url)
        except Exception as exc:
            self._warn(f"cannot read sessions from {meta_url} ({exc}); judging readiness by gRPC health only")
            return
        meta = self._meta
        self._read_sessions = lambda: [(kv.key, kv.value) for kv in meta.get_prefix(SESSION_PREFIX)]

    # -- roles ----------------------------------------------------------------------------------------------

    def spawn(self, member: Member) -> None:
        """Start ``member``'s process (own process group; stdout+stderr to its log file)."""
        member.data_dir.mkdir(parents=True, exist_ok=True)
        member.proc = spawn(member.argv(self.opts.role_command, self.opts.host), member.log_path,
                            {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"})
        member.state = "starting"

    def start_roles(self) -> None:
        """Start mixcoord, wait until it is up, then every other role; wait until all are up."""
        self.members = plan_members(self.opts, self.root)
        coord, rest = self.members[:1], self.members[1:]
        for group in (coord, rest):
            for member in group:
                self.spawn(member)
            self.wait_up(group)

    def wait_up(self, members: list[Member]) -> None:
        """Poll until every member is up; raises StartupError on an exit, a timeout or a stop request."""
        deadline = time.monotonic() + self.opts.ready_timeout
        while True:
            self.refresh()
            if self.opts.tty:
                self.draw()
            lost = [m for m in members if m.state == "lost"]
            if lost:
                raise StartupError("; ".join(f"{m.name} exited during startup (code {m.proc.poll() if m.proc else '?'})"
                                             f", last log lines:\n{tail(m.log_path, 12) or '(no log)'}" for m in lost))
            if all(m.state == "up" for m in members):
                return
            if self.stop_event.is_set():
                raise StopRequested
            if time.monotonic() > deadline:
                slow = ", ".join(m.name for m in members if m.state != "up")
                raise StartupError(f"not up after {self.opts.ready_timeout:.0f}s: {slow} (logs in {self.root}/logs)")
            self.stop_event.wait(0.5)

    def refresh(self) -> list[tuple[str, str]]:
        """Update every row's state; returns ``(name, new_state)`` for the rows that changed."""
        sessions: dict[int, list[dict[str, Any]]] | None = None
        if self._read_sessions is not None:
            try:
                sessions = parse_sessions(self._read_sessions())
            except Exception:
                sessions = None  # meta store unreachable this tick: keep the session part as it was
        changes: list[tuple[str, str]] = []
        pending = [m for m in self.members if m.state == "starting" and m.proc is not None
                   and m.proc.poll() is None]
        health = probe_all([m.address for m in pending])
        for member in self.members:
            before = member.state
            self._update_member(member, sessions, health.get(member.address))
            if member.state != before:
                changes.append((member.name, member.state))
        for row in self.infra_rows:
            if row.service is not None and row.state == "up" and not row.service.alive():
                row.state = "lost"
                changes.append((row.name, row.state))
        return changes

    def _update_member(self, member: Member, sessions: dict[int, list[dict[str, Any]]] | None,
                       health: ServingStatus | None) -> None:
        if member.proc is None or member.state == "lost":
            return
        if member.proc.poll() is not None:
            member.state = "lost"
            return
        records = sessions.get(member.proc.pid, []) if sessions is not None else []
        if records:
            mine = [r for r in records if r.get("role") == member.role] or records
            member.node_id = str(mine[0].get("node_id", "-"))
            if member.role != "proxy" and isinstance(mine[0].get("address"), str):
                member.address = mine[0]["address"]
            member.had_session = True
        elif sessions is not None and member.had_session:
            member.state = "lost"  # its lease expired or was revoked while the process lives on
            return
        if member.state == "starting" and health is not None:
            serving = health is ServingStatus.SERVING
            if member.role == "proxy":
                serving = serving or health is ServingStatus.UNIMPLEMENTED  # answers gRPC: the port is served
            if sessions is not None and not records:
                serving = False  # health is up but the session is not registered yet
            if serving:
                member.state = "up"

    # -- display --------------------------------------------------------------------------------------------

    def table(self) -> list[str]:
        """The status table's lines (header first)."""
        rows = [("NAME", "ROLE", "NODE", "PID", "ADDRESS", "STATE")]
        rows += [(r.name, "infra", "-", str(r.pid or "-"), r.url, r.state) for r in self.infra_rows]
        rows += [(m.name, m.role, m.node_id, str(m.pid or "-"), m.address, m.state) for m in self.members]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]

    def uris(self) -> list[str]:
        return [f"http://{m.address}" for m in self.members if m.role == "proxy"]

    def draw(self, footer: Iterable[str] = ()) -> None:
        """Redraw the table in place: ANSI cursor-up over the previous drawing, each line overwritten and
        cleared to its end, then everything below cleared. Lines are cut to the terminal's width so that
        none wraps (a wrapped line would break the cursor arithmetic)."""
        width = shutil.get_terminal_size().columns
        lines = [line[:width] for line in (*self.table(), *footer)]
        prefix = f"\x1b[{self._drawn_lines}F" if self._drawn_lines else ""
        self.out.write(prefix + "".join(f"{line}\x1b[K\n" for line in lines) + "\x1b[J")
        self.out.flush()
        self._drawn_lines = len(lines)

    def _print(self, *lines: str) -> None:
        self.out.write("".join(line + "\n" for line in lines))
        self.out.flush()

    def _warn(self, message: str) -> None:
        print(f"elanus cluster: {message}", file=sys.stderr, flush=True)

    def _ready_footer(self) -> list[str]:
        uris = self.uris()
        return ["", "pymilvus: " + ", ".join(f'MilvusClient(uri="{u}")' for u in uris),
                f"logs: {self.root / 'logs'}   (Ctrl-C or q stops the cluster)"]

    # -- lifecycle ------------------------------------------------------------------------------------------

    def serve(self) -> None:
        """After startup: show the status until a stop is requested."""
        footer = self._ready_footer()
        if self.opts.tty:
            self.draw(footer)
        else:
            self._print(*self.table(), *footer, READY_LINE)
        while not self.stop_event.wait(1.0):
            changes = self.refresh()
            if self.opts.tty:
                self.draw(footer)
            else:
                self._print(*(f"elanus cluster: {name} {state}" for name, state in changes))

    def stop(self) -> None:
        """Stop every role (nodes and proxies, then the coordinator), then the infrastructure. Idempotent."""
        groups = [[m for m in self.members if m.role != "mixcoord"], [m for m in self.members if m.role == "mixcoord"]]
        for group in groups:
            terminate([m.proc for m in group if m.proc is not None], self.opts.grace)
        if self._meta is not None:
            with contextlib.suppress(Exception):
                self._meta.close()
            self._meta = None
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception as exc:
                self._warn(f"stopping {service.name}: {exc}")
        self.services.clear()
        if self._own_dir:
            shutil.rmtree(self.root, ignore_errors=True)

    def run(self) -> int:
        """Whole life: signals, infra, roles, status until SIGINT/SIGTERM (or Ctrl-C/q on the terminal),
        orderly stop. Returns the exit status: 0 after a requested stop, 1 when startup failed."""
        previous = {sig: signal.signal(sig, lambda *_: self.stop_event.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            with terminal_keys(self.stop_event.set) if self.opts.tty else contextlib.nullcontext():
                return self._run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _run(self) -> int:
        try:
            busy = busy_ports(self.opts.host, range(self.opts.port, self.opts.port + self.opts.proxies))
            if busy:
                raise StartupError(f"proxy port(s) {', '.join(map(str, busy))} on {self.opts.host} already in use "
                                   "(another server?); choose others with --port")
            self.start_infra()
            if self.stop_event.is_set():
                raise StopRequested
            self.start_roles()
            self.serve()
            return 0
        except StopRequested:
            return 0
        except StartupError as exc:
            self._warn(str(exc))
            return 1
        finally:
            self._warn("stopping")
            self.stop()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``cluster up`` on the top-level ``elanus`` parser (dispatches to :func:`main`)."""
    cluster = sub.add_parser("cluster", help="run a local cluster of role processes")
    actions = cluster.add_subparsers(dest="cluster_command", required=True)
    up = actions.add_parser("up", help="start infrastructure and every role on 127.0.0.1; Ctrl-C stops all")
    up.add_argument("--query-nodes", type=_positive, default=1, help="query node processes (1)")
    up.add_argument("--proxies", type=_positive, default=1, help="proxy processes (1)")
    up.add_argument("--data-nodes", type=_positive, default=1, help="data node processes (1)")
    up.add_argument("--index-nodes", type=_positive, default=1, help="index node processes (1)")
    up.add_argument("--wal", choices=("nats", "objectstore"), default="nats",
                    help="WAL on NATS JetStream, or on the object store (nats)")
    up.add_argument("--port", type=int, default=19530, help="first proxy's port; proxy i listens on port+i-1")
    up.add_argument("--data-dir", type=Path, default=None,
                    help="where etcd, NATS, logs and caches live (default: a temporary directory, removed on exit)")
    up.add_argument("--ready-timeout", type=float, default=180.0, help="seconds each startup phase may take")
    up.add_argument("--grace", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL on stop")
    up.add_argument("--no-tty", "--once", dest="no_tty", action="store_true",
                    help="print the table once when ready (then state changes as lines) instead of redrawing it")
    cluster.set_defaults(func=main)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(args: argparse.Namespace) -> int:
    """Entry point of ``elanus cluster up``; returns the process exit status."""
    opts = Options(query_nodes=args.query_nodes, proxies=args.proxies, data_nodes=args.data_nodes,
                   index_nodes=args.index_nodes, wal=args.wal, port=args.port, data_dir=args.data_dir,
                   tty=not args.no_tty and sys.stdout.isatty(), ready_timeout=args.ready_timeout, grace=args.grace)
    return Launcher(opts).run()
