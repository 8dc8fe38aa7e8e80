"""Micro-benchmark of the vector-index layer against raw faiss (standalone; prints numbers).

Data: N x DIM random float32 (standard normal), L2, HNSW M=16 efConstruction=200,
searched with ef=64, k=10. Measures:

- build time through ``elanus.core.index.build`` (build threads = all cores);
- nq=1 latency p50/p99 through ``FaissIndex.search`` and through raw faiss on the
  *same* faiss index (``index.search(q, k)`` with ``hnsw.efSearch`` preset, the
  cheapest idiomatic call), timed alternately query by query so box noise hits
  both equally; the difference is the wrapper's overhead;
- the same with masks (raw faiss: ``packbits`` + ``IDSelectorBitmap`` +
  ``SearchParametersHNSW(sel=..., efSearch=...)``, the public-API equivalent);
- recall@10 against exact search (with the same mask);
- nq=100 batches with 1 and with all OpenMP threads.

Run: ``.venv/bin/python bench/index_micro.py [--n 100000] [--queries 2000]``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

# Import Elanus before faiss so its OpenMP wait policy applies (see faiss_glue).
from elanus.core.index import (
    FaissIndex,
    IndexSpec,
    IndexType,
    MetricType,
    SearchParams,
    brute_force_search,
    build,
    set_threads,
)
from elanus.core.index.faiss_glue import faiss

K, EF, M, EF_CONSTRUCTION = 10, 64, 16, 200


def _pct(samples_ns: list[int], q: float) -> float:
    return float(np.percentile(np.asarray(samples_ns), q)) / 1000.0


def _recall(got: npt.NDArray[np.int64], want: npt.NDArray[np.int64]) -> float:
    return float(np.mean([len(set(a) & set(b)) / K for a, b in zip(got, want, strict=True)]))


def _paired(n: int, first: Callable[[int], object], second: Callable[[int], object]
            ) -> tuple[list[int], list[int]]:
    """Time first(i) and second(i) for i < n, alternating which goes first."""
    a: list[int] = []
    b: list[int] = []
    for i in range(n):
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            fn, out = (first, a) if which == 0 else (second, b)
            t = time.perf_counter_ns()
            fn(i)
            out.append(time.perf_counter_ns() - t)
    return a, b


def _measure(index: FaissIndex, one: list[npt.NDArray[np.float32]], params: SearchParams,
             valid: npt.NDArray[np.bool_] | None
             ) -> tuple[list[int], list[int], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """nq=1 latencies and results of the wrapper and of raw faiss over the same queries."""
    raw = index.faiss_index
    ours_out: list[npt.NDArray[np.int64]] = [np.empty(0, np.int64)] * len(one)
    raw_out: list[npt.NDArray[np.int64]] = [np.empty(0, np.int64)] * len(one)

    def ours(i: int) -> None:
        ours_out[i] = index.search(one[i], K, params, valid=valid)[1][0]

    def raw_search(i: int) -> None:
        if valid is None:
            raw_out[i] = raw.search(one[i], K)[1][0]
            return
        bitmap = np.packbits(valid, bitorder="little")
        sel = faiss.IDSelectorBitmap(bitmap)
        raw_out[i] = raw.search(one[i], K, params=faiss.SearchParametersHNSW(sel=sel, efSearch=EF))[1][0]

    wrapper_ns, raw_ns = _paired(len(one), ours, raw_search)
    return wrapper_ns, raw_ns, np.stack(ours_out), np.stack(raw_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"nproc={cores} omp_wait_policy={os.environ.get('OMP_WAIT_POLICY')} faiss={faiss.__version__} "
          f"numpy={np.__version__}")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.n, args.dim)).astype(np.float32)
    queries = rng.standard_normal((args.queries, args.dim)).astype(np.float32)

    set_threads(1, build=cores)
    spec = IndexSpec(IndexType.HNSW, MetricType.L2, args.dim, hnsw_m=M, ef_construction=EF_CONSTRUCTION)
    t0 = time.perf_counter()
    index = build(spec, x)
    print(f"build: {time.perf_counter() - t0:.1f} s  ({args.n} x {args.dim}, M={M}, "
          f"efConstruction={EF_CONSTRUCTION}, {cores} threads)  memory={index.memory_bytes / 2**20:.1f} MiB")

    raw = index.faiss_index
    raw.hnsw.efSearch = EF  # the raw baseline's unfiltered search uses the preset ef
    faiss.omp_set_num_threads(1)
    params = SearchParams(MetricType.L2, ef=EF)
    one = [queries[i:i + 1] for i in range(len(queries))]
    for _ in range(200):  # warm caches and code paths
        index.search(one[0], K, params)
        raw.search(one[0], K)

    cases: list[tuple[str, npt.NDArray[np.bool_] | None]] = [
        ("no mask", None),
        ("mask drops 90% (keeps 10%)", rng.random(args.n) < 0.10),
        ("mask keeps 90%", rng.random(args.n) < 0.90),
    ]
    print(f"\nnq=1, k={K}, ef={EF}, 1 OpenMP thread; {len(one)} queries; latency in us; "
          "recall@10 vs exact search under the same mask")
    print(f"{'case':28s} {'wrapper p50':>11s} {'p99':>8s} {'raw p50':>8s} {'p99':>8s} "
          f"{'overhead p50':>12s} {'recall':>7s} {'raw recall':>10s}")
    for name, valid in cases:
        wrapper_ns, raw_ns, got, raw_got = _measure(index, one, params, valid)
        want = brute_force_search(x, queries, K, "L2", valid=valid)[1]
        print(f"{name:28s} {_pct(wrapper_ns, 50):11.1f} {_pct(wrapper_ns, 99):8.1f} {_pct(raw_ns, 50):8.1f} "
              f"{_pct(raw_ns, 99):8.1f} {_pct(wrapper_ns, 50) - _pct(raw_ns, 50):12.1f} "
              f"{_recall(got, want):7.3f} {_recall(raw_got, want):10.3f}")

    batch = queries[:100]
    print("\nnq=100 batch, no mask (ms per batch, median of 20)")
    for threads in sorted({1, cores}):
        set_threads(1, batch=threads, batch_min_nq=32)
        times = []
        for _ in range(20):
            t = time.perf_counter_ns()
            index.search(batch, K, params)
            times.append(time.perf_counter_ns() - t)
        print(f"  {threads} thread(s): {np.median(times) / 1e6:.2f} ms")


if __name__ == "__main__":
    main()
