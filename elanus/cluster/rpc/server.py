"""Serving role objects over the internal gRPC transport.

:func:`add_role_services` registers, on a ``grpc.Server`` the caller owns, one service per
given role (``elanus.internal.RootCoord`` ... ``QueryNode``) whose handlers decode the
request (:mod:`.methods`), call the role object's method of the same name and encode its
result; errors travel as described in :mod:`.errors`. It also registers the standard
gRPC health service (``grpc.health.v1.Health``) reporting ``SERVING`` for ``""`` and for
each registered service, and returns its servicer so the process can flip a service to
``NOT_SERVING`` (e.g. a standby coordinator) or call ``enter_graceful_shutdown()``.

Call it once per server, before ``server.start()``. The server should be built with
:data:`SERVER_OPTIONS` (512 MiB messages) and enough worker threads for the nested calls
a role makes while serving (see :func:`serve_roles`).

Query node calls carry the metadata ``elanus-node-id``; a node answering for another id
(its address was reused by a new node) ends the rpc ``UNAVAILABLE``, so the caller sees
:class:`~elanus.cluster.rpc.errors.RoleUnavailable` rather than another node's answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from elanus.cluster.rpc.errors import clip, error_metadata
from elanus.cluster.rpc.methods import PACKAGE, MethodSpec, service_methods
from elanus.core.errors import MilvusError

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 512 * 1024 * 1024
MAX_METADATA_BYTES = 1024 * 1024  # errors travel in trailing metadata (see errors.py); default is 8 KiB
# Limits both ends of a connection need (the client adds its own options to these).
MESSAGE_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_metadata_size", MAX_METADATA_BYTES),
]
SERVER_OPTIONS: list[tuple[str, Any]] = [
    *MESSAGE_OPTIONS,
    ("grpc.so_reuseport", 0),  # a second process must not silently share a port
]
NODE_ID_KEY = "elanus-node-id"


def _handler(role: Any, spec: MethodSpec, node_id: int | None) -> Callable[[Any, grpc.ServicerContext], Any]:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        if node_id is not None:
            for key, value in context.invocation_metadata() or ():
                if key == NODE_ID_KEY and value != str(node_id):
                    context.abort(grpc.StatusCode.UNAVAILABLE,
                                  f"query node {value} is not served here (this is query node {node_id})")
        try:
            # Looked up per call: a role object missing a method fails only that rpc (INTERNAL).
            result = getattr(role, spec.name)(**spec.decode_request(request))
            return spec.encode_response(result)
        except MilvusError as exc:
            context.set_trailing_metadata(error_metadata(exc))
            context.abort(grpc.StatusCode.UNKNOWN, clip(exc.message))
        except Exception as exc:
            log.exception("%s.%s failed", spec.service, spec.name)
            context.abort(grpc.StatusCode.INTERNAL, clip(f"{type(exc).__name__}: {exc}"))

    return handle


def add_role_services(server: grpc.Server, *, root: Any = None, data_coord: Any = None, query_coord: Any = None,
                      data_node: Any = None, index_node: Any = None,
                      query_node: Any = None) -> health.HealthServicer:
    """Serve the given role objects (each implementing its Protocol) plus gRPC health."""
    roles = {"RootCoord": root, "DataCoord": data_coord, "QueryCoord": query_coord, "DataNode": data_node,
             "IndexNode": index_node, "QueryNode": query_node}
    checker = health.HealthServicer()
    handlers = []
    for service, role in roles.items():
        if role is None:
            continue
        node_id = int(role.node_id) if service == "QueryNode" else None
        methods = {spec.rpc: grpc.unary_unary_rpc_method_handler(
                       _handler(role, spec, node_id),
                       request_deserializer=spec.request_cls.FromString,
                       response_serializer=spec.response_cls.SerializeToString)
                   for spec in service_methods(service).values()}
        handlers.append(grpc.method_handlers_generic_handler(f"{PACKAGE}.{service}", methods))
        checker.set(f"{PACKAGE}.{service}", health_pb2.HealthCheckResponse.SERVING)
    server.add_generic_rpc_handlers(tuple(handlers))
    checker.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    return checker


def serve_roles(address: str = "127.0.0.1:0", *, max_workers: int = 32,
                **roles: Any) -> tuple[grpc.Server, int]:
    """Start a server (with :data:`SERVER_OPTIONS`) serving ``roles`` (the keywords of
    :func:`add_role_services`) on ``address``; returns it and the bound port.

    Raises ``RuntimeError`` when the address cannot be bound."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="elanus-rpc"),
                         options=SERVER_OPTIONS)
    add_role_services(server, **roles)
    port = server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"cannot bind the internal gRPC port {address}")
    server.start()
    return server, port
