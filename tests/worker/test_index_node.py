"""Index node: builds from a segment's Parquet vector column, stores the index, returns its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from elanus.cluster.types import SegmentInfo, SegmentState
from elanus.core import batch
from elanus.core import vectors as vector_types
from elanus.core.errors import MilvusError
from elanus.core.index import load, parse_search_params
from elanus.core.schema import CollectionSchema, DataType, FieldSchema
from elanus.storage import open_objects
from elanus.storage.objects.base import ObjectStore
from elanus.worker.index_node import IndexNodeImpl

DIM = 8


def write_segment(objects: ObjectStore, n: int, payload_bytes: int = 0) -> tuple[SegmentInfo, np.ndarray]:
    """A segment file in the flusher's layout (user columns + ``$ts``), with a bulky extra column."""
    rng = np.random.default_rng(7)
    vectors = rng.random((n, DIM), dtype=np.float32)
    table = pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "vec": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), DIM),
        "blob": pa.array([rng.bytes(payload_bytes).hex() for _ in range(n)], type=pa.string()),
        "$ts": pa.array(np.full(n, 5, dtype=np.uint64)),
    })
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="none")
    key = "insert_log/1/2/3/data.parquet"
    objects.put(key, sink.getvalue().to_pybytes())
    return SegmentInfo(3, 1, 2, "ch", SegmentState.FLUSHED, num_rows=n, data_path=key), vectors


class RemoteLike:
    """An object store without local files (as S3 is), counting the bytes read."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.bytes_read = 0

    def local_path(self, key: str) -> str | None:
        return None

    def get(self, key: str) -> bytes:
        data = self.inner.get(key)
        self.bytes_read += len(data)
        return data

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        data = self.inner.get_range(key, offset, length)
        self.bytes_read += len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture()
def objects(tmp_path: Path) -> ObjectStore:
    return open_objects(str(tmp_path / "objects"))


def test_builds_stores_and_returns_a_loadable_index(objects: ObjectStore) -> None:
    seg, vectors = write_segment(objects, 300)
    key = IndexNodeImpl(objects).build_index(1, seg, "vec", DIM, {"index_type": "HNSW", "M": "8"}, "L2")
    assert key.startswith("index_files/1/3/vec/") and key.endswith(".index")
    index = load(objects.get(key))
    assert index.ntotal == 300 and str(index.spec.metric_type) == "L2"
    params = parse_search_params(index.spec, "L2", {"ef": 64}, k=1)
    _, offsets = index.search(vectors[[17, 250]], 1, params, None)
    assert offsets[:, 0].tolist() == [17, 250]


def test_reads_only_the_vector_column_from_remote_objects(objects: ObjectStore) -> None:
    seg, _ = write_segment(objects, 200, payload_bytes=2000)
    remote = RemoteLike(objects)
    key = IndexNodeImpl(remote).build_index(1, seg, "vec", DIM, {"index_type": "FLAT"}, "IP")  # type: ignore[arg-type]
    assert load(objects.get(key)).ntotal == 200
    total = objects.size(seg.data_path)
    assert remote.bytes_read < total / 10, f"read {remote.bytes_read} of {total} bytes"


def test_repeated_builds_never_overwrite_and_empty_segments_build(objects: ObjectStore) -> None:
    seg, _ = write_segment(objects, 0)
    node = IndexNodeImpl(objects)
    first = node.build_index(1, seg, "vec", DIM, {"index_type": "AUTOINDEX"}, "COSINE")
    second = node.build_index(1, seg, "vec", DIM, {"index_type": "AUTOINDEX"}, "COSINE")
    assert first != second and load(objects.get(first)).ntotal == 0


def test_invalid_params_raise_milvus_errors(objects: ObjectStore) -> None:
    seg, _ = write_segment(objects, 10)
    with pytest.raises(MilvusError):
        IndexNodeImpl(objects).build_index(1, seg, "vec", DIM, {"index_type": "NO_SUCH"}, "L2")
    assert objects.list("index_files/") == []


def write_typed_segment(objects: ObjectStore, dtype: DataType, n: int, dim: int) -> tuple[SegmentInfo, np.ndarray]:
    """A segment whose ``vec`` column is a Float16/BFloat16/Int8/Binary vector field (with nulls)."""
    schema = CollectionSchema("c", (FieldSchema(100, "id", DataType.INT64, is_primary=True),
                                    FieldSchema(101, "vec", dtype, params={"dim": str(dim)}, nullable=True)))
    rng = np.random.default_rng(3)
    width = vector_types.width(dtype, dim)
    raw = rng.integers(0, 100, (n, width))
    values = raw.astype(vector_types.column_dtype(dtype))
    if dtype is DataType.FLOAT16_VECTOR:
        values = (raw / 7).astype(np.float16)
    valid = np.arange(n) % 5 != 0
    values[~valid] = 0
    rb = batch.to_arrow({"id": np.arange(n, dtype=np.int64), "vec": values, "vec$valid": valid}, schema,
                        extra={"$ts": np.full(n, 5, dtype=np.uint64)})
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_batches([rb]), sink)
    key = "insert_log/1/2/4/data.parquet"
    objects.put(key, sink.getvalue().to_pybytes())
    return SegmentInfo(4, 1, 2, "ch", SegmentState.FLUSHED, num_rows=n, data_path=key), values


@pytest.mark.parametrize(("dtype", "params", "metric"), [
    (DataType.BINARY_VECTOR, {"index_type": "BIN_IVF_FLAT", "nlist": "8"}, "JACCARD"),
    (DataType.BINARY_VECTOR, {"index_type": "AUTOINDEX"}, "HAMMING"),
    (DataType.FLOAT16_VECTOR, {"index_type": "IVF_FLAT", "nlist": "8"}, "L2"),
    (DataType.BFLOAT16_VECTOR, {"index_type": "FLAT"}, "IP"),
    (DataType.INT8_VECTOR, {"index_type": "HNSW"}, "L2"),
])
def test_builds_other_vector_types(objects: ObjectStore, dtype: DataType, params: dict[str, str],
                                   metric: str) -> None:
    dim = 32
    seg, values = write_typed_segment(objects, dtype, 120, dim)
    key = IndexNodeImpl(objects).build_index(1, seg, "vec", dim, params, metric, int(dtype))
    index = load(objects.get(key))
    assert index.ntotal == 120 and index.spec.vector_type is dtype
    queries = values[[7, 33]]
    if dtype is not DataType.BINARY_VECTOR:
        queries = vector_types.to_float32(dtype, queries)
    search = parse_search_params(index.spec, metric, {"nprobe": 8}, k=1)
    scores, offsets = index.search(queries, 1, search, None)
    if metric == "IP":
        assert offsets.shape == (2, 1)
    else:
        assert offsets[:, 0].tolist() == [7, 33] and scores[:, 0].tolist() == [0.0, 0.0]
