"""Insert/upsert ``FieldData`` → :data:`~elanus.core.batch.Columns`, validated as Milvus's
proxy validates an InsertRequest (``internal/proxy/task_insert.go`` PreExecute,
``util.go`` checkDynamicFieldData / checkPrimaryFieldData / checkFieldsDataBySchema and
``validate_util.go`` Validate), with Milvus's error texts and code 1100.

The wire shape is pymilvus's: one ``FieldData`` per field, no field ids; nullable and
default-valued fields send ``valid_data`` (one bool per row) and *compact* values (only
the rows marked valid); the dynamic field arrives as a JSON ``FieldData`` flagged
``is_dynamic`` holding one JSON object per row.

Numeric and vector payloads are read with one ``np.array`` call per field (upb repeated
fields convert in C); per-row Python runs only where the value itself is a Python object
(strings' byte lengths when they may exceed ``max_length``, JSON, Array rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymilvus.grpc_gen import schema_pb2

from elanus.access.fielddata_vectors import align_vector, extract_sparse, extract_vector
from elanus.access.fielddata_vectors import check_finite as _check_finite
from elanus.access.fielddata_vectors import invalid_value as _invalid
from elanus.access.fielddata_vectors import rows_mismatch as _rows_mismatch
from elanus.core import vectors
from elanus.core.batch import (
    Columns,
    check_supported,
    empty_column,
    json_loads,
    null_value,
    object_array,
    valid_key,
)
from elanus.core.errors import PARAMETER_INVALID, MilvusError, invalid_parameter
from elanus.core.schema import CollectionSchema, DataType, FieldSchema

# Milvus common.JSONMaxLength default (64 KiB), checked per JSON value on insert.
JSON_MAX_LENGTH = 64 << 10

# (ScalarField oneof name, expected-type label of Milvus's "array type mismatch" error)
_SCALAR_SLOTS: dict[DataType, tuple[str, str]] = {
    DataType.BOOL: ("bool_data", ""),
    DataType.INT8: ("int_data", "need int array"),
    DataType.INT16: ("int_data", "need int array"),
    DataType.INT32: ("int_data", "need int array"),
    DataType.INT64: ("long_data", "need long int array"),
    DataType.FLOAT: ("float_data", "need float32 array"),
    DataType.DOUBLE: ("double_data", "need float64(double) array"),
    DataType.VARCHAR: ("string_data", "need string array"),
    DataType.STRING: ("string_data", "need string array"),
    DataType.TEXT: ("string_data", "need text array"),
    DataType.JSON: ("json_data", "need json array"),
}

_NP_TYPES: dict[DataType, type[np.generic]] = {
    DataType.BOOL: np.bool_, DataType.INT8: np.int32, DataType.INT16: np.int32,
    DataType.INT32: np.int32, DataType.INT64: np.int64, DataType.FLOAT: np.float32,
    DataType.DOUBLE: np.float64,
}

# Array element type → (ScalarField oneof, label in "insert data does not match").
_ELEMENT_SLOTS: dict[DataType, tuple[str, str]] = {
    DataType.BOOL: ("bool_data", "bool array"),
    DataType.INT8: ("int_data", "int array"),
    DataType.INT16: ("int_data", "int array"),
    DataType.INT32: ("int_data", "int array"),
    DataType.INT64: ("long_data", "int64 array"),
    DataType.FLOAT: ("float_data", "float array"),
    DataType.DOUBLE: ("double_data", "double array"),
    DataType.VARCHAR: ("string_data", "string array"),
    DataType.STRING: ("string_data", "string array"),
}

_INT_RANGES = {DataType.INT8: (-(1 << 7), (1 << 7) - 1), DataType.INT16: (-(1 << 15), (1 << 15) - 1)}


@dataclass
class _Pending:
    """One field on its way from FieldData to a column."""

    field: FieldSchema
    fd: schema_pb2.FieldData | None  # None: absent from the request, all null/default
    values: Any = None  # compact values, or the finished column after _fill
    valid: np.ndarray | None = None


def columns_from_insert(fields_data: Sequence[schema_pb2.FieldData], num_rows: int,
                        schema: CollectionSchema, *, is_upsert: bool = False,
                        allow_insert_auto_id: bool = False) -> Columns:
    """Validate an insert/upsert payload and convert it to columns of ``num_rows`` rows.

    The result has every schema field (``$meta`` too when dynamic fields are enabled, one
    dict per row) plus ``$valid`` for nullable fields, except an auto-id primary key the
    caller must allocate (insert without ``allow_insert_auto_id`` pk data): add it with
    :func:`with_auto_ids`. For an upsert the pk column holds the pks sent (for auto-id
    collections these are the rows to replace; the caller swaps in new ids).
    Null rows of fields with a default value hold the default and count as valid.

    Raises :class:`MilvusError` (1100) with Milvus's texts; unsupported types raise
    :func:`~elanus.core.batch.unsupported`.
    """
    for f in schema.fields:
        check_supported(f)
    n = int(num_rows)
    dynamic = schema.dynamic_field if schema.enable_dynamic_field else None
    given: list[tuple[str, schema_pb2.FieldData]] = [
        (dynamic.name if dynamic is not None and fd.is_dynamic else fd.field_name, fd)
        for fd in fields_data
    ]
    meta_rows = None
    if dynamic is not None:  # checkDynamicFieldData runs first in PreExecute
        meta_fd = next((fd for name, fd in given if name == dynamic.name), None)
        if meta_fd is not None:
            meta_rows = _parse_dynamic(meta_fd, schema)
    known: list[tuple[FieldSchema, schema_pb2.FieldData]] = []
    for name, fd in given:
        match = schema.get(name)
        if match is None or (match.is_dynamic and dynamic is None):
            ftype = schema_pb2.DataType.Name(fd.type) if fd.type in schema_pb2.DataType.values() else fd.type
            raise invalid_parameter(
                f"fieldName {name} not exist in collection schema, fieldType {ftype}, fieldId {fd.field_id}")
        known.append((match, fd))
    if n <= 0:
        raise _invalid("num_rows should be greater than 0", "invalid num_rows", n)
    pending = _match_fields(known, schema, dynamic, n, is_upsert, allow_insert_auto_id)

    for p in pending:  # Validate: per-field type and content checks
        if p.fd is not None:
            p.values = meta_rows if p.field.is_dynamic and meta_rows is not None else _extract(p.field, p.fd)
    for p in pending:  # fillWithValue
        _fill(p, n)
    for p in pending:  # checkAligned
        _align(p, n)

    columns: Columns = {}
    by_name = {p.field.name: p for p in pending}
    for f in schema.fields:
        if f.name in by_name:
            columns[f.name] = by_name[f.name].values
            if f.nullable:
                valid = by_name[f.name].valid
                columns[valid_key(f.name)] = np.ones(n, np.bool_) if valid is None else valid
    return columns


def _match_fields(given: list[tuple[FieldSchema, schema_pb2.FieldData]], schema: CollectionSchema,
                  dynamic: FieldSchema | None, n: int, is_upsert: bool,
                  allow_insert_auto_id: bool) -> list[_Pending]:
    """checkFieldsDataBySchema: duplicates, missing fields, the auto-id field count."""
    seen: set[str] = set()
    for f, _ in given:
        if f.name in seen:
            raise invalid_parameter(f"duplicated field {f.name} found")
        seen.add(f.name)
    pending = [_Pending(f, fd) for f, fd in given]
    pk = schema.primary
    # Milvus counts an auto-id pk as generated on insert unless allow_insert_auto_id lets the
    # client supply it; a supplied pk then makes the field count one too many.
    auto_pk = pk.auto_id and not is_upsert and (not allow_insert_auto_id or pk.name not in seen)
    for f in schema.fields:
        if f.name in seen or (f.is_primary and auto_pk):
            continue
        if f.is_dynamic and dynamic is not None:
            rows = object_array(({} for _ in range(n)), n)
            pending.append(_Pending(f, None, rows))
            continue
        if f.default_value is None and not f.nullable:
            raise invalid_parameter(f"fieldSchema({f.name}) has no corresponding fieldData pass in")
        pending.append(_Pending(f, None, None, np.zeros(n, dtype=np.bool_)))
    actual = len(pending) + (1 if auto_pk else 0)
    if actual != len(schema.fields):
        raise _invalid("more fieldData has pass in", len(schema.fields), actual)
    return pending


def _parse_dynamic(fd: schema_pb2.FieldData, schema: CollectionSchema) -> np.ndarray:
    """verifyDynamicFieldData: every row a JSON object without ``$meta`` or static keys."""
    raw = fd.scalars.json_data.data
    static = {f.name for f in schema.fields}
    rows: list[dict[str, Any]] = []
    for s in raw:
        try:
            obj = json_loads(s)
        except ValueError as e:
            raise invalid_parameter(f"invalid dynamic field data, only json map is supported: {e}") from e
        if obj is None:
            obj = {}  # Go unmarshals JSON null into a map without error
        if not isinstance(obj, dict):
            raise invalid_parameter(
                "invalid dynamic field data, only json map is supported: json: cannot unmarshal "
                f"{_go_json_kind(obj)} into Go value of type map[string]interface {{}}")
        if "$meta" in obj:
            raise invalid_parameter("cannot set json key to: $meta")
        if not static.isdisjoint(obj):
            name = next(f.name for f in schema.fields if f.name in obj)
            raise invalid_parameter(f"dynamic field name cannot include the static field name: {name}")
        rows.append(obj)
    _check_json_length(raw, "", True)
    return object_array(rows, len(rows))


def _go_json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def _check_json_length(raw: Sequence[bytes], name: str, dynamic: bool) -> None:
    limit = JSON_MAX_LENGTH
    for s in raw:
        if len(s) > limit:
            if dynamic:
                raise _invalid(f"the length ({len(s)}) of dynamic field exceeds max length ({limit})",
                               "valid length dynamic field", "length exceeds max length")
            raise _invalid(f"the length ({len(s)}) of json field ({name}) exceeds max length ({limit})",
                           "valid length json string", "length exceeds max length")


def _extract(f: FieldSchema, fd: schema_pb2.FieldData) -> Any:
    """Type-check ``fd`` against ``f`` and return its compact values (validate_util's
    per-type check*FieldData: mismatch, NaN/Inf, overflow, max_length, max_capacity)."""
    lenient = f.nullable or f.default_value is not None
    if vectors.is_dense(f.dtype):
        return extract_vector(f, fd)
    if f.dtype == DataType.SPARSE_FLOAT_VECTOR:
        return extract_sparse(f, fd)
    if f.dtype == DataType.ARRAY:
        return _extract_array(f, fd)
    attr, need = _SCALAR_SLOTS[f.dtype]
    is_scalars = fd.WhichOneof("field") == "scalars"
    data = getattr(fd.scalars, attr).data if is_scalars and fd.scalars.WhichOneof("data") == attr else ()
    # Go reads a nil slice for a wrong or empty oneof; Bool has no such check in Milvus (its
    # row count fails later instead).
    if len(data) == 0 and not lenient and f.dtype != DataType.BOOL:
        if f.dtype == DataType.TEXT:
            raise MilvusError(PARAMETER_INVALID, f"invalid parameter[expected={need}]"
                              f"[actual=text field '{f.name}' is illegal]")
        kind = "varchar " if f.dtype in (DataType.VARCHAR, DataType.STRING) else \
            "json " if f.dtype == DataType.JSON else ""
        raise _invalid(f"{kind}field '{f.name}' is illegal, array type mismatch", need, "got nil")
    if f.dtype in _NP_TYPES:
        values = np.array(data, dtype=_NP_TYPES[f.dtype])
        if f.dtype in _INT_RANGES:
            _check_range(values, *_INT_RANGES[f.dtype])
            values = values.astype(np.int8 if f.dtype == DataType.INT8 else np.int16)
        elif f.dtype.is_float:
            _check_finite(values)
        return values
    if f.dtype == DataType.JSON:
        _check_json_length(data, f.name, False)
        return object_array((_loads(f, i, s) for i, s in enumerate(data)), len(data))
    strings = object_array(data, len(data))
    if f.dtype != DataType.TEXT and not f.auto_id and f.max_length:
        _check_max_length(f, strings)
    return strings


def _loads(f: FieldSchema, row: int, s: bytes) -> Any:
    try:
        return json_loads(s)
    except ValueError as e:
        # Milvus defers JSON syntax errors to segcore; Elanus parses here and says so.
        raise invalid_parameter(f"invalid JSON data of field {f.name}, row number: {row}: {e}") from e


def _check_range(values: np.ndarray, lo: int, hi: int) -> None:
    if len(values) and (values.min() < lo or values.max() > hi):
        idx = int(np.flatnonzero((values < lo) | (values > hi))[0])
        raise _invalid(f"the {idx}th element ({values[idx]}) out of range: [{lo}, {hi}]",
                       "integer doesn't overflow", "out of range")


def _check_max_length(f: FieldSchema, strings: np.ndarray) -> None:
    """Milvus limits UTF-8 *bytes*. A string of c chars has c..4c bytes, so only rows
    with 4*chars > max_length need encoding."""
    max_len = f.max_length
    chars = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    for i in np.flatnonzero(chars * 4 > max_len).tolist():
        length = len(strings[i].encode())
        if length > max_len:
            raise invalid_parameter(f"length of varchar field {f.name} exceeds max length, row number: {i}, "
                                    f"length: {length}, max length: {max_len}")


def _extract_array(f: FieldSchema, fd: schema_pb2.FieldData) -> np.ndarray:
    """checkArrayFieldData: capacity of every row first, then each row's element type."""
    attr, label = _ELEMENT_SLOTS[f.element_type]
    if fd.WhichOneof("field") != "scalars" or fd.scalars.WhichOneof("data") != "array_data":
        raise _invalid(f"array field '{f.name}' is illegal, array type mismatch",
                       f"need {f.element_type.display} array", "got nil")
    rows = fd.scalars.array_data.data
    cap = f.max_capacity
    for i, row in enumerate(rows):
        length = len(getattr(row, attr).data)
        if cap and length > cap:  # create_collection guarantees max_capacity; 0 = unknown
            raise _invalid(f"the length ({length}) of {i}th array exceeds max capacity ({cap})",
                           "valid length array", "array length exceeds max capacity")
    bounds = _INT_RANGES.get(f.element_type)
    max_len = f.max_length if f.element_type in (DataType.VARCHAR, DataType.STRING) else 0
    out: list[list[Any]] = []
    for i, row in enumerate(rows):
        kind = row.WhichOneof("data")
        if kind != attr:
            actual = "nil array" if kind is None else \
                f"*schemapb.ScalarField_{kind.title().replace('_', '')} array"
            raise _invalid("insert data does not match", label, actual)
        values = list(getattr(row, attr).data)
        if bounds is not None:
            _check_range(np.array(values, dtype=np.int64), *bounds)
        if max_len:
            for j, s in enumerate(values):
                if len(s) * 4 > max_len and len(s.encode()) > max_len:
                    raise invalid_parameter(
                        f'length of Array array field "{f.name}" exceeds max length, row number: {i}, '
                        f"array index: {j}, length: {len(s.encode())}, max length: {max_len}")
        out.append(values)
    return object_array(out, len(out))


