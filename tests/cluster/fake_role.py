"""A stand-in for ``elanus run --role R`` in the launcher's tests (``python -m tests.cluster.fake_role run ...``).

Takes the flags the launcher passes, serves a gRPC health service that answers
SERVING on the role's port (``--port`` for a proxy, ``--internal-port`` otherwise),
registers a session in the meta store named by ``ELANUS_META`` (when set), and
runs until SIGTERM/SIGINT, then revokes the session and exits 0. It starts in a
fraction of the time a real role takes, so the launcher's own logic is tested fast.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc


def serve_health(server: grpc.Server, status: int = health_pb2.HealthCheckResponse.SERVING) -> None:
    """Add the standard ``grpc.health.v1.Health`` service to ``server``, reporting ``status`` for ""."""
    servicer = health.HealthServicer()
    servicer.set("", status)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--role", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", default=".")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--internal-port", type=int, default=0)
    args = parser.parse_args()
    port = args.port if args.role == "proxy" else args.internal_port
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    serve_health(server)
    port = server.add_insecure_port(f"{args.host}:{port}")
    server.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    session = meta = None
    if os.environ.get("ELANUS_META"):
        from elanus.cluster.session import Session
        from elanus.storage import open_meta

        meta = open_meta(os.environ["ELANUS_META"])
        session = Session(meta, args.role, f"{args.host}:{port}", ttl=5.0, keepalive=1.0)
        session.register()
    stop.wait()
    if session is not None:
        session.stop()
    server.stop(0).wait()
    if meta is not None:
        meta.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
