"""CreateCollection schema checks: order and texts of Milvus's createCollectionTask.PreExecute
(internal/proxy/task.go, util.go) and the root coordinator's schema checks."""

from __future__ import annotations

from typing import Any

import pytest
from pymilvus.grpc_gen import schema_pb2

from elanus.access.schema_check import check_create_schema
from elanus.core import errors
from elanus.core.errors import MilvusError
from elanus.core.schema import DataType

INVALID = errors.PARAMETER_INVALID


def field(name: str, dtype: DataType, **kw: Any) -> schema_pb2.FieldSchema:
    params = {k: str(kw.pop(k)) for k in ("dim", "max_length", "max_capacity") if k in kw}
    f = schema_pb2.FieldSchema(name=name, data_type=dtype, **kw)
    for k, v in params.items():
        f.type_params.add(key=k, value=v)
    return f


def pk(name: str = "id", **kw: Any) -> schema_pb2.FieldSchema:
    return field(name, DataType.INT64, is_primary_key=True, **kw)


def vec(name: str = "vec", dim: int = 4, **kw: Any) -> schema_pb2.FieldSchema:
    return field(name, DataType.FLOAT_VECTOR, dim=dim, **kw)


def schema(*fields: schema_pb2.FieldSchema, name: str = "c", **kw: Any) -> schema_pb2.CollectionSchema:
    return schema_pb2.CollectionSchema(name=name, fields=list(fields), **kw)


def check_error(sp: schema_pb2.CollectionSchema, *, name: str = "c", shards: int = 1,
                num_partitions: int = 0) -> MilvusError:
    with pytest.raises(MilvusError) as info:
        check_create_schema(sp, name, shards, num_partitions)
    return info.value


def assert_error(sp: schema_pb2.CollectionSchema, code: int, text: str, **kw: Any) -> None:
    err = check_error(sp, **kw)
    assert (err.code, err.message) == (code, text)


def test_valid_schemas_pass() -> None:
    check_create_schema(schema(pk(), vec()), "c", 1)
    check_create_schema(schema(pk(autoID=True), vec(), field("s", DataType.VARCHAR, max_length=10),
                               field("j", DataType.JSON),
                               field("a", DataType.ARRAY, element_type=DataType.INT32, max_capacity=8),
                               field("sa", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=8,
                                     max_length=5),
                               field("b", DataType.BOOL, nullable=True), enable_dynamic_field=True), "c", 16)
    check_create_schema(schema(field("id", DataType.VARCHAR, is_primary_key=True, max_length=64), vec(),
                               field("k", DataType.INT64, is_partition_key=True)), "c", 2, num_partitions=64)
    check_create_schema(schema(pk(), vec(dim=2), vec("v2", dim=32768)), "c", 1)
    check_create_schema(schema(pk(), vec(), name=""), "c", 1)  # raw request without a schema name


def test_limits_come_first() -> None:
    assert_error(schema(pk(), vec()), INVALID,
                 "maximum shards's number should be limited to 16: invalid parameter", shards=17)
    many = [pk(), vec()] + [field(f"f{i}", DataType.INT32) for i in range(63)]
    assert_error(schema(*many), INVALID, "maximum field's number should be limited to 64: invalid parameter")
    vectors = [pk()] + [vec(f"v{i}") for i in range(11)]
    assert_error(schema(*vectors), INVALID,
                 "maximum vector field's number should be limited to 10: invalid parameter")
    assert_error(schema(pk()), INVALID, "schema does not contain vector field: invalid parameter")
    # shards are checked before anything in the schema
    assert check_error(schema(pk()), shards=99).message.startswith("maximum shards's")


def test_collection_name_is_the_schema_name() -> None:
    assert_error(schema(pk(), vec(), name="1bad"), INVALID,
                 "Invalid collection name: 1bad.  the first character of a collection name must be an "
                 "underscore or letter: invalid parameter", name="1bad")
    # a mismatch is the root coordinator's finding, after every proxy check passed
    assert_error(schema(pk(), vec(), name="other"), INVALID,
                 "collection name = c, schema.Name=other: invalid parameter"
                 "[expected=collection name matches schema name][actual=don't match]")
    assert check_error(schema(pk(), name="other")).message.startswith("schema does not contain vector field")


