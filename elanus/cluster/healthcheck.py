"""A gRPC health probe: ``elanus health --address host:port [--service NAME]``.

Calls ``grpc.health.v1.Health/Check`` (the standard gRPC health checking
protocol that every Elanus role server exposes) and exits 0 when the answer is
``SERVING``, 1 otherwise (not serving, unreachable, timeout, no Health
service). Used by the compose healthchecks and by ``elanus cluster up`` to wait
for readiness; Kubernetes uses its built-in ``grpc:`` probe against the same
service.
"""

from __future__ import annotations

import argparse
import enum
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


class ServingStatus(enum.IntEnum):
    """``grpc.health.v1.HealthCheckResponse.ServingStatus``; ``UNREACHABLE`` and
    ``UNIMPLEMENTED`` are this module's own values for failed calls."""

    UNKNOWN = 0
    SERVING = 1
    NOT_SERVING = 2
    SERVICE_UNKNOWN = 3
    UNREACHABLE = -1
    UNIMPLEMENTED = -2


def check(address: str, service: str = "", timeout: float = 3.0, wait_for_ready: bool = True) -> ServingStatus:
    """Ask the server at ``address`` (``host:port``) for the health of ``service`` ("" = the server).

    With ``wait_for_ready`` the call waits up to ``timeout`` for the server to
    accept connections; without it a refused connection fails at once. Never
    raises for transport problems: an unreachable server or a deadline gives
    ``UNREACHABLE``, a server without the Health service ``UNIMPLEMENTED``.
    """
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout,
                               wait_for_ready=wait_for_ready)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            if code == grpc.StatusCode.UNIMPLEMENTED:
                return ServingStatus.UNIMPLEMENTED
            if code == grpc.StatusCode.NOT_FOUND:
                return ServingStatus.SERVICE_UNKNOWN
            return ServingStatus.UNREACHABLE
    try:
        return ServingStatus(int(reply.status))
    except ValueError:
        return ServingStatus.UNKNOWN


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``health`` subcommand on the top-level ``elanus`` parser."""
    parser = sub.add_parser("health", help="probe a role's gRPC health service (exit 0 = SERVING)")
    parser.add_argument("--address", required=True, help="host:port of the role's gRPC server")
    parser.add_argument("--service", default="", help="service name to ask about ('' = the whole server)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds before giving up")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the probe; print the status; return 0 when SERVING, else 1."""
    status = check(args.address, args.service, args.timeout)
    print(status.name, file=sys.stdout if status is ServingStatus.SERVING else sys.stderr)
    return 0 if status is ServingStatus.SERVING else 1
