"""Validation of a field added to a collection and of default values (Milvus's texts)."""

from __future__ import annotations

from typing import Any

import pytest
from pymilvus.grpc_gen import schema_pb2

from elanus.access.field_check import check_add_field, check_default_value
from elanus.core import errors
from elanus.core.errors import MilvusError
from elanus.core.schema import DataType


def old_schema(n_extra: int = 0) -> schema_pb2.CollectionSchema:
    sp = schema_pb2.CollectionSchema(name="c")
    sp.fields.add(name="id", fieldID=100, data_type=DataType.INT64, is_primary_key=True)
    vec = sp.fields.add(name="vec", fieldID=101, data_type=DataType.FLOAT_VECTOR)
    vec.type_params.add(key="dim", value="4")
    sp.fields.add(name="ck", fieldID=102, data_type=DataType.INT64, is_clustering_key=True)
    for i in range(n_extra):
        sp.fields.add(name=f"x{i}", fieldID=103 + i, data_type=DataType.BOOL)
    return sp


def new_field(name: str = "f", dtype: DataType = DataType.INT64, nullable: bool = True,
              params: dict[str, str] | None = None, **kw: Any) -> schema_pb2.FieldSchema:
    f = schema_pb2.FieldSchema(name=name, data_type=dtype, nullable=nullable, **kw)
    for k, v in (params or {}).items():
        f.type_params.add(key=k, value=v)
    return f


def error_of(f: schema_pb2.FieldSchema, sp: schema_pb2.CollectionSchema | None = None,
             legacy: bool = False) -> MilvusError:
    with pytest.raises(MilvusError) as info:
        check_add_field(sp or old_schema(), f, "c", legacy=legacy)
    return info.value


@pytest.mark.parametrize("f,text", [
    (new_field(nullable=False), "added field must be nullable, please check it, field name = f: invalid parameter"),
    (new_field("vec"), "duplicated field name vec: invalid parameter"),
    (new_field(dtype=DataType.NONE), "invalid parameter[expected=valid field][actual=field data type: None is "
                                     "not supported]"),
    (new_field("$meta"), "not support to add system field, field name = $meta: invalid parameter"),
    (new_field(is_primary_key=True), "not support to add pk field, field name = f: invalid parameter"),
    (new_field(autoID=True), "only primary field can speficy AutoID with true, field name = f: invalid parameter"),
    (new_field(is_partition_key=True), "not support to add partition key field, field name  = f: invalid parameter"),
    (new_field(is_clustering_key=True), "already has another clustering key field, field name: f"),
    (new_field(dtype=DataType.BOOL, is_clustering_key=True), "clustering key field f has unsupported data type"),
    (new_field(dtype=DataType.FLOAT_VECTOR, params={"dim": "4"}), "adding a vector field to an existing "
                                                                  "collection is not supported yet by Elanus"),
    (new_field(dtype=DataType.VARCHAR), "type param(max_length) should be specified for the field(f) of "
                                        "collection c"),
    (new_field(dtype=DataType.ARRAY, element_type=DataType.INT64), "type param(max_capacity) should be "
                                                                   "specified for array field f"),
    (new_field("1bad"), "Invalid field name: 1bad"),
    (new_field(default_value=schema_pb2.ValueField(int_data=3)), "type (Int64) of field (f) is not equal to the "
                                                                 "type(DataType_Int) of default_value"),
])
def test_rejections(f: schema_pb2.FieldSchema, text: str) -> None:
    assert text in error_of(f).message


def test_field_limit_and_order_of_checks() -> None:
    assert "The number of fields has reached the maximum value 64" in error_of(new_field(), old_schema(61)).message
    # AddCollectionField checks nullability before type params; AlterCollectionSchema after.
    f = new_field(dtype=DataType.VARCHAR, nullable=False)
    assert "added field must be nullable" in error_of(f, legacy=True).message
    assert "max_length" in error_of(f).message


def test_accepts_nullable_scalars_with_defaults() -> None:
    for f in (new_field(), new_field(dtype=DataType.JSON), new_field(dtype=DataType.INT8,
                                                                     default_value=schema_pb2.ValueField(int_data=-5)),
              new_field(dtype=DataType.VARCHAR, params={"max_length": "4"},
                        default_value=schema_pb2.ValueField(string_data="abcd")),
              new_field(dtype=DataType.ARRAY, element_type=DataType.VARCHAR,
                        params={"max_capacity": "3", "max_length": "9"})):
        check_add_field(old_schema(), f, "c")


@pytest.mark.parametrize("f,text", [
    (new_field(dtype=DataType.INT8, default_value=schema_pb2.ValueField(int_data=300)),
     "default value out of range: invalid parameter[expected=in range [-128, 127]][actual=300]"),
    (new_field(dtype=DataType.VARCHAR, params={"max_length": "2"},
               default_value=schema_pb2.ValueField(string_data="abc")),
     "the length (3) of string exceeds max length (2)"),
    (new_field(dtype=DataType.JSON, default_value=schema_pb2.ValueField(bytes_data=b"{}")),
     "type not support default_value, type:JSON, name:f: invalid parameter"),
    (new_field(dtype=DataType.BOOL, default_value=schema_pb2.ValueField(string_data="x")),
     "type (Bool) of field (f) is not equal to the type(DataType_VarChar) of default_value"),
    (new_field(is_primary_key=True, default_value=schema_pb2.ValueField(long_data=1)),
     "primary field not support default_value, type:Int64, name:f"),
])
def test_default_value_rules(f: schema_pb2.FieldSchema, text: str) -> None:
    with pytest.raises(MilvusError) as info:
        check_default_value(f)
    assert info.value.code == errors.PARAMETER_INVALID
    assert text in info.value.message
