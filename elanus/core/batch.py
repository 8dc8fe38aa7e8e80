"""Columns: the in-memory row-batch contract shared by the access layer, the filter
engine and segments, and its Arrow form for the WAL and segment files.

``Columns = dict[str, np.ndarray]`` keyed by field name; every array has the same
length ``n`` (its first axis). Per Milvus data type:

- Bool → ``np.bool_``; Int8/Int16/Int32/Int64 → ``np.int8``/``np.int16``/``np.int32``/
  ``np.int64``; Float → ``np.float32``; Double → ``np.float64``;
- VarChar (also String, Text) → object array of Python ``str``;
- JSON and the dynamic field ``$meta`` → object array of parsed Python values
  (dict/list/str/number/bool/None); ``$meta`` rows are always dicts;
- Array → object array of Python lists (elements per ``element_type``), or None;
- FloatVector → ``np.float32`` shaped ``(n, dim)``; Float16Vector ``np.float16``,
  BFloat16Vector ``np.uint16`` (raw bfloat16 bits), Int8Vector ``np.int8``, all ``(n, dim)``;
  BinaryVector ``np.uint8`` ``(n, dim // 8)`` packed bits (see :mod:`elanus.core.vectors`).

Nullable fields carry a second column ``name + "$valid"`` (``np.bool_``, False = null).
At null rows the value column holds the type's null value (:func:`null_value`: 0, False,
"", None, or a zero vector), never garbage, so kernels may read it without masking.
Columns may be a projection (a subset of the schema's fields). System columns
(``$ts`` uint64, ``$rowid`` int64, ...) travel beside the field columns as *extra*
columns and are never interpreted here.

Arrays handed out by :func:`from_arrow` may be read-only zero-copy views of Arrow
buffers: copy before mutating.

JSON text is read by :func:`json_loads` (strict JSON: no NaN/Infinity literals; integers
beyond 64 bits come back as float, as Go's and simdjson's float64 reading has it) and
written by :func:`json_dumps` (compact, UTF-8), so parse → dump → parse is exact.

Arrow form (:func:`to_arrow` / :func:`from_arrow`): native Arrow ints/floats/bool,
``pa.string()`` for strings, ``pa.binary()`` holding compact JSON UTF-8 text for JSON and
``$meta``, ``pa.list_(element)`` for Array, ``pa.fixed_size_list(pa.float32(), dim)`` for
FloatVector and ``pa.binary(row_bytes)`` (fixed-size, the little-endian wire bytes of a
row) for Float16, BFloat16, Int8 and Binary vectors; nullability is Arrow validity.
SparseFloatVector → object array of ``bytes``, one row's packed (uint32 index, float32
value) pairs each, ``b""`` at null rows; ``pa.binary()`` in Arrow (see :mod:`elanus.core.sparse`).
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from elanus.core import sparse, vectors
from elanus.core.errors import OPERATION_NOT_SUPPORTED, MilvusError, compose
from elanus.core.schema import CollectionSchema, DataType, FieldSchema

Columns = dict[str, np.ndarray]

# orjson (a hard dependency of pymilvus, hence always installed beside it) is ~10x faster
# than the stdlib codec on the per-row JSON of dynamic fields; the stdlib is the fallback.
try:
    _orjson: Any = importlib.import_module("orjson")
except ImportError:  # pragma: no cover
    _orjson = None

VALID_SUFFIX = "$valid"

_NUMERIC_DTYPES: dict[DataType, np.dtype] = {
    DataType.BOOL: np.dtype(np.bool_),
    DataType.INT8: np.dtype(np.int8),
    DataType.INT16: np.dtype(np.int16),
    DataType.INT32: np.dtype(np.int32),
    DataType.INT64: np.dtype(np.int64),
    DataType.FLOAT: np.dtype(np.float32),
    DataType.DOUBLE: np.dtype(np.float64),
}

_ARROW_SCALARS: dict[DataType, pa.DataType] = {
    DataType.BOOL: pa.bool_(),
    DataType.INT8: pa.int8(),
    DataType.INT16: pa.int16(),
    DataType.INT32: pa.int32(),
    DataType.INT64: pa.int64(),
    DataType.FLOAT: pa.float32(),
    DataType.DOUBLE: pa.float64(),
    DataType.VARCHAR: pa.string(),
    DataType.STRING: pa.string(),
    DataType.TEXT: pa.string(),
}

# Element types an Array field may hold (Milvus rejects others at create time).
ARRAY_ELEMENT_TYPES = frozenset({
    DataType.BOOL, DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64,
    DataType.FLOAT, DataType.DOUBLE, DataType.VARCHAR, DataType.STRING,
})

_OBJECT_TYPES = frozenset({DataType.VARCHAR, DataType.STRING, DataType.TEXT, DataType.JSON,
                           DataType.ARRAY})


def valid_key(name: str) -> str:
    """Name of the validity column of nullable field ``name``."""
    return name + VALID_SUFFIX


def unsupported(field: FieldSchema) -> MilvusError:
    """The error for a field whose data type has no column form yet."""
    detail = f"data type {field.dtype.display} of field {field.name} is not supported yet"
    return MilvusError(OPERATION_NOT_SUPPORTED, compose(OPERATION_NOT_SUPPORTED, detail=detail))


def check_supported(field: FieldSchema) -> None:
    """Raise :func:`unsupported` unless ``field`` has a column form."""
    if field.dtype in _NUMERIC_DTYPES or field.dtype in _OBJECT_TYPES:
        if field.dtype == DataType.ARRAY and field.element_type not in ARRAY_ELEMENT_TYPES:
            raise unsupported(field)
        return
    if vectors.is_dense(field.dtype) or field.dtype == DataType.SPARSE_FLOAT_VECTOR:
        return
    raise unsupported(field)


def null_value(field: FieldSchema) -> Any:
    """The value a column holds at a null row: 0/False/0.0, "" for strings, None otherwise."""
    if field.dtype in _NUMERIC_DTYPES:
        return _NUMERIC_DTYPES[field.dtype].type(0)
    if field.dtype.is_string:
        return ""
    if field.dtype == DataType.SPARSE_FLOAT_VECTOR:
        return b""
    return None


def object_array(values: Iterable[Any], n: int) -> np.ndarray:
    """1-D object array of ``n`` values. ``np.fromiter`` never splits lists into a 2-D array,
    which ``np.array(list_of_lists, dtype=object)`` would."""
    return np.fromiter(values, dtype=object, count=n)


def empty_column(field: FieldSchema, n: int, fill: Any = None) -> np.ndarray:
    """A column of ``n`` rows all holding ``fill`` (default: :func:`null_value`)."""
    check_supported(field)
    if fill is None:
        fill = null_value(field)
    if field.dtype in _NUMERIC_DTYPES:
        return np.full(n, fill, dtype=_NUMERIC_DTYPES[field.dtype])
    if vectors.is_dense(field.dtype):
        return vectors.zeros(field.dtype, field.dim, n)
    if field.dtype == DataType.SPARSE_FLOAT_VECTOR:
        return sparse.empty_rows(n)
    out = np.empty(n, dtype=object)
    if fill is not None:
        # Mutable defaults (dict/list) must not be shared between rows.
        mutable = isinstance(fill, dict | list)
        for i in range(n):
            out[i] = copy.deepcopy(fill) if mutable else fill
    return out


_STD_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_STD_ASCII_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON literal {name}")


# NaN/Infinity are not JSON (Go's encoding/json and simdjson reject them too).
_STD_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def json_dumps(value: Any) -> bytes:
    """Compact JSON UTF-8 text, the stored and wire form of JSON values."""
    if _orjson is not None:
        try:
            return bytes(_orjson.dumps(value))
        except TypeError:
            pass  # ints beyond 64 bits, non-str keys, lone surrogates: the stdlib copes
    try:
        return _STD_ENCODER.encode(value).encode()
    except UnicodeEncodeError:
        # A lone surrogate (from a "\\ud800" escape) cannot be UTF-8: keep it escaped.
        return _STD_ASCII_ENCODER.encode(value).encode()


def json_loads(data: bytes | str) -> Any:
    """Parse JSON text (raises ValueError). Accepts exactly what the stdlib accepts, except
    the NaN/Infinity literals."""
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except ValueError:
            pass  # e.g. integers beyond 64 bits, lone surrogate escapes: retry with the stdlib
    return _STD_DECODER.decode(data.decode() if isinstance(data, bytes) else data)


def arrow_type(field: FieldSchema) -> pa.DataType:
    """The Arrow type of ``field``'s column."""
    check_supported(field)
    if field.dtype in _ARROW_SCALARS:
        return _ARROW_SCALARS[field.dtype]
    if field.dtype in (DataType.JSON, DataType.SPARSE_FLOAT_VECTOR):
        return pa.binary()
    if field.dtype == DataType.ARRAY:
        return pa.list_(_ARROW_SCALARS[field.element_type])
    if field.dtype in vectors.BYTE_VECTOR_TYPES:
        return pa.binary(vectors.row_bytes(field.dtype, field.dim))
    return pa.list_(pa.float32(), field.dim)


