"""Search vectors: a request's ``PlaceholderGroup`` → the query matrix segments search with.

pymilvus sends one placeholder whose ``values`` hold one bytes blob per query vector:
FloatVector as float32, Float16Vector/BFloat16Vector/Int8Vector as their 2- or 1-byte
elements, BinaryVector as packed bits (all little-endian). The result is

- float32 ``(nq, dim)`` for Float, Float16, BFloat16 and Int8 vector fields (the dense
  types are all searched as float32, see :mod:`elanus.core.vectors`);
- uint8 ``(nq, dim // 8)`` packed bits for Binary vector fields;
- for SparseFloatVector fields, an object array of ``nq`` row bytes (the column form of
  :mod:`elanus.core.sparse`), validated as inserted rows are.

The placeholder type must match the field's type, except that float32 queries are
accepted (and rounded as Milvus rounds them) for Float16/BFloat16 fields, as Milvus's
``ConvertPlaceholderGroup`` does. The FloatVector/FloatVector case, the hot path, is one
``np.frombuffer``.
"""

from __future__ import annotations

import numpy as np
from pymilvus.grpc_gen import common_pb2

from elanus.core import errors, sparse, vectors
from elanus.core.schema import DataType, FieldSchema

_PH = common_pb2.PlaceholderType
_PLACEHOLDER_FLOAT = _PH.FloatVector
_FLOAT_VECTOR = DataType.FLOAT_VECTOR  # module constants: enum attribute lookups cost ~100 ns
# The field type each dense placeholder type searches.
_PLACEHOLDER_TYPES: dict[int, DataType] = {
    _PH.FloatVector: DataType.FLOAT_VECTOR,
    _PH.Float16Vector: DataType.FLOAT16_VECTOR,
    _PH.BFloat16Vector: DataType.BFLOAT16_VECTOR,
    _PH.Int8Vector: DataType.INT8_VECTOR,
    _PH.BinaryVector: DataType.BINARY_VECTOR,
}


def decode_queries(placeholder_group: bytes, field: FieldSchema) -> np.ndarray:
    """The query matrix of a Search request on vector field ``field`` (see the module docstring).

    Raises MilvusError 1100 for no vectors, a placeholder type the field cannot be
    searched with, or a dimension mismatch.
    """
    group = common_pb2.PlaceholderGroup()
    group.ParseFromString(placeholder_group)
    if not group.placeholders:
        raise errors.invalid_parameter("search vectors are empty")
    ph = group.placeholders[0]
    dim = field.dim
    if ph.type == _PLACEHOLDER_FLOAT and field.dtype is _FLOAT_VECTOR:
        data = b"".join(ph.values) if len(ph.values) > 1 else ph.values[0]
        queries = np.frombuffer(data, dtype=np.float32)
        if len(queries) != dim * len(ph.values):
            raise _dim_mismatch(len(ph.values[0]) // 4, dim)
        return queries.reshape(len(ph.values), dim)
    return _decode_other(ph, field)


def _decode_other(ph: common_pb2.PlaceholderValue, field: FieldSchema) -> np.ndarray:
    if field.dtype is DataType.SPARSE_FLOAT_VECTOR or ph.type == _PH.SparseFloatVector:
        return _decode_sparse(ph, field)
    ph_type = _PLACEHOLDER_TYPES.get(ph.type)
    ftype, dim = field.dtype, field.dim
    converting = ph_type is DataType.FLOAT_VECTOR and ftype in (DataType.FLOAT16_VECTOR,
                                                                DataType.BFLOAT16_VECTOR)
    if ph_type is None or (ph_type is not ftype and not converting):
        raise errors.invalid_parameter(
            f"vector type must be the same: field type {ftype.display}, "
            f"search type {_PH.Name(ph.type)}")
    nq = len(ph.values)
    if not nq:
        raise errors.invalid_parameter("search vectors are empty")
    item = vectors.column_dtype(ph_type).itemsize
    bits = 8 if ph_type is DataType.BINARY_VECTOR else 1  # binary: one byte holds 8 dimensions
    expected = vectors.width(ph_type, dim) * item
    if any(len(v) != expected for v in ph.values):
        bad = next(len(v) for v in ph.values if len(v) != expected)
        raise _dim_mismatch(bad * bits // item, dim)
    flat = vectors.from_bytes(ph_type, b"".join(ph.values))
    if converting:  # rounded to the field's type first, as Milvus converts fp32 queries
        flat = vectors.from_float32(ftype, flat)
    matrix = flat.reshape(nq, vectors.width(ftype, dim))
    if ftype is DataType.BINARY_VECTOR:
        return matrix
    return vectors.to_float32(ftype, matrix)


def _decode_sparse(ph: common_pb2.PlaceholderValue, field: FieldSchema) -> np.ndarray:
    if ph.type != _PH.SparseFloatVector or field.dtype is not DataType.SPARSE_FLOAT_VECTOR:
        raise errors.invalid_parameter(
            f"vector type must be the same: field type {field.dtype.display}, "
            f"search type {_PH.Name(ph.type)}")
    if not len(ph.values):
        raise errors.invalid_parameter("search vectors are empty")
    rows = sparse.as_column(ph.values, len(ph.values))
    sparse.validate(rows)
    return rows


def _dim_mismatch(got: int, dim: int) -> errors.MilvusError:
    return errors.invalid_parameter(f"the dim ({got}) of field data(vector) is not equal to schema dim ({dim})")
