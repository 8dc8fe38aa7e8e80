"""``elanus`` command line.

``elanus run`` starts a standalone server (every role in this process, on local storage);
``elanus run --role R`` runs one cluster role (see :mod:`elanus.cluster.process`) on the
stores named by ``--config FILE`` and the ``ELANUS_*`` variables (:mod:`elanus.cluster.config`).
Flags win over the environment, which wins over the file.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import TYPE_CHECKING

from elanus.core.memory import configure_process

if TYPE_CHECKING:
    from elanus.cluster.config import Settings


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    configure_process()  # this process is ours: allocators that give memory back
    from elanus.cluster import config

    try:
        settings = config.load(args.config).override(
            role=args.role, host=args.host, port=args.port, internal_port=args.internal_port,
            data_dir=args.data_dir).validate()
    except config.ConfigError as exc:
        print(f"elanus: {exc}", file=sys.stderr)
        return 2
    if settings.role != "standalone":
        return _run_role(settings)
    if settings.cluster:
        logging.getLogger("elanus").warning("standalone keeps every store under %s; ELANUS_META/OBJECTS/WAL "
                                            "are for the cluster roles (--role) and are ignored", settings.data_dir)
    from elanus.cluster.standalone import Standalone, StandaloneConfig  # after: imports pyarrow

    server = Standalone(StandaloneConfig(data_dir=settings.data_dir, host=settings.host, port=settings.port,
                                         seal_policy=settings.seal_policy))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(f"elanus: serving on {server.proxy.address}", file=sys.stderr, flush=True)
    stop.wait()
    logging.getLogger("elanus").info("shutting down")
    server.stop()
    return 0


def _run_role(settings: Settings) -> int:
    from elanus.cluster.process import RoleProcess

    proc = RoleProcess(settings)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: proc.request_stop())
    status = proc.run()
    logging.getLogger("elanus").info("%s stopped", settings.role)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="elanus", description="Elanus vector database")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a standalone server, or one cluster role (--role)")
    run.add_argument("--role", default=None, help="proxy, rootcoord, datacoord, querycoord, mixcoord, "
                     "querynode, datanode, indexnode or standalone (default: ELANUS_ROLE, else standalone)")
    run.add_argument("--config", default=None, help="TOML settings file (ELANUS_* variables override it)")
    run.add_argument("--data-dir", default=None, help="standalone data, or a node's caches (./elanus-data)")
    run.add_argument("--host", default=None, help="bind and advertised host (127.0.0.1)")
    run.add_argument("--port", type=int, default=None, help="Milvus port of a proxy or standalone (19530)")
    run.add_argument("--internal-port", type=int, default=None, help="role gRPC port (0: any free port)")
    run.add_argument("--log-level", default="info")
    from elanus.cluster import healthcheck, launcher  # light: no pyarrow; their subcommands set `func`

    launcher.add_parser(sub)
    healthcheck.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    if hasattr(args, "func"):
        return int(args.func(args))
    return 2


if __name__ == "__main__":
    sys.exit(main())
