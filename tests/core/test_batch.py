"""Columns ↔ Arrow ↔ IPC round trips, and the column helpers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from elanus.core import batch
from elanus.core.errors import OPERATION_NOT_SUPPORTED, MilvusError
from elanus.core.schema import CollectionSchema, DataType, FieldSchema

DIM = 4


def _schema(nullable: bool = False) -> CollectionSchema:
    def f(fid: int, name: str, dtype: DataType, **kw: Any) -> FieldSchema:
        return FieldSchema(fid, name, dtype, nullable=nullable and not kw.get("is_primary", False), **kw)

    return CollectionSchema("c", (
        f(100, "id", DataType.INT64, is_primary=True),
        f(101, "b", DataType.BOOL),
        f(102, "i8", DataType.INT8),
        f(103, "i16", DataType.INT16),
        f(104, "i32", DataType.INT32),
        f(105, "f", DataType.FLOAT),
        f(106, "d", DataType.DOUBLE),
        f(107, "s", DataType.VARCHAR, params={"max_length": "64"}),
        f(108, "j", DataType.JSON),
        f(109, "ai", DataType.ARRAY, element_type=DataType.INT64, params={"max_capacity": "8"}),
        f(110, "as", DataType.ARRAY, element_type=DataType.VARCHAR,
          params={"max_capacity": "8", "max_length": "16"}),
        f(111, "af", DataType.ARRAY, element_type=DataType.FLOAT, params={"max_capacity": "8"}),
        f(112, "v", DataType.FLOAT_VECTOR, params={"dim": str(DIM)}),
        FieldSchema(113, "$meta", DataType.JSON, is_dynamic=True),
    ), enable_dynamic_field=True)


def _columns(n: int = 5) -> batch.Columns:
    rng = np.random.default_rng(7)
    return {
        "id": np.arange(n, dtype=np.int64),
        "b": np.arange(n) % 2 == 0,
        "i8": np.arange(n, dtype=np.int8) - 3,
        "i16": np.arange(n, dtype=np.int16) * 300,
        "i32": np.arange(n, dtype=np.int32) * -70000,
        "f": rng.random(n).astype(np.float32),
        "d": rng.random(n),
        "s": batch.object_array((f"str-{i}-é" for i in range(n)), n),
        "j": batch.object_array(([{"a": i, "b": [1, "x", None]}, "text", 3.5, None, [1, 2]][i % 5]
                                 for i in range(n)), n),
        "ai": batch.object_array((list(range(i % 3)) for i in range(n)), n),
        "as": batch.object_array((["x", "yé"][: i % 3] for i in range(n)), n),
        "af": batch.object_array(([0.5, -1.25] for _ in range(n)), n),
        "v": rng.random((n, DIM)).astype(np.float32),
        "$meta": batch.object_array(({"k": i, "nested": {"z": [i]}} for i in range(n)), n),
    }


def _assert_columns_equal(a: batch.Columns, b: batch.Columns) -> None:
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        assert a[k].shape == b[k].shape, k
        if a[k].dtype == object:
            assert a[k].tolist() == b[k].tolist(), k
        else:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_arrow_types() -> None:
    rb = batch.to_arrow(_columns(), _schema())
    types = {f.name: f.type for f in rb.schema}
    assert types["id"] == pa.int64() and types["b"] == pa.bool_() and types["i8"] == pa.int8()
    assert types["f"] == pa.float32() and types["d"] == pa.float64()
    assert types["s"] == pa.string() and types["j"] == pa.binary() and types["$meta"] == pa.binary()
    assert types["ai"] == pa.list_(pa.int64()) and types["as"] == pa.list_(pa.string())
    assert types["af"] == pa.list_(pa.float32())
    assert types["v"] == pa.list_(pa.float32(), DIM)
    # JSON is compact UTF-8 text
    assert rb.column("j")[0].as_py() == b'{"a":0,"b":[1,"x",null]}'
    assert rb.column("$meta")[1].as_py() == b'{"k":1,"nested":{"z":[1]}}'


def test_round_trip_all_types() -> None:
    cols = _columns(23)
    schema = _schema()
    extra = {"$ts": np.arange(23, dtype=np.uint64) + (1 << 62), "$rowid": np.arange(23, dtype=np.int64)}
    rb = batch.to_arrow(cols, schema, extra)
    assert rb.schema.names[-2:] == ["$ts", "$rowid"]
    back = batch.from_arrow(rb, schema)
    _assert_columns_equal(back, {**cols, **extra})
    back_ipc = batch.from_arrow(batch.from_ipc(batch.to_ipc(rb)), schema)
    _assert_columns_equal(back_ipc, {**cols, **extra})
    # Tables (possibly chunked) convert too
    table = pa.Table.from_batches([rb.slice(0, 10), rb.slice(10)])
    _assert_columns_equal(batch.from_arrow(table, schema), {**cols, **extra})


def test_round_trip_nulls() -> None:
    schema = _schema(nullable=True)
    n = 10
    cols = _columns(n)
    valid = np.array([i % 3 != 1 for i in range(n)])
    for f in schema.fields:
        if f.nullable:
            cols[batch.valid_key(f.name)] = valid.copy()
            col = cols[f.name]
            col[~valid] = batch.null_value(f) if f.dtype != DataType.FLOAT_VECTOR else 0.0
    rb = batch.to_arrow(cols, schema)
    assert rb.column("i32").null_count == int((~valid).sum())
    assert rb.column("v").null_count == int((~valid).sum())
    assert rb.column("j")[1].as_py() is None and rb.column("ai")[1].as_py() is None
    back = batch.from_arrow(batch.from_ipc(batch.to_ipc(rb)), schema)
    expected = {}
    for k in cols:  # from_arrow puts each $valid right after its field
        if not k.endswith(batch.VALID_SUFFIX):
            expected[k] = cols[k]
            if batch.valid_key(k) in cols:
                expected[batch.valid_key(k)] = cols[batch.valid_key(k)]
    _assert_columns_equal(back, expected)
    assert back["s"][1] == "" and back["i8"][1] == 0 and back["j"][1] is None
    assert back["ai"][1] is None and not back["v"][1].any()


def test_nullable_without_valid_column_is_all_valid() -> None:
    schema = CollectionSchema("c", (FieldSchema(100, "x", DataType.INT32, nullable=True),))
    back = batch.from_arrow(batch.to_arrow({"x": np.arange(3, dtype=np.int32)}, schema), schema)
    assert back["x$valid"].tolist() == [True, True, True]


def test_null_slots_become_null_values_whatever_arrow_holds() -> None:
    schema = CollectionSchema("c", (
        FieldSchema(100, "x", DataType.INT64, nullable=True),
        FieldSchema(101, "v", DataType.FLOAT_VECTOR, nullable=True, params={"dim": "2"}),
    ))
    vec = pa.Array.from_buffers(pa.list_(pa.float32(), 2), 2, [pa.array([True, False]).buffers()[1]],
                                children=[pa.array([1, 2, 3, 4], type=pa.float32())])
    rb = pa.RecordBatch.from_arrays([pa.array([5, None], type=pa.int64()), vec], names=["x", "v"])
    cols = batch.from_arrow(rb, schema)
    assert cols["x"].tolist() == [5, 0] and cols["v"].tolist() == [[1, 2], [0, 0]]
    assert cols["x$valid"].tolist() == [True, False]


def test_vectors_zero_copy() -> None:
    schema = _schema()
    cols = {"v": np.random.rand(100, DIM).astype(np.float32)}
    rb = batch.to_arrow(cols, schema)
    assert rb.column("v").values.buffers()[1].address == cols["v"].ctypes.data
    back = batch.from_arrow(rb, schema)["v"]
    assert back.ctypes.data == cols["v"].ctypes.data
    data = batch.to_ipc(rb)
    from_ipc = batch.from_arrow(batch.from_ipc(data), schema)["v"]
    np.testing.assert_array_equal(from_ipc, cols["v"])
    assert not from_ipc.flags.writeable  # views the IPC bytes


def test_sliced_vector_batch() -> None:
    schema = _schema()
    cols = {"v": np.arange(40, dtype=np.float32).reshape(10, DIM)}
    rb = batch.to_arrow(cols, schema).slice(3, 4)
    np.testing.assert_array_equal(batch.from_arrow(rb, schema)["v"], cols["v"][3:7])


def test_projection_and_unknown_columns() -> None:
    schema = _schema()
    cols = _columns(3)
    rb = batch.to_arrow({"id": cols["id"], "s": cols["s"]}, schema)
    assert rb.schema.names == ["id", "s"]
    with pytest.raises(ValueError, match="not fields"):
        batch.to_arrow({"id": cols["id"], "nope": cols["id"]}, schema)


def test_empty_batch() -> None:
    schema = _schema()
    cols = {k: v[:0] for k, v in _columns(3).items()}
    back = batch.from_arrow(batch.from_ipc(batch.to_ipc(batch.to_arrow(cols, schema))), schema)
    _assert_columns_equal(back, cols)


_BYTE_VECTOR_TYPES = [DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR, DataType.INT8_VECTOR,
                      DataType.BINARY_VECTOR]


def _byte_vector_column(dtype: DataType, dim: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    if dtype == DataType.FLOAT16_VECTOR:
        return rng.standard_normal((n, dim)).astype(np.float16)
    if dtype == DataType.BFLOAT16_VECTOR:
        return rng.integers(0, 1 << 16, (n, dim)).astype(np.uint16) & 0x7F7F  # finite patterns
    if dtype == DataType.INT8_VECTOR:
        return rng.integers(-128, 128, (n, dim)).astype(np.int8)
    return rng.integers(0, 256, (n, dim // 8)).astype(np.uint8)


@pytest.mark.parametrize("nullable", [False, True])
@pytest.mark.parametrize("dtype", _BYTE_VECTOR_TYPES)
def test_byte_vector_columns_round_trip_bit_exact(dtype: DataType, nullable: bool) -> None:
    dim, n = 16, 7
    schema = CollectionSchema("c", (FieldSchema(100, "id", DataType.INT64, is_primary=True),
                                    FieldSchema(101, "v", dtype, params={"dim": str(dim)}, nullable=nullable)))
    values = _byte_vector_column(dtype, dim, n)
    cols: batch.Columns = {"id": np.arange(n, dtype=np.int64), "v": values}
    if nullable:
        valid = np.arange(n) % 3 != 1
        values = values.copy()
        values[~valid] = 0
        cols["v"], cols["v$valid"] = values, valid
    rb = batch.to_arrow(cols, schema)
    assert rb.schema.field("v").type == pa.binary(values.shape[1] * values.itemsize)
    back = batch.from_arrow(batch.from_ipc(batch.to_ipc(rb)), schema)
    assert back["v"].dtype == values.dtype and back["v"].shape == values.shape
    assert back["v"].tobytes() == values.tobytes()
    if nullable:
        np.testing.assert_array_equal(back["v$valid"], cols["v$valid"])
    # a sliced batch keeps its offset
    part = batch.from_arrow(rb.slice(2, 3), schema)
    assert part["v"].tobytes() == values[2:5].tobytes()
    # the column helpers know the shapes
    assert batch.empty_column(schema.fields[1], 2).shape == (2, values.shape[1])
    assert batch.column_from_arrow(schema.fields[1], rb.column(1)).tobytes() == values.tobytes()


@pytest.mark.parametrize("dtype", [DataType.GEOMETRY, DataType.TIMESTAMPTZ])  # sparse: test_index_sparse.py
def test_unsupported_types(dtype: DataType) -> None:
    schema = CollectionSchema("c", (FieldSchema(100, "x", dtype, params={"dim": "8"}),))
    with pytest.raises(MilvusError) as ei:
        batch.to_arrow({"x": np.zeros((1, 8), np.float32)}, schema)
    assert ei.value.code == OPERATION_NOT_SUPPORTED
    assert ei.value.message == (f"unsupported operation: data type {dtype.display} of field x "
                                "is not supported yet")


def test_concat_take_num_rows() -> None:
    a, b = _columns(4), _columns(3)
    both = batch.concat([a, b])
    assert batch.num_rows(both) == 7 and both["v"].shape == (7, DIM)
    assert both["ai"].dtype == object and both["ai"][4] == []
    assert batch.num_rows({}) == 0 and batch.concat([]) == {}
    picked = batch.take(both, [6, 0])
    assert picked["id"].tolist() == [2, 0] and picked["s"].tolist() == [b["s"][2], a["s"][0]]
    masked = batch.take(both, both["id"] % 2 == 1)
    assert masked["id"].tolist() == [1, 3, 1]
    with pytest.raises(ValueError):
        batch.concat([a, {"id": a["id"]}])


def test_empty_column_and_null_values() -> None:
    schema = _schema()
    ai = schema.get("ai")
    j = schema.get("j")
    assert ai is not None and j is not None
    col = batch.empty_column(j, 3, {"a": 1})
    col[0]["a"] = 2  # rows must not share a mutable default
    assert col[1] == {"a": 1}
    assert batch.empty_column(ai, 2).tolist() == [None, None]
    v = schema.get("v")
    assert v is not None and batch.empty_column(v, 2).shape == (2, DIM)


def test_json_codec() -> None:
    value = {"é": [1, 2.5, None, True, "\u4e2d"], "n": {"x": -0.0, "y": 1e16}}
    text = batch.json_dumps(value)
    assert text.startswith(b'{"\xc3\xa9":[1,2.5,null,true,"\xe4\xb8\xad"]')  # compact UTF-8
    assert batch.json_loads(text) == value
    assert batch.json_loads(batch.json_dumps({"big": 1 << 70})) == {"big": float(1 << 70)}
    odd = {"s": "\ud800"}  # a lone surrogate is not UTF-8: it stays escaped
    assert batch.json_dumps(odd) == b'{"s":"\\ud800"}' and batch.json_loads(batch.json_dumps(odd)) == odd
    assert batch.json_dumps({1: "a"}) == b'{"1":"a"}'  # the stdlib fallback
    for bad in (b"NaN", b"{oops", b'{"a": Infinity}'):
        with pytest.raises(ValueError):
            batch.json_loads(bad)
