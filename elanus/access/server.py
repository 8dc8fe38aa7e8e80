"""The proxy's gRPC server."""

from __future__ import annotations

import logging
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from pymilvus.grpc_gen import milvus_pb2_grpc

from elanus.access.context import ProxyContext
from elanus.access.service import MilvusServicer

log = logging.getLogger(__name__)

_MAX_MESSAGE = 512 * 1024 * 1024
_MILVUS_SERVICE = "milvus.proto.milvus.MilvusService"


class ProxyServer:
    """Serves MilvusService on ``host:port`` until :meth:`stop`.

    The port also answers the standard ``grpc.health.v1.Health`` service: SERVING for ``""``
    and ``milvus.proto.milvus.MilvusService`` from :meth:`start` on, NOT_SERVING once
    :meth:`stop` begins (what compose healthchecks and Kubernetes ``grpc`` probes ask).
    """

    def __init__(self, ctx: ProxyContext, host: str, port: int, workers: int = 16) -> None:
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="proxy"),
            options=[("grpc.max_send_message_length", _MAX_MESSAGE),
                     ("grpc.max_receive_message_length", _MAX_MESSAGE),
                     ("grpc.so_reuseport", 0)],
        )
        milvus_pb2_grpc.add_MilvusServiceServicer_to_server(MilvusServicer(ctx), self._server)
        self._health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        self.port = self._server.add_insecure_port(f"{host}:{port}")
        if self.port == 0:
            raise OSError(f"cannot bind {host}:{port}")
        self.address = f"{host}:{self.port}"

    def start(self) -> None:
        self._server.start()
        for service in ("", _MILVUS_SERVICE):
            self._health.set(service, health_pb2.HealthCheckResponse.SERVING)
        log.info("proxy serving Milvus gRPC on %s", self.address)

    def stop(self, grace: float = 2.0) -> None:
        self._health.enter_graceful_shutdown()
        self._server.stop(grace).wait()
