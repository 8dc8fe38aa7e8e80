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
MAX_PARTITIONS = 1024
_NO_STRING = "string data type not supported yet, please use VarChar type instead"
_RESERVED_FIELD_NAMES = frozenset({"RowID", "Timestamp", "__virtual_pk__"})
_SUPPORTED_NOW = {
    DataType.BOOL, DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.FLOAT,
    DataType.DOUBLE, DataType.VARCHAR, DataType.JSON, DataType.ARRAY, DataType.FLOAT_VECTOR,
    DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR, DataType.INT8_VECTOR, DataType.BINARY_VECTOR,
    DataType.SPARSE_FLOAT_VECTOR,
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
    if f.data_type == DataType.SPARSE_FLOAT_VECTOR:
        if "dim" in params:
            raise errors.invalid_parameter(
                f"dim should not be specified for sparse vector field {f.name}({f.fieldID})")
        return
    if "dim" not in params:
        raise errors.invalid_parameter(
            f"dimension is not defined in field type params of field {f.name}, "
            "check type param `dim` for vector field")
    dim = _check_int_param(f, "dim")
    if dim <= 1:
        raise errors.invalid_parameter(f"invalid dimension: {dim}. should be in range 2 ~ {MAX_DIM}")
    if f.data_type == DataType.BINARY_VECTOR:
        if dim % 8:
            raise errors.invalid_parameter(f"invalid dimension: {dim} of field {f.name}. "
                                           "binary vector dimension should be multiple of 8. ")
        if dim > MAX_DIM * 8:
            raise errors.invalid_parameter(f"invalid dimension: {dim} of field {f.name}. "
                                           f"binary vector dimension should be in range 2 ~ {MAX_DIM * 8}")
        return
    if dim > MAX_DIM:
        raise errors.invalid_parameter(f"invalid dimension: {dim} of field {f.name}. "
                                       f"float vector dimension should be in range 2 ~ {MAX_DIM}")


def _check_varchar(f: schema_pb2.FieldSchema, collection: str) -> None:
    if "max_length" not in _params(f):
        raise _missing(f"type param(max_length) should be specified for the field({f.name}) "
                       f"of collection {collection}")
    length = _check_int_param(f, "max_length")
    if length <= 0 or length > MAX_VARCHAR_LENGTH:
        raise errors.invalid_parameter(
            f"the maximum length specified for the field({f.name}) should be in (0, {MAX_VARCHAR_LENGTH}], "
            f"but got {length} instead")


def _check_element_type(element_type: int) -> None:
    """Milvus's ``validateElementType``."""
    if element_type in _ARRAY_ELEMENTS:
        return
    if element_type == DataType.STRING:
        raise errors.invalid_parameter(_NO_STRING)
    if element_type == DataType.NONE:
        raise errors.invalid_parameter("element data type None is not valid")
    raise errors.invalid_parameter(f"element type {_type_name(element_type)} is not supported")


def _check_capacity(f: schema_pb2.FieldSchema, collection: str) -> None:
    if "max_capacity" not in _params(f):
        raise _missing(f"type param(max_capacity) should be specified for array field {f.name} "
                       f"of collection {collection}")
    cap = _check_int_param(f, "max_capacity")
    if cap <= 0 or cap > MAX_ARRAY_CAPACITY:
        raise errors.invalid_parameter(
            f"the maximum capacity specified for a Array should be in (0, {MAX_ARRAY_CAPACITY}]")


def _type_name(value: int) -> str:
    try:
        return DataType(value).display
    except ValueError:
        return str(value)


def _check_field(f: schema_pb2.FieldSchema, collection: str) -> None:
    """Milvus's ``ValidateField``, after Elanus's own "not supported yet" gate."""
    check_field_name(f.name)
    try:
        dtype = DataType(f.data_type)
    except ValueError:
        dtype = DataType.NONE
    if dtype not in _SUPPORTED_NOW:
        raise MilvusError(errors.OPERATION_NOT_SUPPORTED,
                          f"data type {_type_name(f.data_type)} is not supported yet by Elanus")
    if dtype.is_vector:
        _check_vector(f)
    if dtype == DataType.VARCHAR or (dtype == DataType.ARRAY and f.element_type == DataType.VARCHAR):
        _check_varchar(f, collection)
    if dtype == DataType.ARRAY:
        _check_element_type(f.element_type)
        _check_capacity(f, collection)


def _is_vector(f: schema_pb2.FieldSchema) -> bool:
    try:
        return DataType(f.data_type).is_vector
    except ValueError:
        return False


def check_create_schema(sp: schema_pb2.CollectionSchema, name: str, shards: int,
                        num_partitions: int = 0) -> None:
    """Raise the first problem Milvus would report for this CreateCollection.

    The order is the proxy's ``createCollectionTask.PreExecute``, then the root
    coordinator's schema checks. The name checked is the schema's own name (as in
    Milvus); a raw request with an empty schema name falls back to ``name``.
    """
    schema_name = sp.name or name
    if shards > MAX_SHARDS:
        raise errors.invalid_parameter(f"maximum shards's number should be limited to {MAX_SHARDS}")
    if len(sp.fields) > MAX_FIELDS:
        raise errors.invalid_parameter(f"maximum field's number should be limited to {MAX_FIELDS}")
    vectors = [f for f in sp.fields if _is_vector(f)]
    if len(vectors) > MAX_VECTOR_FIELDS:
        raise errors.invalid_parameter(
            f"maximum vector field's number should be limited to {MAX_VECTOR_FIELDS}")
    if not vectors:
        raise errors.invalid_parameter("schema does not contain vector field")
    check_collection_name(schema_name)
    # validateReservedFieldNames
    for f in sp.fields:
        if f.name in _RESERVED_FIELD_NAMES:
            detail = f'field name "{f.name}" is reserved for internal use and cannot be used in user schemas'
            raise MilvusError(errors.FIELD_INVALID_NAME, f"{detail}: " + errors.compose(
                errors.FIELD_INVALID_NAME, fields={"field": f.name}))
    # validatePrimaryKey
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
    # validateDynamicField
    if any(f.is_dynamic for f in sp.fields):
        raise errors.invalid_parameter("cannot explicitly set a field as a dynamic field")
    # ValidateFieldAutoID
    auto_index = -1
    for i, f in enumerate(sp.fields):
        if f.autoID:
            if auto_index != -1:
                raise errors.invalid_parameter(f"only one field can speficy AutoID with true, field name = "
                                               f"{sp.fields[auto_index].name}, {f.name}")
            auto_index = i
            if not f.is_primary_key:
                raise errors.invalid_parameter(
                    f"only primary field can speficy AutoID with true, field name = {f.name}")
    # validateFieldType
    for f in sp.fields:
        if f.data_type == DataType.STRING:
            raise errors.invalid_parameter(_NO_STRING)
        if f.data_type == DataType.NONE:
            raise errors.invalid_parameter("data type None is not valid")
        if f.data_type == DataType.ARRAY:
            _check_element_type(f.element_type)
    _check_partition_key(sp, num_partitions)
    for f in sp.fields:
        _check_field(f, schema_name)
    # validateDuplicatedFieldName
    seen: set[str] = set()
    for f in sp.fields:
        if f.name in seen:
            raise errors.invalid_parameter(f"duplicated field name {f.name} found")
        seen.add(f.name)
    # The root coordinator's checks.
    if schema_name != name:
        raise errors.MilvusError(errors.PARAMETER_INVALID,
                                 f"collection name = {name}, schema.Name={schema_name}: invalid parameter"
                                 "[expected=collection name matches schema name][actual=don't match]")
    for f in sp.fields:
        if f.nullable and f.is_primary_key:
            raise errors.invalid_parameter(
                f"primary field not support null, type:{_type_name(f.data_type)}, name:{f.name}")


def _check_partition_key(sp: schema_pb2.CollectionSchema, num_partitions: int) -> None:
    """Milvus's ``validatePartitionKey``."""
    key_index = -1
    for i, f in enumerate(sp.fields):
        if not f.is_partition_key:
            continue
        if key_index != -1:
            raise errors.invalid_parameter(
                f"there are more than one partition key, field name = {sp.fields[key_index].name}, {f.name}")
        if f.is_primary_key:
            raise errors.invalid_parameter("the partition key field must not be primary field")
        if f.nullable:
            raise errors.invalid_parameter("partition key field not support nullable")
        if f.data_type not in (DataType.INT64, DataType.VARCHAR):
            raise errors.invalid_parameter("the data type of partition key should be Int64 or VarChar")
        if num_partitions < 0:
            raise errors.invalid_parameter(
                "the specified partitions should be greater than 0 if partition key is used")
        if num_partitions > MAX_PARTITIONS:
            raise errors.invalid_parameter(
                f"partition number ({num_partitions}) exceeds max configuration ({MAX_PARTITIONS})")
        key_index = i
    if key_index == -1 and num_partitions != 0:
        raise errors.invalid_parameter(
            "num_partitions should only be specified with partition key field enabled")
