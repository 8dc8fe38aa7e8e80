"""Collections, partitions, aliases and databases through pymilvus."""

from __future__ import annotations

import numpy as np
import pytest
from pymilvus import MilvusClient
from pymilvus.exceptions import MilvusException

DIM = 8


def test_describe_list_rename_stats(client: MilvusClient, name: str) -> None:
    client.create_collection(name, dimension=DIM)
    desc = client.describe_collection(name)
    assert desc["collection_name"] == name
    assert desc["enable_dynamic_field"] is True
    assert [f["name"] for f in desc["fields"]] == ["id", "vector"]
    assert name in client.list_collections()
    client.rename_collection(name, name + "_r")
    assert client.has_collection(name + "_r") and not client.has_collection(name)
    client.insert(name + "_r", [{"id": 1, "vector": [0.1] * DIM}])
    client.flush(name + "_r")
    assert client.get_collection_stats(name + "_r")["row_count"] == 1
    client.drop_collection(name + "_r")


def test_partitions(client: MilvusClient, name: str) -> None:
    client.create_collection(name, dimension=DIM, consistency_level="Strong")
    client.create_partition(name, "p1")
    assert client.has_partition(name, "p1")
    assert set(client.list_partitions(name)) == {"_default", "p1"}
    vecs = np.random.default_rng(0).random((20, DIM), dtype=np.float32)
    client.insert(name, [{"id": i, "vector": vecs[i].tolist()} for i in range(10)], partition_name="p1")
    client.insert(name, [{"id": i, "vector": vecs[i].tolist()} for i in range(10, 20)])
    res = client.search(name, [vecs[0].tolist()], limit=20, partition_names=["p1"])
    assert {h["id"] for h in res[0]} == set(range(10))
    q = client.query(name, filter="id >= 0", partition_names=["_default"], output_fields=["count(*)"])
    assert q[0]["count(*)"] == 10
    client.release_partitions(name, ["p1"])
    with pytest.raises(MilvusException):
        client.search(name, [vecs[0].tolist()], limit=3, partition_names=["p1"])
    client.load_partitions(name, ["p1"])
    client.release_collection(name)
    client.drop_partition(name, "p1")
    assert not client.has_partition(name, "p1")


def test_aliases(client: MilvusClient, name: str) -> None:
    client.create_collection(name, dimension=DIM, consistency_level="Strong")
    alias = name + "_a"
    client.create_alias(name, alias)
    assert client.describe_alias(alias)["collection_name"] == name
    assert alias in client.list_aliases(name)["aliases"]
    client.insert(alias, [{"id": 1, "vector": [0.5] * DIM}])
    assert client.query(alias, filter="id == 1", output_fields=["id"])[0]["id"] == 1
    other = name + "_o"
    client.create_collection(other, dimension=DIM)
    client.alter_alias(other, alias)
    assert client.describe_alias(alias)["collection_name"] == other
    client.drop_alias(alias)
    assert alias not in client.list_aliases(other)["aliases"]


def test_databases(uri: str, name: str) -> None:
    c = MilvusClient(uri=uri)
    db = "db_" + name
    c.create_database(db)
    assert db in c.list_databases()
    c.use_database(db)
    c.create_collection(name, dimension=DIM)
    assert c.list_collections() == [name]
    c.use_database("default")
    assert name not in c.list_collections()
    c.use_database(db)
    c.drop_collection(name)
    c.use_database("default")
    c.drop_database(db)
    assert db not in c.list_databases()
    c.close()