def _default_fill(f: FieldSchema) -> Any:
    value = f.default_value
    if f.dtype == DataType.JSON and isinstance(value, bytes | str):
        return json_loads(value)  # JSON defaults are stored as bytes_data
    return value


def _fill(p: _Pending, n: int) -> None:
    """fillWithValue: expand compact values of nullable/default fields to ``n`` rows."""
    f, fd = p.field, p.fd
    if fd is not None:
        p.valid = np.array(fd.valid_data, dtype=np.bool_) if len(fd.valid_data) else None
    if fd is None and f.is_dynamic:
        return
    if (f.nullable or f.default_value is not None) and p.valid is None:
        p.valid = np.ones(n, dtype=np.bool_)
    if p.values is None:
        p.values = np.zeros(0, vectors.column_dtype(f.dtype)) if vectors.is_dense(f.dtype) \
            else empty_column(f, 0)
    vlen = 0 if p.valid is None else len(p.valid)
    if f.default_value is None:
        expected = n if f.nullable else 0
        if vlen != expected:
            raise _invalid(f"the length of valid_data of field({f.name}) is wrong", expected, vlen)
        if f.nullable and not vectors.is_dense(f.dtype):  # vectors stay compact until _align
            p.values = _scatter(f, p.values, p.valid, n, null_value(f))
        return
    if f.dtype.is_vector:
        raise invalid_parameter("vector type not support default value")
    if f.dtype == DataType.ARRAY:
        raise _invalid("array type not support default value", "not set default value", "")
    if vlen != n:
        raise _invalid(f"the length of valid_data of field({f.name}) is wrong", n, vlen)
    p.values = _scatter(f, p.values, p.valid, n, _default_fill(f))
    p.valid = np.ones(n, dtype=np.bool_) if f.nullable else None


