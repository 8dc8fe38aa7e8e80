"""`elanus cluster up` end to end: real infrastructure, real role processes, pymilvus through both proxies.

Runs the launcher as a user would (a subprocess, ``--no-tty``), waits for its
table to show every row up, writes through one proxy and reads through the
other, then sends SIGINT and checks that every role process and every
infrastructure server it started is gone.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from pymilvus import MilvusClient

from elanus.cluster.healthcheck import ServingStatus, check
from elanus.cluster.launcher import READY_LINE
from tests.cluster.harness import free_port_run

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

READY_TIMEOUT = 300.0
ROLES = {"mixcoord", "proxy", "querynode", "datanode", "indexnode"}


def _gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (an unreaped zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _read_lines(stream: object, out: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        out.put(line.rstrip("\n"))
    out.put(None)


def _parse_table(lines: list[str]) -> list[dict[str, str]]:
    """The last table printed before the ready line: header NAME ROLE NODE PID ADDRESS STATE, then rows."""
    start = max(i for i, ln in enumerate(lines) if ln.split()[:2] == ["NAME", "ROLE"])
    header = lines[start].split()
    rows = []
    for ln in lines[start + 1:]:
        if not ln.strip():
            break
        rows.append(dict(zip(header, ln.split(), strict=True)))
    return rows


@pytest.mark.parametrize("wal", ["nats", "objectstore"])
def test_cluster_up_two_proxies_two_query_nodes(tmp_path: Path, wal: str) -> None:
    port = free_port_run(2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELANUS_")}
    stderr_path = tmp_path / "launcher.stderr"
    with open(stderr_path, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "elanus", "cluster", "up", "--no-tty", "--query-nodes", "2", "--proxies", "2",
             "--port", str(port), "--wal", wal, "--data-dir", str(tmp_path / "cluster"), "--grace", "15"],
            stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while READY_LINE not in seen:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                                 for p in sorted((tmp_path / "cluster" / "logs").glob("*.log")))
                pytest.fail(f"launcher not ready (exit {proc.poll()}); stdout:\n" + "\n".join(seen)
                            + f"\nstderr:\n{stderr_path.read_text()}\n{logs}")
            seen.append(line)

        rows = _parse_table(seen)
        assert all(r["STATE"] == "up" for r in rows), rows
        roles = [r["ROLE"] for r in rows]
        assert set(roles) == ROLES | {"infra"}
        assert roles.count("proxy") == 2 and roles.count("querynode") == 2
        infra = {"etcd", "s3", "nats"} if wal == "nats" else {"etcd", "s3"}
        assert {r["NAME"] for r in rows if r["ROLE"] == "infra"} == infra
        for row in rows:  # what the deploy files' probes rely on: gRPC health on every role's port
            if row["ROLE"] not in ("infra", "proxy"):
                assert check(row["ADDRESS"]) is ServingStatus.SERVING, row
        pids = [int(r["PID"]) for r in rows]
        uris = [f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"]
        assert all(f'MilvusClient(uri="{u}")' in "\n".join(seen) for u in uris)

        first, second = MilvusClient(uri=uris[0], timeout=60), MilvusClient(uri=uris[1], timeout=60)
        try:
            first.create_collection("launched", dimension=8, consistency_level="Strong")
            vectors = np.random.default_rng(7).random((300, 8), dtype=np.float32)
            first.insert("launched", [{"id": i, "vector": v.tolist()} for i, v in enumerate(vectors)])
            assert "launched" in second.list_collections()
            hits = second.search("launched", [vectors[5].tolist()], limit=3, consistency_level="Strong")
            assert hits[0][0]["id"] == 5
            count = second.query("launched", filter="id >= 0", output_fields=["count(*)"],
                                 consistency_level="Strong")
            assert count[0]["count(*)"] == 300
        finally:
            first.close()
            second.close()

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
        deadline = time.monotonic() + 10
        while not all(_gone(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [p for p in pids if not _gone(p)] == []
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
