"""Measurements made through pymilvus (MilvusClient over gRPC) against one running server."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from benchdata import K_GT, Dataset, recall_at_k
from pymilvus import DataType, MilvusClient

COLLECTION = "bench"


@dataclass
class Config:
    batch: int = 5000
    hnsw_m: int = 16
    ef_construction: int = 200
    ef: int = 64
    limit: int = K_GT
    warmup: int = 50
    nq1: int = 2000  # sequential nq=1 searches (cycling over the query set)
    nq100_rounds: int = 2  # passes of nq=100 batches over the query set
    filtered: int = 500  # filtered nq=1 searches
    query: int = 200  # query-by-expression calls
    count: int = 20  # count(*) calls
    timeout: float = 1800.0  # per RPC (index build/load can be long)
    seed: int = 1


def lat_stats(lat_s: list[float], prefix: str) -> dict[str, float]:
    arr = np.asarray(lat_s, dtype=np.float64)
    if arr.size == 0:
        return {}
    return {
        f"{prefix}_p50_ms": float(np.percentile(arr, 50) * 1e3),
        f"{prefix}_p99_ms": float(np.percentile(arr, 99) * 1e3),
        f"{prefix}_mean_ms": float(arr.mean() * 1e3),
        f"{prefix}_qps": float(arr.size / arr.sum()),
    }


def _ids(hits: Any) -> list[int]:
    return [int(h["id"]) for h in hits]


def _guard(errors: dict[str, str], step: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return fn()
    except Exception as e:  # one failing step must not hide the others
        errors[step] = f"{type(e).__name__}: {e}"[:500]
        return {}


def search_nq1(client: MilvusClient, ds: Dataset, cfg: Config, coll: str = COLLECTION) -> dict[str, Any]:
    qs = ds.queries.tolist()
    params = {"params": {"ef": cfg.ef}}
    for i in range(min(cfg.warmup, cfg.nq1)):
        client.search(coll, data=[qs[i % len(qs)]], limit=cfg.limit, output_fields=[],
                      search_params=params, timeout=cfg.timeout)
    lat: list[float] = []
    found: dict[int, list[int]] = {}
    t_all = time.perf_counter()
    for i in range(cfg.nq1):
        qi = i % len(qs)
        t0 = time.perf_counter()
        res = client.search(coll, data=[qs[qi]], limit=cfg.limit, output_fields=[],
                            search_params=params, timeout=cfg.timeout)
        lat.append(time.perf_counter() - t0)
        if qi not in found:
            found[qi] = _ids(res[0])
    wall = time.perf_counter() - t_all
    out: dict[str, Any] = lat_stats(lat, "nq1")
    out["nq1_qps"] = cfg.nq1 / wall
    out["nq1_count"] = cfg.nq1
    order = sorted(found)
    out["nq1_recall"] = recall_at_k([found[i] for i in order], ds.gt[order])
    return out


def search_nq100(client: MilvusClient, ds: Dataset, cfg: Config, coll: str = COLLECTION) -> dict[str, Any]:
    qs = ds.queries.tolist()
    params = {"params": {"ef": cfg.ef}}
    batches = [qs[s:s + 100] for s in range(0, len(qs), 100)]
    client.search(coll, data=batches[0], limit=cfg.limit, output_fields=[], search_params=params,
                  timeout=cfg.timeout)
    found: list[list[int]] = []
    lat: list[float] = []
    total = 0
    t_all = time.perf_counter()
    for rnd in range(max(1, cfg.nq100_rounds)):
        for b in batches:
            t0 = time.perf_counter()
            res = client.search(coll, data=b, limit=cfg.limit, output_fields=[], search_params=params,
                                timeout=cfg.timeout)
            lat.append(time.perf_counter() - t0)
            total += len(b)
            if rnd == 0:
                found.extend(_ids(r) for r in res)
    wall = time.perf_counter() - t_all
    return {
        "nq100_qps": total / wall,
        "nq100_batch_p50_ms": float(np.percentile(lat, 50) * 1e3),
        "recall": recall_at_k(found, ds.gt[: len(found)]),
        "recall_queries": len(found),
    }


def search_filtered(client: MilvusClient, ds: Dataset, cfg: Config) -> dict[str, Any]:
    qs = ds.queries.tolist()
    params = {"params": {"ef": cfg.ef}}
    n = cfg.filtered
    for i in range(min(5, n)):
        client.search(COLLECTION, data=[qs[i % len(qs)]], filter=ds.filter_expr, limit=cfg.limit,
                      output_fields=[], search_params=params, timeout=cfg.timeout)
    lat: list[float] = []
    found: dict[int, list[int]] = {}
    for i in range(n):
        qi = i % len(qs)
        t0 = time.perf_counter()
        res = client.search(COLLECTION, data=[qs[qi]], filter=ds.filter_expr, limit=cfg.limit,
                            output_fields=[], search_params=params, timeout=cfg.timeout)
        lat.append(time.perf_counter() - t0)
        found.setdefault(qi, _ids(res[0]))
    order = sorted(found)
    out: dict[str, Any] = lat_stats(lat, "filtered")
    out["filtered_recall"] = recall_at_k([found[i] for i in order], ds.filtered_gt[order])
    out["filter_expr"] = ds.filter_expr
    out["filter_selectivity"] = float(ds.filter_mask.mean())
    return out


def query_expr(client: MilvusClient, ds: Dataset, cfg: Config) -> dict[str, Any]:
    rng = np.random.default_rng(cfg.seed)
    exprs = [ds.query_expr(rng) for _ in range(cfg.query + 5)]
    for e in exprs[:5]:
        client.query(COLLECTION, filter=e, output_fields=["id"], limit=100, timeout=cfg.timeout)
    lat: list[float] = []
    rows = 0
    bad = 0
    for e in exprs[5:]:
        t0 = time.perf_counter()
        res = client.query(COLLECTION, filter=e, output_fields=["id"], limit=100, timeout=cfg.timeout)
        lat.append(time.perf_counter() - t0)
        rows += len(res)
        bad += int(not _query_ok(ds, e, res))
    out: dict[str, Any] = lat_stats(lat, "query")
    out["query_rows_mean"] = rows / max(1, len(lat))
    out["query_wrong_results"] = bad
    out["query_example"] = exprs[5] if len(exprs) > 5 else exprs[0]
    return out


def _query_ok(ds: Dataset, expr: str, res: list[dict[str, Any]]) -> bool:
    """Check a query-by-expression answer: exactly the ids in the window that pass the filter."""
    parts = expr.split("id >= ")[1].split(" and id < ")
    lo, hi = int(parts[0]), int(parts[1])
    want = {i for i in range(lo, min(hi, ds.n)) if ds.filter_mask[i]}
    if not ds.query_base_filter:
        want = set(range(lo, min(hi, ds.n)))
    got = {int(r["id"]) for r in res}
    return got == want if len(want) <= 100 else (len(got) == 100 and got <= want)


def count_star(client: MilvusClient, ds: Dataset, cfg: Config) -> dict[str, Any]:
    lat: list[float] = []
    value = -1
    for i in range(cfg.count + 2):
        t0 = time.perf_counter()
        res = client.query(COLLECTION, filter="", output_fields=["count(*)"], timeout=cfg.timeout)
        if i >= 2:
            lat.append(time.perf_counter() - t0)
        value = int(res[0]["count(*)"])
    out: dict[str, Any] = lat_stats(lat, "count")
    out["count_value"] = value
    out["count_ok"] = value == ds.n
    return out


def create_collection(client: MilvusClient, ds: Dataset, cfg: Config) -> None:
    if client.has_collection(COLLECTION, timeout=cfg.timeout):
        client.drop_collection(COLLECTION, timeout=cfg.timeout)
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=ds.dim)
    for s in ds.scalars:
        if s.kind == "varchar":
            schema.add_field(s.name, DataType.VARCHAR, max_length=256)
        else:
            schema.add_field(s.name, DataType.INT64)
    client.create_collection(COLLECTION, schema=schema, timeout=cfg.timeout)


def insert_all(client: MilvusClient, ds: Dataset, cfg: Config) -> dict[str, Any]:
    insert_s = 0.0
    inserted = 0
    for start in range(0, ds.n, cfg.batch):
        rows = ds.rows(start, min(start + cfg.batch, ds.n))  # built outside the timed call
        t0 = time.perf_counter()
        res = client.insert(COLLECTION, rows, timeout=cfg.timeout)
        insert_s += time.perf_counter() - t0
        inserted += int(res.get("insert_count", len(rows)))
    t0 = time.perf_counter()
    client.flush(COLLECTION, timeout=cfg.timeout)
    flush_s = time.perf_counter() - t0
    return {
        "inserted": inserted,
        "insert_only_s": insert_s,
        "flush_s": flush_s,
        "insert_only_rows_s": ds.n / insert_s,
        "insert_rows_s": ds.n / (insert_s + flush_s),
    }


def build_index(client: MilvusClient, ds: Dataset, cfg: Config) -> dict[str, Any]:
    ip = MilvusClient.prepare_index_params()
    ip.add_index(field_name="vector", index_type="HNSW", metric_type=ds.metric,
                 params={"M": cfg.hnsw_m, "efConstruction": cfg.ef_construction})
    t0 = time.perf_counter()
    client.create_index(COLLECTION, ip, timeout=cfg.timeout)  # pymilvus waits until the index is built
    t_index = time.perf_counter() - t0
    client.load_collection(COLLECTION, timeout=cfg.timeout)  # waits until loaded
    deadline = time.perf_counter() + cfg.timeout
    while "Loaded" not in str(client.get_load_state(COLLECTION, timeout=cfg.timeout).get("state")):
        if time.perf_counter() > deadline:
            raise TimeoutError("collection not loaded")
        time.sleep(0.05)
    total = time.perf_counter() - t0
    return {"create_index_s": t_index, "load_s": total - t_index, "build_s": total}


def run_server(uri: str, ds: Dataset, cfg: Config, rss: Callable[[], tuple[float, float]],
               log: Callable[[str], None]) -> dict[str, Any]:
    """Full workload against a real server. Insert/index failures abort; later steps are guarded."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    client = MilvusClient(uri=uri, timeout=60)
    try:
        try:
            out["server_version"] = str(client.get_server_version())
        except Exception as e:
            out["server_version"] = f"? ({type(e).__name__})"
        create_collection(client, ds, cfg)
        log("insert")
        out.update(insert_all(client, ds, cfg))
        log(f"insert {out['insert_rows_s']:.0f} rows/s; building index")
        out.update(build_index(client, ds, cfg))
        out["rss_after_load_mib"], out["hwm_after_load_mib"] = rss()
        log(f"built+loaded in {out['build_s']:.1f}s; RSS {out['rss_after_load_mib']:.0f} MiB; nq=1")
        out.update(_guard(errors, "nq1", lambda: search_nq1(client, ds, cfg)))
        log("nq=100")
        out.update(_guard(errors, "nq100", lambda: search_nq100(client, ds, cfg)))
        log("filtered")
        out.update(_guard(errors, "filtered", lambda: search_filtered(client, ds, cfg)))
        log("query")
        out.update(_guard(errors, "query", lambda: query_expr(client, ds, cfg)))
        out.update(_guard(errors, "count", lambda: count_star(client, ds, cfg)))
        out["rss_end_mib"], out["hwm_end_mib"] = rss()
    finally:
        if errors:
            out["errors"] = errors
        try:
            client.close()
        except Exception:
            pass
    return out


def run_floor(uri: str, ds: Dataset, cfg: Config, rss: Callable[[], tuple[float, float]]) -> dict[str, Any]:
    """Round-trip cost only: the floor server answers every search with a canned top-k."""
    client = MilvusClient(uri=uri, timeout=60)
    try:
        out = search_nq1(client, ds, cfg, coll="floor")
        out.pop("nq1_recall", None)
        res = search_nq100(client, ds, cfg, coll="floor")
        out.update({k: v for k, v in res.items() if k.startswith("nq100")})
        out["rss_after_load_mib"], out["hwm_after_load_mib"] = rss()
        return out
    finally:
        client.close()
