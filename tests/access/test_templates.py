"""Request parameters the proxy decodes: filter template values (encoded by pymilvus's own
``Prepare.prepare_expression_template``), index params (Milvus's ExpandIndexParams), and
output fields (translateOutputFields)."""

from __future__ import annotations

from typing import Any

import pytest
from pymilvus.client.prepare import Prepare
from pymilvus.grpc_gen import common_pb2, milvus_pb2, schema_pb2

from elanus.access.dql import resolve_output_fields
from elanus.access.index_load import flatten_index_params
from elanus.access.templates import template_value, template_values
from elanus.core import errors
from elanus.core.errors import MilvusError
from elanus.core.schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType, FieldSchema

# ------------------------------------------------------------------ templates


def encode(values: dict[str, Any]) -> Any:
    """The request map exactly as pymilvus builds it."""
    req = milvus_pb2.QueryRequest()
    for name, value in Prepare.prepare_expression_template(values).items():
        req.expr_template_values[name].CopyFrom(value)
    return req.expr_template_values


@pytest.mark.parametrize("value", [
    7, -(2**63), 2.5, "text", "", True, False, b"raw",
    [1, 2, 3], [1.5, -2.0], ["a", "b"], [True, False],
    [[1, 2], [3]], [["x"], []],
    [1, 2.5],  # mixed types travel as JSON
    [1, '"s"', True],  # pymilvus parses str elements of a mixed list as JSON text
    [[1, 2.5], ["s"]],
    [],
])
def test_template_values_round_trip_pymilvus_encoding(value: Any) -> None:
    expected = [1, "s", True] if value == [1, '"s"', True] else value
    assert template_values(encode({"v": value})) == {"v": expected}


def test_template_value_types_and_empty() -> None:
    decoded = template_values(encode({"i": 3, "f": 3.0, "b": True}))
    assert type(decoded["i"]) is int and type(decoded["f"]) is float and type(decoded["b"]) is bool
    assert template_values(milvus_pb2.QueryRequest().expr_template_values) == {}
    assert template_value(schema_pb2.TemplateValue()) is None
    empty_array = schema_pb2.TemplateValue(array_val=schema_pb2.TemplateArrayValue())
    assert template_value(empty_array) == []


# ------------------------------------------------------------------ index params


def kvs(*pairs: tuple[str, str]) -> list[common_pb2.KeyValuePair]:
    return [common_pb2.KeyValuePair(key=k, value=v) for k, v in pairs]


def test_flatten_index_params_as_pymilvus_sends_them() -> None:
    params = flatten_index_params(kvs(("index_type", "HNSW"), ("metric_type", "L2"),
                                      ("params", '{"M": 16, "efConstruction": 200}')))
    assert params == {"index_type": "HNSW", "metric_type": "L2", "M": "16", "efConstruction": "200"}
    assert flatten_index_params(kvs(("index_type", "FLAT"))) == {"index_type": "FLAT"}
    assert flatten_index_params(kvs(("params", ""), ("a", "b"))) == {"a": "b"}
    assert flatten_index_params([]) == {}


@pytest.mark.parametrize(("raw", "expected"), [
    ("16", "16"), ("16.0", "16"), ("0.5", "0.5"), ("-2.25", "-2.25"), ("100000", "100000"),
    ("999999", "999999"), ("1000000", "1e+06"), ("1234567.5", "1.2345675e+06"), ("0.0001", "0.0001"),
    ("0.00001", "1e-05"), ("1e21", "1e+21"), ("0", "0"), ("true", "true"), ("false", "false"),
    ('"str"', "str"), ("null", "<nil>"),
])
def test_nested_values_print_like_go(raw: str, expected: str) -> None:
    """Milvus decodes ``params`` into ``map[string]any`` and prints each value with ``%v``."""
    assert flatten_index_params(kvs(("params", f'{{"k": {raw}}}'))) == {"k": expected}


