"""Proxy rules the Milvus suite checks: the query window, auto-id upsert, built-in RBAC answers,
the not-found texts of DescribeCollection and of every other RPC."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest
from pymilvus.grpc_gen import milvus_pb2

from elanus.access.context import ProxyContext
from elanus.access.dml import DmlHandlers
from elanus.access.dql import _query_window
from elanus.access.misc import MiscHandlers
from elanus.cluster.interfaces import DataNode, RootCoord
from elanus.cluster.registry import LocalRegistry
from elanus.cluster.types import ALL_PARTITIONS, CollectionInfo, ConsistencyLevel, PartitionInfo
from elanus.core import errors
from elanus.core.errors import MilvusError
from elanus.core.schema import CollectionSchema, DataType, FieldSchema


@pytest.mark.parametrize(("params", "window"), [
    ({}, (-1, 0)),
    ({"offset": "5"}, (-1, 0)),  # an offset without a limit is ignored
    ({"limit": "10"}, (10, 0)),
    ({"limit": "16383", "offset": "1"}, (16383, 1)),
])
def test_query_window_accepted(params: dict[str, str], window: tuple[int, int]) -> None:
    assert _query_window(params) == window


@pytest.mark.parametrize(("params", "detail"), [
    ({"limit": "16385"}, "(offset+limit) should be in range [1, 16384], but got 16385"),
    ({"limit": "16384", "offset": "1"}, "(offset+limit) should be in range [1, 16384], but got 16385"),
    ({"limit": "2", "offset": "-1"}, "offset [-1] is invalid, should be gte than 0"),
    ({"limit": "-3", "offset": "-1"}, "offset [-1] is invalid, should be gte than 0"),  # offset first
    ({"limit": "0"}, "limit [0] is invalid, should be greater than 0"),
])
def test_query_window_rejected_with_milvus_text(params: dict[str, str], detail: str) -> None:
    with pytest.raises(MilvusError) as err:
        _query_window(params)
    assert err.value.code == errors.PARAMETER_INVALID
    assert err.value.message == f"invalid max query result window, {detail}: invalid parameter: invalid parameter"


def test_not_found_texts() -> None:
    assert errors.collection_not_found("c", "db").message == "collection not found[database=db][collection=c]"
    assert errors.describe_collection_not_found("c").message == (
        "can't find collection[database=default][collection=c]")


def test_builtin_roles_and_root_user() -> None:
    misc = MiscHandlers()
    roles = misc.SelectRole(milvus_pb2.SelectRoleRequest(), None)
    assert [r.role.name for r in roles.results] == ["admin", "public"]
    one = misc.SelectRole(milvus_pb2.SelectRoleRequest(role=milvus_pb2.RoleEntity(name="public")), None)
    assert [r.role.name for r in one.results] == ["public"]
    assert not misc.SelectRole(milvus_pb2.SelectRoleRequest(role=milvus_pb2.RoleEntity(name="x")), None).results
    users = misc.SelectUser(milvus_pb2.SelectUserRequest(), None)
    assert [(u.user.name, list(u.roles)) for u in users.results] == [("root", [])]
    assert not misc.SelectUser(milvus_pb2.SelectUserRequest(user=milvus_pb2.UserEntity(name="bob")), None).results


class _Root:
    def __init__(self) -> None:
        self.next_id = 1000

    def alloc_ids(self, count: int) -> int:
        first, self.next_id = self.next_id, self.next_id + count
        return first


class _Node:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int, Any]] = []

    def delete(self, collection: CollectionInfo, channel: str, partition_id: int, pks: np.ndarray) -> int:
        self.calls.append(("delete", channel, partition_id, sorted(pks.tolist())))
        return 5

    def insert(self, collection: CollectionInfo, channel: str, partition_id: int, columns: Any) -> int:
        self.calls.append(("insert", channel, partition_id, sorted(columns["id"].tolist())))
        return 6


def _auto_id_info(partition_key: bool) -> CollectionInfo:
    schema = CollectionSchema("c", (
        FieldSchema(100, "id", DataType.INT64, is_primary=True, auto_id=True),
        FieldSchema(101, "vec", DataType.FLOAT_VECTOR, params={"dim": "2"}),
        FieldSchema(102, "tenant", DataType.INT64, is_partition_key=partition_key),
    ))
    parts = ((PartitionInfo(11, "_default_0", 0), PartitionInfo(12, "_default_1", 0)) if partition_key
             else (PartitionInfo(11, "_default", 0), PartitionInfo(12, "p1", 0)))
    return CollectionInfo(id=7, db_id=1, db_name="default", name="c", schema=schema, schema_bytes=b"",
                          channels=("ch_0", "ch_1"), partitions=parts,
                          consistency_level=ConsistencyLevel.STRONG, created_ts=1)


@pytest.mark.parametrize(("partition_key", "partition", "delete_part"),
                         [(False, "", 11), (False, "p1", 12), (True, "", ALL_PARTITIONS)])
def test_auto_id_upsert_deletes_the_given_pks_and_inserts_new_ids(partition_key: bool, partition: str,
                                                                  delete_part: int) -> None:
    registry = LocalRegistry()
    node = _Node()
    registry.set_root(cast(RootCoord, _Root()))
    registry.add_data_node(cast(DataNode, node))
    handlers = DmlHandlers()
    handlers.ctx = ProxyContext(registry)
    info = _auto_id_info(partition_key)
    columns = {"id": np.array([1, 2, 3], dtype=np.int64), "vec": np.zeros((3, 2), dtype=np.float32),
               "tenant": np.array([1, 2, 3], dtype=np.int64)}
    resp = handlers._upsert_auto_id(info, columns, partition)
    assert list(resp.IDs.int_id.data) == [1000, 1001, 1002] and resp.upsert_cnt == 3 and resp.timestamp == 6
    deleted = [c for c in node.calls if c[0] == "delete"]
    inserted = [c for c in node.calls if c[0] == "insert"]
    assert sorted(pk for c in deleted for pk in c[3]) == [1, 2, 3]
    assert {c[2] for c in deleted} == {delete_part}
    assert sorted(pk for c in inserted for pk in c[3]) == [1000, 1001, 1002]
    assert node.calls.index(deleted[0]) < node.calls.index(inserted[0])  # deletes first


@pytest.mark.parametrize(("partition_key", "partition"), [(True, "_default_0"), (False, "nope")])
def test_auto_id_upsert_rejects_a_bad_partition_before_writing(partition_key: bool, partition: str) -> None:
    registry = LocalRegistry()
    node = _Node()
    registry.set_root(cast(RootCoord, _Root()))
    registry.add_data_node(cast(DataNode, node))
    handlers = DmlHandlers()
    handlers.ctx = ProxyContext(registry)
    columns = {"id": np.array([1, 2], dtype=np.int64), "vec": np.zeros((2, 2), dtype=np.float32),
               "tenant": np.array([1, 2], dtype=np.int64)}
    with pytest.raises(MilvusError):
        handlers._upsert_auto_id(_auto_id_info(partition_key), columns, partition)
    assert node.calls == []  # nothing deleted
