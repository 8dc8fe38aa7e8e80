"""Latency of single meta-store and object-store calls on each backend (p50/p99).

Meta store (local sqlite, etcd): ``put``, ``get`` and a compare-and-swap ``txn`` of a
small value. Object store (local directory, S3 on moto): ``put``, ``get`` and
``put_if_absent`` of 1 KiB and 1 MiB objects. Servers are started through
:mod:`elanus.cluster.infra` and stopped afterwards::

    .venv/bin/python bench/store_latency.py [--calls 300]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from elanus.cluster import infra
from elanus.storage import Compare, MetaStore, ObjectStore, Op, open_meta, open_objects


def timed(calls: int, fn: Callable[[int], object]) -> tuple[float, float]:
    """p50 and p99 in milliseconds of ``fn(i)`` for i in range(calls)."""
    lat = []
    for i in range(calls):
        t0 = time.perf_counter()
        fn(i)
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    return statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.99))]


def meta_rows(name: str, meta: MetaStore, calls: int) -> list[tuple[str, str, float, float]]:
    value = b"x" * 100
    meta.put("bench/cas", b"0")
    rows = [(name, "put 100 B", *timed(calls, lambda i: meta.put(f"bench/k{i}", value)))]
    rows.append((name, "get", *timed(calls, lambda i: meta.get(f"bench/k{i}"))))

    def cas(i: int) -> None:
        kv = meta.get("bench/cas")
        assert kv is not None
        meta.txn([Compare("bench/cas", "mod_revision", "==", kv.mod_revision)], [Op.put("bench/cas", b"%d" % i)])

    rows.append((name, "get + CAS txn", *timed(calls, cas)))
    return rows


def object_rows(name: str, objects: ObjectStore, calls: int) -> list[tuple[str, str, float, float]]:
    rows = []
    for label, size in (("1 KiB", 1024), ("1 MiB", 1 << 20)):
        data = os.urandom(size)
        n = calls if size <= 1024 else max(10, calls // 10)
        rows.append((name, f"put {label}", *timed(n, lambda i, d=data, s=label: objects.put(f"b/{s}/{i}", d))))
        rows.append((name, f"get {label}", *timed(n, lambda i, s=label: objects.get(f"b/{s}/{i}"))))
        rows.append((name, f"put_if_absent {label}",
                     *timed(n, lambda i, d=data, s=label: objects.put_if_absent(f"c/{s}/{i}", d))))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args()
    rows: list[tuple[str, str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        etcd = stack.enter_context(infra.start_etcd(work / "etcd"))
        s3 = stack.enter_context(infra.start_s3())
        os.environ.update({k: v for k, v in s3.env.items() if k not in os.environ})
        for name, url in (("local sqlite", str(work / "meta")), ("etcd", etcd.url + "/bench")):
            meta = open_meta(url)
            stack.callback(meta.close)
            rows += meta_rows(name, meta, args.calls)
        for name, url in (("local dir", str(work / "objects")), ("S3 (moto)", s3.url)):
            objects = open_objects(url)
            stack.callback(objects.close)
            rows += object_rows(name, objects, args.calls)
    print(f"\nnproc {os.cpu_count()}; {args.calls} calls per row (100 B meta values)\n")
    print("| backend | call | p50 ms | p99 ms |\n|---|---|---:|---:|")
    for backend, call, p50, p99 in rows:
        print(f"| {backend} | {call} | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main()
