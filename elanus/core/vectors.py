"""Dense vector types: their column form, their wire bytes and their float32 view.

Milvus has five fixed-width vector types. Elanus holds each as a 2-D numpy matrix
``(n, width)`` whose dtype keeps the stored bytes exactly (so a query returns what was
inserted, bit for bit):

============== ============== ================ =====================================
type           column dtype   width (per row)  wire (``VectorField``)
============== ============== ================ =====================================
FloatVector    ``float32``    dim              ``float_vector.data`` (repeated float)
Float16Vector  ``float16``    dim              ``float16_vector`` (bytes, LE)
BFloat16Vector ``uint16``     dim              ``bfloat16_vector`` (bytes, LE)
Int8Vector     ``int8``       dim              ``int8_vector`` (bytes)
BinaryVector   ``uint8``      dim / 8          ``binary_vector`` (bytes, packed bits)
============== ============== ================ =====================================

numpy has no bfloat16, so BFloat16 columns hold the raw 16-bit patterns (the upper half
of a float32); :func:`to_float32` widens them with a shift, and float32 input is narrowed
by truncation, as Milvus's ``typeutil.Float32ToBFloat16Bytes`` does. Float16, BFloat16
and Int8 vectors are searched as float32 (:func:`to_float32`); binary vectors are
searched on their packed bytes. In Arrow (WAL records, segment files) the four byte
types are ``pa.binary(row_bytes)`` fixed-size columns of those same bytes
(:func:`to_arrow` / :func:`from_arrow`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from elanus.core.schema import DataType

_COLUMN_DTYPES: dict[DataType, np.dtype] = {
    DataType.FLOAT_VECTOR: np.dtype(np.float32),
    DataType.FLOAT16_VECTOR: np.dtype(np.float16),
    DataType.BFLOAT16_VECTOR: np.dtype(np.uint16),
    DataType.INT8_VECTOR: np.dtype(np.int8),
    DataType.BINARY_VECTOR: np.dtype(np.uint8),
}
# Little-endian spelling of each column dtype, the byte order of the wire and of files.
_WIRE_DTYPES: dict[DataType, np.dtype] = {t: d.newbyteorder("<") for t, d in _COLUMN_DTYPES.items()}

DENSE_VECTOR_TYPES = frozenset(_COLUMN_DTYPES)
# Types whose rows travel as one bytes blob in VectorField (all dense types but float32).
BYTE_VECTOR_TYPES = frozenset(DENSE_VECTOR_TYPES - {DataType.FLOAT_VECTOR})

# The VectorField oneof holding each type's rows.
WIRE_ATTRS: dict[DataType, str] = {
    DataType.FLOAT_VECTOR: "float_vector",
    DataType.FLOAT16_VECTOR: "float16_vector",
    DataType.BFLOAT16_VECTOR: "bfloat16_vector",
    DataType.INT8_VECTOR: "int8_vector",
    DataType.BINARY_VECTOR: "binary_vector",
}


def is_dense(dtype: DataType) -> bool:
    """Whether ``dtype`` is a fixed-width vector type with a column form here."""
    return dtype in _COLUMN_DTYPES


def column_dtype(dtype: DataType) -> np.dtype:
    """The numpy dtype of a ``dtype`` vector column."""
    return _COLUMN_DTYPES[dtype]


def width(dtype: DataType, dim: int) -> int:
    """Column elements per row: ``dim``, or ``dim // 8`` bytes for binary vectors."""
    return dim // 8 if dtype is DataType.BINARY_VECTOR else dim


def row_bytes(dtype: DataType, dim: int) -> int:
    """Bytes per row on the wire and in files."""
    return width(dtype, dim) * _COLUMN_DTYPES[dtype].itemsize


def zeros(dtype: DataType, dim: int, n: int) -> np.ndarray:
    """``n`` all-zero rows (the value a column holds at null rows)."""
    return np.zeros((n, width(dtype, dim)), dtype=_COLUMN_DTYPES[dtype])


