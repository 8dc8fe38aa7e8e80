"""Scalar and JSON-path indexes through pymilvus: Milvus's names, describe output and rules,
and JSON-path / dynamic-key filters in search and query (builds and index-answered filters:
test_scalar_index_builds.py)."""

from __future__ import annotations

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient
from pymilvus.exceptions import MilvusException

DIM = 8
PATHS = ["['a']['b']", "['a']", "", "['a'][0]"]


def json_rows(vectors: np.ndarray) -> list[dict[str, object]]:
    values: list[object] = [{"a": {"b": i}} for i in range(20)]
    values += [20 + i for i in range(5)] + [{"a": [1, 2]}] * 5 + [{"a": [{"b": 1}, 2]}] * 5 + [{"a": 1}] * 5
    return [{"id": i, "vector": vectors[i].tolist(), "my_json": v} for i, v in enumerate(values)]


def make_collection(client: MilvusClient, name: str, dynamic: bool) -> np.ndarray:
    schema = client.create_schema(enable_dynamic_field=dynamic)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    schema.add_field("tag", DataType.VARCHAR, max_length=16, nullable=True)
    if not dynamic:
        schema.add_field("my_json", DataType.JSON)
    index_params = client.prepare_index_params()
    index_params.add_index("vector", metric_type="COSINE")
    client.create_collection(name, schema=schema, index_params=index_params, consistency_level="Strong")
    vectors = np.random.default_rng(1).random((40, DIM), dtype=np.float32)
    client.insert(name, json_rows(vectors))
    return vectors


@pytest.mark.parametrize("dynamic", [False, True])
def test_json_path_indexes_names_describe_and_filters(client: MilvusClient, name: str, dynamic: bool) -> None:
    vectors = make_collection(client, name, dynamic)
    client.flush(name)
    index_params = client.prepare_index_params()
    index_params.add_index("vector", index_type="AUTOINDEX", metric_type="COSINE")  # same as the existing one
    for path in PATHS:
        index_params.add_index("my_json", index_type="INVERTED",
                               params={"json_cast_type": "DOUBLE", "json_path": f"my_json{path}"})
    client.create_index(name, index_params)
    again = client.prepare_index_params()  # identical again, unnamed: a no-op
    again.add_index("my_json", index_type="INVERTED", params={"json_cast_type": "DOUBLE", "json_path": "my_json['a']"})
    client.create_index(name, again)

    prefix = "$meta/my_json" if dynamic else "my_json"
    names = [prefix + p for p in ("/a/b", "/a", "", "/a/0")]
    assert sorted(client.list_indexes(name)) == sorted(["vector", *names])
    for index_name, path in zip(names, PATHS, strict=True):
        desc = client.describe_index(name, index_name)
        assert (desc["index_name"], desc["field_name"], desc["index_type"]) == (index_name, "my_json", "INVERTED")
        assert (desc["json_cast_type"], desc["json_path"], desc["state"]) == ("DOUBLE", f"my_json{path}", "Finished")

    def ids(expr: str) -> set[int]:
        hits = client.search(name, [vectors[0].tolist()], filter=expr, limit=10, output_fields=["my_json"])[0]
        return {h["id"] for h in hits}

    assert ids("my_json['a']['b'] == 10.0") == {10}
    assert ids("my_json == 22") == {22}
    assert ids("my_json['a'][0] == 1") == set(range(25, 30))
    assert ids("my_json['a'][0]['b'] == 1") == set(range(30, 35))
    assert ids("my_json['a'] == 1") == set(range(35, 40))
    res = client.query(name, filter="my_json['a']['b'] >= 18", output_fields=["my_json"])
    assert sorted((r["id"], r["my_json"]["a"]["b"]) for r in res) == [(18, 18), (19, 19)]

    client.drop_index(name, names[0])
    assert sorted(client.list_indexes(name)) == sorted(["vector", *names[1:]])
    client.drop_collection(name)


def test_json_path_index_rules(client: MilvusClient, name: str) -> None:
    make_collection(client, name, dynamic=False)

    def create(field: str, index_type: str, index_name: str = "", **params: str) -> None:
        index_params = client.prepare_index_params()
        index_params.add_index(field, index_type=index_type, index_name=index_name, params=params)
        client.create_index(name, index_params)

    for index_type, cast in [("STL_SORT", "VARCHAR"), ("BITMAP", "BOOL"), ("INVERTED", "JSON")]:
        create("my_json", index_type, f"j_{index_type}", json_cast_type=cast, json_path=f"my_json['{index_type}']")
    with pytest.raises(MilvusException, match="at most one distinct index is allowed per field"):
        create("my_json", "STL_SORT", "j_STL_SORT", json_cast_type="DOUBLE", json_path="my_json['STL_SORT']")
    with pytest.raises(MilvusException, match="creating multiple indexes on same field is not supported"):
        create("my_json", "STL_SORT", "other", json_cast_type="VARCHAR", json_path="my_json['STL_SORT']")
    with pytest.raises(MilvusException, match="json index must specify cast type: missing parameter"):
        create("my_json", "INVERTED", json_path="my_json['x']")
    with pytest.raises(MilvusException, match="json_cast_type DOUBLE is not supported for BITMAP index"):
        create("my_json", "BITMAP", json_cast_type="double", json_path="my_json['x']")
    with pytest.raises(MilvusException, match="cannot parse identifier: 1"):
        create("my_json", "INVERTED", json_cast_type="DOUBLE", json_path="1")
    with pytest.raises(MilvusException, match="fieldID not match with field name"):
        create("my_json", "INVERTED", json_cast_type="DOUBLE", json_path="tag")
    with pytest.raises(MilvusException, match="cannot create index on non-exist field: nosuch"):
        create("nosuch", "INVERTED", json_cast_type="DOUBLE")
    with pytest.raises(MilvusException, match="RTREE index can only be built on geometry field, got VarChar"):
        create("tag", "RTREE")
    with pytest.raises(MilvusException, match="create bitmap index on primary key not supported"):
        create("id", "BITMAP")
    create("tag", "STL_SORT")  # Milvus: STL_SORT covers varchar too
    assert client.describe_index(name, "tag")["index_type"] == "STL_SORT"
    client.release_collection(name)
    client.drop_index(name, "j_BITMAP")
    assert "j_BITMAP" not in client.list_indexes(name)
    client.drop_collection(name)
