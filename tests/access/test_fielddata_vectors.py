"""Float16/BFloat16/Int8/Binary and nullable vector fields: insert payloads as pymilvus encodes
them → columns (bit-exact), columns → result FieldData pymilvus decodes, Milvus's error
texts; and search vectors (PlaceholderGroup) → query matrices."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from pymilvus.client.grpc_handler import GrpcHandler
from pymilvus.grpc_gen import common_pb2, milvus_pb2, schema_pb2

from elanus.access.fielddata import columns_from_insert, field_data_from_columns
from elanus.access.placeholders import decode_queries
from elanus.core import vectors
from elanus.core.errors import PARAMETER_INVALID, MilvusError
from elanus.core.schema import DataType, FieldSchema, from_proto
from tests.access.test_fielddata import FakeMilvus, cschema, fschema

DIM = 8
_addresses = itertools.count()


def _client(sp: schema_pb2.CollectionSchema) -> tuple[GrpcHandler, FakeMilvus]:
    fake = FakeMilvus(sp)
    handler = GrpcHandler.__new__(GrpcHandler)
    handler._stub = fake
    # pymilvus caches schemas per address: an address of this module's own
    handler._address = f"vector-fake-{next(_addresses)}:19530"
    return handler, fake


def encode(sp: schema_pb2.CollectionSchema, rows: list[dict[str, Any]]) -> Any:
    """The InsertRequest pymilvus's MilvusClient sends for ``rows``."""
    handler, fake = _client(sp)
    handler.insert_rows("c", rows)
    return fake.requests[0]


def query_rows(sp: schema_pb2.CollectionSchema, fds: list[schema_pb2.FieldData],
               output_fields: list[str]) -> list[dict[str, Any]]:
    """Decode result FieldData the way pymilvus's query does."""
    handler, fake = _client(sp)
    fake.query_result = milvus_pb2.QueryResults(status=common_pb2.Status(), fields_data=fds,
                                                output_fields=output_fields)
    return [dict(r) for r in handler.query("c", "id > 0", output_fields=output_fields)]
_NP = {DataType.FLOAT16_VECTOR: np.float16, DataType.INT8_VECTOR: np.int8}


def vschema(dtype: DataType, nullable: bool = False, dim: int = DIM) -> schema_pb2.CollectionSchema:
    return cschema(fschema(100, "id", DataType.INT64, is_primary_key=True),
                   fschema(101, "v", dtype, dim=dim, nullable=nullable))


