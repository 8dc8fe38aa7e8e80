"""Micro-benchmark: filtered search and query-by-expression p50 (the ``bench/workload.py`` calls).

The standard synthetic set (``benchdata.synthetic``: 100k x 128 clustered, L2, Int64 field
``cat = id % 10``) is inserted, flushed, indexed (HNSW M=16, efConstruction=200) and loaded.
Then, after a warm-up, each call below runs ``--reps`` times; p50 / p90 in ms are printed.

- ``search``: ``MilvusClient.search(filter="cat == 3", limit=10, ef=64, output_fields=[])``;
- ``query``: ``MilvusClient.query(filter="cat == 3 and id >= A and id < A+1000",
  output_fields=["id"], limit=100)`` with a new ``A`` each call;
- ``search_nofilter``: the same search without a filter, for reference.

Two modes:

- ``--servers DIR[,DIR...]`` (default: this checkout): one ``python -m elanus run`` per
  checkout (e.g. a ``git worktree`` of an older commit), all loaded with the same data, and
  every call is made to each server in turn, so a burst of other work on a shared machine
  hits all of them alike; the table has one column per server;
- ``--inprocess``: an embedded :class:`~elanus.cluster.standalone.Standalone` of this
  checkout (or ``--repo DIR``); the pymilvus calls above, and the same requests (as pymilvus
  sent them) handed straight to ``MilvusServicer.Search`` / ``Query`` (``servicer_*``: no
  gRPC, no pymilvus). ``--profile FILE`` writes a cProfile (``pstats``) of the servicer loops.

Run: ``.venv/bin/python bench/filtered_micro.py [--rows 100000] [--reps 300]
[--servers /work/main,/tmp/elanus-old | --inprocess [--repo DIR] [--profile FILE]]``.
"""

from __future__ import annotations

import argparse
import cProfile
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import servers
from benchdata import Dataset, synthetic
from pymilvus import DataType, MilvusClient

FILTER = "cat == 3"
NAME = "fm"
WARMUP = 20


class _NoContext:
    """What the handlers read from a gRPC context (no metadata)."""

    def invocation_metadata(self) -> tuple[()]:
        return ()


def window(i: int, rows: int) -> int:
    return (i * 7919) % max(1, rows - 1000)


def query_expr(i: int, rows: int) -> str:
    lo = window(i, rows)
    return f"{FILTER} and id >= {lo} and id < {lo + 1000}"


def fill(client: MilvusClient, ds: Dataset) -> None:
    """Create, insert, flush, index and load the collection."""
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=ds.dim)
    schema.add_field("cat", DataType.INT64)
    client.create_collection(NAME, schema=schema)
    cat = ds.scalars[0].values
    for s in range(0, ds.n, 5000):
        client.insert(NAME, [{"id": i, "vector": ds.base[i].tolist(), "cat": int(cat[i])}
                             for i in range(s, min(s + 5000, ds.n))])
    client.flush(NAME)
    ip = client.prepare_index_params()
    ip.add_index("vector", index_type="HNSW", metric_type="L2", params={"M": 16, "efConstruction": 200})
    client.create_index(NAME, ip)
    client.load_collection(NAME)


def calls(client: MilvusClient, ds: Dataset) -> dict[str, Callable[[int], Any]]:
    qs = ds.queries.tolist()
    sp = {"params": {"ef": 64}}

    def search(i: int, flt: str = FILTER) -> Any:
        return client.search(NAME, data=[qs[i % len(qs)]], filter=flt, limit=10, output_fields=[],
                             search_params=sp)

    def query(i: int) -> Any:
        return client.query(NAME, filter=query_expr(i, ds.n), output_fields=["id"], limit=100)

    cat = ds.scalars[0].values
    assert all(int(cat[h["id"]]) == 3 for h in search(0)[0]), "filter not applied"
    assert len(query(1)) == 100
    return {"search": search, "query": query, "search_nofilter": lambda i: search(i, "")}


def interleaved(fns: Sequence[Callable[[int], Any]], reps: int) -> list[tuple[float, float]]:
    """p50 and p90 in ms of each ``fn(i)``, the functions called in turn ``reps`` times each."""
    for i in range(WARMUP):
        for fn in fns:
            fn(i)
    lat = np.empty((len(fns), reps))
    for i in range(reps):
        for j, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn(i)
            lat[j, i] = time.perf_counter() - t0
    return [(float(np.percentile(row, 50) * 1e3), float(np.percentile(row, 90) * 1e3)) for row in lat]


def report(columns: Sequence[str], results: dict[str, list[tuple[float, float]]]) -> None:
    print(f"{'p50 / p90 ms':26}" + "".join(f" {c[-24:]:>24}" for c in columns))
    for name, row in results.items():
        print(f"{name:26}" + "".join(f" {f'{p50:.3f} / {p90:.3f}':>24}" for p50, p90 in row))


