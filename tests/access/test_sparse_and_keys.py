"""Access-layer pieces of the data model: sparse vectors in insert FieldData, search
placeholders and result FieldData; partition-key hashing of VarChar keys and partition
pruning by filter (elanus.access.partition_key)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from pymilvus.grpc_gen import common_pb2, schema_pb2

from elanus.access.fielddata import columns_from_insert, field_data_from_columns
from elanus.access.partition_key import MANUAL_PARTITIONS, key_slots, read_partitions
from elanus.access.placeholders import decode_queries
from elanus.cluster.types import CollectionInfo, ConsistencyLevel, PartitionInfo
from elanus.core import sparse
from elanus.core.errors import MilvusError
from elanus.core.expr import compile_filter
from elanus.core.schema import CollectionSchema, DataType, FieldSchema

SCHEMA = CollectionSchema("c", (
    FieldSchema(100, "id", DataType.INT64, is_primary=True),
    FieldSchema(101, "sp", DataType.SPARSE_FLOAT_VECTOR),
))
ROWS = [{3: 0.5, 10: 1.0}, {}, {0: 2.0}]


def _sparse_fd(rows: list[bytes]) -> schema_pb2.FieldData:
    fd = schema_pb2.FieldData(type=DataType.SPARSE_FLOAT_VECTOR, field_name="sp")
    fd.vectors.sparse_float_vector.contents.extend(rows)
    fd.vectors.dim = 11
    return fd


def test_insert_and_output_round_trip() -> None:
    encoded = [sparse.encode_row(r) for r in ROWS]
    pk = schema_pb2.FieldData(type=DataType.INT64, field_name="id")
    pk.scalars.long_data.data.extend([1, 2, 3])
    cols = columns_from_insert([pk, _sparse_fd(encoded)], 3, SCHEMA)
    assert cols["sp"].tolist() == encoded
    (out,) = field_data_from_columns(cols, SCHEMA, ["sp"])
    assert list(out.vectors.sparse_float_vector.contents) == encoded
    assert out.vectors.sparse_float_vector.dim == 11


def test_insert_rejects_bad_rows_and_missing_data() -> None:
    pk = schema_pb2.FieldData(type=DataType.INT64, field_name="id")
    pk.scalars.long_data.data.extend([1])
    bad = np.array([(5, 1.0), (2, 1.0)], dtype=sparse.PAIR).tobytes()
    with pytest.raises(MilvusError, match="unsorted or same indices in sparse float vector"):
        columns_from_insert([pk, _sparse_fd([bad])], 1, SCHEMA)
    wrong = schema_pb2.FieldData(type=DataType.SPARSE_FLOAT_VECTOR, field_name="sp")
    wrong.vectors.float_vector.data.extend([1.0])
    with pytest.raises(MilvusError, match="sparse float vector field 'sp' is illegal, array type mismatch"):
        columns_from_insert([pk, wrong], 1, SCHEMA)


def test_placeholders() -> None:
    group = common_pb2.PlaceholderGroup()
    ph = group.placeholders.add(tag="$0", type=common_pb2.PlaceholderType.SparseFloatVector)
    ph.values.extend([sparse.encode_row(r) for r in ROWS])
    queries = decode_queries(group.SerializeToString(), SCHEMA.fields[1])
    assert [sparse.decode_row(q) for q in queries] == ROWS
    dense = common_pb2.PlaceholderGroup()
    dense.placeholders.add(tag="$0", type=common_pb2.PlaceholderType.FloatVector, values=[b"\0" * 8])
    with pytest.raises(MilvusError, match="vector type must be the same"):
        decode_queries(dense.SerializeToString(), SCHEMA.fields[1])


def _key_info(n: int, key_type: DataType) -> CollectionInfo:
    params = {"max_length": "32"} if key_type == DataType.VARCHAR else {}
    schema = CollectionSchema("c", (
        FieldSchema(100, "id", DataType.INT64, is_primary=True),
        FieldSchema(101, "vec", DataType.FLOAT_VECTOR, params={"dim": "2"}),
        FieldSchema(102, "k", key_type, params=params, is_partition_key=True),
    ))
    parts = tuple(PartitionInfo(900 + i, f"_default_{i}", 0) for i in range(n))
    return CollectionInfo(id=7, db_id=1, db_name="default", name="c", schema=schema, schema_bytes=b"",
                          channels=("ch_0",), partitions=parts, consistency_level=ConsistencyLevel.STRONG,
                          created_ts=1)


def test_varchar_keys_use_unmasked_crc32() -> None:
    info = _key_info(7, DataType.VARCHAR)
    keys = np.array([f"tenant-{i}" for i in range(200)] + ["é" * 80], dtype=object)
    want = [zlib.crc32(k.encode()[:100]) % 7 for k in keys]
    assert key_slots(info, keys).tolist() == want


def _reads(info: CollectionInfo, expr: str, params: dict[str, object] | None = None,
           names: tuple[str, ...] = ()) -> tuple[int, ...]:
    return read_partitions(info, names, compile_filter(expr, info.schema, params) if expr else None)


def test_read_partitions_prunes_pinned_keys() -> None:
    info = _key_info(5, DataType.VARCHAR)
    slot = lambda k: zlib.crc32(k.encode()) % 5  # noqa: E731
    ids = _reads(info, 'k in ["a", "b"] and id > 3')
    assert set(ids) == {900 + slot("a"), 900 + slot("b")}
    assert _reads(info, "k == {v}", {"v": "zz"}) == (900 + slot("zz"),)
    assert _reads(info, 'k == "a" or id > 3') == ()  # not pinned: every partition
    assert _reads(info, "  ") == ()  # a blank filter pins nothing
    assert _reads(info, "") == ()
    with pytest.raises(MilvusError, match=MANUAL_PARTITIONS):
        _reads(info, "", names=("_default_1",))
    ints = _key_info(4, DataType.INT64)
    pinned = _reads(ints, "k in [1, 2, 3]")
    assert set(pinned) == {900 + int(s) for s in key_slots(ints, np.array([1, 2, 3]))}
