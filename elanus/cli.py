"""``elanus`` command line: ``elanus run`` starts a standalone server."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from elanus.core.memory import configure_process


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    configure_process()  # this process is ours: allocators that give memory back
    from elanus.cluster.standalone import Standalone, StandaloneConfig  # after: imports pyarrow

    server = Standalone(StandaloneConfig(data_dir=args.data_dir, host=args.host, port=args.port))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(f"elanus: serving on {server.proxy.address}", file=sys.stderr, flush=True)
    stop.wait()
    logging.getLogger("elanus").info("shutting down")
    server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="elanus", description="Elanus vector database")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a standalone server (all roles in one process)")
    run.add_argument("--data-dir", default="./elanus-data")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=19530)
    run.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
