"""Schema evolution on the read side: rows written before a field existed.

A field added to a collection (``add_collection_field``) has no column in WAL batches
and segment files written before it; Milvus reads such rows as the field's default
value when it has one, else as null. :func:`absent_column` builds that column for ``n``
rows; :func:`with_absent_fields` adds it for every schema field a column set lacks.
Growing and sealed segments use both when they load data or learn a newer schema; the
data node uses :func:`arrow_with_defaults` when a segment's batches straddle the change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa

from elanus.core import batch
from elanus.core.schema import CollectionSchema, DataType, FieldSchema


def default_fill(field: FieldSchema) -> Any:
    """The field's default value as a column value (JSON defaults arrive as JSON text), or None."""
    value = field.default_value
    if value is not None and field.dtype == DataType.JSON and isinstance(value, bytes | str):
        return batch.json_loads(value)
    return value


def absent_column(field: FieldSchema, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(values, validity) of ``n`` rows that never had ``field``: the default value (valid)
    when the field has one, else nulls. Validity is None for a non-nullable field."""
    fill = default_fill(field)
    values = batch.empty_column(field, n, fill)
    if not field.nullable:
        return values, None
    valid = np.full(n, fill is not None, dtype=np.bool_)
    return values, valid


def missing_fields(schema: CollectionSchema, present: Iterable[str]) -> list[FieldSchema]:
    """Schema fields (not NONE-typed placeholders) whose column is not in ``present``."""
    have = set(present)
    return [f for f in schema.fields if f.dtype != DataType.NONE and f.name not in have]


def with_absent_fields(columns: batch.Columns, schema: CollectionSchema, n: int,
                       fields: Iterable[FieldSchema] | None = None) -> batch.Columns:
    """``columns`` plus an :func:`absent_column` (and its ``$valid``) for each of ``fields``
    (default: every schema field ``columns`` lacks)."""
    todo = missing_fields(schema, columns) if fields is None else list(fields)
    if not todo:
        return columns
    out = dict(columns)
    for f in todo:
        values, valid = absent_column(f, n)
        out[f.name] = values
        if valid is not None:
            out[batch.valid_key(f.name)] = valid
    return out


def arrow_with_defaults(record: pa.RecordBatch, schema: CollectionSchema) -> pa.RecordBatch:
    """``record`` plus a column holding the default value for each schema field that has one
    and that ``record`` lacks (rows written before the field was added). Fields without a
    default stay absent: Arrow's promotion fills them with nulls when batches are combined."""
    todo = [f for f in missing_fields(schema, record.schema.names) if default_fill(f) is not None]
    if not todo:
        return record
    extra = batch.to_arrow(with_absent_fields({}, schema, record.num_rows, todo), schema)
    for name, column in zip(extra.schema.names, extra.columns, strict=True):
        record = record.append_column(extra.schema.field(name), column)
    return record
