"""CreateCollection schema validation, in the order and with the texts Milvus's proxy uses.

Nothing here touches the catalog: existence and uniqueness are the root
coordinator's business. A schema that passes is safe to store.
"""

from __future__ import annotations

from pymilvus.grpc_gen import schema_pb2

from elanus.access.names import check_collection_name, check_field_name
from elanus.core import errors
from elanus.core.errors import MilvusError
from elanus.core.schema import DataType

MAX_SHARDS = 16
MAX_FIELDS = 64
MAX_VECTOR_FIELDS = 10
MAX_DIM = 32768
MAX_VARCHAR_LENGTH = 65535
MAX_ARRAY_CAPACITY = 4096
_SUPPORTED_NOW = {
    DataType.BOOL, DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.FLOAT,
    DataType.DOUBLE, DataType.VARCHAR, DataType.JSON, DataType.ARRAY, DataType.FLOAT_VECTOR,
}
_ARRAY_ELEMENTS = {
    DataType.BOOL, DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.FLOAT,
    DataType.DOUBLE, DataType.VARCHAR,
}


def _missing(detail: str) -> MilvusError:
    return MilvusError(errors.PARAMETER_MISSING, f"{detail}: missing parameter")


def _params(f: schema_pb2.FieldSchema) -> dict[str, str]:
    return {kv.key: kv.value for kv in f.type_params}


def _check_int_param(f: schema_pb2.FieldSchema, key: str) -> int:
    try:
        return int(_params(f)[key])
    except ValueError as exc:
        raise errors.invalid_parameter(f"the value for {key} of field {f.name} must be an integer") from exc


def _check_vector(f: schema_pb2.FieldSchema) -> None:
    params = _params(f)
    if "dim" not in params:
        raise errors.invalid_parameter(
            f"dimension is not defined in field type params of field {f.name}, "
            "check type param `dim` for vector field")
    dim = _check_int_param(f, "dim")
    if dim <= 1:
        raise errors.invalid_parameter(f"invalid dimension: {dim}. should be in range 2 ~ {MAX_DIM}")
    if dim > MAX_DIM:
        raise errors.invalid_parameter(
            f"invalid dimension: {dim} of field {f.name}. float vector dimension should be in range 2 ~ {MAX_DIM}")


def _check_varchar(f: schema_pb2.FieldSchema, collection: str) -> None:
    if "max_length" not in _params(f):
        raise _missing(f"type param(max_length) should be specified for the field({f.name}) "
                       f"of collection {collection}")
    length = _check_int_param(f, "max_length")
    if length <= 0 or length > MAX_VARCHAR_LENGTH:
        raise errors.invalid_parameter(
            f"the maximum length specified for the field({f.name}) should be in (0, {MAX_VARCHAR_LENGTH}], "
            f"but got {length} instead")


def _check_array(f: schema_pb2.FieldSchema, collection: str) -> None:
    if "max_capacity" not in _params(f):
        raise _missing(f"type param(max_capacity) should be specified for array field {f.name} "
                       f"of collection {collection}")
    cap = _check_int_param(f, "max_capacity")
    if cap <= 0 or cap > MAX_ARRAY_CAPACITY:
        raise errors.invalid_parameter(
            f"the maximum capacity specified for a Array should be in (0, {MAX_ARRAY_CAPACITY}]")
    if DataType(f.element_type) not in _ARRAY_ELEMENTS:
        raise errors.invalid_parameter(f"element type {DataType(f.element_type).display} is not supported")
    if f.element_type == DataType.VARCHAR:
        _check_varchar(f, collection)


def check_create_schema(sp: schema_pb2.CollectionSchema, name: str, shards: int) -> None:
    """Raise the first problem Milvus would report for this CreateCollection."""
    if sp.name and sp.name != name:
        raise errors.invalid_parameter(
            f"collection name [{name}] not matches schema name [{sp.name}]")
    if shards > MAX_SHARDS:
        raise errors.invalid_parameter(f"maximum shards's number should be limited to {MAX_SHARDS}")
    if len(sp.fields) > MAX_FIELDS:
        raise errors.invalid_parameter(f"maximum field's number should be limited to {MAX_FIELDS}")
    vectors = [f for f in sp.fields if DataType(f.data_type).is_vector]
    if len(vectors) > MAX_VECTOR_FIELDS:
        raise errors.invalid_parameter(
            f"maximum vector field's number should be limited to {MAX_VECTOR_FIELDS}")
    if not vectors:
        raise errors.invalid_parameter("schema does not contain vector field")
    check_collection_name(name)
    pk_index = -1
    for i, f in enumerate(sp.fields):
        if f.is_primary_key:
            if pk_index != -1:
                raise errors.invalid_parameter(
                    f"there are more than one primary key, field name = {sp.fields[pk_index].name}, {f.name}")
            if f.data_type not in (DataType.INT64, DataType.VARCHAR):
                raise errors.invalid_parameter("the data type of primary key should be Int64 or VarChar")
            pk_index = i
    if pk_index == -1:
        raise _missing("primary key is not specified")
    auto_fields = [f.name for f in sp.fields if f.autoID]
    if len(auto_fields) > 1:
        raise errors.invalid_parameter(
            f"only one field can speficy AutoID with true, field name = {auto_fields[0]}, {auto_fields[1]}")
    for f in sp.fields:
        if f.autoID and not f.is_primary_key:
            raise errors.invalid_parameter(f"only primary field can speficy AutoID with true, field name = {f.name}")
    keys = [f for f in sp.fields if f.is_partition_key]
    if len(keys) > 1:
        raise errors.invalid_parameter("there are more than one partition key")
    for f in keys:
        if f.is_primary_key:
            raise errors.invalid_parameter("the partition key field must not be primary field")
        if f.data_type not in (DataType.INT64, DataType.VARCHAR):
            raise errors.invalid_parameter("the data type of partition key should be Int64 or VarChar")
    seen: set[str] = set()
    for f in sp.fields:
        check_field_name(f.name)
        dtype = DataType(f.data_type)
        if dtype not in _SUPPORTED_NOW:
            raise MilvusError(errors.OPERATION_NOT_SUPPORTED,
                              f"data type {dtype.display} is not supported yet by Elanus")
        if dtype.is_vector:
            _check_vector(f)
        elif dtype == DataType.VARCHAR:
            _check_varchar(f, name)
        elif dtype == DataType.ARRAY:
            _check_array(f, name)
        if f.nullable and (f.is_primary_key or dtype.is_vector):
            raise errors.invalid_parameter(f"primary field or vector field not support null, field: {f.name}")
        if f.name in seen:
            raise errors.invalid_parameter(f"duplicated field name {f.name} found")
        seen.add(f.name)
