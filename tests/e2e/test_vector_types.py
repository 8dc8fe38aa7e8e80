"""Float16/BFloat16/Int8/Binary vectors and nullable vector fields, end to end through pymilvus:
create (AUTOINDEX and explicit indexes), insert, search (growing, then sealed and indexed),
query with bit-exact vectors, and Milvus's errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient, MilvusException

DIM = 8
N = 200
BITS = 64

BF16 = DataType.BFLOAT16_VECTOR


def _bf16(x: np.ndarray) -> np.ndarray:
    """float32 → bfloat16 bit patterns (uint16), as Milvus narrows them (truncation)."""
    return (np.ascontiguousarray(x, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)


def _rows_of(dtype: DataType, n: int, seed: int = 0) -> list[Any]:
    """Vectors as a user passes them: numpy for fp16/int8, bytes for bf16 (no ml_dtypes needed)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    if dtype == DataType.FLOAT16_VECTOR:
        return list(x.astype(np.float16))
    if dtype == DataType.INT8_VECTOR:
        return list((x * 40).astype(np.int8))
    return [r.tobytes() for r in _bf16(x)]


def _as_bytes(v: Any) -> bytes:
    return v if isinstance(v, bytes) else np.asarray(v).tobytes()


def _create(client: MilvusClient, name: str, dtype: DataType, nullable: bool, index: dict[str, Any] | None,
            dim: int = DIM) -> None:
    schema = client.create_schema(enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", dtype, dim=dim, nullable=nullable)
    schema.add_field("tag", DataType.VARCHAR, max_length=16, is_partition_key=True)
    params = None
    if index is not None:
        params = client.prepare_index_params()
        params.add_index("vec", **index)
    client.create_collection(name, schema=schema, index_params=params, consistency_level="Strong")


@pytest.mark.parametrize("nullable", [False, True])
@pytest.mark.parametrize("dtype", [DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR, DataType.INT8_VECTOR])
def test_half_float_and_int8_vectors(client: MilvusClient, name: str, dtype: DataType, nullable: bool) -> None:
    _create(client, name, dtype, nullable, {"metric_type": "COSINE"})  # no index_type: AUTOINDEX
    desc = client.describe_index(name, "vec")
    assert desc["index_type"] == "AUTOINDEX" and desc["metric_type"] == "COSINE"
    data = _rows_of(dtype, N)
    null_ids = {i for i in range(N) if nullable and i % 5 == 4}
    rows = [{"id": i, "vec": None if i in null_ids else data[i], "tag": f"t{i % 3}"} for i in range(N)]
    assert client.insert(name, rows)["insert_count"] == N
    queries = [data[3], data[8]]
    extra = {"anns_field": "vec"} if dtype == BF16 else {}  # bytes queries need the field's type

    def check_search() -> None:
        res = client.search(name, queries, limit=10, **extra)
        assert len(res) == 2
        for hits, want in zip(res, (3, 8), strict=True):
            ids = [h["id"] for h in hits]
            assert len(ids) == 10 == len(set(ids)) and not set(ids) & null_ids
            assert ids[0] == want and hits[0]["distance"] == pytest.approx(1.0, abs=1e-3)

    def check_query() -> None:
        got = {r["id"]: r for r in client.query(name, "id >= 0", output_fields=["*"])}
        assert len(got) == N and set(got[0]) == {"id", "vec", "tag"}
        for i in range(N):
            if i in null_ids:
                assert got[i]["vec"] is None
            else:
                assert got[i]["vec"] == [_as_bytes(data[i])]  # bit-exact

    check_search()
    check_query()
    client.flush(name)  # sealed, then indexed (HNSW over the float32 values)
    check_search()
    check_query()
    client.release_collection(name)
    client.drop_collection(name)


def test_float32_queries_and_rows_on_a_float16_field(client: MilvusClient, name: str) -> None:
    _create(client, name, DataType.FLOAT16_VECTOR, False, {"metric_type": "L2"})
    x = np.random.default_rng(1).standard_normal((50, DIM)).astype(np.float32)
    client.insert(name, [{"id": i, "vec": x[i].tolist(), "tag": "a"} for i in range(50)])  # lists: fp32 rows
    res = client.search(name, [x[7].tolist()], limit=1)  # fp32 query, rounded like the data
    assert res[0][0]["id"] == 7 and res[0][0]["distance"] == 0.0
    got = client.query(name, "id == 7", output_fields=["vec"])[0]["vec"][0]
    np.testing.assert_array_equal(np.frombuffer(got, np.float16), x[7].astype(np.float16))
    client.drop_collection(name)


def _bits(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, BITS // 8)).astype(np.uint8)


def _reference(codes: np.ndarray, q: np.ndarray, metric: str) -> np.ndarray:
    a = np.unpackbits(q)[None, :].astype(bool)
    b = np.unpackbits(codes, axis=1).astype(bool)
    if metric == "HAMMING":
        return np.asarray((a ^ b).sum(axis=1), dtype=np.float64)
    inter, union = (a & b).sum(axis=1), (a | b).sum(axis=1)
    return np.where(union == 0, 1.0, 1.0 - inter / np.maximum(union, 1))


def test_binary_vectors_indexes_and_metrics(client: MilvusClient, name: str) -> None:
    _create(client, name, DataType.BINARY_VECTOR, False, None, dim=BITS)
    codes = _bits(N, 2)
    client.insert(name, [{"id": i, "vec": codes[i].tobytes(), "tag": "b"} for i in range(N)])
    client.flush(name)
    bad = client.prepare_index_params()
    bad.add_index("vec", index_type="BIN_IVF_FLAT", metric_type="SUBSTRUCTURE", params={"nlist": 128})
    with pytest.raises(MilvusException) as err:
        client.create_index(name, bad)
    assert "metric type SUBSTRUCTURE not found or not supported, supported: [HAMMING JACCARD]" in err.value.message
    q = codes[11]
    for index_type, metric in [("BIN_FLAT", "HAMMING"), ("BIN_FLAT", "JACCARD"), ("BIN_IVF_FLAT", "HAMMING"),
                               ("BIN_IVF_FLAT", "JACCARD"), ("BIN_FLAT", "SUBSTRUCTURE"),
                               ("BIN_FLAT", "SUPERSTRUCTURE")]:
        params = client.prepare_index_params()
        params.add_index("vec", index_type=index_type, metric_type=metric, params={"nlist": 16})
        client.create_index(name, params)
        client.load_collection(name)
        if metric.endswith("STRUCTURE"):
            part = (q & codes[12]) if metric == "SUBSTRUCTURE" else (q | codes[12])
            hits = client.search(name, [part.tobytes()], limit=5)[0]
            ids = [h["id"] for h in hits]
            assert {11, 12} <= set(ids) and all(h["distance"] == 0.0 for h in hits)
        else:
            hits = client.search(name, [q.tobytes()], limit=5, search_params={"params": {"nprobe": 16}})[0]
            want = np.sort(_reference(codes, q, metric))[:5]
            assert hits[0]["id"] == 11
            np.testing.assert_allclose([h["distance"] for h in hits], want, rtol=1e-5)
        client.release_collection(name)
        client.drop_index(name, "vec")
    client.drop_collection(name)


@pytest.mark.parametrize("flush", [False, True])
def test_nullable_binary_vectors_with_autoindex(client: MilvusClient, name: str, flush: bool) -> None:
    _create(client, name, DataType.BINARY_VECTOR, True, {}, dim=BITS)  # AUTOINDEX: BIN_IVF_FLAT HAMMING
    desc = client.describe_index(name, "vec")  # recorded as Milvus records an implied AUTOINDEX
    assert (desc["index_type"], desc["metric_type"]) == ("AUTOINDEX", "HAMMING")
    codes = _bits(100, 3)
    rows = [{"id": i, "vec": None if i % 2 else codes[i].tobytes(), "tag": "n"} for i in range(100)]
    client.insert(name, rows)
    if flush:
        client.flush(name)
    hits = client.search(name, [codes[10].tobytes()], limit=100)[0]
    assert len(hits) == 50 and all(h["id"] % 2 == 0 for h in hits) and hits[0]["id"] == 10
    assert [h["distance"] for h in hits] == sorted(h["distance"] for h in hits)  # HAMMING: ascending
    got = {r["id"]: r["vec"] for r in client.query(name, "id < 4", output_fields=["vec"])}
    assert got == {0: [codes[0].tobytes()], 1: None, 2: [codes[2].tobytes()], 3: None}
    client.drop_collection(name)


def test_vector_type_errors(client: MilvusClient, name: str) -> None:
    schema = client.create_schema(enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.BINARY_VECTOR, dim=12)
    with pytest.raises(MilvusException) as err:
        client.create_collection(name, schema=schema)
    assert "binary vector dimension should be multiple of 8" in err.value.message
    _create(client, name, DataType.INT8_VECTOR, False, None)
    params = client.prepare_index_params()
    params.add_index("vec", index_type="IVF_FLAT", metric_type="L2")
    with pytest.raises(MilvusException) as err:
        client.create_index(name, params)
    assert "data type Int8Vector can't build with this index IVF_FLAT" in err.value.message
    client.insert(name, [{"id": 0, "vec": np.ones(DIM, np.int8), "tag": "x"}])
    params = client.prepare_index_params()
    params.add_index("vec", index_type="HNSW", metric_type="L2")
    client.create_index(name, params)
    client.load_collection(name)
    with pytest.raises(MilvusException) as err:
        client.search(name, [[0.5] * DIM], limit=1)  # float32 query on an int8 field
    assert "vector type must be the same" in err.value.message
    assert client.search(name, [np.ones(DIM, np.int8)], limit=1)[0][0]["id"] == 0
    client.drop_collection(name)
