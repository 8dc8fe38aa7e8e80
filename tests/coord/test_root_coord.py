"""Root coordinator: databases, collections, partitions, aliases, TSO and ids on the real local meta store.

The peers the root coordinator tells about DDL (data nodes, data coordinator, query
coordinator) are fakes that record their calls.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from pymilvus.grpc_gen import schema_pb2

from elanus.cluster.interfaces import DataCoord, DataNode, QueryCoord
from elanus.cluster.registry import LocalRegistry
from elanus.cluster.types import DEFAULT_DB, DEFAULT_DB_ID, CollectionInfo, ConsistencyLevel
from elanus.coord.root import RootCoordImpl
from elanus.coord.root.coordinator import MAX_DATABASES, prepare_schema
from elanus.core import errors
from elanus.core.errors import MilvusError
from elanus.core.schema import DYNAMIC_FIELD_NAME, DataType
from elanus.core.tso import physical_ms
from elanus.storage import open_meta
from elanus.storage.meta.base import MetaStore

BOUNDED = ConsistencyLevel.BOUNDED


class Recorder:
    """Records (method, args) of every call; methods return None."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def named(self, method: str) -> list[tuple[Any, ...]]:
        return [args for name, args in self.calls if name == method]


class FakeDataNode(Recorder):
    def watch_channel(self, channel: str) -> None:
        self.calls.append(("watch_channel", (channel,)))

    def drop_collection(self, collection: CollectionInfo) -> None:
        self.calls.append(("drop_collection", (collection.id,)))

    def drop_partition(self, collection: CollectionInfo, partition_id: int) -> None:
        self.calls.append(("drop_partition", (collection.id, partition_id)))


class FakeDataCoord(Recorder):
    def drop_collection(self, collection_id: int) -> None:
        self.calls.append(("drop_collection", (collection_id,)))

    def drop_partition(self, collection_id: int, partition_id: int) -> None:
        self.calls.append(("drop_partition", (collection_id, partition_id)))