def _scatter(f: FieldSchema, compact: np.ndarray, valid: np.ndarray | None, n: int,
             fill: Any) -> np.ndarray:
    assert valid is not None
    m = int(np.count_nonzero(valid))
    if len(compact) != m:
        raise _invalid("the length of field is wrong", m, len(compact))
    if m == n:
        return compact
    column = empty_column(f, n, fill)
    column[valid] = compact
    return column


def _align(p: _Pending, n: int) -> None:
    """checkAligned: row counts (and for vectors the dim), then vectors to (n, dim)."""
    f, fd = p.field, p.fd
    if vectors.is_dense(f.dtype):
        p.values = align_vector(f, fd, p.values, p.valid, n)
    elif len(p.values) != n:
        raise _rows_mismatch(f.name, len(p.values), n)


def with_auto_ids(columns: Columns, schema: CollectionSchema, ids: np.ndarray) -> Columns:
    """``columns`` with the primary-key column set to allocated ``ids`` (int64). A VarChar
    pk gets their decimal strings, as Milvus's autoGenPrimaryFieldData does."""
    pk = schema.primary
    ids = np.asarray(ids, dtype=np.int64)
    n = next((len(v) for v in columns.values()), len(ids))
    if len(ids) != n:
        raise ValueError(f"{len(ids)} ids for {n} rows")
    out = dict(columns)
    out[pk.name] = object_array(map(str, ids.tolist()), n) if pk.dtype.is_string else ids
    return out
