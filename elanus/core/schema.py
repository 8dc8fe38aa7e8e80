"""Collection schema: the typed model every role shares.

The wire form is Milvus's ``schema_pb2.CollectionSchema``; it is what the root
coordinator stores and what ``DescribeCollection`` returns. Inside Elanus the
same facts are held in the frozen dataclasses below, built once per schema
version and never per request.

Invariants of a :class:`CollectionSchema` made by :func:`from_proto`:
- exactly one primary-key field, of type Int64 or VarChar;
- user field ids start at 100 and are unique (0 = row id, 1 = timestamp are the
  system fields Milvus reserves);
- if ``enable_dynamic_field`` is set there is a JSON field named ``$meta``
  flagged ``is_dynamic``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from pymilvus.grpc_gen import schema_pb2

DYNAMIC_FIELD_NAME = "$meta"
FIRST_USER_FIELD_ID = 100


class DataType(IntEnum):
    """Milvus ``schema.DataType`` numbers."""

    NONE = 0
    BOOL = 1
    INT8 = 2
    INT16 = 3
    INT32 = 4
    INT64 = 5
    FLOAT = 10
    DOUBLE = 11
    STRING = 20
    VARCHAR = 21
    ARRAY = 22
    JSON = 23
    GEOMETRY = 24
    TEXT = 25
    TIMESTAMPTZ = 26
    BINARY_VECTOR = 100
    FLOAT_VECTOR = 101
    FLOAT16_VECTOR = 102
    BFLOAT16_VECTOR = 103
    SPARSE_FLOAT_VECTOR = 104
    INT8_VECTOR = 105

    @property
    def is_vector(self) -> bool:
        return self in _VECTOR_TYPES

    @property
    def is_integer(self) -> bool:
        return self in (DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64)

    @property
    def is_float(self) -> bool:
        return self in (DataType.FLOAT, DataType.DOUBLE)

    @property
    def is_numeric(self) -> bool:
        return self.is_integer or self.is_float

    @property
    def is_string(self) -> bool:
        return self in (DataType.VARCHAR, DataType.STRING, DataType.TEXT)

    @property
    def display(self) -> str:
        """Milvus's type name as it appears in error texts, e.g. ``Int64``, ``FloatVector``."""
        return schema_pb2.DataType.Name(int(self))


_VECTOR_TYPES = frozenset({
    DataType.BINARY_VECTOR, DataType.FLOAT_VECTOR, DataType.FLOAT16_VECTOR,
    DataType.BFLOAT16_VECTOR, DataType.SPARSE_FLOAT_VECTOR, DataType.INT8_VECTOR,
})


@dataclass(frozen=True)
class FieldSchema:
    """One field. ``params`` holds type params (``dim``, ``max_length``, ``max_capacity``)."""

    field_id: int
    name: str
    dtype: DataType
    is_primary: bool = False
    auto_id: bool = False
    description: str = ""
    params: dict[str, str] = field(default_factory=dict)
    element_type: DataType = DataType.NONE
    nullable: bool = False
    default_value: Any = None
    is_dynamic: bool = False
    is_partition_key: bool = False
    is_clustering_key: bool = False

    @property
    def dim(self) -> int:
        """Vector dimension (0 for non-vectors and sparse vectors)."""
        return int(self.params.get("dim", 0) or 0)

    @property
    def max_length(self) -> int:
        return int(self.params.get("max_length", 0) or 0)

    @property
    def max_capacity(self) -> int:
        return int(self.params.get("max_capacity", 0) or 0)


@dataclass(frozen=True)
class CollectionSchema:
    """A collection's fields in declaration order, with lookups precomputed."""

    name: str
    fields: tuple[FieldSchema, ...]
    description: str = ""
    enable_dynamic_field: bool = False
    auto_id: bool = False
    version: int = 0  # bumped by every schema change (add field); 0 = as created
    _by_name: dict[str, FieldSchema] = field(default_factory=dict, compare=False, repr=False)
    _by_id: dict[int, FieldSchema] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.name: f for f in self.fields})
        self._by_id.update({f.field_id: f for f in self.fields})

    @property
    def primary(self) -> FieldSchema:
        for f in self.fields:
            if f.is_primary:
                return f
        raise ValueError("schema has no primary key")

    @property
    def vector_fields(self) -> list[FieldSchema]:
        return [f for f in self.fields if f.dtype.is_vector]

    @property
    def dynamic_field(self) -> FieldSchema | None:
        for f in self.fields:
            if f.is_dynamic:
                return f
        return None

    @property
    def partition_key(self) -> FieldSchema | None:
        for f in self.fields:
            if f.is_partition_key:
                return f
        return None

    def get(self, name: str) -> FieldSchema | None:
        return self._by_name.get(name)

    def by_id(self, field_id: int) -> FieldSchema | None:
        return self._by_id.get(field_id)


def _value_field_to_python(value: schema_pb2.ValueField) -> Any:
    kind = value.WhichOneof("data")
    return None if kind is None else getattr(value, kind)


def field_from_proto(fp: schema_pb2.FieldSchema) -> FieldSchema:
    return FieldSchema(
        field_id=fp.fieldID,
        name=fp.name,
        dtype=DataType(fp.data_type),
        is_primary=fp.is_primary_key,
        auto_id=fp.autoID,
        description=fp.description,
        params={kv.key: kv.value for kv in fp.type_params},
        element_type=DataType(fp.element_type),
        nullable=fp.nullable,
        default_value=_value_field_to_python(fp.default_value) if fp.HasField("default_value") else None,
        is_dynamic=fp.is_dynamic,
        is_partition_key=fp.is_partition_key,
        is_clustering_key=fp.is_clustering_key,
    )


def from_proto(sp: schema_pb2.CollectionSchema) -> CollectionSchema:
    """Build the internal schema from a *stored* (already validated, ids assigned) proto."""
    return CollectionSchema(
        name=sp.name,
        description=sp.description,
        enable_dynamic_field=sp.enable_dynamic_field,
        auto_id=any(f.autoID for f in sp.fields if f.is_primary_key),
        fields=tuple(field_from_proto(f) for f in sp.fields),
        version=sp.version,
    )


def from_bytes(data: bytes) -> CollectionSchema:
    sp = schema_pb2.CollectionSchema()
    sp.ParseFromString(data)
    return from_proto(sp)
