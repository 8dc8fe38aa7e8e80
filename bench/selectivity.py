"""Filter selectivity benchmark: filtered search and query-by-expression on debian-minilm.

Uses the dataset's real scalar fields ``section`` (VarChar), ``priority`` (VarChar) and
``size`` (Int64, missing -> -1) with four filters chosen to keep about 50 %, 10 %, 1 % and
0.1 % of the rows (the actual share is computed from the data and printed). For each filter,
without and then with scalar indexes (created through pymilvus ``create_index``):

- filtered search: nq=1, limit 10, HNSW ef 64; p50/p99 latency, recall@10 against the exact
  filtered top-10 (faiss flat over the kept rows), and the number of *short* results (fewer
  than ``min(10, kept rows)`` hits);
- query-by-expression: ``query(filter, output_fields=["id"], limit=16384)``; p50/p99 latency,
  and the returned ids checked against the filter computed here.

``--rows`` above the dataset's 59,389 rows tiles it: row ``i`` copies the scalars of row
``i % n`` and a slightly perturbed copy of its vector (ground truth stays exact). Run::

    .venv/bin/python bench/selectivity.py                  # whole dataset
    .venv/bin/python bench/selectivity.py --rows 100000    # tiled to 100k rows
    .venv/bin/python bench/run.py --selectivity [--rows N]  # the same, through run.py
"""

from __future__ import annotations

import argparse
import gzip
import json
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import servers
from benchdata import DEBIAN_DIR, K_GT, exact_topk, recall_at_k
from pymilvus import DataType, MilvusClient

REPO_DIR = Path(__file__).resolve().parent.parent
COLLECTION = "selectivity"
QUERY_LIMIT = 16384  # Milvus's largest query window (quota.queryMaxResult default)
# Scalar indexes of the "indexed" phase: field -> index type.
SCALAR_INDEXES = {"section": "INVERTED", "priority": "BITMAP", "size": "STL_SORT"}


@dataclass
class Data:
    base: np.ndarray  # float32 [n, d], unit rows
    queries: np.ndarray  # float32 [q, d]
    section: np.ndarray  # object [n] of str
    priority: np.ndarray  # object [n] of str
    size: np.ndarray  # int64 [n], -1 where missing

    @property
    def n(self) -> int:
        return int(self.base.shape[0])


@dataclass
class Case:
    target: str  # "50%", "10%", ...
    expr: str
    mask: np.ndarray  # rows kept
    gt: np.ndarray  # exact filtered top-10 ids per query (-1 padded)