def test_reserved_field_names() -> None:
    for reserved in ("RowID", "Timestamp", "__virtual_pk__"):
        assert_error(schema(pk(), vec(), field(reserved, DataType.INT64)), errors.FIELD_INVALID_NAME,
                     f'field name "{reserved}" is reserved for internal use and cannot be used in user '
                     f"schemas: field name invalid[field={reserved}]")


def test_primary_key_rules() -> None:
    assert_error(schema(pk("a"), vec(), pk("b")), INVALID,
                 "there are more than one primary key, field name = a, b: invalid parameter")
    assert_error(schema(field("id", DataType.INT32, is_primary_key=True), vec()), INVALID,
                 "the data type of primary key should be Int64 or VarChar: invalid parameter")
    assert_error(schema(field("id", DataType.INT64), vec()), errors.PARAMETER_MISSING,
                 "primary key is not specified: missing parameter")
    assert_error(schema(pk(nullable=True), vec()), INVALID,
                 "primary field not support null, type:Int64, name:id: invalid parameter")


def test_dynamic_field_cannot_be_declared() -> None:
    assert_error(schema(pk(), vec(), field("$meta", DataType.JSON, is_dynamic=True)), INVALID,
                 "cannot explicitly set a field as a dynamic field: invalid parameter")


def test_auto_id_rules_in_field_order() -> None:
    # the first auto-id field is not the primary key: that is reported, not the count
    assert_error(schema(field("x", DataType.INT64, autoID=True), pk(autoID=True), vec()), INVALID,
                 "only primary field can speficy AutoID with true, field name = x: invalid parameter")
    assert_error(schema(pk(autoID=True), field("x", DataType.INT64, autoID=True), vec()), INVALID,
                 "only one field can speficy AutoID with true, field name = id, x: invalid parameter")


def test_field_types() -> None:
    assert_error(schema(pk(), vec(), field("s", DataType.STRING)), INVALID,
                 "string data type not supported yet, please use VarChar type instead: invalid parameter")
    assert_error(schema(pk(), vec(), field("n", DataType.NONE)), INVALID,
                 "data type None is not valid: invalid parameter")
    assert_error(schema(pk(), vec(), field("a", DataType.ARRAY, element_type=DataType.JSON, max_capacity=4)),
                 INVALID, "element type JSON is not supported: invalid parameter")
    assert_error(schema(pk(), vec(), field("a", DataType.ARRAY, max_capacity=4)), INVALID,
                 "element data type None is not valid: invalid parameter")
    # types Milvus has but Elanus does not serve yet
    err = check_error(schema(pk(), vec(), field("g", DataType.GEOMETRY)))
    assert (err.code, err.message) == (errors.OPERATION_NOT_SUPPORTED,
                                       "data type Geometry is not supported yet by Elanus")
    # sparse vectors have no dim
    err = check_error(schema(pk(), vec(), field("s", DataType.SPARSE_FLOAT_VECTOR, dim=8)))
    assert err.code == errors.PARAMETER_INVALID and "dim should not be specified for sparse vector field s" \
        in err.message


@pytest.mark.parametrize("dtype", [DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR, DataType.INT8_VECTOR,
                                   DataType.BINARY_VECTOR])
def test_other_dense_vector_types_and_nullable_vectors_pass(dtype: DataType) -> None:
    check_create_schema(schema(pk(), field("v", dtype, dim=16)), "c", 1)
    check_create_schema(schema(pk(), field("v", dtype, dim=16, nullable=True)), "c", 1)


def test_binary_vector_dimension_rules() -> None:
    assert_error(schema(pk(), field("b", DataType.BINARY_VECTOR, dim=12)), INVALID,
                 "invalid dimension: 12 of field b. binary vector dimension should be multiple of 8. "
                 ": invalid parameter")
    assert_error(schema(pk(), field("b", DataType.BINARY_VECTOR, dim=32768 * 8 + 8)), INVALID,
                 "invalid dimension: 262152 of field b. binary vector dimension should be in range 2 ~ 262144"
                 ": invalid parameter")
    check_create_schema(schema(pk(), field("b", DataType.BINARY_VECTOR, dim=32768 * 8)), "c", 1)
    # the float limit still holds for the other types
    assert check_error(schema(pk(), field("h", DataType.FLOAT16_VECTOR, dim=32769))).message.startswith(
        "invalid dimension: 32769 of field h. float vector dimension should be in range 2 ~ 32768")


