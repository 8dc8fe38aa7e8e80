"""Milvus's rules for creating an index, as pure functions over the existing indexes.

- The request's field resolves to the schema field of that name, else (when the
  collection has dynamic fields) to ``$meta``: the name is then a dynamic key.
- Vector fields are validated by :func:`elanus.core.index.parse_index_params`;
  scalar, JSON and dynamic fields by :mod:`elanus.coord.data.scalar_rules`, which
  also gives a JSON index its path as a JSON pointer. Scalar indexes are built per
  segment like vector ones (see :mod:`elanus.core.scalar_index`).
- An index name is unique in its collection. An empty name resolves to the name of
  the field's existing index (for a JSON field: the existing index on the same
  path), else to the field name, plus the JSON pointer for a JSON field
  (``my_json/a/b``, ``$meta/k/a``) — Milvus datacoord ``CreateIndex``.
- Same name, same field, same parameters (and same JSON path and cast type) again is
  a no-op; same name otherwise, or a second index on a field (on the same path for a
  JSON field; JSON indexes on different paths coexist), is an error with Milvus's text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from elanus.coord.data import scalar_rules
from elanus.coord.data.codec import IndexRecord
from elanus.core.errors import UNEXPECTED, MilvusError, invalid_parameter
from elanus.core.index import IndexSpec, parse_index_params
from elanus.core.index.build_params import expand_params
from elanus.core.schema import CollectionSchema, DataType, FieldSchema

DISTINCT_PER_FIELD = "at most one distinct index is allowed per field"
MULTIPLE_ON_FIELD = "CreateIndex failed: creating multiple indexes on same field is not supported"


@dataclass(frozen=True)
class Checked:
    """A validated create request: the schema field, the vector build spec (None for a
    scalar index) and, for a JSON or dynamic field, the indexed path as a JSON pointer."""

    field: FieldSchema
    spec: IndexSpec | None
    json_pointer: str = ""

    @property
    def is_json(self) -> bool:
        return self.field.dtype == DataType.JSON


def index_field(schema: CollectionSchema, name: str) -> FieldSchema | None:
    """Milvus's ``GetFieldFromNameDefaultJSON``: the field ``name``, else the dynamic field."""
    field = schema.get(name)
    if field is None and schema.enable_dynamic_field:
        field = schema.dynamic_field
    return field


def field_not_found(field_name: str) -> MilvusError:
    return MilvusError(UNEXPECTED, f"cannot create index on non-exist field: {field_name}")


def validate(schema: CollectionSchema, field_name: str, params: Mapping[str, str]) -> Checked:
    """Validate a create request on the field the request names; raises MilvusError."""
    field = index_field(schema, field_name)
    if field is None:
        raise field_not_found(field_name)
    if field.dtype.is_vector:
        return Checked(field, parse_index_params(field, params))
    return Checked(field, None, scalar_rules.check_scalar(schema, field, field_name, params))


def resolve_name(existing: Iterable[IndexRecord], checked: Checked, index_name: str) -> str:
    """The index name to use: as given, or the name of the field's existing index (on the
    same path for a JSON field), or the default name (field name + JSON pointer)."""
    if index_name:
        return index_name
    field = checked.field
    same = [r for r in existing if r.info.field_name == field.name
            and (not checked.is_json or r.info.json_pointer == checked.json_pointer)]
    if len(same) == 1:
        return same[0].info.index_name
    return field.name + checked.json_pointer


def check_conflicts(existing: Iterable[IndexRecord], checked: Checked, index_name: str,
                    params: Mapping[str, str]) -> IndexRecord | None:
    """The identical existing index (create is then a no-op), None when the new index may be
    created; raises Milvus's error when it conflicts with an existing one."""
    field_name = checked.field.name
    for record in existing:
        info = record.info
        if info.index_name == index_name:
            if info.field_name == field_name and _same(record, checked, params):
                return record
            raise invalid_parameter(DISTINCT_PER_FIELD)
        if info.field_name == field_name:
            if checked.is_json and info.json_pointer != checked.json_pointer:
                continue  # JSON indexes on different paths coexist
            raise invalid_parameter(MULTIPLE_ON_FIELD)
    return None


def _same(record: IndexRecord, checked: Checked, params: Mapping[str, str]) -> bool:
    if record.spec is not None or checked.spec is not None:
        return record.spec == checked.spec
    return (record.info.json_pointer == checked.json_pointer
            and expand_params(record.info.params) == expand_params(params))
