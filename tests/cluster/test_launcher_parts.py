"""The launcher's own logic, with stand-in roles (tests/cluster/fake_role.py) instead of real ones.

The stand-ins take the same flags as ``elanus run --role R``, serve gRPC health
and register sessions, so planning, readiness (session + health), the status
table, loss detection and the orderly stop are all exercised in seconds; the
real roles are covered by test_launcher.py.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from elanus.cluster.launch_procs import alive, parse_sessions
from elanus.cluster.launcher import Launcher, Options, StartupError, plan_members
from tests.cluster.harness import free_port_run

REPO = Path(__file__).resolve().parents[2]
FAKE = (sys.executable, "-m", "tests.cluster.fake_role")


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ELANUS_META", "ELANUS_OBJECTS", "ELANUS_WAL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYTHONPATH", str(REPO))


def test_plan_members(tmp_path: Path) -> None:
    members = plan_members(Options(query_nodes=2, proxies=3, port=20000), tmp_path)
    assert [m.name for m in members] == ["mixcoord", "datanode-1", "indexnode-1", "querynode-1", "querynode-2",
                                         "proxy-1", "proxy-2", "proxy-3"]
    assert [m.port for m in members if m.role == "proxy"] == [20000, 20001, 20002]
    internal = [m.port for m in members if m.role != "proxy"]
    assert len(set(internal)) == len(internal)
    argv = members[3].argv(("elanus",))
    assert argv[:4] == ["elanus", "run", "--role", "querynode"]
    assert argv[argv.index("--internal-port") + 1] == str(members[3].port)
    assert "--port" in members[-1].argv(("elanus",)) and "--internal-port" not in members[-1].argv(("elanus",))


def test_parse_sessions_keeps_session_records_only() -> None:
    rec = {"role": "querynode", "node_id": 7, "address": "127.0.0.1:1", "pid": 42}
    items = [("session/next_id", b"7"), ("session/querynode/7", json.dumps(rec).encode()),
             ("session/mixcoord/active", b"\xff not json"), ("session/proxy/8", b'{"pid": "x"}')]
    assert parse_sessions(items) == {42: [rec]}


@pytest.fixture()
def launcher(tmp_path: Path, env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Launcher]:
    # Objects given (a shared directory) and the object-store WAL: only etcd is started.
    monkeypatch.setenv("ELANUS_OBJECTS", f"local://{tmp_path / 'objects'}")
    opts = Options(query_nodes=2, proxies=2, port=free_port_run(2), data_dir=tmp_path / "cluster", tty=False,
                   wal="objectstore", ready_timeout=60.0, grace=5.0, role_command=FAKE)
    launcher = Launcher(opts, out=io.StringIO())
    yield launcher
    launcher.stop()


def test_up_table_loss_and_stop(launcher: Launcher) -> None:
    launcher.start_infra()
    assert launcher.env["ELANUS_WAL"] == "objectstore"
    assert launcher.env["ELANUS_META"].startswith("etcd://")
    launcher.start_roles()
    assert [m.state for m in launcher.members] == ["up"] * 7
    assert all(m.node_id.isdigit() for m in launcher.members)
    assert len({m.node_id for m in launcher.members}) == 7
    lines = launcher.table()
    assert lines[0].split() == ["NAME", "ROLE", "NODE", "PID", "ADDRESS", "STATE"]
    rows = {ln.split()[0]: ln.split() for ln in lines[1:]}
    assert rows["etcd"][-1] == "up" and rows["objects"][-1] == "given"
    assert rows["proxy-2"][4] == f"127.0.0.1:{launcher.opts.port + 1}"
    assert launcher.uris() == [f"http://127.0.0.1:{launcher.opts.port}", f"http://127.0.0.1:{launcher.opts.port + 1}"]

    victim = next(m for m in launcher.members if m.name == "querynode-2")
    assert victim.proc is not None
    os.kill(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait()
    assert ("querynode-2", "lost") in launcher.refresh()
    assert victim.state == "lost" and all(m.state == "up" for m in launcher.members if m is not victim)

    pids = [m.pid for m in launcher.members] + [s.pid for s in launcher.services]
    launcher.stop()
    assert all(m.proc is not None and m.proc.poll() is not None for m in launcher.members)
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids if p) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in pids if p and alive(p)]
    assert sum(1 for m in launcher.members if m.proc and m.proc.returncode == 0) == 6  # clean SIGTERM exits


def test_a_role_that_dies_fails_startup_with_its_log(tmp_path: Path, env: None) -> None:
    crash = (sys.executable, "-c", "import sys; print('no such luck', flush=True); sys.exit(3)")
    opts = Options(data_dir=tmp_path, tty=False, ready_timeout=30.0, grace=1.0, role_command=crash)
    launcher = Launcher(opts, out=io.StringIO())
    try:
        with pytest.raises(StartupError, match=r"mixcoord exited during startup \(code 3\)(.|\n)*no such luck"):
            launcher.start_roles()
    finally:
        launcher.stop()


def test_busy_proxy_port_fails_before_starting_anything(tmp_path: Path, env: None,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        launcher = Launcher(Options(port=port, data_dir=tmp_path, tty=False, role_command=FAKE), out=io.StringIO())
        assert launcher.run() == 1
    assert f"proxy port(s) {port}" in capsys.readouterr().err
    assert launcher.services == [] and launcher.members == []


def test_tty_redraw_overwrites_the_previous_table(tmp_path: Path) -> None:
    out = io.StringIO()
    launcher = Launcher(Options(data_dir=tmp_path), out=out)
    launcher.members = plan_members(launcher.opts, tmp_path)
    launcher.draw()
    first = out.getvalue()
    assert not first.startswith("\x1b[") and first.count("\n") == 1 + len(launcher.members)
    launcher.draw(["", "footer"])
    second = out.getvalue()[len(first):]
    assert second.startswith(f"\x1b[{1 + len(launcher.members)}F") and second.endswith("footer\x1b[K\n\x1b[J")