class FakeQueryCoord(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.loaded: dict[int, tuple[int, ...]] = {}

    def release(self, collection_id: int, partition_ids: tuple[int, ...] = ()) -> None:
        self.calls.append(("release", (collection_id, partition_ids)))

    def loaded_partitions(self, collection_id: int) -> tuple[int, ...] | None:
        return self.loaded.get(collection_id)


class Env:
    """A root coordinator on ``directory`` with recording fakes; ``restart`` reopens the meta store."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.nodes = [FakeDataNode(), FakeDataNode()]
        self.dc = FakeDataCoord()
        self.qc = FakeQueryCoord()
        self.registry = LocalRegistry()
        for node in self.nodes:
            self.registry.add_data_node(cast(DataNode, node))
        self.registry.set_data_coord(cast(DataCoord, self.dc))
        self.registry.set_query_coord(cast(QueryCoord, self.qc))
        self.meta: MetaStore = open_meta(str(directory))
        self.root = RootCoordImpl(self.registry, self.meta)

    def restart(self) -> RootCoordImpl:
        self.meta.close()
        self.meta = open_meta(str(self.directory))
        self.root = RootCoordImpl(self.registry, self.meta)
        return self.root

    def node_calls(self, method: str) -> list[tuple[Any, ...]]:
        return [args for node in self.nodes for args in node.named(method)]

    def close(self) -> None:
        self.meta.close()


@pytest.fixture()
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path / "meta")
    yield e
    e.close()


def schema_bytes(*, dynamic: bool = False, partition_key: bool = False, dim: int = 4,
                 name: str = "") -> bytes:
    sp = schema_pb2.CollectionSchema(name=name, enable_dynamic_field=dynamic)
    sp.fields.add(name="id", data_type=DataType.INT64, is_primary_key=True)
    vec = sp.fields.add(name="vec", data_type=DataType.FLOAT_VECTOR)
    vec.type_params.add(key="dim", value=str(dim))
    tag = sp.fields.add(name="tag", data_type=DataType.VARCHAR, is_partition_key=partition_key)
    tag.type_params.add(key="max_length", value="64")
    return sp.SerializeToString()


def create(root: RootCoordImpl, name: str, *, db: str = "", shards: int = 1, **kw: Any) -> CollectionInfo:
    root.create_collection(db, name, schema_bytes(**kw), shards, BOUNDED, {})
    return root.describe_collection(db, name)


def raises(code: int, message: str | None = None) -> Any:
    """``with raises(code, text):`` — a MilvusError with that code (and exact text)."""
    return _Raises(code, message)


class _Raises:
    def __init__(self, code: int, message: str | None) -> None:
        self.code = code
        self.message = message
        self._ctx = pytest.raises(MilvusError)

    def __enter__(self) -> None:
        self._ctx.__enter__()

    def __exit__(self, *exc: Any) -> bool:
        handled = bool(self._ctx.__exit__(*exc))
        err = exc[1]
        assert isinstance(err, MilvusError)
        assert err.code == self.code, repr(err)
        if self.message is not None:
            assert err.message == self.message
        return handled


# ------------------------------------------------------------------ databases


def test_default_database_exists(env: Env) -> None:
    (db,) = env.root.list_databases()
    assert (db.id, db.name) == (DEFAULT_DB_ID, DEFAULT_DB)
    assert env.root.describe_database("").name == DEFAULT_DB
    assert env.root.describe_database("default").id == DEFAULT_DB_ID


def test_database_lifecycle_and_errors(env: Env) -> None:
    root = env.root
    root.create_database("db1", {"k": "v"})
    root.create_database("db2", {})
    assert [d.name for d in root.list_databases()] == ["default", "db1", "db2"]
    db1 = root.describe_database("db1")
    assert db1.properties == {"k": "v"} and db1.id != DEFAULT_DB_ID

    with raises(errors.PARAMETER_INVALID, "database already exist: db1: invalid parameter"):
        root.create_database("db1", {})
    with raises(errors.PARAMETER_INVALID, "can not drop default database: invalid parameter"):
        root.drop_database("default")
    with raises(errors.DATABASE_NOT_FOUND, "database not found[database=nosuch]"):
        root.describe_database("nosuch")
    with raises(errors.DATABASE_NOT_FOUND):
        root.alter_database("nosuch", {"a": "b"}, [])
    with raises(errors.DATABASE_NOT_FOUND):
        root.list_collections("nosuch")
    with raises(errors.DATABASE_NOT_FOUND):
        create(root, "c", db="nosuch")

    root.alter_database("db1", {"a": "1", "b": "2"}, ["k"])
    assert root.describe_database("db1").properties == {"a": "1", "b": "2"}
    root.alter_database("db1", {"a": "3"}, ["b"])
    assert root.describe_database("db1").properties == {"a": "3"}

    create(root, "c", db="db1")
    with raises(errors.PARAMETER_INVALID, "database:db1 not empty, must drop all collections before drop "
                                          "database: invalid parameter"):
        root.drop_database("db1")
    root.drop_collection("db1", "c")
    root.drop_database("db1")
    root.drop_database("db1")  # gone already: Milvus answers success
    assert [d.name for d in root.list_databases()] == ["default", "db2"]


def test_database_limit_excludes_default(env: Env) -> None:
    for i in range(MAX_DATABASES):
        env.root.create_database(f"d{i}", {})
    with raises(errors.DATABASE_NUM_LIMIT, f"exceeded the limit number of database[limit={MAX_DATABASES}]"):
        env.root.create_database("one_more", {})


# ------------------------------------------------------------------ collections


def test_create_collection_assigns_ids_channels_partition(env: Env) -> None:
    info = create(env.root, "c1", shards=3)
    assert [(f.field_id, f.name) for f in info.schema.fields] == [(100, "id"), (101, "vec"), (102, "tag")]
    assert info.schema.dynamic_field is None
    assert info.num_shards == 3 and len(set(info.channels)) == 3
    for i, ch in enumerate(info.channels):
        assert ch.startswith("by-dev-rootcoord-dml_") and ch.endswith(f"_{info.id}v{i}")
    assert [p.name for p in info.partitions] == ["_default"]
    assert info.db_name == DEFAULT_DB and info.db_id == DEFAULT_DB_ID
    assert info.consistency_level == BOUNDED
    # every shard channel is watched by the data node that owns it
    watched = sorted(ch for (ch,) in env.node_calls("watch_channel"))
    assert watched == sorted(info.channels)
    for ch in info.channels:
        assert (ch,) in cast(FakeDataNode, env.registry.data_node_for(ch)).named("watch_channel")
    stored = schema_pb2.CollectionSchema()
    stored.ParseFromString(info.schema_bytes)
    assert stored.name == "c1" and [f.fieldID for f in stored.fields] == [100, 101, 102]


def test_dynamic_schema_gets_meta_field(env: Env) -> None:
    info = create(env.root, "dyn", dynamic=True)
    meta = info.schema.dynamic_field
    assert meta is not None
    assert (meta.field_id, meta.name, meta.dtype) == (103, DYNAMIC_FIELD_NAME, DataType.JSON)
    assert meta.is_dynamic
    # prepare_schema is idempotent on an already prepared schema (no second $meta)
    sp = schema_pb2.CollectionSchema()
    sp.ParseFromString(info.schema_bytes)
    again = prepare_schema(sp, "dyn")
    assert [f.name for f in again.fields] == ["id", "vec", "tag", DYNAMIC_FIELD_NAME]


def test_partition_key_collection_gets_default_partitions(env: Env) -> None:
    info = create(env.root, "pk", partition_key=True)
    assert [p.name for p in info.partitions] == [f"_default_{i}" for i in range(16)]
    assert len({p.id for p in info.partitions}) == 16
    env.root.create_collection("", "pk8", schema_bytes(partition_key=True), 1, BOUNDED, {}, num_partitions=8)
    assert len(env.root.describe_collection("", "pk8").partitions) == 8
    with raises(errors.PARAMETER_INVALID, "partition number (2000) exceeds max configuration (1024), "
                                          "collection: big: invalid parameter"):
        env.root.create_collection("", "big", schema_bytes(partition_key=True), 1, BOUNDED, {},
                                   num_partitions=2000)
    with raises(errors.PARAMETER_INVALID):
        env.root.create_collection("", "neg", schema_bytes(partition_key=True), 1, BOUNDED, {},
                                   num_partitions=-1)
    with raises(errors.PARAMETER_INVALID, "disable create partition if partition key mode is used: "
                                          "invalid parameter"):
        env.root.create_partition("", "pk", "p1")
    with raises(errors.PARAMETER_INVALID, "disable drop partition if partition key mode is used: "
                                          "invalid parameter"):
        env.root.drop_partition("", "pk", "_default_0")


def test_create_collection_idempotent_and_conflicting(env: Env) -> None:
    first = create(env.root, "c", shards=2)
    watches = len(env.node_calls("watch_channel"))
    again = create(env.root, "c", shards=2)
    assert again.id == first.id and again.channels == first.channels
    assert len(env.node_calls("watch_channel")) == watches  # nothing new to watch
    assert len(env.root.list_collections("")) == 1
    msg = "create duplicate collection with different parameters, collection: c: invalid parameter"
    with raises(errors.PARAMETER_INVALID, msg):
        env.root.create_collection("", "c", schema_bytes(dim=8), 2, BOUNDED, {})
    with raises(errors.PARAMETER_INVALID, msg):
        env.root.create_collection("", "c", schema_bytes(), 3, BOUNDED, {})
    # the same name in another database is another collection
    env.root.create_database("other", {})
    other = create(env.root, "c", db="other")
    assert other.id != first.id and other.db_name == "other"


def test_describe_by_name_alias_id_and_not_found(env: Env) -> None:
    info = create(env.root, "c")
    env.root.create_alias("", "a", "c")
    assert env.root.describe_collection("", "c").id == info.id
    by_alias = env.root.describe_collection("default", "a")
    assert by_alias.id == info.id and by_alias.name == "c" and by_alias.aliases == ("a",)
    assert env.root.describe_collection("", collection_id=info.id).aliases == ("a",)
    with raises(errors.COLLECTION_NOT_FOUND, "collection not found[database=default][collection=X]"):
        env.root.describe_collection("", "X")
    with raises(errors.COLLECTION_NOT_FOUND):
        env.root.describe_collection("", collection_id=info.id + 12345)
    env.root.create_database("db1", {})
    with raises(errors.COLLECTION_NOT_FOUND, "collection not found[database=db1][collection=c]"):
        env.root.describe_collection("db1", "c")
    with raises(errors.DATABASE_NOT_FOUND):
        env.root.describe_collection("nosuch", "c")


def test_list_and_drop_collection(env: Env) -> None:
    a = create(env.root, "a", shards=2)
    create(env.root, "b")
    env.root.create_alias("", "a_alias", "a")
    assert [c.name for c in env.root.list_collections("")] == ["a", "b"]
    assert [c.name for c in env.root.all_collections()] == ["a", "b"]
    with raises(errors.PARAMETER_INVALID,
                "cannot drop the collection via alias = a_alias: invalid parameter"):
        env.root.drop_collection("", "a_alias")
    env.root.drop_collection("", "a")
    assert env.qc.named("release") == [(a.id, ())]
    assert sorted(env.node_calls("drop_collection")) == [(a.id,), (a.id,)]  # once per shard channel
    assert env.dc.named("drop_collection") == [(a.id,)]
    assert [c.name for c in env.root.list_collections("")] == ["b"]
    assert env.root.list_aliases("") == []  # the alias went with its collection
    env.root.drop_collection("", "a")  # already gone: no error, no more calls
    assert len(env.dc.named("drop_collection")) == 1


def test_rename_collection(env: Env) -> None:
    info = create(env.root, "old")
    create(env.root, "taken")
    env.root.create_alias("", "al", "taken")
    env.root.rename_collection("", "old", "", "new")
    renamed = env.root.describe_collection("", "new")
    assert renamed.id == info.id and renamed.channels == info.channels
    with raises(errors.COLLECTION_NOT_FOUND):
        env.root.describe_collection("", "old")
    with raises(errors.PARAMETER_INVALID, "duplicated new collection name default:taken with other "
                                          "collection name or alias: invalid parameter"):
        env.root.rename_collection("", "new", "", "taken")
    with raises(errors.ALIAS_COLLECTION_NAME_CONFLICT,
                "alias and collection name conflict[database=default][alias=al]"):
        env.root.rename_collection("", "new", "", "al")
    with raises(errors.PARAMETER_INVALID, "unsupported use an alias to rename collection, alias:al: "
                                          "invalid parameter"):
        env.root.rename_collection("", "al", "", "fresh")
    with raises(errors.PARAMETER_INVALID,
                "collection name or database name should be different: invalid parameter"):
        env.root.rename_collection("", "new", "", "new")
    with raises(errors.COLLECTION_NOT_FOUND):
        env.root.rename_collection("", "nosuch", "", "fresh")
    with raises(errors.DATABASE_NOT_FOUND, "database not found[database=nodb]"):
        env.root.rename_collection("", "new", "nodb", "fresh")
    # into another database
    env.root.create_database("db2", {})
    env.root.rename_collection("", "new", "db2", "moved")
    moved = env.root.describe_collection("db2", "moved")
    assert (moved.id, moved.db_name) == (info.id, "db2")
    assert [c.name for c in env.root.list_collections("")] == ["taken"]
    with raises(errors.PARAMETER_INVALID, "fail to rename db name, must drop all aliases of this collection "
                                          "before rename: invalid parameter"):
        env.root.rename_collection("", "taken", "db2", "t2")
    # the move is durable and the old key is gone (no duplicate after a restart)
    root = env.restart()
    assert [c.name for c in root.list_collections("db2")] == ["moved"]
    assert [c.name for c in root.list_collections("")] == ["taken"]


def test_alter_collection_properties(env: Env) -> None:
    create(env.root, "c")
    env.root.alter_collection("", "c", {"a": "1", "b": "2"}, [])
    env.root.alter_collection("", "c", {"c": "3"}, ["a"])
    assert env.root.describe_collection("", "c").properties == {"b": "2", "c": "3"}
    with raises(errors.COLLECTION_NOT_FOUND):
        env.root.alter_collection("", "nosuch", {}, [])


# ------------------------------------------------------------------ partitions


def test_partitions_create_drop(env: Env) -> None:
    info = create(env.root, "c", shards=2)
    env.root.create_partition("", "c", "p1")
    env.root.create_partition("", "c", "p1")  # exists: no-op
    parts = env.root.describe_collection("", "c").partitions
    assert [p.name for p in parts] == ["_default", "p1"]
    p1 = parts[1]
    with raises(errors.PARAMETER_INVALID, "default partition cannot be deleted: invalid parameter"):
        env.root.drop_partition("", "c", "_default")
    env.qc.loaded[info.id] = (p1.id,)
    with raises(errors.PARAMETER_INVALID, "partition cannot be dropped, partition is loaded, please release "
                                          "it first: invalid parameter"):
        env.root.drop_partition("", "c", "p1")
    env.qc.loaded[info.id] = (parts[0].id,)  # loaded, but not this partition
    env.root.drop_partition("", "c", "p1")
    assert sorted(env.node_calls("drop_partition")) == [(info.id, p1.id), (info.id, p1.id)]
    assert env.dc.named("drop_partition") == [(info.id, p1.id)]
    assert [p.name for p in env.root.describe_collection("", "c").partitions] == ["_default"]
    env.root.drop_partition("", "c", "p1")  # gone: no-op
    assert len(env.dc.named("drop_partition")) == 1
    with raises(errors.COLLECTION_NOT_FOUND):
        env.root.create_partition("", "nosuch", "p")


def test_partition_limit(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from elanus.coord.root import coordinator

    monkeypatch.setattr(coordinator, "MAX_PARTITIONS", 3)
    create(env.root, "c")
    env.root.create_partition("", "c", "p1")
    env.root.create_partition("", "c", "p2")
    with raises(errors.PARAMETER_INVALID, "partition number (3) exceeds max configuration (3), "
                                          "collection: c: invalid parameter"):
        env.root.create_partition("", "c", "p3")


# ------------------------------------------------------------------ aliases


def test_aliases(env: Env) -> None:
    root = env.root
    c1 = create(root, "c1")
    create(root, "c2")
    root.create_alias("", "a1", "c1")
    root.create_alias("", "a1", "c1")  # same target: no-op
    root.create_alias("", "a2", "c1")
    assert root.describe_alias("", "a1") == "c1"
    assert root.list_aliases("") == ["a1", "a2"]
    assert root.list_aliases("", "c1") == ["a1", "a2"]
    assert root.list_aliases("", "c2") == []
    assert root.describe_collection("", "c1").aliases == ("a1", "a2")

    with raises(errors.ALIAS_ALREADY_EXIST,
                "a1 is alias to another collection: c1: alias already exist[database=default][alias=a1]"):
        root.create_alias("", "a1", "c2")
    with raises(errors.ALIAS_COLLECTION_NAME_CONFLICT,
                "alias and collection name conflict[database=default][alias=c2]"):
        root.create_alias("", "c2", "c1")
    with raises(errors.COLLECTION_NOT_FOUND, "collection not found[database=default][collection=nosuch]"):
        root.create_alias("", "a3", "nosuch")
    with raises(errors.COLLECTION_NOT_FOUND):  # an alias is not a collection name
        root.create_alias("", "a3", "a1")
    with raises(errors.ALIAS_COLLECTION_NAME_CONFLICT,
                "please choose a unique name: "
                "alias and collection name conflict[database=default][alias=a1]"):
        create(root, "a1")
    with raises(errors.ALIAS_NOT_FOUND, "alias not found[database=default][alias=nosuch]"):
        root.describe_alias("", "nosuch")
    with raises(errors.COLLECTION_NOT_FOUND, "collection not found[collection=a1]"):
        root.list_aliases("", "a1")

    # alter: the checks in Milvus's order
    with raises(errors.ALIAS_COLLECTION_NAME_CONFLICT,
                "alias and collection name conflict[database=default][alias=c1]"):
        root.alter_alias("", "c1", "c2")
    with raises(errors.COLLECTION_NOT_FOUND, "collection not found[collection=nosuch]"):
        root.alter_alias("", "nosuch_alias", "nosuch")
    with raises(errors.ALIAS_NOT_FOUND, "alias not found[database=default][alias=nosuch_alias]"):
        root.alter_alias("", "nosuch_alias", "c2")
    root.alter_alias("", "a1", "c2")
    assert root.describe_alias("", "a1") == "c2"
    assert root.describe_collection("", "a1").name == "c2"
    assert root.list_aliases("", "c1") == ["a2"]

    root.drop_alias("", "a2")
    root.drop_alias("", "a2")  # gone: Milvus answers success
    assert root.list_aliases("") == ["a1"]
    assert root.describe_collection("", collection_id=c1.id).aliases == ()

    # aliases are per database
    root.create_database("db1", {})
    create(root, "c1", db="db1")
    root.create_alias("db1", "a1", "c1")
    assert root.describe_alias("db1", "a1") == "c1" and root.describe_alias("", "a1") == "c2"
    with raises(errors.DATABASE_NOT_FOUND):
        root.create_alias("nodb", "x", "c1")


# ------------------------------------------------------------------ time, ids, restart


def test_tso_monotonic_across_restart(env: Env) -> None:
    stamps = [env.root.alloc_timestamp() for _ in range(1000)]
    assert all(b > a for a, b in itertools.pairwise(stamps))
    batch_last = env.root.alloc_timestamp(10)
    assert batch_last >= stamps[-1] + 10
    assert physical_ms(batch_last) > 1_600_000_000_000  # wall-clock shaped
    root = env.restart()
    after = root.alloc_timestamp()
    assert after > batch_last
    root = env.restart()
    assert root.alloc_timestamp() > after


def test_ids_unique_across_restart(env: Env) -> None:
    seen: set[int] = set()
    for _ in range(50):
        first = env.root.alloc_ids(7)
        block = set(range(first, first + 7))
        assert not block & seen
        seen |= block
    root = env.restart()
    for _ in range(50):
        first = root.alloc_ids(3)
        block = set(range(first, first + 3))
        assert not block & seen
        seen |= block
    # ids of catalog objects come from the same allocator
    info = create(root, "c")
    assert info.id not in seen and info.partitions[0].id not in seen


def test_everything_persists_across_restart(env: Env) -> None:
    root = env.root
    root.create_database("db1", {"p": "q"})
    c = create(root, "c", shards=2, dynamic=True)
    create(root, "pk", partition_key=True)
    d = create(root, "d", db="db1")
    root.create_partition("", "c", "p1")
    root.create_alias("", "ca", "c")
    root.alter_collection("", "c", {"k": "v"}, [])
    root.alter_database("db1", {"x": "y"}, ["p"])

    root2 = env.restart()
    assert [(db.id, db.name) for db in root2.list_databases()] == [
        (db.id, db.name) for db in root.list_databases()]
    assert root2.describe_database("db1").properties == {"x": "y"}
    c2 = root2.describe_collection("", "ca")
    assert c2 == root.describe_collection("", "c")
    assert (c2.id, c2.channels, c2.aliases, c2.properties) == (c.id, c.channels, ("ca",), {"k": "v"})
    assert [p.name for p in c2.partitions] == ["_default", "p1"]
    assert c2.schema.dynamic_field is not None
    assert len(root2.describe_collection("", "pk").partitions) == 16
    assert root2.describe_collection("db1", "d").id == d.id
    assert [x.name for x in root2.list_collections("")] == ["c", "pk"]
    assert root2.list_aliases("", "c") == ["ca"]
    # the restarted coordinator keeps working on the same catalog
    root2.drop_collection("", "pk")
    create(root2, "c", shards=2, dynamic=True)  # identical re-create stays a no-op
    assert root2.describe_collection("", "c").id == c.id
    root3 = env.restart()
    assert [x.name for x in root3.list_collections("")] == ["c"]
