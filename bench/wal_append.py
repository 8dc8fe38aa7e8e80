"""Cost of one acknowledged WAL append on each backend (issue 3's "measured" list).

    .venv/bin/python bench/wal_append.py [--backends local,nats,objectstore-s3] [--seconds 3] [--payload 1024]

For every backend it starts the servers it needs through :mod:`elanus.cluster.infra`
(nats-server; moto's S3 server + etcd), then measures, with durable appends of
``--payload`` bytes to one channel:

* **sequential**: one thread calling the blocking ``append`` in a loop for
  ``--seconds``: p50 / p99 latency of one acknowledged append, and appends/s;
* **8 appenders**: 8 threads doing the same at once: appends/s (the group commit
  / pipelining of each backend at work) and the p50 / p99 each append waited.

Backends: ``local`` (the embedded log, fsync per batch, in a temporary directory
under ``--dir``), ``nats`` (JetStream, one file-backed stream per channel),
``objectstore-s3`` (batches as objects on moto's S3 server, meta on etcd) and
``objectstore-local`` (the same WAL on the local object and meta stores).
Prints a markdown table. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from elanus.cluster import infra
from elanus.storage import Wal, open_meta, open_objects, open_wal

BACKENDS = ("local", "nats", "objectstore-s3", "objectstore-local")


@contextlib.contextmanager
def open_backend(name: str, work: Path) -> Iterator[Wal]:
    """A WAL of backend ``name`` with the servers it needs, all stopped afterwards."""
    with contextlib.ExitStack() as stack:
        if name == "local":
            wal = open_wal(str(work / "wal"))
        elif name == "nats":
            nats_server = stack.enter_context(infra.start_nats(work / "nats"))
            wal = open_wal(nats_server.url + "/bench")
        elif name == "objectstore-s3":
            s3 = stack.enter_context(infra.start_s3())
            etcd = stack.enter_context(infra.start_etcd(work / "etcd"))
            os.environ.update({k: v for k, v in s3.env.items() if k not in os.environ})
            objects = open_objects(s3.url)
            stack.callback(objects.close)
            meta = open_meta(etcd.url + "/bench")
            stack.callback(meta.close)
            wal = open_wal("objectstore://bench", objects, meta)
        elif name == "objectstore-local":
            objects = open_objects(str(work / "objects"))
            stack.callback(objects.close)
            meta = open_meta(str(work / "meta"))
            stack.callback(meta.close)
            wal = open_wal("objectstore://bench", objects, meta)
        else:
            raise SystemExit(f"unknown backend {name!r}; choose from {', '.join(BACKENDS)}")
        stack.callback(wal.close)
        yield wal


def run_appenders(wal: Wal, channel: str, threads: int, seconds: float, payload: bytes) -> list[float]:
    """Latencies (seconds) of every append made by ``threads`` threads in ``seconds``."""
    stop = time.monotonic() + seconds
    per_thread: list[list[float]] = [[] for _ in range(threads)]

    def work(out: list[float]) -> None:
        while (t0 := time.monotonic()) < stop:
            wal.append(channel, payload)
            out.append(time.monotonic() - t0)

    pool = [threading.Thread(target=work, args=(out,)) for out in per_thread]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return [lat for out in per_thread for lat in out]


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] if len(values) > 1 else values[0]


def measure(name: str, seconds: float, payload: bytes, work: Path) -> dict[str, float]:
    with open_backend(name, work) as wal:
        wal.create_channel("seq")
        wal.create_channel("par")
        run_appenders(wal, "seq", 1, min(0.5, seconds), payload)  # warm up: connections, first batch
        run_appenders(wal, "par", 8, min(0.5, seconds), payload)
        seq = run_appenders(wal, "seq", 1, seconds, payload)
        par = run_appenders(wal, "par", 8, seconds, payload)
    return {
        "seq_p50_ms": quantile(seq, 0.50) * 1e3,
        "seq_p99_ms": quantile(seq, 0.99) * 1e3,
        "seq_per_s": len(seq) / seconds,
        "par_per_s": len(par) / seconds,
        "par_p50_ms": quantile(par, 0.50) * 1e3,
        "par_p99_ms": quantile(par, 0.99) * 1e3,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="local,nats,objectstore-s3")
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--payload", type=int, default=1024, help="bytes per record")
    parser.add_argument("--dir", default=None, help="where the local backends and servers keep data")
    args = parser.parse_args(argv)
    payload = os.urandom(args.payload)
    rows: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="elanus-wal-bench-", dir=args.dir) as tmp:
        for name in args.backends.split(","):
            work = Path(tmp) / name
            work.mkdir()
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
            rows.append((name, measure(name, args.seconds, payload, work)))
    print(f"\nOne acknowledged durable append of {args.payload} B ({args.seconds:g} s per measurement)\n")
    print("| backend | sequential p50 ms | p99 ms | appends/s | 8 appenders: appends/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    fmt: Callable[[float], str] = lambda v: f"{v:,.2f}" if v < 100 else f"{v:,.0f}"  # noqa: E731
    for name, r in rows:
        cells = [r[k] for k in ("seq_p50_ms", "seq_p99_ms", "seq_per_s", "par_per_s", "par_p50_ms", "par_p99_ms")]
        print(f"| {name} | " + " | ".join(fmt(v) for v in cells) + " |")


if __name__ == "__main__":
    main()
