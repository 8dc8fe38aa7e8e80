"""Overhead of the read path over a bare index search (not a test; run by hand).

    .venv/bin/python -m tests.worker.bench_query_node [rows] [dim]

Builds one sealed HNSW segment, serves it through a delegator, and times nq=1 top-10
searches at each layer: the faiss index alone, ``SealedSegment.search``,
``QueryNodeImpl.search_segments`` and the delegator (``QueryNodeImpl.search``: tsafe
check, distribution pin, registry lookup). Calls alternate between the layers; prints the median per call.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from elanus.cluster.registry import LocalRegistry
from elanus.core.index import parse_search_params
from elanus.storage import open_meta, open_objects, open_wal
from elanus.worker.query_node import QueryNodeImpl
from tests.worker.segdata import make_collection, make_schema, search_req, tick_msg, write_segment


def main(rows: int = 100_000, dim: int = 128, rounds: int = 30, per_round: int = 200) -> None:
    schema = make_schema(dim)
    coll = make_collection(schema)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        objects = open_objects(str(root / "o"))
        wal = open_wal(str(root / "w"))
        meta = open_meta(str(root / "m"))
        wal.create_channel("ch0")
        rng = np.random.default_rng(0)
        cols = {
            "id": np.arange(rows, dtype=np.int64),
            "vec": rng.standard_normal((rows, dim)).astype(np.float32),
            "age": np.arange(rows, dtype=np.int64) % 100,
            "name": np.array([f"n{i}" for i in range(rows)], dtype=object),
            "score": np.zeros(rows), "score$valid": np.ones(rows, dtype=bool),
        }
        t0 = time.perf_counter()
        info = write_segment(objects, schema, 1, cols, 10, index={
            "index_type": "HNSW", "metric_type": "L2", "M": "16", "efConstruction": "64"})
        print(f"built HNSW over {rows}x{dim} in {time.perf_counter() - t0:.1f}s")
        registry = LocalRegistry()
        node = QueryNodeImpl(1, registry, meta, objects, wal)
        registry.add_query_node(node)
        node.load_segment(coll, info, [])
        node.watch_channel(coll, "ch0", 0, [1], ())
        node.handoff("ch0", info, 1)
        wal.append("ch0", tick_msg(20), durable=False)
        seg = node.segment(1)
        index = seg._indexes["vec"]
        q = rng.standard_normal((1, dim)).astype(np.float32)
        req = search_req(q, 10, 20, guarantee_ts=20, params={"ef": 64}, output_fields=())
        params = parse_search_params(index.spec, "L2", {"ef": 64}, k=10)
        node.search("ch0", req)  # waits for the tick once

        layers: dict[str, Callable[[], object]] = {
            "index.search": lambda: index.search(q, 10, params),
            "segment.search": lambda: seg.search(req, seg.visible_mask(20)),
            "node.search_segments": lambda: node.search_segments([1], req),
            "delegator (node.search)": lambda: node.search("ch0", req),
        }
        samples: dict[str, list[float]] = {name: [] for name in layers}
        clock = time.perf_counter_ns
        for _ in range(rounds * per_round):
            for name, fn in layers.items():  # alternate per call: noise hits every layer alike
                start = clock()
                fn()
                samples[name].append((clock() - start) / 1e3)
        base = statistics.median(samples["index.search"])
        for name, values in samples.items():
            med = statistics.median(values)
            print(f"{name:26s} {med:8.1f} us   (+{med - base:6.1f} us over index.search)")
        node.close()
        wal.close()
        meta.close()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