def run_servers(repos: list[str], ds: Dataset, reps: int) -> None:
    with tempfile.TemporaryDirectory(prefix="elanus-fmicro-") as tmp:
        procs: list[servers.ServerProcess] = []
        try:
            for n, repo in enumerate(repos):
                data = Path(tmp) / f"server{n}"
                port = servers.free_port()
                srv = servers.ServerProcess(repo, [sys.executable, "-m", "elanus", "run", "--data-dir", str(data),
                                                   "--port", str(port), "--log-level", "warning"],
                                            data / "server.log", cwd=Path(repo), port=port)
                srv.start()
                procs.append(srv)
            clients = []
            for srv in procs:
                srv.wait_port(120)
                client = MilvusClient(uri=srv.uri, timeout=1800)
                t0 = time.perf_counter()
                fill(client, ds)
                print(f"{srv.name}: loaded in {time.perf_counter() - t0:.1f} s", flush=True)
                clients.append(client)
            per_server = [calls(c, ds) for c in clients]
            results = {name: interleaved([c[name] for c in per_server], reps) for name in per_server[0]}
            for c in clients:
                c.close()
        finally:
            for srv in procs:
                srv.stop()
    report(repos, results)


def run_inprocess(repo: str, ds: Dataset, reps: int, profile: str) -> None:
    if repo:
        sys.path.insert(0, repo)
    import elanus
    import elanus.access.server as server_mod
    from elanus.cluster.standalone import Standalone, StandaloneConfig

    # Keep the servicer and the last request of each kind pymilvus sends, to replay them.
    captured: dict[str, Any] = {}

    class Capturing(server_mod.MilvusServicer):  # type: ignore[misc,name-defined]
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            captured["servicer"] = self

        def Search(self, request: Any, context: Any) -> Any:
            captured["Search"] = request
            return super().Search(request, context)

        def Query(self, request: Any, context: Any) -> Any:
            captured["Query"] = request
            return super().Query(request, context)

    server_mod.MilvusServicer = Capturing  # type: ignore[misc]
    print(f"elanus from {elanus.__file__}", flush=True)
    with tempfile.TemporaryDirectory(prefix="elanus-fmicro-") as tmp:
        srv = Standalone(StandaloneConfig(data_dir=tmp, port=servers.free_port()))
        srv.start()
        try:
            client = MilvusClient(uri=f"http://{srv.proxy.address}", timeout=1800)
            t0 = time.perf_counter()
            fill(client, ds)
            print(f"loaded in {time.perf_counter() - t0:.1f} s", flush=True)
            fns = calls(client, ds)
            results = {name: interleaved([fn], reps) for name, fn in fns.items()}
            servicer, ctx = captured["servicer"], _NoContext()
            query_req = captured["Query"]
            fns["search_nofilter"](0)
            plain_req = captured["Search"]
            fns["search"](0)
            search_req = captured["Search"]
            # a new expression per call, as the client sends (no compiled-filter cache hit)
            query_reqs = []
            for i in range(reps + WARMUP):
                req = type(query_req)()
                req.CopyFrom(query_req)
                req.expr = query_expr(i, ds.n)
                query_reqs.append(req)

            def s_search(_i: int) -> Any:
                return servicer.Search(search_req, ctx)

            def s_query(i: int) -> Any:
                return servicer.Query(query_reqs[i % len(query_reqs)], ctx)

            results["servicer_search"] = interleaved([s_search], reps)
            results["servicer_query"] = interleaved([s_query], reps)
            results["servicer_search_nofilter"] = interleaved([lambda _i: servicer.Search(plain_req, ctx)], reps)
            if profile:
                prof = cProfile.Profile()
                prof.enable()
                for i in range(reps):
                    s_search(i)
                    s_query(i)
                prof.disable()
                prof.dump_stats(profile)
            client.close()
        finally:
            srv.stop()
    report([repo or "in-process"], results)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--servers", default="", help="comma-separated checkouts, one `elanus run` each")
    ap.add_argument("--inprocess", action="store_true", help="embedded Standalone, plus servicer-level timings")
    ap.add_argument("--repo", default="", help="--inprocess: import elanus from this checkout")
    ap.add_argument("--profile", default="", help="--inprocess: write a cProfile of the servicer loops here")
    args = ap.parse_args()
    ds = synthetic(args.rows, 128, 200, 42)
    if args.inprocess:
        run_inprocess(args.repo, ds, args.reps, args.profile)
    else:
        here = str(Path(__file__).resolve().parents[1])
        run_servers([str(Path(r).resolve()) for r in args.servers.split(",") if r] or [here], ds, args.reps)


if __name__ == "__main__":
    main()
