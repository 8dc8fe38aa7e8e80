"""Scalar and JSON-path index metadata: Milvus's creation rules, default names and texts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from elanus.cluster.types import CollectionInfo
from elanus.coord.data import index_rules, scalar_rules
from elanus.core.errors import MilvusError
from elanus.core.schema import CollectionSchema, DataType, FieldSchema
from tests.worker.datapath_fakes import DataStack, make_collection, rows, wait_for

FIELDS = (
    FieldSchema(100, "id", DataType.INT64, is_primary=True),
    FieldSchema(101, "vec", DataType.FLOAT_VECTOR, params={"dim": "8"}),
    FieldSchema(102, "tag", DataType.VARCHAR, params={"max_length": "64"}),
    FieldSchema(103, "flag", DataType.BOOL),
    FieldSchema(104, "score", DataType.FLOAT),
    FieldSchema(105, "my_json", DataType.JSON),
    FieldSchema(106, "tags", DataType.ARRAY, element_type=DataType.FLOAT, params={"max_capacity": "4"}),
)
STATIC = CollectionSchema("c", FIELDS)
DYNAMIC = CollectionSchema("d", (*FIELDS[:5], FieldSchema(107, "$meta", DataType.JSON, is_dynamic=True)),
                           enable_dynamic_field=True)
PATHS = ["['a']['b']", "['a']", "", "['a'][0]['b']", "['a'][0]"]


def json_index(index_type: str, cast: str, path: str) -> dict[str, str]:
    return {"index_type": index_type, "json_cast_type": cast, "json_path": path}


def collection(schema: CollectionSchema) -> CollectionInfo:
    return replace(make_collection(), schema=schema)


def error_of(schema: CollectionSchema, field: str, params: dict[str, str]) -> MilvusError:
    with pytest.raises(MilvusError) as err:
        index_rules.validate(schema, field, params)
    return err.value


@pytest.mark.parametrize(("schema", "prefix"), [(STATIC, "my_json"), (DYNAMIC, "$meta/my_json")])
def test_json_path_indexes_get_default_names_and_coexist(stack: DataStack, schema: CollectionSchema,
                                                         prefix: str) -> None:
    coll = collection(schema)
    for path in PATHS:
        stack.dc.create_index(coll, "my_json", "", json_index("INVERTED", "DOUBLE", f"my_json{path}"))
    infos = stack.dc.describe_indexes(coll.id)
    assert [i.index_name for i in infos] == [prefix + s for s in ("/a/b", "/a", "", "/a/0/b", "/a/0")]
    assert {i.field_name for i in infos} == {"my_json" if schema is STATIC else "$meta"}
    assert [i.params["json_path"] for i in infos] == [f"my_json{p}" for p in PATHS]  # as the user sent it
    for path in PATHS:  # identical re-creation, named or not: a no-op
        stack.dc.create_index(coll, "my_json", "", json_index("INVERTED", "DOUBLE", f"my_json{path}"))
    stack.dc.create_index(coll, "my_json", prefix + "/a", json_index("INVERTED", "DOUBLE", "my_json['a']"))
    assert [i.id for i in stack.dc.describe_indexes(coll.id)] == [i.id for i in infos]
    for info in infos:
        assert stack.dc.index_progress(coll.id, info.id) == (0, 0, 0)  # metadata only: finished at once


def test_json_index_conflicts(stack: DataStack) -> None:
    coll = collection(STATIC)
    stack.dc.create_index(coll, "my_json", "j", json_index("STL_SORT", "DOUBLE", "my_json['a']"))
    with pytest.raises(MilvusError) as err:  # same name, other cast type
        stack.dc.create_index(coll, "my_json", "j", json_index("STL_SORT", "VARCHAR", "my_json['a']"))
    assert (err.value.code, err.value.message) == (
        1100, "at most one distinct index is allowed per field: invalid parameter")
    with pytest.raises(MilvusError) as err:  # same name, other path
        stack.dc.create_index(coll, "my_json", "j", json_index("STL_SORT", "DOUBLE", "my_json['b']"))
    assert "at most one distinct index is allowed per field" in err.value.message
    with pytest.raises(MilvusError) as err:  # same path, other name
        stack.dc.create_index(coll, "my_json", "j2", json_index("STL_SORT", "DOUBLE", "my_json[\"a\"]"))
    assert err.value.message == ("CreateIndex failed: creating multiple indexes on same field is not supported: "
                                 "invalid parameter")
    # no name: the index on the same path is meant; different user params make it distinct
    with pytest.raises(MilvusError) as err:
        stack.dc.create_index(coll, "my_json", "", json_index("STL_SORT", "DOUBLE", "my_json[\"a\"]"))
    assert "at most one distinct index is allowed per field" in err.value.message
    stack.dc.create_index(coll, "my_json", "j2", json_index("STL_SORT", "DOUBLE", "my_json['b']"))
    stack.dc.drop_index(coll.id, "j")
    assert [i.index_name for i in stack.dc.describe_indexes(coll.id)] == ["j2"]


def test_json_pointers() -> None:
    def pointer(schema: CollectionSchema, field: str, path: str) -> str:
        return index_rules.validate(schema, field, json_index("INVERTED", "VARCHAR", path)).json_pointer

    assert pointer(STATIC, "my_json", "my_json") == ""
    assert pointer(STATIC, "my_json", "my_json['a'][0]['b']") == "/a/0/b"
    assert pointer(STATIC, "my_json", 'my_json["a/b"]["c~d"]') == "/a~1b/c~0d"
    assert pointer(DYNAMIC, "k", "k['a']") == "/k/a"
    assert pointer(DYNAMIC, "k", "$meta['k']['a']") == "/k/a"
    assert pointer(DYNAMIC, "$meta", "$meta") == ""
    # no json_path: the path the request's field names
    assert index_rules.validate(DYNAMIC, "k", {"index_type": "INVERTED", "json_cast_type": "varchar"}
                                ).json_pointer == "/k"
    assert index_rules.validate(STATIC, "my_json", {"index_type": "BITMAP", "json_cast_type": "bool"}
                                ).json_pointer == ""


def test_json_path_errors() -> None:
    err = error_of(STATIC, "my_json", json_index("INVERTED", "DOUBLE", "tag"))
    assert (err.code, err.message) == (1100, "fieldID not match with field name: invalid parameter")
    err = error_of(STATIC, "my_json", json_index("INVERTED", "DOUBLE", "1"))
    assert (err.code, err.message) == (2201, "cannot parse identifier: 1: query plan failed")
    err = error_of(STATIC, "my_json", json_index("INVERTED", "DOUBLE", "/"))
    assert err.message.startswith("cannot parse identifier: /: line 1:0 mismatched input '/'")
    err = error_of(STATIC, "my_json", json_index("INVERTED", "DOUBLE", "nosuch['a']"))
    assert err.message == "cannot parse identifier: nosuch['a']: field nosuch not exist"
    assert error_of(STATIC, "nosuch", {}).message == "cannot create index on non-exist field: nosuch"


def test_json_cast_type_rules() -> None:
    ok = [("INVERTED", c) for c in ("BOOL", "DOUBLE", "VARCHAR", "JSON", "ARRAY_DOUBLE", " varchar ")]
    ok += [("STL_SORT", "DOUBLE"), ("STL_SORT", "VARCHAR"), ("BITMAP", "BOOL"), ("BITMAP", "VARCHAR"),
           ("AUTOINDEX", "JSON"), ("AUTOINDEX", "DOUBLE")]
    for kind, cast in ok:
        index_rules.validate(DYNAMIC, "x", json_index(kind, cast, "x['a']"))
    assert error_of(STATIC, "my_json", json_index("INVERTED", "INT", "my_json")).message == (
        "json_cast_type INT is not supported: invalid parameter")
    assert error_of(STATIC, "my_json", json_index("STL_SORT", "BOOL", "my_json")).message == (
        "json_cast_type BOOL is not supported for STL_SORT index: invalid parameter")
    assert error_of(STATIC, "my_json", json_index("BITMAP", "double", "my_json")).message == (
        "json_cast_type DOUBLE is not supported for BITMAP index: invalid parameter")
    assert error_of(STATIC, "my_json", json_index("AUTOINDEX", "ARRAY_BOOL", "my_json")).message == (
        "json_cast_type ARRAY_BOOL is not supported for HYBRID index: invalid parameter")
    for kind in ("INVERTED", "STL_SORT", "BITMAP", "AUTOINDEX", ""):
        err = error_of(DYNAMIC, "my_json", {"index_type": kind, "json_path": "my_json['a']"})
        assert (err.code, err.message) == (
            1101, "json index must specify cast type: missing parameter[missing_param=json_cast_type]")
    err = error_of(STATIC, "my_json", {"index_type": "INVERTED", "json_cast_type": "VARCHAR",
                                       "json_cast_function": "string_to_double"})
    assert err.message == ("json_cast_function STRING_TO_DOUBLE is not supported for json_cast_type VARCHAR: "
                           "invalid parameter")


def test_json_cast_function_string_to_double_is_accepted() -> None:
    index_rules.validate(STATIC, "my_json", {"index_type": "INVERTED", "json_cast_type": "DOUBLE",
                                             "json_cast_function": "STRING_TO_DOUBLE"})


@pytest.mark.parametrize(("field", "kind", "message"), [
    ("flag", "STL_SORT", "STL_SORT are only supported on numeric, varchar or timestamptz field, got Bool"),
    ("tags", "STL_SORT", "STL_SORT are only supported on numeric, varchar or timestamptz field, got Array"),
    ("score", "BITMAP", "bitmap index are only supported on bool, int, string and array field"),
    ("tags", "BITMAP", "bitmap index are only supported on bool, int, string for array field"),
    ("id", "BITMAP", "create bitmap index on primary key not supported"),
    ("score", "TRIE", "TRIE are only supported on varchar field"),
    ("tag", "RTREE", "RTREE index can only be built on geometry field, got VarChar"),
    ("score", "NGRAM", "ngram index can only be created on VARCHAR or JSON field"),
    ("tag", "HNSW", "index HNSW only supports vector data type"),
])
def test_scalar_type_rules(field: str, kind: str, message: str) -> None:
    err = error_of(STATIC, field, {"index_type": kind})
    assert (err.code, err.message) == (1100, f"{message}: invalid parameter")


def test_valid_scalar_indexes_and_auto_types() -> None:
    for field, kind in [("tag", "STL_SORT"), ("score", "STL_SORT"), ("tag", "TRIE"), ("tag", "BITMAP"),
                        ("flag", "BITMAP"), ("id", "INVERTED"), ("tags", "INVERTED"), ("flag", "AUTOINDEX"),
                        ("score", ""), ("tags", "AUTOINDEX")]:
        checked = index_rules.validate(STATIC, field, {"index_type": kind} if kind else {})
        assert checked.spec is None and checked.json_pointer == ""
    index_rules.validate(STATIC, "tag", {"index_type": "NGRAM", "min_gram": "2", "max_gram": "3"})
    for kind in ("HYBRID", "12-s", "bitmap"):  # HYBRID is Milvus-internal
        err = error_of(STATIC, "tag", {"index_type": kind})
        assert err.message == f"invalid parameter[expected=valid index][actual=invalid index type: {kind}]"


def test_scalar_index_params_errors() -> None:
    assert error_of(STATIC, "tag", {"index_type": "NGRAM"}).message == (
        "Ngram index must specify both min_gram and max_gram: missing parameter")
    assert error_of(STATIC, "tag", {"index_type": "NGRAM", "min_gram": "3", "max_gram": "2"}).message == (
        "invalid min_gram or max_gram value for Ngram index, min_gram: 3, max_gram: 2: invalid parameter")
    assert error_of(STATIC, "my_json", {"index_type": "NGRAM", "json_cast_type": "DOUBLE", "min_gram": "1",
                                        "max_gram": "2"}).message == (
        "JSON field with ngram index only supports VARCHAR cast type, got: DOUBLE: invalid parameter")
    assert error_of(STATIC, "tag", {"index_type": "AUTOINDEX", "bitmap_cardinality_limit": "0"}).message == (
        "failed to check bitmap cardinality limit, should be larger than 0 and smaller than 1000: invalid parameter")
    assert {"HNSW", "FLAT", "DISKANN"} <= scalar_rules.VECTOR_TYPES


def test_scalar_indexes_do_not_hold_segments_back(stack: DataStack) -> None:
    coll = make_collection()
    for ch in coll.channels:
        stack.node.watch_channel(ch)
    stack.dc.create_index(coll, "tag", "", {"index_type": "INVERTED"})
    (info,) = stack.dc.describe_indexes(coll.id)
    stack.node.insert(coll, coll.channels[0], coll.partitions[0].id, rows(0, 30))
    (seg_id,) = stack.flush_and_wait(coll)
    (ready,) = wait_for(lambda: stack.registry.qc.ready_for(seg_id), what="segment_ready")
    assert ready.index_files == {}  # nothing is built for a scalar index
    assert stack.dc.index_progress(coll.id, info.id) == (30, 30, 0)
    stack.dc.drop_index(coll.id, "tag")
    assert stack.dc.describe_indexes(coll.id) == []
