"""Benchmark Elanus, milvus-lite, raw faiss (ceiling) and a canned gRPC server (floor) side by side.

Everything except `faiss` is measured through pymilvus (MilvusClient over gRPC), one server
subprocess per (dataset, target) with a fresh data dir under --work-dir. Examples:

    .venv/bin/python bench/run.py --quick --targets floor,faiss,milvus-lite
    .venv/bin/python bench/run.py --dataset both --json /tmp/bench.json
    .venv/bin/python bench/run.py --targets elanus --elanus-cmd '{python} -m elanus run ...'
    .venv/bin/python bench/run.py --selectivity --rows 100000   # filters at 50/10/1/0.1 % (selectivity.py)

See bench/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import importlib.util
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import benchdata
import faiss
import numpy as np
import pymilvus
import report
import servers
from faiss_ceiling import run_faiss
from pymilvus import MilvusClient
from workload import Config, run_floor, run_server

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
ALL_TARGETS = ("floor", "faiss", "milvus-lite", "elanus", "cluster-nats", "cluster-objectstore")
DEFAULT_TARGETS = ("floor", "faiss", "milvus-lite", "elanus")
ML_VENV = Path("/tmp/bench-venvs/milvus-lite")
DEFAULT_ELANUS_CMD = "{python} -m elanus run --data-dir {data_dir} --host {host} --port {port}"
# Cluster mode: every role its own process (`elanus cluster up` starts etcd, moto S3 and NATS too);
# {wal} is nats or objectstore. Memory is the whole process tree, infrastructure included.
DEFAULT_CLUSTER_CMD = ("{python} -m elanus cluster up --no-tty --data-dir {data_dir} --port {port} --wal {wal} "
                       "--query-nodes 2 --proxies 1 --data-nodes 1 --index-nodes 1")
DEFAULT_ML_CMD = "{python} -m milvus_lite server --data-dir {data_dir} --host {host} --port {port}"
_T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                    help=f"comma list out of {','.join(ALL_TARGETS)} (default: {','.join(DEFAULT_TARGETS)})")
    ap.add_argument("--dataset", choices=("synthetic", "debian", "both"), default="synthetic")
    ap.add_argument("--rows", type=int, help="rows per dataset (synthetic default 100000; debian: all)")
    ap.add_argument("--dim", type=int, default=128, help="synthetic dimension")
    ap.add_argument("--synthetic-dist", choices=("clustered", "uniform"), default="clustered",
                    help="synthetic vectors: Gaussian mixture (default) or uniform [0,1)")
    ap.add_argument("--queries", type=int, help="query set size = recall queries (default 1000)")
    ap.add_argument("--nq1", type=int, help="timed sequential nq=1 searches (default 2000)")
    ap.add_argument("--filtered", type=int, help="timed filtered searches (default 500)")
    ap.add_argument("--query-calls", type=int, help="timed query-by-expression calls (default 200)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 20k rows, 200 queries, fewer calls")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                    help="faiss OpenMP threads for build and nq=100 (nq=1 always uses 1)")
    ap.add_argument("--ef", type=int, default=64)
    ap.add_argument("--batch", type=int, default=5000, help="rows per client.insert call")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", type=Path, help="write all results and metadata to this file")
    ap.add_argument("--elanus-cmd", default=DEFAULT_ELANUS_CMD,
                    help="server command template; fields {python} {data_dir} {host} {port} {repo}")
    ap.add_argument("--cluster-cmd", default=DEFAULT_CLUSTER_CMD,
                    help="cluster-* targets' command template; also {wal}")
    ap.add_argument("--milvus-lite-cmd", default=DEFAULT_ML_CMD)
    ap.add_argument("--milvus-lite-python", help="interpreter with milvus-lite (default: auto)")
    ap.add_argument("--setup-milvus-lite", action="store_true",
                    help=f"create {ML_VENV} with milvus-lite==3.2.2 if it is missing")
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp/elanus-bench"))
    ap.add_argument("--keep-data", action="store_true", help="keep server data dirs after the run")
    ap.add_argument("--start-timeout", type=float, default=120.0)
    ap.add_argument("--timeout", type=float, default=1800.0, help="per-RPC timeout, seconds")
    args = ap.parse_args(argv)
    args.target_list = [t.strip() for t in args.targets.split(",") if t.strip()]
    bad = [t for t in args.target_list if t not in ALL_TARGETS]
    if bad:
        ap.error(f"unknown targets {bad}; choose from {ALL_TARGETS}")
    return args


def make_config(args: argparse.Namespace) -> Config:
    q = args.quick
    return Config(
        batch=args.batch, ef=args.ef, seed=args.seed, timeout=args.timeout,
        warmup=20 if q else 50,
        nq1=args.nq1 or (200 if q else 2000),
        nq100_rounds=1 if q else 2,
        filtered=args.filtered or (100 if q else 500),
        query=args.query_calls or (50 if q else 200),
        count=10 if q else 20,
    )


def load_datasets(args: argparse.Namespace) -> list[benchdata.Dataset]:
    n_queries = args.queries or (200 if args.quick else 1000)
    rows = args.rows or (20_000 if args.quick else None)
    names = ["synthetic", "debian"] if args.dataset == "both" else [args.dataset]
    out = []
    for name in names:
        t0 = time.perf_counter()
        if name == "synthetic":
            ds = benchdata.synthetic(rows or 100_000, args.dim, n_queries, args.seed,
                                     args.synthetic_dist)
        else:
            ds = benchdata.debian(rows, n_queries)
        log(f"dataset {name}: {ds.n} x {ds.dim} {ds.metric}, {len(ds.queries)} queries, "
            f"filter {ds.filter_expr!r} keeps {ds.filter_mask.mean():.1%} "
            f"(prepared in {time.perf_counter() - t0:.1f}s)")
        out.append(ds)
    return out


def milvus_lite_python(args: argparse.Namespace) -> str:
    if args.milvus_lite_python:
        return str(args.milvus_lite_python)
    if importlib.util.find_spec("milvus_lite") is not None:
        return sys.executable
    venv_py = ML_VENV / "bin" / "python"
    if not venv_py.exists() and args.setup_milvus_lite:
        log(f"creating {ML_VENV} with milvus-lite==3.2.2")
        subprocess.run([sys.executable, "-m", "venv", str(ML_VENV)], check=True)
        subprocess.run([str(venv_py), "-m", "pip", "install", "-q", "milvus-lite==3.2.2"], check=True)
    if venv_py.exists():
        return str(venv_py)
    raise RuntimeError(
        f"milvus-lite not found: pass --setup-milvus-lite (creates {ML_VENV}), or "
        "--milvus-lite-python PATH, or `pip install milvus-lite==3.2.2` into this venv"
    )


def server_argv(template: str, python: str, data_dir: Path, host: str, port: int) -> list[str]:
    cmd = template.format(python=shlex.quote(python), data_dir=shlex.quote(str(data_dir)),
                          host=host, port=port, repo=shlex.quote(str(REPO_DIR)))
    return shlex.split(cmd)


def wait_ready(srv: servers.ServerProcess, timeout: float, floor: bool) -> float:
    """Wait for the port, then for a pymilvus client to connect (and list collections)."""
    t0 = time.perf_counter()
    srv.wait_port(timeout)
    last: Exception | None = None
    while time.perf_counter() - t0 < timeout:
        if not srv.alive():
            raise RuntimeError(f"{srv.name} exited; log {srv.log_path}:\n{srv.log_tail()}")
        try:
            client = MilvusClient(uri=srv.uri, timeout=5)
            try:
                if not floor:
                    client.list_collections(timeout=5)
            finally:
                client.close()
            return time.perf_counter() - t0
        except Exception as e:
            last = e
            time.sleep(0.2)
    raise TimeoutError(f"{srv.name} not ready within {timeout:.0f}s: {last}")


def run_target(target: str, ds: benchdata.Dataset, args: argparse.Namespace, cfg: Config,
               run_dir: Path) -> dict[str, Any]:
    res: dict[str, Any] = {"dataset": ds.name, "target": target, "rows": ds.n, "dim": ds.dim,
                           "metric": ds.metric, "status": "ok"}
    if target == "faiss":
        log(f"{ds.name}/faiss: HNSW build + search (threads={args.threads}, nq=1 on 1 thread)")
        res.update(run_faiss(ds, cfg, args.threads))
        res["server_version"] = f"faiss {faiss.__version__}"
        return res
    host, port = "127.0.0.1", servers.free_port()
    tdir = run_dir / f"{ds.name}-{target}"
    data_dir = tdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    if target == "floor":
        argv = [sys.executable, str(BENCH_DIR / "floor_server.py"), "--host", host, "--port", str(port),
                "--dim", str(ds.dim), "--topk", str(cfg.limit)]
    elif target == "milvus-lite":
        argv = server_argv(args.milvus_lite_cmd, milvus_lite_python(args), data_dir, host, port)
    elif target.startswith("cluster-"):
        cmd = args.cluster_cmd.replace("{wal}", target.removeprefix("cluster-"))
        argv = server_argv(cmd, sys.executable, data_dir, host, port)
    else:
        argv = server_argv(args.elanus_cmd, sys.executable, data_dir, host, port)
    res["command"] = shlex.join(argv)
    srv = servers.ServerProcess(target, argv, tdir / "server.log", cwd=REPO_DIR, host=host, port=port)
    try:
        log(f"{ds.name}/{target}: starting `{res['command']}`")
        srv.start()
        res["server_pid"] = srv.pid
        res["startup_s"] = wait_ready(srv, args.start_timeout, floor=target == "floor")

        def rss() -> tuple[float, float]:
            return servers.tree_memory_mib(srv.pid)

        if target == "floor":
            res.update(run_floor(srv.uri, ds, cfg, rss))
            res["server_version"] = "floor"
        else:
            res.update(run_server(srv.uri, ds, cfg, rss, lambda m: log(f"{ds.name}/{target}: {m}")))
        if not srv.alive():
            res["status"] = "died"
            res["error"] = f"server exited during the run; log {srv.log_path}:\n{srv.log_tail()}"
    finally:
        code = srv.stop()
        res["exit_code"] = code
        res["log"] = str(srv.log_path)
        if not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
    return res


def machine_info(args: argparse.Namespace) -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout)
    except (OSError, ValueError, subprocess.CalledProcessError):
        nproc = len(os.sched_getaffinity(0))
    return {
        "nproc": nproc, "cpu": cpu, "python": platform.python_version(),
        "pymilvus": pymilvus.__version__, "faiss": faiss.__version__, "numpy": np.__version__,
        "argv": sys.argv, "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "faiss_threads": args.threads, "faiss_nq1_threads": 1,
    }


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--selectivity" in argv:  # the filter-selectivity benchmark (bench/selectivity.py) instead
        import selectivity

        return selectivity.main([a for a in argv if a != "--selectivity"])
    args = parse_args(argv)
    cfg = make_config(args)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored (&)
    atexit.register(servers.stop_all)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    prefix = dt.datetime.now().strftime("run-%Y%m%d-%H%M%S-")
    run_dir = Path(tempfile.mkdtemp(prefix=prefix, dir=args.work_dir))
    info = machine_info(args)
    log(f"nproc={info['nproc']} cpu={info['cpu']!r}; logs under {run_dir}; config {cfg}")
    order = [t for t in ALL_TARGETS if t in args.target_list]
    results: list[dict[str, Any]] = []
    interrupted = False
    try:
        for ds in load_datasets(args):
            for target in order:
                t0 = time.perf_counter()
                load_before = os.getloadavg()[0]
                try:
                    res = run_target(target, ds, args, cfg, run_dir)
                except Exception as e:
                    traceback.print_exc(file=sys.stderr)
                    res = {"dataset": ds.name, "target": target, "rows": ds.n, "status": "failed",
                           "error": f"{type(e).__name__}: {e}"[:2000]}
                res["wall_s"] = time.perf_counter() - t0
                res["loadavg_1m_before"], res["loadavg_1m_after"] = load_before, os.getloadavg()[0]
                results.append(res)
                log(f"{ds.name}/{target}: {res['status']} in {res['wall_s']:.1f}s")
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: servers stopped; printing partial results")
    finally:
        servers.stop_all()
    report.add_ceiling(results)
    out = {"machine": info, "config": vars(cfg), "results": results, "interrupted": interrupted}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=str))
        log(f"wrote {args.json}")
    print()
    print(f"nproc: {info['nproc']} ({info['cpu']}); pymilvus {info['pymilvus']}, faiss {info['faiss']}; "
          f"faiss nq=1 on 1 OpenMP thread, build/nq=100 on {args.threads}")
    print(f"search: HNSW M={cfg.hnsw_m} efConstruction={cfg.ef_construction} ef={cfg.ef} limit={cfg.limit}; "
          f"nq=1 x {cfg.nq1}, filtered x {cfg.filtered}, query x {cfg.query}")
    print()
    print(report.markdown_table(results))
    for line in report.notes(results):
        print(line)
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