def from_bytes(dtype: DataType, data: bytes | memoryview, dim: int | None = None) -> np.ndarray:
    """A flat (``dim`` None) or ``(n, width)`` read-only view of little-endian wire bytes.

    Raises ValueError when the byte count is not a whole number of elements or rows.
    """
    flat = np.frombuffer(data, dtype=_WIRE_DTYPES[dtype])
    if flat.dtype != _COLUMN_DTYPES[dtype]:  # big-endian host: convert once
        flat = flat.astype(_COLUMN_DTYPES[dtype])
    if dim is None:
        return flat
    w = width(dtype, dim)
    if w <= 0 or len(flat) % w:
        raise ValueError(f"{len(flat)} elements are not whole rows of width {w}")
    return flat.reshape(-1, w)


def to_bytes(dtype: DataType, matrix: np.ndarray) -> bytes:
    """The little-endian wire bytes of a column (or of some of its rows)."""
    return np.ascontiguousarray(matrix, dtype=_WIRE_DTYPES[dtype]).tobytes()


def to_float32(dtype: DataType, values: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """The float32 values of a Float/Float16/BFloat16/Int8 vector column (any shape)."""
    arr = np.asarray(values)
    if dtype is DataType.BFLOAT16_VECTOR:
        widened: npt.NDArray[np.float32] = (arr.astype(np.uint32) << 16).view(np.float32)
        return widened
    out: npt.NDArray[np.float32] = np.ascontiguousarray(arr, dtype=np.float32)
    return out


def from_float32(dtype: DataType, values: npt.ArrayLike) -> np.ndarray:
    """float32 values in the column dtype of a Float/Float16/BFloat16 vector type:
    IEEE rounding to float16, truncation to bfloat16 (Milvus's conversions)."""
    arr = np.ascontiguousarray(values, dtype=np.float32)
    if dtype is DataType.BFLOAT16_VECTOR:
        return (arr.view(np.uint32) >> 16).astype(np.uint16)
    return arr.astype(_COLUMN_DTYPES[dtype], copy=False)


def finite_rows_mask(dtype: DataType, values: np.ndarray) -> npt.NDArray[np.bool_]:
    """Element-wise ``isfinite`` of a float-typed column (all True for Int8/Binary)."""
    if dtype is DataType.BFLOAT16_VECTOR:
        # exponent bits all ones = Inf or NaN
        result: npt.NDArray[np.bool_] = (np.asarray(values, dtype=np.uint16) & 0x7F80) != 0x7F80
        return result
    if dtype in (DataType.FLOAT_VECTOR, DataType.FLOAT16_VECTOR):
        return np.isfinite(values)
    return np.ones(np.shape(values), dtype=np.bool_)


def to_arrow(dtype: DataType, dim: int, matrix: np.ndarray, valid: np.ndarray | None,
             name: str = "") -> pa.Array:
    """A Float16/BFloat16/Int8/Binary column as a fixed-size binary array of its rows' wire
    bytes (``valid``: False = null; None = all valid)."""
    w = width(dtype, dim)
    values = np.asarray(matrix)
    if values.ndim != 2 or values.shape[1] != w:
        raise ValueError(f"vector column {name} has shape {values.shape}, expected (n, {w})")
    data = pa.py_buffer(to_bytes(dtype, values))
    bitmap = None if valid is None else pa.array(valid, type=pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(pa.binary(row_bytes(dtype, dim)), len(values), [bitmap, data])


def from_arrow(dtype: DataType, dim: int, arr: pa.Array, name: str = "") -> np.ndarray:
    """Inverse of :func:`to_arrow`: the ``(n, width)`` column, zero rows where ``arr`` is
    null. A read-only view of the Arrow buffer when there are no nulls."""
    size = row_bytes(dtype, dim)
    if not pa.types.is_fixed_size_binary(arr.type) or arr.type.byte_width != size:
        raise ValueError(f"column {name} of type {arr.type} is not a {dtype.display} column")
    n = len(arr)
    data = arr.buffers()[1]
    if n == 0 or data is None:
        return zeros(dtype, dim, n)
    start = arr.offset * size
    matrix = from_bytes(dtype, memoryview(data)[start:start + n * size], dim)
    if arr.null_count:
        # Zero vectors at null rows whatever the buffer held.
        matrix = matrix.copy()
        matrix[~arr.is_valid().to_numpy(zero_copy_only=False)] = 0
    return matrix