def num_rows(columns: Mapping[str, np.ndarray]) -> int:
    """Row count of ``columns`` (0 when empty)."""
    for values in columns.values():
        return len(values)
    return 0


def concat(parts: Sequence[Columns]) -> Columns:
    """Row-wise concatenation; every part must have the same keys."""
    if not parts:
        return {}
    keys = list(parts[0])
    for part in parts[1:]:
        if part.keys() != parts[0].keys():
            raise ValueError(f"cannot concat columns with keys {sorted(part)} and {sorted(keys)}")
    if len(parts) == 1:
        return dict(parts[0])
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def take(columns: Mapping[str, np.ndarray], indices: npt.ArrayLike) -> Columns:
    """Rows at ``indices`` (integer positions or a boolean mask), in that order."""
    idx = np.asarray(indices)
    if idx.dtype != np.bool_:
        idx = idx.astype(np.intp, copy=False)
    return {k: v[idx] for k, v in columns.items()}


# ---------------------------------------------------------------------------- Arrow

def to_arrow(columns: Mapping[str, np.ndarray], schema: CollectionSchema,
             extra: Mapping[str, np.ndarray] | None = None) -> pa.RecordBatch:
    """Arrow form of ``columns``: schema fields present in ``columns`` in schema order,
    then ``extra`` columns in their order. A nullable field without a ``$valid`` column is
    all valid. Keys that are neither schema fields nor their ``$valid`` are an error.
    Numeric and vector buffers are shared with the numpy arrays, not copied."""
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    used: set[str] = set()
    for field in schema.fields:
        if field.name not in columns:
            continue
        valid = columns.get(valid_key(field.name)) if field.nullable else None
        used.add(field.name)
        if valid is not None:
            used.add(valid_key(field.name))
            if valid.all():
                valid = None  # no bitmap at all is cheaper than an all-ones one
        arr = _field_to_arrow(field, columns[field.name], valid)
        arrays.append(arr)
        fields.append(pa.field(field.name, arr.type, nullable=field.nullable))
    unknown = set(columns) - used
    if unknown:
        raise ValueError(f"columns {sorted(unknown)} are not fields of collection {schema.name}")
    for name, values in (extra or {}).items():
        arr = pa.array(values)
        arrays.append(arr)
        fields.append(pa.field(name, arr.type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _field_to_arrow(field: FieldSchema, values: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    atype = arrow_type(field)
    mask = None if valid is None else ~valid
    dtype = field.dtype
    if dtype in _NUMERIC_DTYPES:
        return pa.array(np.asarray(values, dtype=_NUMERIC_DTYPES[dtype]), type=atype, mask=mask)
    if dtype.is_string or dtype == DataType.ARRAY:
        return pa.array(values, type=atype, mask=mask)
    if dtype == DataType.JSON:
        return _json_to_arrow(values, valid)
    if dtype == DataType.SPARSE_FLOAT_VECTOR:
        return sparse.to_arrow(values, valid)
    if dtype in vectors.BYTE_VECTOR_TYPES:
        return vectors.to_arrow(field.dtype, field.dim, values, valid, field.name)
    # FloatVector: the flat float32 buffer becomes the child array without a copy.
    dim = field.dim
    matrix = np.ascontiguousarray(values, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        raise ValueError(f"vector column {field.name} has shape {matrix.shape}, expected (n, {dim})")
    flat = pa.array(matrix.reshape(-1))
    if valid is None:
        return pa.FixedSizeListArray.from_arrays(flat, dim)
    bitmap = pa.array(valid, type=pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(atype, len(matrix), [bitmap], children=[flat])


def _json_to_arrow(values: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    """Binary array of the rows' JSON text, built straight into one data buffer: keeping
    thousands of small ``bytes`` alive in a list costs ~10x more than the encoding."""
    data = bytearray()
    lengths: list[int] = []
    flags = [True] * len(values) if valid is None else valid.tolist()
    for v, ok in zip(values, flags, strict=True):
        encoded = json_dumps(v) if ok else b""
        data += encoded
        lengths.append(len(encoded))
    if len(data) > np.iinfo(np.int32).max:
        raise ValueError("JSON column exceeds 2 GiB; split the batch")
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    bitmap = None if valid is None else pa.array(valid, type=pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(pa.binary(), len(values),
                                 [bitmap, pa.py_buffer(offsets), pa.py_buffer(data)])


def from_arrow(batch: pa.RecordBatch | pa.Table, schema: CollectionSchema) -> Columns:
    """Inverse of :func:`to_arrow`: every column of ``batch`` that names a schema field is
    converted per the module contract (plus ``$valid`` for nullable fields); any other
    column is returned as a plain numpy array (extra/system columns)."""
    out: Columns = {}
    for name, col in zip(batch.schema.names, batch.columns, strict=True):
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        field = schema.get(name)
        if field is None:
            out[name] = arr.to_numpy(zero_copy_only=False)
            continue
        out[name] = _field_from_arrow(field, arr)
        if field.nullable:
            if arr.null_count == 0:
                out[valid_key(name)] = np.ones(len(arr), dtype=np.bool_)
            else:
                out[valid_key(name)] = arr.is_valid().to_numpy(zero_copy_only=False)
    return out


def _field_from_arrow(field: FieldSchema, arr: pa.Array) -> np.ndarray:
    check_supported(field)
    dtype = field.dtype
    n = len(arr)
    if dtype in _NUMERIC_DTYPES or dtype.is_string:
        if arr.null_count:
            arr = arr.fill_null(null_value(field))
        return arr.to_numpy(zero_copy_only=False)
    if dtype == DataType.JSON:
        return object_array((None if b is None else json_loads(b) for b in arr.to_pylist()), n)
    if dtype == DataType.ARRAY:
        return object_array(arr.to_pylist(), n)
    if dtype == DataType.SPARSE_FLOAT_VECTOR:
        return sparse.from_arrow(arr, field.name)
    if dtype in vectors.BYTE_VECTOR_TYPES:
        return vectors.from_arrow(field.dtype, field.dim, arr, field.name)
    dim = field.dim
    if not isinstance(arr, pa.FixedSizeListArray) or arr.type.list_size != dim:
        raise ValueError(f"column {field.name} of type {arr.type} is not a {dim}-d float vector")
    # .values ignores the parent's slice offset; slice the child by hand.
    child = arr.values.slice(arr.offset * dim, n * dim)
    if child.null_count:
        child = child.fill_null(0.0)
    matrix = child.to_numpy(zero_copy_only=False).reshape(n, dim)
    if arr.null_count:
        # Honour the contract (zero vectors at null rows) whatever the buffer held.
        matrix = matrix.copy()
        matrix[~arr.is_valid().to_numpy(zero_copy_only=False)] = 0.0
    return matrix


def column_from_arrow(field: FieldSchema, arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The column of one field from its Arrow array (nulls hold :func:`null_value`)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return _field_from_arrow(field, arr)


def to_ipc(batch: pa.RecordBatch) -> bytes:
    """Arrow IPC stream bytes holding exactly ``batch`` (the WAL payload form)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


def from_ipc(data: bytes) -> pa.RecordBatch:
    """The single batch of an IPC stream written by :func:`to_ipc`; its buffers view
    ``data`` without copying. A stream of several batches is combined into one."""
    reader = pa.ipc.open_stream(pa.py_buffer(data))
    batches = list(reader)
    if len(batches) == 1:
        return batches[0]
    table = pa.Table.from_batches(batches, schema=reader.schema).combine_chunks()
    combined = table.to_batches()
    if not combined:
        empty = [pa.array([], type=f.type) for f in reader.schema]
        return pa.RecordBatch.from_arrays(empty, schema=reader.schema)
    return combined[0]