def test_partition_key_rules() -> None:
    key = field("k", DataType.INT64, is_partition_key=True)
    assert_error(schema(pk(), vec(), key, field("k2", DataType.VARCHAR, max_length=4, is_partition_key=True)),
                 INVALID, "there are more than one partition key, field name = k, k2: invalid parameter")
    assert_error(schema(pk(is_partition_key=True), vec()), INVALID,
                 "the partition key field must not be primary field: invalid parameter")
    assert_error(schema(pk(), vec(), field("k", DataType.INT64, is_partition_key=True, nullable=True)),
                 INVALID, "partition key field not support nullable: invalid parameter")
    assert_error(schema(pk(), vec(), field("k", DataType.INT32, is_partition_key=True)), INVALID,
                 "the data type of partition key should be Int64 or VarChar: invalid parameter")
    assert_error(schema(pk(), vec(), key), INVALID,
                 "the specified partitions should be greater than 0 if partition key is used: "
                 "invalid parameter",
                 num_partitions=-1)
    assert_error(schema(pk(), vec(), key), INVALID,
                 "partition number (1025) exceeds max configuration (1024): invalid parameter",
                 num_partitions=1025)
    assert_error(schema(pk(), vec()), INVALID,
                 "num_partitions should only be specified with partition key field enabled: "
                 "invalid parameter",
                 num_partitions=4)


def test_per_field_checks() -> None:
    assert_error(schema(pk(), vec(), field("1x", DataType.INT8)), errors.FIELD_INVALID_NAME,
                 "Invalid field name: 1x. The first character of a field name must be an underscore or "
                 "letter.: field name invalid[field=1x]")
    assert_error(schema(pk(), field("vec", DataType.FLOAT_VECTOR)), INVALID,
                 "dimension is not defined in field type params of field vec, check type param `dim` for "
                 "vector field: invalid parameter")
    assert_error(schema(pk(), vec(dim=1)), INVALID, "invalid dimension: 1. should be in range 2 ~ 32768: "
                                                    "invalid parameter")
    assert_error(schema(pk(), vec(dim=32769)), INVALID,
                 "invalid dimension: 32769 of field vec. float vector dimension should be in range "
                 "2 ~ 32768: invalid parameter")
    assert_error(schema(pk(), vec(), field("s", DataType.VARCHAR)), errors.PARAMETER_MISSING,
                 "type param(max_length) should be specified for the field(s) of collection c: "
                 "missing parameter")
    assert_error(schema(pk(), vec(), field("s", DataType.VARCHAR, max_length=65536)), INVALID,
                 "the maximum length specified for the field(s) should be in (0, 65535], but got 65536 "
                 "instead: invalid parameter")
    assert_error(schema(pk(), vec(), field("a", DataType.ARRAY, element_type=DataType.INT64)),
                 errors.PARAMETER_MISSING,
                 "type param(max_capacity) should be specified for array field a of collection c: "
                 "missing parameter")
    assert_error(schema(pk(), vec(), field("a", DataType.ARRAY, element_type=DataType.INT64, max_capacity=0)),
                 INVALID,
                 "the maximum capacity specified for a Array should be in (0, 4096]: invalid parameter")
    assert_error(schema(pk(), vec(), field("a", DataType.ARRAY, element_type=DataType.INT64,
                                           max_capacity="x")),
                 INVALID, "the value for max_capacity of field a must be an integer: invalid parameter")
    # an Array of VarChar needs max_length before max_capacity is looked at
    varchar_array = field("a", DataType.ARRAY, element_type=DataType.VARCHAR)
    assert check_error(schema(pk(), vec(), varchar_array)).message.startswith(
        "type param(max_length) should be specified for the field(a)")
    check_create_schema(schema(pk(), vec(nullable=True)), "c", 1)  # Milvus accepts nullable vectors


def test_duplicated_field_names_after_field_checks() -> None:
    assert_error(schema(pk(), vec(), field("x", DataType.INT8), field("x", DataType.INT16)), INVALID,
                 "duplicated field name x found: invalid parameter")
    # a field error anywhere wins over the duplicate
    err = check_error(schema(pk(), vec(), field("x", DataType.INT8), field("x", DataType.VARCHAR)))
    assert err.code == errors.PARAMETER_MISSING