def load(rows: int | None, n_queries: int, seed: int = 7) -> Data:
    base = np.load(DEBIAN_DIR / "base.npy").astype(np.float32)
    queries = np.load(DEBIAN_DIR / "queries.npy").astype(np.float32)[:n_queries]
    section, priority, size = [], [], []
    with gzip.open(DEBIAN_DIR / "texts.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            section.append(str(rec.get("section") or ""))
            priority.append(str(rec.get("priority") or ""))
            s = rec.get("size")
            size.append(int(s) if isinstance(s, int | float) else -1)
    sec, pri, siz = np.array(section, dtype=object), np.array(priority, dtype=object), np.array(size)
    n0 = base.shape[0]
    n = rows or n0
    if n <= n0:
        return Data(base[:n], queries, sec[:n], pri[:n], siz[:n])
    src = np.arange(n) % n0
    rng = np.random.default_rng(seed)
    extra = base[src[n0:]] + rng.standard_normal((n - n0, base.shape[1]), dtype=np.float32) * np.float32(0.02)
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    return Data(np.vstack([base, extra.astype(np.float32)]), queries, sec[src], pri[src], siz[src])


def cases(data: Data) -> list[Case]:
    """The four filters; the 50 % one splits ``size`` at its median."""
    median = int(np.median(data.size))
    specs = [
        ("50%", f"size <= {median}", data.size <= median),
        ("10%", 'section == "libs"', data.section == "libs"),
        ("1%", 'section == "fonts"', data.section == "fonts"),
        ("0.1%", 'priority in ["standard", "required"]', np.isin(data.priority, ["standard", "required"])),
    ]
    out = []
    for target, expr, mask in specs:
        kept = np.flatnonzero(mask).astype(np.int64)
        gt = exact_topk(data.base[kept], data.queries, "COSINE", K_GT, ids=kept)
        if gt.shape[1] < K_GT:
            gt = np.hstack([gt, np.full((len(gt), K_GT - gt.shape[1]), -1, np.int64)])
        out.append(Case(target, expr, np.asarray(mask, dtype=np.bool_), gt))
    return out


def setup(client: MilvusClient, data: Data, batch: int, timeout: float) -> dict[str, float]:
    if client.has_collection(COLLECTION):
        client.drop_collection(COLLECTION)
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=int(data.base.shape[1]))
    schema.add_field("section", DataType.VARCHAR, max_length=64)
    schema.add_field("priority", DataType.VARCHAR, max_length=32)
    schema.add_field("size", DataType.INT64)
    client.create_collection(COLLECTION, schema=schema, consistency_level="Strong", timeout=timeout)
    t0 = time.perf_counter()
    for start in range(0, data.n, batch):
        stop = min(start + batch, data.n)
        vecs = data.base[start:stop].tolist()
        rows = [{"id": start + j, "vector": vecs[j], "section": data.section[start + j],
                 "priority": data.priority[start + j], "size": int(data.size[start + j])}
                for j in range(stop - start)]
        client.insert(COLLECTION, rows, timeout=timeout)
    client.flush(COLLECTION, timeout=timeout)
    t_insert = time.perf_counter() - t0
    ip = MilvusClient.prepare_index_params()
    ip.add_index(field_name="vector", index_type="HNSW", metric_type="COSINE",
                 params={"M": 16, "efConstruction": 200})
    client.create_index(COLLECTION, ip, timeout=timeout)
    client.load_collection(COLLECTION, timeout=timeout)
    return {"insert_s": t_insert, "index_load_s": time.perf_counter() - t0 - t_insert}


def add_scalar_indexes(client: MilvusClient, timeout: float) -> dict[str, str]:
    """Create the scalar indexes and return each one's describe_index state."""
    ip = MilvusClient.prepare_index_params()
    for field, kind in SCALAR_INDEXES.items():
        ip.add_index(field_name=field, index_type=kind, index_name=f"{field}_idx")
    client.create_index(COLLECTION, ip, timeout=timeout)
    client.release_collection(COLLECTION, timeout=timeout)
    client.load_collection(COLLECTION, timeout=timeout)
    return {f: str(client.describe_index(COLLECTION, f"{f}_idx").get("state")) for f in SCALAR_INDEXES}


def _pcts(lat: list[float]) -> tuple[float, float]:
    arr = np.asarray(lat) * 1e3
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def measure(client: MilvusClient, data: Data, case: Case, searches: int, queries: int,
            ef: int) -> dict[str, Any]:
    qs = data.queries.tolist()
    params = {"params": {"ef": ef}}
    kept = int(case.mask.sum())
    want = min(K_GT, kept)
    for i in range(3):
        client.search(COLLECTION, [qs[i]], filter=case.expr, limit=K_GT, search_params=params)
    lat: list[float] = []
    found: dict[int, list[int]] = {}
    short = wrong = 0
    for i in range(searches):
        qi = i % len(qs)
        t0 = time.perf_counter()
        res = client.search(COLLECTION, [qs[qi]], filter=case.expr, limit=K_GT, search_params=params)
        lat.append(time.perf_counter() - t0)
        ids = [int(h["id"]) for h in res[0]]
        short += len(ids) < want
        wrong += sum(not case.mask[x] for x in ids)
        found.setdefault(qi, ids)
    order = sorted(found)
    s50, s99 = _pcts(lat)
    expected = set(np.flatnonzero(case.mask).tolist())
    qlat: list[float] = []
    q_ok = True
    returned = 0
    for i in range(queries + 2):
        t0 = time.perf_counter()
        rows = client.query(COLLECTION, filter=case.expr, output_fields=["id"], limit=QUERY_LIMIT)
        if i >= 2:
            qlat.append(time.perf_counter() - t0)
        got = {int(r["id"]) for r in rows}
        returned = len(got)
        q_ok = q_ok and got <= expected and len(got) == min(len(expected), QUERY_LIMIT)
    q50, q99 = _pcts(qlat)
    return {
        "target": case.target, "expr": case.expr, "kept": kept, "selectivity": kept / data.n,
        "search_p50_ms": s50, "search_p99_ms": s99,
        "recall@10": recall_at_k([found[i] for i in order], case.gt[order]),
        "short_results": short, "rows_failing_filter": wrong,
        "query_p50_ms": q50, "query_p99_ms": q99, "query_rows": returned, "query_correct": q_ok,
    }


