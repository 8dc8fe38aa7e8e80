"""Crash safety: kill -9 the server process, restart on the same data, nothing acknowledged is lost
and nothing is counted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pymilvus import MilvusClient

from tests.e2e.conftest import free_port

DIM = 8


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "elanus", "run", "--data-dir", str(data_dir),
                             "--port", str(port), "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            c = MilvusClient(uri=f"http://127.0.0.1:{port}", timeout=2)
            c.list_collections()
            c.close()
            return proc
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server died") from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def _count(c: MilvusClient, name: str) -> int:
    return int(c.query(name, filter="", output_fields=["count(*)"], consistency_level="Strong")[0]["count(*)"])


@pytest.mark.slow
def test_kill9_keeps_acknowledged_writes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    proc = _start(data_dir, port)
    name = "crash"
    rng = np.random.default_rng(0)
    acked: set[int] = set()
    try:
        c = MilvusClient(uri=f"http://127.0.0.1:{port}", timeout=30)
        c.create_collection(name, dimension=DIM, consistency_level="Strong")
        for round_ in range(3):
            for b in range(5):
                ids = list(range((round_ * 5 + b) * 200, (round_ * 5 + b + 1) * 200))
                c.insert(name, [{"id": i, "vector": rng.random(DIM).tolist()} for i in ids])
                acked.update(ids)
                if b == 2:
                    c.flush(name)
            c.delete(name, ids=[round_ * 1000])
            acked.discard(round_ * 1000)
            c.close()
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            proc = _start(data_dir, port)
            c = MilvusClient(uri=f"http://127.0.0.1:{port}", timeout=30)
            assert _count(c, name) == len(acked)
            got = c.query(name, filter="id >= 0", output_fields=["id"], limit=16384)
            assert {r["id"] for r in got} == acked
        c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert proc.returncode == 0 or proc.returncode == -signal.SIGKILL
