"""Memory layout of loaded segments, seen through pymilvus: what the query node keeps where."""

from __future__ import annotations

import time

import numpy as np
from pymilvus import DataType, MilvusClient

from elanus.cluster.standalone import Standalone
from elanus.core.segment.spill import is_spilled

DIM = 16
N = 2000


def _setup(client: MilvusClient, name: str, metric: str) -> np.ndarray:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    client.create_collection(name, schema=schema)
    vecs = np.random.default_rng(3).standard_normal((N, DIM)).astype(np.float32)
    client.insert(name, [{"id": i, "vector": vecs[i].tolist()} for i in range(N)])
    client.flush(name)
    ip = client.prepare_index_params()
    ip.add_index("vector", index_type="HNSW", metric_type=metric, params={"M": 8, "efConstruction": 64})
    client.create_index(name, ip)
    client.load_collection(name)
    return vecs


def _sealed_vectors(server: Standalone, client: MilvusClient, name: str) -> list[np.ndarray | None]:
    coll = client.describe_collection(name)["collection_id"]
    deadline = time.monotonic() + 30
    while True:
        qn = server.query_node
        segs = [qn.segment(sid) for sid in qn.segment_ids()]
        mine = [s for s in segs if s.collection_id == coll and s.indexed_fields == ("vector",)]
        if sum(s.num_rows for s in mine) == N or time.monotonic() > deadline:
            return [s.column("vector") for s in mine]
        time.sleep(0.05)


def test_cosine_raw_vectors_are_memory_mapped_and_returned_exactly(
        server: Standalone, client: MilvusClient, name: str) -> None:
    vecs = _setup(client, name, "COSINE")
    cols = _sealed_vectors(server, client, name)
    assert cols and all(c is not None and is_spilled(c) for c in cols)
    hits = client.search(name, [vecs[5].tolist()], limit=3, output_fields=["vector"],
                         search_params={"params": {"ef": 64}})
    assert hits[0][0]["id"] == 5
    assert np.array_equal(np.asarray(hits[0][0]["entity"]["vector"], np.float32), vecs[5])
    got = client.query(name, filter="id in [0, 1999]", output_fields=["vector"])
    assert {r["id"]: np.asarray(r["vector"], np.float32).tobytes() for r in got} == {
        0: vecs[0].tobytes(), 1999: vecs[1999].tobytes()}


def test_l2_hnsw_keeps_one_copy_of_the_vectors(server: Standalone, client: MilvusClient, name: str) -> None:
    vecs = _setup(client, name, "L2")
    cols = _sealed_vectors(server, client, name)
    assert len(cols) == 1 and cols[0] is None  # the index holds them exactly: never decoded
    got = client.query(name, filter="id == 42", output_fields=["vector"])
    assert np.array_equal(np.asarray(got[0]["vector"], np.float32), vecs[42])
