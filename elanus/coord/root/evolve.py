"""Schema evolution in the catalog: the next version of a collection's schema.

Milvus's ``broadcastAlterCollectionForAddField``: the new field gets the highest field
id in use plus one (the dynamic ``$meta`` field counts), is appended after every
existing field, and the schema's ``version`` goes up by one. Field ids are never
reused, so a column in any file written earlier can never be mistaken for it.
"""

from __future__ import annotations

from pymilvus.grpc_gen import schema_pb2

from elanus.core import errors
from elanus.core.schema import FIRST_USER_FIELD_ID


def schema_with_field(stored: bytes, field: schema_pb2.FieldSchema) -> schema_pb2.CollectionSchema:
    """The stored schema plus ``field`` (id assigned, version bumped). Raises
    ``field already exists, name: X`` (1100) when a field of that name exists."""
    sp = schema_pb2.CollectionSchema()
    sp.ParseFromString(stored)
    if any(f.name == field.name for f in sp.fields):
        raise errors.invalid_parameter(f"field already exists, name: {field.name}")
    added = sp.fields.add()
    added.CopyFrom(field)
    added.fieldID = max((f.fieldID for f in sp.fields[:-1]), default=FIRST_USER_FIELD_ID - 1) + 1
    sp.version += 1
    return sp
