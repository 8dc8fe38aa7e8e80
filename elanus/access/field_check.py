"""Validation of a field added to an existing collection, and of default values.

:func:`check_add_field` is Milvus's proxy ``validateAddFieldRequest`` + ``ValidateField``
+ the "added field must be nullable" rule (``internal/proxy/task.go``, in the order of
``addCollectionFieldTask`` or ``alterCollectionSchemaTask``), then the root
coordinator's ``checkFieldSchema`` (:func:`check_default_value`). Texts and codes are
Milvus's; one deliberate difference: Elanus does not add *vector* fields to existing
collections yet (Milvus allows nullable ones) and says so.
"""

from __future__ import annotations

from pymilvus.grpc_gen import schema_pb2

from elanus.access.schema_check import MAX_FIELDS, MAX_VECTOR_FIELDS, _check_field
from elanus.core import errors
from elanus.core.errors import MilvusError
from elanus.core.schema import DataType

_SYSTEM_FIELD_NAMES = ("RowID", "Timestamp", "$meta", "$namespace_id", "__virtual_pk__")
_CLUSTERING_KEY_TYPES = frozenset({
    DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.FLOAT, DataType.DOUBLE,
    DataType.VARCHAR, DataType.STRING, DataType.FLOAT_VECTOR,
})
_INT_RANGES = {DataType.INT8: (-(1 << 7), (1 << 7) - 1), DataType.INT16: (-(1 << 15), (1 << 15) - 1)}
# ValueField oneof -> (the data types it may default, Milvus's label for the mismatch error)
_DEFAULT_SLOTS: dict[str, tuple[frozenset[DataType], str]] = {
    "bool_data": (frozenset({DataType.BOOL}), "DataType_Bool"),
    "int_data": (frozenset({DataType.INT8, DataType.INT16, DataType.INT32}), "DataType_Int"),
    "long_data": (frozenset({DataType.INT64}), "DataType_Int64"),
    "float_data": (frozenset({DataType.FLOAT}), "DataType_Float"),
    "double_data": (frozenset({DataType.DOUBLE}), "DataType_Double"),
    "string_data": (frozenset({DataType.VARCHAR}), "DataType_VarChar"),
    "bytes_data": (frozenset({DataType.JSON}), "DataType_SJON"),  # sic, Milvus's spelling
}


def _dtype(value: int) -> DataType:
    try:
        return DataType(value)
    except ValueError:
        return DataType.NONE


def check_default_value(f: schema_pb2.FieldSchema) -> None:
    """The root coordinator's ``checkFieldSchema`` for one field's ``default_value``."""
    if not f.HasField("default_value"):
        return
    dtype = _dtype(f.data_type)
    type_name = schema_pb2.DataType.Name(f.data_type) if f.data_type in schema_pb2.DataType.values() \
        else str(f.data_type)
    if f.is_primary_key:
        raise errors.invalid_parameter(
            f"primary field not support default_value, type:{type_name}, name:{f.name}")
    if dtype == DataType.ARRAY or dtype.is_vector or (dtype == DataType.JSON and not f.is_dynamic):
        raise errors.invalid_parameter(f"type not support default_value, type:{type_name}, name:{f.name}")
    kind = f.default_value.WhichOneof("data")
    if kind is None:
        return
    allowed, label = _DEFAULT_SLOTS.get(kind, (frozenset(), kind))
    if dtype not in allowed:
        raise errors.invalid_parameter(f"type ({type_name}) of field ({f.name}) is not equal to the "
                                       f"type({label}) of default_value")
    if dtype in _INT_RANGES:
        lo, hi = _INT_RANGES[dtype]
        value = f.default_value.int_data
        if not lo <= value <= hi:
            raise MilvusError(errors.PARAMETER_INVALID, "default value out of range: invalid parameter"
                              f"[expected=in range [{lo}, {hi}]][actual={value}]")
    if dtype == DataType.VARCHAR:
        params = {kv.key: kv.value for kv in f.type_params}
        max_length = int(params.get("max_length", "0") or 0)
        length = len(f.default_value.string_data.encode())
        if max_length and length > max_length:
            raise MilvusError(errors.PARAMETER_INVALID,
                              f"the length ({length}) of string exceeds max length ({max_length}): invalid "
                              "parameter[expected=valid length string][actual=string length exceeds max length]")


def _check_request(old: schema_pb2.CollectionSchema, f: schema_pb2.FieldSchema) -> None:
    """Milvus's ``validateAddFieldRequest``."""
    if len(old.fields) >= MAX_FIELDS:
        raise errors.invalid_parameter(f"The number of fields has reached the maximum value {MAX_FIELDS}")
    if any(existing.name == f.name for existing in old.fields):
        raise errors.invalid_parameter(f"duplicated field name {f.name}")
    dtype = _dtype(f.data_type)
    if dtype == DataType.NONE:
        name = schema_pb2.DataType.Name(f.data_type) if f.data_type in schema_pb2.DataType.values() \
            else str(f.data_type)
        raise MilvusError(errors.PARAMETER_INVALID, "invalid parameter[expected=valid field]"
                          f"[actual=field data type: {name} is not supported]")
    if f.name in _SYSTEM_FIELD_NAMES:
        raise errors.invalid_parameter(f"not support to add system field, field name = {f.name}")
    if f.is_primary_key:
        raise errors.invalid_parameter(f"not support to add pk field, field name = {f.name}")
    if f.autoID:
        raise errors.invalid_parameter(f"only primary field can speficy AutoID with true, field name = {f.name}")
    if f.is_partition_key:
        raise errors.invalid_parameter(f"not support to add partition key field, field name  = {f.name}")
    if f.is_clustering_key:
        if dtype not in _CLUSTERING_KEY_TYPES:
            raise errors.invalid_parameter(f"clustering key field {f.name} has unsupported data type {dtype.display}")
        if any(existing.is_clustering_key for existing in old.fields):
            raise errors.invalid_parameter(f"already has another clustering key field, field name: {f.name}")
    if dtype.is_vector:
        if sum(1 for existing in old.fields if _dtype(existing.data_type).is_vector) >= MAX_VECTOR_FIELDS:
            raise errors.invalid_parameter(
                f"maximum vector field's number should be limited to {MAX_VECTOR_FIELDS}")
        raise MilvusError(errors.OPERATION_NOT_SUPPORTED, "adding a vector field to an existing collection "
                          f"is not supported yet by Elanus, field name = {f.name}")


def _check_nullable(f: schema_pb2.FieldSchema) -> None:
    if not f.nullable:
        raise errors.invalid_parameter(f"added field must be nullable, please check it, field name = {f.name}")


def check_add_field(old: schema_pb2.CollectionSchema, f: schema_pb2.FieldSchema, collection: str,
                    *, legacy: bool = False) -> None:
    """Raise the first problem Milvus reports for adding ``f`` to a collection whose stored
    schema is ``old``. ``legacy``: the ``AddCollectionField`` RPC, which checks nullability
    before the field's own type params (``AlterCollectionSchema`` checks it after)."""
    _check_request(old, f)
    if legacy:
        _check_nullable(f)
    _check_field(f, collection)
    if not legacy:
        _check_nullable(f)
    check_default_value(f)
