"""End-to-end fixtures: a real Elanus standalone server on a free loopback port, used through pymilvus."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymilvus import MilvusClient

from elanus.cluster.standalone import Standalone, StandaloneConfig
from elanus.cluster.types import SealPolicy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    """One standalone server for the session (tests use unique collection names)."""
    data_dir = tmp_path_factory.mktemp("elanus-e2e")
    srv = Standalone(StandaloneConfig(data_dir=str(data_dir), port=free_port(),
                                      seal_policy=SealPolicy(max_rows=50_000)))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def uri(server: Standalone) -> str:
    return f"http://{server.proxy.address}"


@pytest.fixture()
def client(uri: str) -> Iterator[MilvusClient]:
    c = MilvusClient(uri=uri, timeout=60)
    yield c
    c.close()


@pytest.fixture()
def name() -> str:
    return "c_" + uuid.uuid4().hex[:12]


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
