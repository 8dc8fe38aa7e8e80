"""Columns → result ``FieldData`` for query and search outputs, in the shape pymilvus
decodes (``pymilvus/client/field_data_extractors.py``, ``search_result.py``):

- scalars are full length (one value per row); nullable fields add ``valid_data`` and
  hold the column's null value at null rows;
- vectors carry ``dim`` and, for nullable fields, only the valid rows (pymilvus maps
  logical to physical rows through ``valid_data``, as Milvus sends them): FloatVector as
  floats, Float16/BFloat16/Int8/Binary as one bytes blob of the stored bytes,
  SparseFloatVector as ``SparseFloatArray`` (row bytes, ``dim`` = largest index + 1);
- JSON and the dynamic ``$meta`` are compact JSON bytes per row; ``$meta`` is flagged
  ``is_dynamic`` and may be cut down to the dynamic keys a user asked for;
- Array is an ``ArrayArray`` of per-row ``ScalarField`` with ``element_type`` set.

Every ``FieldData`` has its data oneof set even at zero rows, because pymilvus's
``len_of`` rejects a result column whose oneof is unset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pymilvus.grpc_gen import schema_pb2

from elanus.core import sparse, vectors
from elanus.core.batch import check_supported, json_dumps, valid_key
from elanus.core.schema import CollectionSchema, DataType, FieldSchema

# ScalarField oneof per scalar type; the Array element oneofs are the same names.
_SCALAR_ATTR: dict[DataType, str] = {
    DataType.BOOL: "bool_data", DataType.INT8: "int_data", DataType.INT16: "int_data",
    DataType.INT32: "int_data", DataType.INT64: "long_data", DataType.FLOAT: "float_data",
    DataType.DOUBLE: "double_data", DataType.VARCHAR: "string_data", DataType.STRING: "string_data",
    DataType.TEXT: "string_data", DataType.JSON: "json_data",
}

_ARRAY_CLASSES: dict[str, Any] = {
    "bool_data": schema_pb2.BoolArray, "int_data": schema_pb2.IntArray,
    "long_data": schema_pb2.LongArray, "float_data": schema_pb2.FloatArray,
    "double_data": schema_pb2.DoubleArray, "string_data": schema_pb2.StringArray,
}

# Fixed-width packed payloads: little-endian dtype per ScalarField oneof.
_PACKED_DTYPES = {"bool_data": "u1", "float_data": "<f4", "double_data": "<f8"}


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _packed_field1(payload: bytes) -> bytes:
    """Wire bytes of ``repeated <fixed> data = 1`` (packed): tag 0x0a, length, payload.
    Merging these into a Bool/Float/DoubleArray is one memcpy, where ``.extend`` would
    box every value as a Python object first."""
    return b"\x0a" + _varint(len(payload)) + payload


def field_data_from_columns(columns: Mapping[str, np.ndarray], schema: CollectionSchema,
                            names: Sequence[str],
                            dynamic_keys: Sequence[str] | None = None) -> list[schema_pb2.FieldData]:
    """One result ``FieldData`` per name in ``names`` (schema fields, ``$meta`` included),
    from ``columns`` holding those fields (and ``$valid`` for nullable ones).
    ``dynamic_keys``: when the user asked for specific dynamic keys, ``$meta`` rows keep
    only those keys; None keeps whole objects."""
    out: list[schema_pb2.FieldData] = []
    for name in names:
        field = schema.get(name)
        if field is None:
            raise ValueError(f"{name} is not a field of collection {schema.name}")
        check_supported(field)
        valid = columns.get(valid_key(name)) if field.nullable else None
        if field.nullable and valid is None:
            valid = np.ones(len(columns[name]), dtype=np.bool_)
        fd = schema_pb2.FieldData(type=int(field.dtype), field_name=field.name,
                                  field_id=field.field_id, is_dynamic=field.is_dynamic)
        _fill_values(fd, field, columns[name], valid, dynamic_keys if field.is_dynamic else None)
        if valid is not None:
            fd.valid_data.extend(valid.tolist())
        out.append(fd)
    return out


def _fill_values(fd: schema_pb2.FieldData, field: FieldSchema, values: np.ndarray,
                 valid: np.ndarray | None, dynamic_keys: Sequence[str] | None) -> None:
    dtype = field.dtype
    if dtype == DataType.FLOAT_VECTOR:
        matrix = values if valid is None or valid.all() else values[valid]
        fd.vectors.dim = field.dim
        fd.vectors.float_vector.MergeFromString(
            _packed_field1(np.ascontiguousarray(matrix, dtype="<f4").tobytes()))
        return
    if dtype in vectors.BYTE_VECTOR_TYPES:
        matrix = values if valid is None or valid.all() else values[valid]
        fd.vectors.dim = field.dim
        setattr(fd.vectors, vectors.WIRE_ATTRS[dtype], vectors.to_bytes(dtype, matrix))
        return
    if dtype == DataType.SPARSE_FLOAT_VECTOR:
        present = values if valid is None or valid.all() else values[valid]
        target_sparse = fd.vectors.sparse_float_vector
        target_sparse.SetInParent()
        target_sparse.contents.extend(present.tolist())
        target_sparse.dim = sparse.wire_dim(present)
        fd.vectors.dim = target_sparse.dim
        return
    if dtype == DataType.ARRAY:
        _fill_array(fd, field, values)
        return
    attr = _SCALAR_ATTR[dtype]
    target = getattr(fd.scalars, attr)
    target.SetInParent()  # select the oneof even with zero rows
    if attr in _PACKED_DTYPES:
        target.MergeFromString(_packed_field1(np.asarray(values).astype(_PACKED_DTYPES[attr]).tobytes()))
    elif dtype == DataType.JSON:
        rows: Any = values
        if dynamic_keys is not None:
            keys = list(dynamic_keys)
            rows = [None if row is None else {k: row[k] for k in keys if k in row} for row in values]
        # Append row by row: each bytes object dies at once, which is far cheaper than
        # holding a list of thousands of them for one .extend (allocator churn).
        data = target.data
        for v in rows:
            data.append(json_dumps(v))
    else:
        # ints and strings: .tolist() makes Python ints/strs in C; upb then takes the list.
        target.data.extend(values.tolist())


def _fill_array(fd: schema_pb2.FieldData, field: FieldSchema, values: np.ndarray) -> None:
    attr = _SCALAR_ATTR[field.element_type]
    cls = _ARRAY_CLASSES[attr]
    array = fd.scalars.array_data
    array.element_type = int(field.element_type)  # also selects the oneof at zero rows
    # Null rows (None) become empty cells; valid_data tells the client they are null.
    array.data.extend([schema_pb2.ScalarField(**{attr: cls(data=row if row is not None else ())})
                       for row in values])


def ids_from_columns(pk: np.ndarray) -> schema_pb2.IDs:
    """``IDs`` of a primary-key column: ``int_id`` for integer columns, else ``str_id``."""
    ids = schema_pb2.IDs()
    pk = np.asarray(pk)
    if pk.dtype.kind in "iu":
        ids.int_id.SetInParent()
        ids.int_id.data.extend(pk.astype(np.int64, copy=False).tolist())
    else:
        ids.str_id.SetInParent()
        ids.str_id.data.extend([str(v) for v in pk.tolist()])
    return ids


def pk_array_from_ids(ids: schema_pb2.IDs) -> np.ndarray:
    """Primary keys of ``ids`` as a column: int64, or an object array of str (empty int64
    when no oneof is set)."""
    kind = ids.WhichOneof("id_field")
    if kind == "str_id":
        data = ids.str_id.data
        return np.fromiter(data, dtype=object, count=len(data))
    if kind == "int_id":
        return np.array(ids.int_id.data, dtype=np.int64)
    return np.zeros(0, dtype=np.int64)
