"""`elanus health` / healthcheck.check against small gRPC servers with and without the Health service."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from elanus.cli import main as cli_main
from elanus.cluster.healthcheck import ServingStatus, check
from elanus.cluster.launch_procs import free_ports
from tests.cluster.fake_role import serve_health


def _server(status: int | None = None, *handlers: grpc.GenericRpcHandler) -> tuple[grpc.Server, str]:
    """A server with the Health service reporting ``status`` (None: no Health service) and ``handlers``."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    if status is not None:
        serve_health(server, status)
    server.add_generic_rpc_handlers(handlers)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


@pytest.fixture()
def serving() -> Iterator[str]:
    server, address = _server(health_pb2.HealthCheckResponse.SERVING)
    yield address
    server.stop(0).wait()


def test_serving(serving: str) -> None:
    assert check(serving) is ServingStatus.SERVING
    assert check(serving, "elanus.QueryNode") is ServingStatus.SERVICE_UNKNOWN  # not registered by name
    assert cli_main(["health", "--address", serving]) == 0


def test_not_serving_exits_1() -> None:
    server, address = _server(health_pb2.HealthCheckResponse.NOT_SERVING)
    try:
        assert check(address) is ServingStatus.NOT_SERVING
        assert cli_main(["health", "--address", address]) == 1
    finally:
        server.stop(0).wait()


def test_server_without_health_service() -> None:
    other = grpc.method_handlers_generic_handler(
        "x.Other", {"Ping": grpc.unary_unary_rpc_method_handler(lambda req, ctx: b"")})
    server, address = _server(None, other)
    try:
        assert check(address) is ServingStatus.UNIMPLEMENTED
    finally:
        server.stop(0).wait()


def test_unreachable_is_fast_without_wait_for_ready() -> None:
    (port,) = free_ports(1)
    assert check(f"127.0.0.1:{port}", timeout=5.0, wait_for_ready=False) is ServingStatus.UNREACHABLE
    assert check(f"127.0.0.1:{port}", timeout=0.3) is ServingStatus.UNREACHABLE


def test_proxy_port_serves_grpc_health(tmp_path: Path) -> None:
    from elanus.cluster.standalone import Standalone, StandaloneConfig

    (port,) = free_ports(1)
    server = Standalone(StandaloneConfig(data_dir=str(tmp_path), port=port))
    server.start()
    try:
        assert check(server.proxy.address) is ServingStatus.SERVING
    finally:
        server.stop()
