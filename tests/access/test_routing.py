"""Where writes go and what reads wait for: shard/partition routing and upsert dedup (dml),
guarantee timestamps by consistency level, partition names and the collection cache (context)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest

from elanus.access import context as ctx_module
from elanus.access.context import BOUNDED_STALENESS_MS, ProxyContext, db_of, partition_ids
from elanus.access.dml import _dedup_last, _route
from elanus.cluster.interfaces import DataNode, RootCoord
from elanus.cluster.registry import LocalRegistry
from elanus.cluster.types import CollectionInfo, Columns, ConsistencyLevel, PartitionInfo
from elanus.core import errors, tso
from elanus.core.errors import MilvusError
from elanus.core.hashing import hash_pks, shard_of
from elanus.core.schema import CollectionSchema, DataType, FieldSchema
from elanus.core.tso import LOGICAL_BITS, compose, physical_ms

PART_IDS = (500, 501, 502, 503)


def make_info(*, shards: int = 4, varchar_pk: bool = False, partition_key: bool = False,
              level: ConsistencyLevel = ConsistencyLevel.BOUNDED) -> CollectionInfo:
    pk = (FieldSchema(100, "id", DataType.VARCHAR, is_primary=True, params={"max_length": "64"})
          if varchar_pk else FieldSchema(100, "id", DataType.INT64, is_primary=True))
    schema = CollectionSchema("c", (
        pk,
        FieldSchema(101, "vec", DataType.FLOAT_VECTOR, params={"dim": "2"}),
        FieldSchema(102, "tenant", DataType.INT64, is_partition_key=partition_key),
    ))
    if partition_key:
        partitions = tuple(PartitionInfo(pid, f"_default_{i}", 0) for i, pid in enumerate(PART_IDS))
    else:
        partitions = (PartitionInfo(PART_IDS[0], "_default", 0), PartitionInfo(PART_IDS[1], "p1", 0))
    return CollectionInfo(id=7, db_id=1, db_name="default", name="c", schema=schema, schema_bytes=b"",
                          channels=tuple(f"ch_{i}" for i in range(shards)), partitions=partitions,
                          consistency_level=level, created_ts=1)


def make_columns(pks: np.ndarray, tenants: np.ndarray | None = None) -> Columns:
    n = len(pks)
    return {
        "id": pks,
        "vec": np.arange(n * 2, dtype=np.float32).reshape(n, 2),
        "tenant": tenants if tenants is not None else np.zeros(n, dtype=np.int64),
    }


def routed_rows(groups: list[tuple[str, int, Columns]]) -> int:
    return sum(len(cols["id"]) for _, _, cols in groups)


# ------------------------------------------------------------------ shard routing


@pytest.mark.parametrize("varchar_pk", [False, True])
@pytest.mark.parametrize("shards", [1, 2, 5])
def test_rows_land_on_the_shard_of_their_pk(varchar_pk: bool, shards: int) -> None:
    info = make_info(shards=shards, varchar_pk=varchar_pk)
    raw = np.arange(-50, 250, dtype=np.int64)
    pks = np.array([f"key-{v}" for v in raw], dtype=object) if varchar_pk else raw
    columns = make_columns(pks)
    groups = _route(info, columns, "")
    assert routed_rows(groups) == len(pks)
    expected = shard_of(pks, shards)
    seen: set[str] = set()
    for channel, part_id, cols in groups:
        assert part_id == PART_IDS[0]  # the _default partition
        assert channel not in seen
        seen.add(channel)
        shard = info.channels.index(channel)
        # every row of the group hashes to that shard, and every column stayed aligned
        positions = [int(np.flatnonzero(pks == pk)[0]) for pk in cols["id"]]
        assert all(expected[p] == shard for p in positions)
        assert np.array_equal(cols["vec"], columns["vec"][positions])
        assert positions == sorted(positions)  # input order kept within a shard
    if shards > 1:
        assert len(groups) == shards  # 300 keys reach every shard


def test_named_partition_and_errors() -> None:
    info = make_info(shards=2)
    groups = _route(info, make_columns(np.arange(20, dtype=np.int64)), "p1")
    assert {part for _, part, _ in groups} == {PART_IDS[1]}
    assert routed_rows(groups) == 20
    with pytest.raises(MilvusError) as err:
        _route(info, make_columns(np.arange(3, dtype=np.int64)), "nosuch")
    assert (err.value.code, err.value.message) == (errors.PARTITION_NOT_FOUND,
                                                   "partition not found[partition=nosuch]")


def test_single_group_keeps_the_columns_object() -> None:
    info = make_info(shards=1)
    columns = make_columns(np.arange(5, dtype=np.int64))
    ((channel, part, cols),) = _route(info, columns, "")
    assert (channel, part) == ("ch_0", PART_IDS[0]) and cols is columns


def test_partition_key_routing() -> None:
    info = make_info(shards=3, partition_key=True)
    pks = np.arange(400, dtype=np.int64)
    tenants = (pks * 7919) % 1000
    groups = _route(info, make_columns(pks, tenants), "")
    assert routed_rows(groups) == len(pks)
    want_part = np.asarray(PART_IDS)[hash_pks(tenants) % len(PART_IDS)]
    want_shard = shard_of(pks, 3)
    for channel, part_id, cols in groups:
        idx = cols["id"]  # pk == row position here
        assert np.all(want_part[idx] == part_id)
        assert np.all(want_shard[idx] == info.channels.index(channel))
        assert np.array_equal(cols["tenant"], tenants[idx])
    assert {part for _, part, _ in groups} == set(PART_IDS)
    # the same key always reaches the same partition
    again = _route(info, make_columns(np.array([1000, 1001], dtype=np.int64), np.array([5, 5])), "")
    assert len({part for _, part, _ in again}) == 1
    with pytest.raises(MilvusError) as err:
        _route(info, make_columns(pks[:2], tenants[:2]), "_default_0")
    assert err.value.message == ("not support manually specifying the partition names if partition key mode "
                                 "is used: invalid parameter")


# ------------------------------------------------------------------ upsert dedup


def test_dedup_keeps_the_last_row_of_each_pk() -> None:
    pks = np.array([5, 1, 5, 2, 1, 5], dtype=np.int64)
    columns = make_columns(pks)
    out = _dedup_last(columns, "id")
    assert out["id"].tolist() == [2, 1, 5]  # survivors in input order
    assert out["vec"].tolist() == columns["vec"][[3, 4, 5]].tolist()
    unique = make_columns(np.array([3, 1, 2], dtype=np.int64))
    assert _dedup_last(unique, "id") is unique
    strings = make_columns(np.array(["b", "a", "b"], dtype=object))
    deduped = _dedup_last(strings, "id")
    assert deduped["id"].tolist() == ["a", "b"] and deduped["vec"].tolist() == strings["vec"][[1, 2]].tolist()
    empty = make_columns(np.array([], dtype=np.int64))
    assert _dedup_last(empty, "id")["id"].tolist() == []


# ------------------------------------------------------------------ guarantee_ts


class FakeRoot:
    def __init__(self, now: int) -> None:
        self.now = now

    def alloc_timestamp(self, count: int = 1) -> int:
        self.now += count
        return self.now

    def describe_collection(self, db: str, name: str = "", collection_id: int = 0) -> CollectionInfo:
        self.described.append((db, name))
        if name == "missing":
            raise errors.collection_not_found(name, db)
        return make_info()

    described: list[tuple[str, str]]


class FakeWriter:
    def __init__(self, last: dict[str, int]) -> None:
        self.last = last

    def last_ts(self, channel: str) -> int:
        return self.last.get(channel, 0)


def make_ctx(now: int, last: dict[str, int]) -> tuple[ProxyContext, FakeRoot]:
    registry = LocalRegistry()
    root = FakeRoot(now)
    root.described = []
    registry.set_root(cast(RootCoord, root))
    writer = FakeWriter(last)
    registry.add_data_node(cast(DataNode, writer))
    registry.add_data_node(cast(DataNode, writer))
    return ProxyContext(registry), root


def test_guarantee_ts_by_consistency_level() -> None:
    now = compose(1_700_000_000_000, 5)
    info = make_info(shards=3, level=ConsistencyLevel.STRONG)
    ctx, _ = make_ctx(now, {"ch_0": 100, "ch_1": 900, "ch_2": 300})
    # Strong: everything written on the collection's channels so far
    assert ctx.guarantee_ts(info, ConsistencyLevel.EVENTUALLY, True, 0) == 900  # the collection's default
    assert ctx.guarantee_ts(info, ConsistencyLevel.STRONG, False, 0) == 900
    # Bounded: the proxy's clock minus the graceful time (5 s), no TSO call
    before = tso.now_ms()
    bounded = ctx.guarantee_ts(info, ConsistencyLevel.BOUNDED, False, 0)
    after = tso.now_ms()
    assert before - BOUNDED_STALENESS_MS <= physical_ms(bounded) <= after - BOUNDED_STALENESS_MS
    assert bounded & ((1 << LOGICAL_BITS) - 1) == 0
    # Session and Customized: the client's timestamp (at least 1)
    assert ctx.guarantee_ts(info, ConsistencyLevel.SESSION, False, 12345) == 12345
    assert ctx.guarantee_ts(info, ConsistencyLevel.SESSION, False, 0) == 1
    assert ctx.guarantee_ts(info, ConsistencyLevel.CUSTOMIZED, False, 777) == 777
    # Eventually: no wait
    assert ctx.guarantee_ts(info, ConsistencyLevel.EVENTUALLY, False, 12345) == 1
    # use_default picks the collection's level whatever the request says
    session_info = make_info(level=ConsistencyLevel.SESSION)
    assert ctx.guarantee_ts(session_info, ConsistencyLevel.STRONG, True, 42) == 42


def test_bounded_never_below_one(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, _ = make_ctx(10, {})
    monkeypatch.setattr(ctx_module, "now_ms", lambda: 10)  # a clock younger than the staleness bound
    assert ctx.guarantee_ts(make_info(), ConsistencyLevel.BOUNDED, False, 0) == 1


# ------------------------------------------------------------------ context helpers


def test_partition_ids_and_names() -> None:
    info = make_info()
    assert partition_ids(info, []) == ()
    assert partition_ids(info, ["p1", "_default"]) == (PART_IDS[1], PART_IDS[0])
    with pytest.raises(MilvusError) as err:
        partition_ids(info, ["p1", "zz"])
    assert (err.value.code, err.value.message) == (errors.PARTITION_NOT_FOUND,
                                                   "partition not found[partition=zz]")

    class Req:
        db_name = ""

    req: Any = Req()
    assert db_of(req) == "default"
    req.db_name = "db1"
    assert db_of(req) == "db1"
    assert db_of(object()) == "default"


def test_collection_cache() -> None:
    ctx, root = make_ctx(0, {})
    first = ctx.collection("", "c")
    assert ctx.collection("default", "c") is first  # cached under the resolved database name
    assert root.described == [("default", "c")]
    ctx.invalidate()
    ctx.collection("", "c")
    assert len(root.described) == 2
    with pytest.raises(MilvusError) as err:
        ctx.collection("", "")
    assert err.value.message == "collection name should not be empty: invalid parameter"
    with pytest.raises(MilvusError) as err:
        ctx.collection("", "missing")
    assert err.value.code == errors.COLLECTION_NOT_FOUND