def test_flatten_index_params_order_and_errors() -> None:
    # pairs apply in order: a later pair overwrites an earlier one, inside ``params`` or not
    assert flatten_index_params(kvs(("metric_type", "L2"), ("params", '{"metric_type": "IP"}'))) == {
        "metric_type": "IP"}
    assert flatten_index_params(kvs(("params", '{"metric_type": "IP"}'), ("metric_type", "L2"))) == {
        "metric_type": "L2"}
    with pytest.raises(MilvusError) as err:
        flatten_index_params(kvs(("index_type", "HNSW"), ("index_type", "FLAT")))
    assert (err.value.code, err.value.message) == (
        errors.PARAMETER_INVALID,
        "duplicated index param (key=index_type) (value=FLAT) found: invalid parameter")
    for bad in ("{not json", "[1, 2]"):
        with pytest.raises(MilvusError) as err:
            flatten_index_params(kvs(("params", bad)))
        assert err.value.code == errors.PARAMETER_INVALID and bad in err.value.message


# ------------------------------------------------------------------ output fields


def make_schema(dynamic: bool) -> CollectionSchema:
    fields = [
        FieldSchema(100, "id", DataType.INT64, is_primary=True),
        FieldSchema(101, "vec", DataType.FLOAT_VECTOR, params={"dim": "4"}),
        FieldSchema(102, "tag", DataType.VARCHAR, params={"max_length": "8"}),
        FieldSchema(103, "doc", DataType.JSON),
    ]
    if dynamic:
        fields.append(FieldSchema(104, DYNAMIC_FIELD_NAME, DataType.JSON, is_dynamic=True))
    return CollectionSchema(name="c", fields=tuple(fields), enable_dynamic_field=dynamic)


def test_output_fields_static_schema() -> None:
    schema = make_schema(dynamic=False)
    assert resolve_output_fields(schema, []) == ((), ())
    assert resolve_output_fields(schema, ["tag", " id ", "tag"]) == (("tag", "id"), ())
    assert resolve_output_fields(schema, ["*"]) == (("id", "vec", "tag", "doc"), ())
    assert resolve_output_fields(schema, ["tag", "*"]) == (("tag", "id", "vec", "doc"), ())
    with pytest.raises(MilvusError) as err:
        resolve_output_fields(schema, ["nosuch"])
    assert (err.value.code, err.value.message) == (errors.PARAMETER_INVALID,
                                                   "field nosuch not exist: invalid parameter")
    with pytest.raises(MilvusError):
        resolve_output_fields(schema, ["count(*)"])


def test_output_fields_dynamic_schema() -> None:
    schema = make_schema(dynamic=True)
    meta = DYNAMIC_FIELD_NAME
    assert resolve_output_fields(schema, ["tag", "color"]) == (("tag", meta), ("color",))
    assert resolve_output_fields(schema, ["color", "size", "color"]) == ((meta,), ("color", "size"))
    assert resolve_output_fields(schema, ['$meta["color"]', "$meta['size']"]) == ((meta,), ("color", "size"))
    assert resolve_output_fields(schema, [meta]) == ((meta,), ())
    assert resolve_output_fields(schema, ["*"]) == (("id", "vec", "tag", "doc", meta), ())
    # "*" asks for the whole dynamic field: named keys do not narrow it
    assert resolve_output_fields(schema, ["color", "*"]) == ((meta, "id", "vec", "tag", "doc"), ())
    with pytest.raises(MilvusError, match=r"field count\(\*\) not exist"):  # Query answers count(*) itself
        resolve_output_fields(schema, ["count(*)"])
    for bad in ["a b", "1abc", 'doc["k"]', '$meta["a"]["b"]', "x-y"]:
        with pytest.raises(MilvusError) as err:
            resolve_output_fields(schema, [bad])
        assert (err.value.code, err.value.message) == (
            errors.PARAMETER_INVALID, f"parse output field name failed: {bad}: invalid parameter")