def value(dtype: DataType, i: int) -> Any:
    """Row ``i`` as a user passes it: numpy arrays for fp16/int8, bytes for bf16/binary."""
    rng = np.random.default_rng(i)
    if dtype in _NP:
        return (rng.standard_normal(DIM) * 30).astype(_NP[dtype])
    if dtype == DataType.BFLOAT16_VECTOR:
        return vectors.from_float32(dtype, rng.standard_normal(DIM).astype(np.float32)).tobytes()
    return rng.integers(0, 256, DIM // 8).astype(np.uint8).tobytes()


def as_bytes(v: Any) -> bytes:
    return v if isinstance(v, bytes) else v.tobytes()


BYTE_TYPES = [DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR, DataType.INT8_VECTOR, DataType.BINARY_VECTOR]


@pytest.mark.parametrize("dtype", BYTE_TYPES)
def test_byte_vectors_round_trip_bit_exact(dtype: DataType) -> None:
    sp = vschema(dtype)
    rows = [{"id": i, "v": value(dtype, i)} for i in range(4)]
    cols = columns_from_insert(encode(sp, rows).fields_data, 4, from_proto(sp))
    assert cols["v"].dtype == vectors.column_dtype(dtype)
    assert cols["v"].shape == (4, vectors.width(dtype, DIM))
    assert cols["v"].tobytes() == b"".join(as_bytes(r["v"]) for r in rows)
    out = field_data_from_columns(cols, from_proto(sp), ["id", "v"])
    assert out[1].vectors.dim == DIM and out[1].vectors.WhichOneof("data") == vectors.WIRE_ATTRS[dtype]
    got = query_rows(sp, out, ["id", "v"])
    for r, g in zip(rows, got, strict=True):
        assert g["v"] == [as_bytes(r["v"])]  # pymilvus hands byte vectors back as [bytes]


@pytest.mark.parametrize("dtype", [*BYTE_TYPES, DataType.FLOAT_VECTOR])
def test_nullable_vectors_are_compact_on_the_wire_and_aligned_in_columns(dtype: DataType) -> None:
    sp = vschema(dtype, nullable=True)
    rows: list[dict[str, Any]] = [
        {"id": i, "v": None if i % 3 == 1 else ([0.5] * DIM if dtype == DataType.FLOAT_VECTOR else value(dtype, i))}
        for i in range(6)]
    cols = columns_from_insert(encode(sp, rows).fields_data, 6, from_proto(sp))
    assert cols["v$valid"].tolist() == [r["v"] is not None for r in rows]
    assert cols["v"].shape[0] == 6 and not cols["v"][1].any() and not cols["v"][4].any()
    out = field_data_from_columns(cols, from_proto(sp), ["id", "v"])
    got = query_rows(sp, out, ["id", "v"])
    assert [g["v"] is None for g in got] == [r["v"] is None for r in rows]
    if dtype != DataType.FLOAT_VECTOR:
        assert got[2]["v"] == [as_bytes(rows[2]["v"])]
    # all rows null: pymilvus sends only the dim
    cols = columns_from_insert(encode(sp, [{"id": 0, "v": None}]).fields_data, 1, from_proto(sp))
    assert cols["v$valid"].tolist() == [False]


@pytest.mark.parametrize("dtype", [DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR])
def test_float32_rows_into_half_float_fields_are_converted(dtype: DataType) -> None:
    sp = vschema(dtype)
    data = [[0.1 * j + i for j in range(DIM)] for i in range(2)]
    req = encode(sp, [{"id": i, "v": data[i]} for i in range(2)])  # lists: sent as float_vector
    cols = columns_from_insert(req.fields_data, 2, from_proto(sp))
    np.testing.assert_array_equal(cols["v"], vectors.from_float32(dtype, np.array(data, np.float32)))


def _raw(dtype: DataType, payload: bytes, n: int, dim: int = DIM) -> tuple[list[Any], int]:
    """An InsertRequest's fields_data: ``n`` ids and the raw vector payload."""
    id_fd = schema_pb2.FieldData(field_name="id", type=int(DataType.INT64))
    id_fd.scalars.long_data.data.extend(range(n))
    fd = schema_pb2.FieldData(field_name="v", type=int(dtype))
    fd.vectors.dim = dim
    setattr(fd.vectors, vectors.WIRE_ATTRS[dtype], payload)
    return [id_fd, fd], n


def _raises(text: str, sp: schema_pb2.CollectionSchema, fds: list[Any], n: int) -> None:
    with pytest.raises(MilvusError) as ei:
        columns_from_insert(fds, n, from_proto(sp))
    assert (ei.value.code, ei.value.message) == (PARAMETER_INVALID, text)


@pytest.mark.parametrize(("dtype", "size", "text"), [
    (DataType.FLOAT16_VECTOR, 15, "the length(15) of float16 data should divide the row width(16)"),
    (DataType.BFLOAT16_VECTOR, 18, "the length(18) of bfloat data should divide the row width(16)"),
    (DataType.INT8_VECTOR, 7, "the length(7) of int8 data should divide the dim(8)"),
    (DataType.BINARY_VECTOR, 3, "the num(24) of all bits should divide the dim(16)"),
])
def test_length_errors(dtype: DataType, size: int, text: str) -> None:
    dim = 16 if dtype == DataType.BINARY_VECTOR else DIM
    fds, n = _raw(dtype, bytes(size), 1, dim)
    _raises(f"{text}: invalid parameter", vschema(dtype, dim=dim), fds, n)


def test_dim_rows_and_type_errors() -> None:
    fds, n = _raw(DataType.FLOAT16_VECTOR, bytes(2 * DIM), 1, dim=4)
    _raises("the dim (4) of field data(v) is not equal to schema dim (8): invalid parameter"
            "[expected=8][actual=4]", vschema(DataType.FLOAT16_VECTOR), fds, n)
    fds, n = _raw(DataType.INT8_VECTOR, bytes(DIM), 2)  # two ids, one vector
    _raises("the num_rows (1) of field (v) is not equal to passed num_rows (2): invalid parameter"
            "[expected=2][actual=1]", vschema(DataType.INT8_VECTOR), fds, n)
    fds, n = _raw(DataType.INT8_VECTOR, bytes(DIM), 1)  # int8 rows sent to a binary field
    fds[1].field_name = "v"
    _raises("binary vector field 'v' is illegal, array type mismatch: invalid parameter"
            "[expected=need binary vector][actual=got nil]", vschema(DataType.BINARY_VECTOR, dim=64), fds, n)


@pytest.mark.parametrize("dtype", [DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR])
def test_non_finite_half_floats(dtype: DataType) -> None:
    bad = vectors.from_float32(dtype, np.array([1.0] * (DIM - 1) + [np.nan], np.float32)).tobytes()
    fds, n = _raw(dtype, bad, 1)
    name = "float16" if dtype == DataType.FLOAT16_VECTOR else "bfloat16"
    _raises(f"{name} vector contain nan or infinity value.: invalid parameter", vschema(dtype), fds, n)


# ------------------------------------------------------------------------------ search vectors

def group(ph_type: int, values: list[bytes]) -> bytes:
    ph = common_pb2.PlaceholderValue(tag="$0", type=ph_type, values=values)
    return common_pb2.PlaceholderGroup(placeholders=[ph]).SerializeToString()


def field(dtype: DataType, dim: int = DIM) -> FieldSchema:
    return FieldSchema(101, "v", dtype, params={"dim": str(dim)})


PH = common_pb2.PlaceholderType


def test_float_queries_fast_path() -> None:
    q = np.arange(2 * DIM, dtype=np.float32).reshape(2, DIM)
    got = decode_queries(group(PH.FloatVector, [r.tobytes() for r in q]), field(DataType.FLOAT_VECTOR))
    np.testing.assert_array_equal(got, q)


@pytest.mark.parametrize(("dtype", "ph_type"), [(DataType.FLOAT16_VECTOR, PH.Float16Vector),
                                                (DataType.BFLOAT16_VECTOR, PH.BFloat16Vector),
                                                (DataType.INT8_VECTOR, PH.Int8Vector)])
def test_typed_queries_become_float32(dtype: DataType, ph_type: int) -> None:
    rows = [np.frombuffer(as_bytes(value(dtype, i)), vectors.column_dtype(dtype)) for i in range(3)]
    got = decode_queries(group(ph_type, [r.tobytes() for r in rows]), field(dtype))
    assert got.dtype == np.float32 and got.shape == (3, DIM)
    np.testing.assert_array_equal(got, vectors.to_float32(dtype, np.stack(rows)))


def test_binary_queries_stay_packed() -> None:
    got = decode_queries(group(PH.BinaryVector, [b"\x01\x02", b"\xff\x00"]), field(DataType.BINARY_VECTOR, 16))
    assert got.dtype == np.uint8 and got.tolist() == [[1, 2], [255, 0]]


def test_float32_queries_on_half_float_fields_are_rounded_like_the_data() -> None:
    q = np.array([[1 / 3] * DIM], np.float32)
    got = decode_queries(group(PH.FloatVector, [q.tobytes()]), field(DataType.BFLOAT16_VECTOR))
    want = vectors.to_float32(DataType.BFLOAT16_VECTOR, vectors.from_float32(DataType.BFLOAT16_VECTOR, q))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("payload", "dtype", "text"), [
    (group(PH.FloatVector, [bytes(4 * DIM)]), DataType.INT8_VECTOR,
     "vector type must be the same: field type Int8Vector, search type FloatVector"),
    (group(PH.Int8Vector, [bytes(DIM)]), DataType.FLOAT_VECTOR,
     "vector type must be the same: field type FloatVector, search type Int8Vector"),
    (group(PH.BinaryVector, [bytes(3)]), DataType.BINARY_VECTOR,
     "the dim (24) of field data(vector) is not equal to schema dim (16)"),
    (group(PH.Float16Vector, [bytes(2 * DIM), bytes(2)]), DataType.FLOAT16_VECTOR,
     "the dim (1) of field data(vector) is not equal to schema dim (8)"),
    (common_pb2.PlaceholderGroup().SerializeToString(), DataType.FLOAT16_VECTOR, "search vectors are empty"),
])
def test_query_errors(payload: bytes, dtype: DataType, text: str) -> None:
    with pytest.raises(MilvusError) as ei:
        decode_queries(payload, field(dtype, 16 if dtype == DataType.BINARY_VECTOR else DIM))
    assert (ei.value.code, ei.value.message) == (PARAMETER_INVALID, f"{text}: invalid parameter")
