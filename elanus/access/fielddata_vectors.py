"""Vector fields of an insert/upsert payload: their checks (Milvus's ``validate_util.go``
check*VectorFieldData and ``checkAligned``) and their conversion to column form.

Wire forms, as pymilvus sends them: FloatVector rows in ``vectors.float_vector.data``;
Float16/BFloat16/Int8/Binary rows as one little-endian bytes blob in
``vectors.float16_vector`` / ``bfloat16_vector`` / ``int8_vector`` / ``binary_vector``
(Float16/BFloat16 fields may also get float32 rows, which Milvus converts). A nullable
vector field sends only its valid rows plus ``valid_data``; :func:`align_vector` puts
them back in place with zero rows at the nulls.

Also home of the small error helpers :mod:`elanus.access.fielddata_in` shares.
"""

from __future__ import annotations

import numpy as np
from pymilvus.grpc_gen import schema_pb2

from elanus.core import sparse, vectors
from elanus.core.errors import PARAMETER_INVALID, MilvusError, invalid_parameter
from elanus.core.schema import DataType, FieldSchema

# Label of each vector type in Milvus's "<label> field 'x' is illegal" texts.
_VECTOR_LABELS: dict[DataType, str] = {
    DataType.FLOAT_VECTOR: "float vector", DataType.FLOAT16_VECTOR: "float16 vector",
    DataType.BFLOAT16_VECTOR: "bfloat16 vector", DataType.INT8_VECTOR: "int8 vector",
    DataType.BINARY_VECTOR: "binary vector", DataType.SPARSE_FLOAT_VECTOR: "sparse float vector",
}
_HALF_TYPES = (DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR)
# Milvus checks the dim before the length for these types, after it for Float and Int8.
_DIM_FIRST = (DataType.BINARY_VECTOR, DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR)


def invalid_value(msg: str, expected: object, actual: object) -> MilvusError:
    """merr.WrapErrParameterInvalid(expected, actual, msg): ``msg: invalid parameter[...]``."""
    return MilvusError(PARAMETER_INVALID, f"{msg}: invalid parameter[expected={expected}][actual={actual}]")


def rows_mismatch(name: str, rows: int, n: int) -> MilvusError:
    return invalid_value(f"the num_rows ({rows}) of field ({name}) is not equal to passed num_rows ({n})",
                         n, rows)


def check_finite(values: np.ndarray) -> None:
    if len(values) and not np.isfinite(values).all():
        v = float(values[np.flatnonzero(~np.isfinite(values))[0]])
        text = "NaN" if v != v else ("+Inf" if v > 0 else "-Inf")  # Go's %f spelling
        raise invalid_parameter(f"value '{text}' is not a number or infinity")


def extract_vector(f: FieldSchema, fd: schema_pb2.FieldData) -> np.ndarray:
    """The compact (valid rows only) values of vector field ``f``, flat, in column dtype."""
    kind = fd.vectors.WhichOneof("data") if fd.WhichOneof("field") == "vectors" else None
    if f.dtype == DataType.FLOAT_VECTOR:
        flat = np.array(fd.vectors.float_vector.data if kind == "float_vector" else (), dtype=np.float32)
        if len(flat) == 0 and not f.nullable:
            raise _mismatch(f)
        check_finite(flat)
        return flat
    if kind == vectors.WIRE_ATTRS[f.dtype]:
        raw = getattr(fd.vectors, kind)
        if len(raw) % vectors.column_dtype(f.dtype).itemsize:  # half a float16: not whole rows either
            raise invalid_parameter(_length_text(f.dtype, len(raw), f.dim))
        flat = vectors.from_bytes(f.dtype, raw)
    elif kind == "float_vector" and f.dtype in _HALF_TYPES:
        floats = np.array(fd.vectors.float_vector.data, dtype=np.float32)
        check_finite(floats)
        flat = vectors.from_float32(f.dtype, floats)
    elif f.nullable:
        flat = np.zeros(0, dtype=vectors.column_dtype(f.dtype))
    else:
        raise _mismatch(f)
    if f.dtype in _HALF_TYPES and len(flat) and not vectors.finite_rows_mask(f.dtype, flat).all():
        kind_name = "float16" if f.dtype == DataType.FLOAT16_VECTOR else "bfloat16"
        raise invalid_parameter(f"{kind_name} vector contain nan or infinity value.")
    return flat


def extract_sparse(f: FieldSchema, fd: schema_pb2.FieldData) -> np.ndarray:
    """The compact rows of sparse field ``f`` (``SparseFloatArray.contents``, one bytes per
    row) as an object column, validated as Milvus's ``ValidateSparseFloatRows``."""
    kind = fd.vectors.WhichOneof("data") if fd.WhichOneof("field") == "vectors" else None
    if kind != "sparse_float_vector":
        if f.nullable:
            return sparse.empty_rows(0)
        raise _mismatch(f)
    rows = sparse.as_column(fd.vectors.sparse_float_vector.contents,
                            len(fd.vectors.sparse_float_vector.contents))
    sparse.validate(rows)
    return rows


def _mismatch(f: FieldSchema) -> MilvusError:
    label = _VECTOR_LABELS[f.dtype]
    return invalid_value(f"{label} field '{f.name}' is illegal, array type mismatch", f"need {label}", "got nil")


def align_vector(f: FieldSchema, fd: schema_pb2.FieldData | None, flat: np.ndarray,
                 valid: np.ndarray | None, n: int) -> np.ndarray:
    """checkAligned for a vector field: dim and row count of the compact values ``flat``,
    then the ``(n, width)`` column (zero rows where ``valid`` is False)."""
    dim = f.dim
    width = vectors.width(f.dtype, dim)
    expected = int(np.count_nonzero(valid)) if f.nullable and valid is not None else n
    rows = 0
    if fd is not None and fd.WhichOneof("field") == "vectors":
        dim_first = f.dtype in _DIM_FIRST
        if dim_first:
            _check_data_dim(f, fd)
        if len(flat) % width:
            raise invalid_parameter(_length_text(f.dtype, len(flat) * flat.itemsize, dim))
        if not dim_first:
            _check_data_dim(f, fd)
        rows = len(flat) // width
    if rows != expected:
        raise rows_mismatch(f.name, rows, n)
    matrix = flat.reshape(rows, width)
    if rows != n:
        full = vectors.zeros(f.dtype, dim, n)
        full[valid] = matrix
        matrix = full
    return matrix


def _check_data_dim(f: FieldSchema, fd: schema_pb2.FieldData) -> None:
    if fd.vectors.dim != f.dim:
        raise invalid_value(f"the dim ({fd.vectors.dim}) of field data({f.name}) is not equal to schema dim "
                            f"({f.dim})", f.dim, fd.vectors.dim)


def _length_text(dtype: DataType, nbytes: int, dim: int) -> str:
    """Milvus's funcutil.GetNumRowsOf*VectorField text for data that is not whole rows."""
    if dtype == DataType.FLOAT_VECTOR:
        return f"the length({nbytes // 4}) of float data should divide the dim({dim})"
    if dtype == DataType.BINARY_VECTOR:
        return f"the num({8 * nbytes}) of all bits should divide the dim({dim})"
    if dtype == DataType.FLOAT16_VECTOR:
        return f"the length({nbytes}) of float16 data should divide the row width({2 * dim})"
    if dtype == DataType.BFLOAT16_VECTOR:
        return f"the length({nbytes}) of bfloat data should divide the row width({2 * dim})"
    return f"the length({nbytes}) of int8 data should divide the dim({dim})"