def table(results: list[dict[str, Any]]) -> str:
    head = ("| indexes | target | filter | selectivity | search p50 ms | search p99 ms | recall@10 | short "
            "| query p50 ms | query p99 ms | query rows | query ok |")
    lines = [head, "|" + " --- |" * 12]
    for r in results:
        lines.append(
            f"| {r['phase']} | {r['target']} | `{r['expr']}` | {r['selectivity']:.3%} | {r['search_p50_ms']:.2f} "
            f"| {r['search_p99_ms']:.2f} | {r['recall@10']:.4f} | {r['short_results']} | {r['query_p50_ms']:.2f} "
            f"| {r['query_p99_ms']:.2f} | {r['query_rows']} | {r['query_correct']} |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    data = load(args.rows, args.queries)
    all_cases = cases(data)
    print(f"# data: {data.n} rows x {data.base.shape[1]} (prepared in {time.perf_counter() - t0:.1f}s)",
          file=sys.stderr, flush=True)
    work = Path(tempfile.mkdtemp(prefix="selectivity-", dir=args.work_dir))
    port = servers.free_port()
    argv = shlex.split(args.elanus_cmd.format(python=shlex.quote(sys.executable), data_dir=work / "data",
                                              host="127.0.0.1", port=port))
    srv = servers.ServerProcess("elanus", argv, work / "server.log", cwd=REPO_DIR, port=port)
    results: list[dict[str, Any]] = []
    try:
        srv.start()
        srv.wait_port(120)
        client = MilvusClient(uri=srv.uri, timeout=args.timeout)
        timing = setup(client, data, args.batch, args.timeout)
        print(f"# insert {timing['insert_s']:.1f}s, HNSW build + load {timing['index_load_s']:.1f}s",
              file=sys.stderr, flush=True)
        for phase in ("none", "scalar"):
            if phase == "scalar":
                states = add_scalar_indexes(client, args.timeout)
                print(f"# scalar indexes {SCALAR_INDEXES}: states {states}", file=sys.stderr, flush=True)
            for case in all_cases:
                res = measure(client, data, case, args.searches, args.query_calls, args.ef)
                res["phase"] = phase
                results.append(res)
                print(f"# {phase} {case.target}: {res}", file=sys.stderr, flush=True)
        client.close()
    finally:
        srv.stop()
        if not args.keep_data:
            shutil.rmtree(work / "data", ignore_errors=True)
    print(f"\nrows {data.n}, queries {len(data.queries)}, HNSW M=16 efConstruction=200 ef={args.ef}, limit 10; "
          f"{args.searches} filtered searches and {args.query_calls} queries per filter; server log {srv.log_path}")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--rows", type=int, help="rows (default: the whole dataset; more tiles it)")
    ap.add_argument("--queries", type=int, default=200, help="query vectors used (recall set)")
    ap.add_argument("--searches", type=int, default=200, help="timed filtered searches per filter")
    ap.add_argument("--query-calls", type=int, default=50, help="timed query calls per filter")
    ap.add_argument("--ef", type=int, default=64)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp"))
    ap.add_argument("--keep-data", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--elanus-cmd",
                    default="{python} -m elanus run --data-dir {data_dir} --host {host} --port {port} "
                            "--log-level warning")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
