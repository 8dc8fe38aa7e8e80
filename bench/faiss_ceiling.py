"""The ceiling: raw faiss-cpu HNSW in-process with the same parameters as the servers.

Threads: the index build and the nq=100 batches use ``threads`` OpenMP threads (--threads); the
nq=1 loop runs with ONE OpenMP thread (``faiss.omp_set_num_threads(1)``, the run-time equivalent
of OMP_NUM_THREADS=1), which is both the fastest way to answer a single query and the per-query
cost a server pays on one core (t_faiss).
"""

from __future__ import annotations

import time
from typing import Any

import faiss
import numpy as np
from benchdata import Dataset, recall_at_k
from workload import Config, lat_stats


def _prep(x: np.ndarray, metric: str) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    if metric == "COSINE":
        x = x.copy()
        faiss.normalize_L2(x)
    return x


def run_faiss(ds: Dataset, cfg: Config, threads: int) -> dict[str, Any]:
    old_threads = faiss.omp_get_max_threads()
    try:
        faiss.omp_set_num_threads(threads)
        metric = faiss.METRIC_INNER_PRODUCT if ds.metric == "COSINE" else faiss.METRIC_L2
        base = _prep(ds.base, ds.metric)
        queries = _prep(ds.queries, ds.metric)
        t0 = time.perf_counter()
        index = faiss.IndexHNSWFlat(ds.dim, cfg.hnsw_m, metric)
        index.hnsw.efConstruction = cfg.ef_construction
        index.add(base)
        build_s = time.perf_counter() - t0
        index.hnsw.efSearch = cfg.ef
        k = cfg.limit

        # nq=1, single OpenMP thread
        faiss.omp_set_num_threads(1)
        for i in range(min(cfg.warmup, cfg.nq1)):
            index.search(queries[i % len(queries)][None, :], k)
        lat: list[float] = []
        t_all = time.perf_counter()
        for i in range(cfg.nq1):
            q = queries[i % len(queries)][None, :]
            t1 = time.perf_counter()
            index.search(q, k)
            lat.append(time.perf_counter() - t1)
        wall = time.perf_counter() - t_all
        out: dict[str, Any] = {"build_s": build_s}
        out.update(lat_stats(lat, "nq1"))
        out["nq1_qps"] = cfg.nq1 / wall
        out["nq1_count"] = cfg.nq1
        out["nq1_threads"] = 1

        # nq=100, --threads OpenMP threads
        faiss.omp_set_num_threads(threads)
        index.search(queries[:100], k)
        found: list[np.ndarray] = []
        total = 0
        t_all = time.perf_counter()
        for rnd in range(max(1, cfg.nq100_rounds)):
            for s in range(0, len(queries), 100):
                _, ids = index.search(queries[s:s + 100], k)
                total += ids.shape[0]
                if rnd == 0:
                    found.extend(ids)
        wall = time.perf_counter() - t_all
        out["nq100_qps"] = total / wall
        out["nq100_threads"] = threads
        out["recall"] = recall_at_k(found, ds.gt[: len(found)])
        out["recall_queries"] = len(found)
        return out
    finally:
        faiss.omp_set_num_threads(old_threads)
