"""Micro-benchmark: query-by-expression p50 at ~1% selectivity, with / without scalar indexes.

Data: the real scalar fields of ``../shared/datasets/debian-minilm`` (``section`` VarChar,
``size`` Int64; missing sizes -> 0; and both again in a JSON field ``meta``), tiled to
``--rows`` rows (default 100k: row ``i`` takes package ``i % 59389``), plus a 4-d random vector
(the collection needs one; it is not searched). One shard, flushed into one sealed segment,
served by an Elanus server started as a subprocess (``elanus run``) so the client does not
share its interpreter.

Filters (each keeps ~1% of the rows): ``section == "fonts"`` (1.02% of packages), ``section
like "fon%"`` (same rows, a prefix), ``size`` in a range holding 1% of the rows,
``meta["section"] == "fonts"`` (a JSON path). Each runs ``--reps`` times after warm-up through
``MilvusClient.query(filter, output_fields=["id"])`` (every matching row returned) and as
``count(*)``; p50 / p90 in ms.

Variants (each with an INVERTED VARCHAR index on ``meta["section"]`` except the first): no
scalar index; INVERTED(section) + STL_SORT(size); Trie(section) + AUTOINDEX(size: HYBRID, i.e.
BITMAP when <= 100 distinct values, else STL_SORT); BITMAP(section). Between variants the
collection is released, indexes dropped / created, and loaded again.

A second table times the same filters inside one process on a
:class:`~elanus.core.segment.SealedSegment` (``count(*)`` query, no RPC), with no index and
with each index kind on the filtered field: the planner's and the indexes' own cost.

Run: ``.venv/bin/python bench/scalar_index.py [--rows 100000] [--reps 60] [--segment-only]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pymilvus import DataType, MilvusClient

DATASET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "debian-minilm"
NAME = "scalar_bench"
VARIANTS: list[tuple[str, list[tuple[str, str]]]] = [
    ("no index", []),
    ("INVERTED(section) + STL_SORT(size)", [("section", "INVERTED"), ("size", "STL_SORT"), ("meta", "INVERTED")]),
    ("Trie(section) + AUTOINDEX(size)", [("section", "Trie"), ("size", "AUTOINDEX"), ("meta", "INVERTED")]),
    ("BITMAP(section)", [("section", "BITMAP"), ("meta", "INVERTED")]),
]


def load_fields(rows: int) -> tuple[np.ndarray, np.ndarray]:
    sections: list[str] = []
    sizes: list[int] = []
    with gzip.open(DATASET / "texts.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            sections.append(str(rec.get("section") or ""))
            size = rec.get("size")
            sizes.append(int(size) if isinstance(size, int | float) else 0)
    idx = np.arange(rows) % len(sections)
    return np.array(sections, dtype=object)[idx], np.array(sizes, dtype=np.int64)[idx]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    exe = Path(sys.executable).parent / "elanus"
    proc = subprocess.Popen([str(exe), "run", "--port", str(port), "--data-dir", data_dir, "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            MilvusClient(uri=uri, timeout=5).list_collections()
            return proc, uri
        except Exception:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the server did not start") from None
            time.sleep(0.5)


def setup(client: MilvusClient, sections: np.ndarray, sizes: np.ndarray) -> None:
    if client.has_collection(NAME):
        client.drop_collection(NAME)
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=4)
    schema.add_field("section", DataType.VARCHAR, max_length=64)
    schema.add_field("size", DataType.INT64)
    schema.add_field("meta", DataType.JSON)
    index_params = client.prepare_index_params()
    index_params.add_index("vector", index_type="FLAT", metric_type="L2")
    client.create_collection(NAME, schema=schema, index_params=index_params, num_shards=1,
                             consistency_level="Bounded")
    vectors = np.random.default_rng(0).random((len(sections), 4), dtype=np.float32)
    step = 10_000
    for lo in range(0, len(sections), step):
        hi = min(lo + step, len(sections))
        client.insert(NAME, [{"id": i, "vector": vectors[i].tolist(), "section": sections[i], "size": int(sizes[i]),
                              "meta": {"section": sections[i], "size": int(sizes[i])}} for i in range(lo, hi)])
    client.flush(NAME)


def set_indexes(client: MilvusClient, wanted: list[tuple[str, str]]) -> None:
    client.release_collection(NAME)
    for index_name in client.list_indexes(NAME):
        if index_name != "vector":
            client.drop_index(NAME, index_name)
    if wanted:
        params = client.prepare_index_params()
        for field, kind in wanted:
            extra = {"json_cast_type": "VARCHAR", "json_path": 'meta["section"]'} if field == "meta" else {}
            params.add_index(field, index_type=kind, index_name=f"{field}_{kind}", params=extra)
        client.create_index(NAME, params)
    client.load_collection(NAME)


def timed(fn: object, reps: int) -> tuple[float, float, int]:
    assert callable(fn)
    for _ in range(5):
        out = fn()
    samples = []
    for _ in range(reps):
        t = time.perf_counter_ns()
        out = fn()
        samples.append(time.perf_counter_ns() - t)
    arr = np.asarray(samples) / 1e6
    n = out[0]["count(*)"] if out and "count(*)" in out[0] else len(out)
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 90)), int(n)


def segment_table(sections: np.ndarray, sizes: np.ndarray, filters: dict[str, str], reps: int) -> None:
    """In-process p50 of a count(*) query on one sealed segment, per index kind."""
    from elanus.cluster.types import QueryRequest, SegmentInfo, SegmentState
    from elanus.core import scalar_index
    from elanus.core.schema import CollectionSchema, FieldSchema
    from elanus.core.schema import DataType as T
    from elanus.core.segment import SealedSegment

    n = len(sections)
    schema = CollectionSchema("b", (FieldSchema(100, "id", T.INT64, is_primary=True),
                                    FieldSchema(101, "section", T.VARCHAR, params={"max_length": "64"}),
                                    FieldSchema(102, "size", T.INT64), FieldSchema(103, "meta", T.JSON)))
    meta = np.empty(n, dtype=object)
    meta[:] = [{"section": a, "size": b} for a, b in zip(sections.tolist(), sizes.tolist(), strict=True)]
    cols = {"id": np.arange(n, dtype=np.int64), "section": sections, "size": sizes, "meta": meta}
    info = SegmentInfo(1, 1, 1, "ch", SegmentState.FLUSHED, num_rows=n)
    ts = np.ones(n, dtype=np.uint64)
    print(f"\nsegment-level count(*) p50 (in process, {n} rows): index kind -> ms per filter")
    print(f"{'index':10} " + " ".join(f"{f:>28}" for f in filters))
    for kind in ("none", "STL_SORT", "INVERTED", "BITMAP", "Trie"):  # Trie: section only (size, meta scan)
        indexes = []
        if kind != "none":
            for field in ("section", "size", "meta"):
                f = schema.get(field)
                assert f is not None
                if kind == "Trie" and field != "section":
                    continue
                params = {"json_cast_type": "VARCHAR"} if field == "meta" else {}
                path = ("section",) if field == "meta" else ()
                indexes.append(scalar_index.build(kind, f, cols[field], None, params, path))
        seg = SealedSegment(info, schema, cols, ts, None, indexes)
        cells = []
        for expr in filters.values():
            req = QueryRequest(1, (), expr, {}, (), -1, 0, 0, count_only=True, mvcc_ts=10)
            seg.query(req)
            samples = []
            for _ in range(reps):
                t = time.perf_counter_ns()
                seg.query(req)
                samples.append(time.perf_counter_ns() - t)
            cells.append(f"{np.percentile(samples, 50) / 1e6:28.3f}")
        print(f"{kind:10} " + " ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--segment-only", action="store_true", help="only the in-process segment table")
    args = ap.parse_args()
    sections, sizes = load_fields(args.rows)
    lo, hi = (int(v) for v in np.quantile(sizes, [0.50, 0.51]))
    filters = {
        "section == fonts": 'section == "fonts"',
        "section like fon%": 'section like "fon%"',
        f"{lo} <= size < {hi}": f"{lo} <= size < {hi}",
        'meta["section"] == fonts': 'meta["section"] == "fonts"',
    }
    share = {k: float(np.mean({"section == fonts": sections == "fonts", 'meta["section"] == fonts': sections == "fonts",
                                "section like fon%": np.char.startswith(sections.astype(str), "fon"),
                                }.get(k, (sizes >= lo) & (sizes < hi)))) for k in filters}
    if args.segment_only:
        segment_table(sections, sizes, filters, args.reps)
        return
    data_dir = tempfile.mkdtemp(prefix="elanus-scalar-bench-")
    proc, uri = start_server(data_dir)
    try:
        client = MilvusClient(uri=uri, timeout=120)
        t0 = time.monotonic()
        setup(client, sections, sizes)
        print(f"{args.rows} rows loaded and flushed in {time.monotonic() - t0:.1f}s (server pid {proc.pid}, "
              f"{os.cpu_count()} cores)")
        print(f"{'variant':38} {'filter':28} {'share':>6} {'rows':>5} {'p50 ms':>7} {'p90 ms':>7}"
              f" {'count p50':>9}")
        for label, wanted in VARIANTS:
            t0 = time.monotonic()
            set_indexes(client, wanted)
            build = time.monotonic() - t0
            for fname, expr in filters.items():
                p50, p90, n = timed(lambda e=expr: client.query(NAME, filter=e, output_fields=["id"]), args.reps)
                c50, _, cn = timed(lambda e=expr: client.query(NAME, filter=e, output_fields=["count(*)"]),
                                   args.reps)
                assert n == cn, (n, cn)
                print(f"{label:38} {fname:28} {share[fname]:6.2%} {n:5d} {p50:7.2f} {p90:7.2f} {c50:9.2f}")
            print(f"{'':38} (indexes built + loaded in {build:.1f}s)")
        client.drop_collection(NAME)
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(data_dir, ignore_errors=True)
    segment_table(sections, sizes, filters, args.reps)


if __name__ == "__main__":
    main()
