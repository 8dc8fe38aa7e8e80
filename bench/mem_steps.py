"""Server RSS at each step of insert -> flush -> index -> load, for finding where memory goes.

Starts one ``elanus run`` subprocess (fresh data dir), drives it through pymilvus like
``bench/run.py`` does (same schema, batches, HNSW params), and prints the server's VmRSS
(with its anonymous / file-backed split and the high-water mark) after: start (idle),
insert, flush, create_index, load (``--load-first``: index + load, insert, flush, the
handoff of the indexed segment), a few searches, and finally after ``gc.collect()`` +
``malloc_trim(0)`` injected with gdb (skipped when gdb or ptrace is unavailable).

    .venv/bin/python bench/mem_steps.py                       # synthetic 100k x 128, L2
    .venv/bin/python bench/mem_steps.py --dataset debian      # 59,389 x 384, COSINE
    .venv/bin/python bench/mem_steps.py --rows 20000 --env MALLOC_ARENA_MAX=2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchdata
import servers
from pymilvus import MilvusClient
from workload import COLLECTION, Config, create_collection

REPO_DIR = Path(__file__).resolve().parent.parent


def _status(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                out[key] = int(rest.split()[0]) // 1024
    return out


def _gdb_trim(pid: int, inject: str | None = None) -> str:
    """gc.collect() (after running the Python file ``inject``, if given) then malloc_trim(0)
    inside the server, through gdb; '' when it worked."""
    if shutil.which("gdb") is None:
        return "no gdb"
    code = "import gc; gc.collect()"
    if inject:
        code = f"exec(open({inject!r}).read()); " + code
    script = [
        "call (int)PyGILState_Ensure()",
        f"call (int)PyRun_SimpleString({json.dumps(code)})",
        "call (void)PyGILState_Release($1)",
        "call (int)malloc_trim(0)",
    ]
    cmd = ["gdb", "-p", str(pid), "-batch", "-nx", *(a for s in script for a in ("-ex", s))]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return "" if res.returncode == 0 else f"gdb failed: {res.stderr.strip()[-200:]}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=("synthetic", "debian"), default="synthetic")
    ap.add_argument("--rows", type=int, default=None, help="default: 100,000 synthetic / all debian")
    ap.add_argument("--dim", type=int, default=128, help="synthetic only")
    ap.add_argument("--settle", type=float, default=1.5, help="seconds to wait before each sample")
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server (repeatable)")
    ap.add_argument("--no-trim", action="store_true", help="skip the gdb gc + malloc_trim step")
    ap.add_argument("--repo", type=Path, default=REPO_DIR,
                    help="run the server from this source tree (e.g. a copy without a change)")
    ap.add_argument("--load-first", action="store_true",
                    help="create the index and load before inserting (growing segments, handoff)")
    ap.add_argument("--inject", default=None,
                    help="a Python file to run inside the server before gc + trim (diagnostics)")
    args = ap.parse_args(argv)

    if args.dataset == "synthetic":
        ds = benchdata.synthetic(args.rows or 100_000, args.dim, 10, seed=42)
    else:
        ds = benchdata.debian(args.rows, 10)
    raw_mib = ds.base.nbytes / 2**20
    cfg = Config()
    work = Path(tempfile.mkdtemp(prefix="elanus-mem-"))
    port = servers.free_port()
    argv_srv = [sys.executable, "-m", "elanus", "run", "--data-dir", str(work / "data"),
                "--port", str(port), "--log-level", "warning"]
    os.environ.update(kv.split("=", 1) for kv in args.env)  # inherited by the server only
    srv = servers.ServerProcess("elanus", argv_srv, work / "server.log", cwd=args.repo, port=port)
    srv.start()
    print(f"# {ds.name}: {ds.n} x {ds.dim} ({raw_mib:.0f} MiB raw), nproc={os.cpu_count()}, "
          f"env={args.env or '-'}, repo {args.repo}, log {srv.log_path}", flush=True)
    print(f"{'step':<14}{'RSS':>7}{'anon':>7}{'file':>7}{'HWM':>7}  MiB", flush=True)

    def sample(step: str) -> None:
        time.sleep(args.settle)
        s = _status(srv.pid)
        print(f"{step:<14}{s['VmRSS']:>7}{s['RssAnon']:>7}{s['RssFile']:>7}{s['VmHWM']:>7}", flush=True)

    def insert() -> None:
        for start in range(0, ds.n, cfg.batch):
            client.insert(COLLECTION, ds.rows(start, min(start + cfg.batch, ds.n)))

    def index() -> None:
        ip = MilvusClient.prepare_index_params()
        ip.add_index(field_name="vector", index_type="HNSW", metric_type=ds.metric,
                     params={"M": cfg.hnsw_m, "efConstruction": cfg.ef_construction})
        client.create_index(COLLECTION, ip)

    def load() -> None:
        client.load_collection(COLLECTION)
        while "Loaded" not in str(client.get_load_state(COLLECTION).get("state")):
            time.sleep(0.05)

    try:
        srv.wait_port(60)
        sample("idle")
        client = MilvusClient(uri=srv.uri, timeout=600)
        create_collection(client, ds, cfg)
        if args.load_first:  # rows reach the delegator's growing segments, then a handoff
            index()
            load()
            sample("index+load")
            insert()
            sample("insert")
            client.flush(COLLECTION)
            sample("flush")
            while client.describe_index(COLLECTION, "vector").get("indexed_rows", 0) < ds.n:
                time.sleep(0.2)
            time.sleep(2.0)  # the indexed copy loads and is handed off after the build
            sample("handoff")
        else:  # bench/run.py's order
            insert()
            sample("insert")
            client.flush(COLLECTION)
            sample("flush")
            index()
            sample("index")
            load()
            sample("load")
        for q in ds.queries.tolist():
            client.search(COLLECTION, [q], limit=10, search_params={"params": {"ef": 64}})
        client.search(COLLECTION, ds.queries[:5].tolist(), limit=10, output_fields=["vector"])
        sample("search")
        if not args.no_trim:
            err = _gdb_trim(srv.pid, args.inject)
            if err:
                print(f"# gc+trim skipped: {err}")
            else:
                sample("gc+trim")
        client.close()
    finally:
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
