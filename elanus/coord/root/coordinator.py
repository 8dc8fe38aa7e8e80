"""Root coordinator: DDL for databases, collections, partitions and aliases; TSO; ids.

Requests arrive already validated for shape by the proxy (names, types, dims);
this role decides everything that needs the catalog: existence, uniqueness,
limits, id assignment, channel allocation. A DDL is durable in the meta store
before the roles that act on it (data nodes, coordinators) are told.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from pymilvus.grpc_gen import schema_pb2

from elanus.cluster.registry import Registry
from elanus.cluster.types import (
    DEFAULT_DB,
    DEFAULT_PARTITION,
    CollectionInfo,
    ConsistencyLevel,
    DatabaseInfo,
    PartitionInfo,
)
from elanus.coord.root.catalog import Catalog
from elanus.coord.root.evolve import schema_with_field
from elanus.core import errors
from elanus.core.errors import MilvusError
from elanus.core.schema import DYNAMIC_FIELD_NAME, FIRST_USER_FIELD_ID, DataType, from_proto
from elanus.core.tso import IdAllocator, TimestampOracle
from elanus.storage.meta.base import MetaStore

log = logging.getLogger(__name__)

MAX_DATABASES = 64
MAX_PARTITIONS = 1024
DEFAULT_PARTITIONS_WITH_KEY = 16
PCHANNEL_COUNT = 16
CHANNEL_PREFIX = "by-dev-rootcoord-dml"


def prepare_schema(sp: schema_pb2.CollectionSchema, name: str) -> schema_pb2.CollectionSchema:
    """Assign field ids from 100 and add the ``$meta`` field for dynamic schemas."""
    out = schema_pb2.CollectionSchema()
    out.CopyFrom(sp)
    out.name = name
    for i, f in enumerate(out.fields):
        f.fieldID = FIRST_USER_FIELD_ID + i
    if out.enable_dynamic_field and not any(f.is_dynamic for f in out.fields):
        meta = out.fields.add()
        meta.fieldID = FIRST_USER_FIELD_ID + len(out.fields) - 1
        meta.name = DYNAMIC_FIELD_NAME
        meta.data_type = int(DataType.JSON)
        meta.is_dynamic = True
        meta.description = "dynamic schema"
    return out


def _same_schema(a: bytes, b: schema_pb2.CollectionSchema) -> bool:
    stored = schema_pb2.CollectionSchema()
    stored.ParseFromString(a)
    return stored.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)


class RootCoordImpl:
    """Implements :class:`elanus.cluster.interfaces.RootCoord`."""

    def __init__(self, registry: Registry, meta: MetaStore) -> None:
        self._registry = registry
        self._tso = TimestampOracle(meta, "kv/gid/timestamp")
        self._ids = IdAllocator(meta, "kv/gid/idTimestamp")
        self._catalog = Catalog(meta)

    # --- time and ids
    def alloc_timestamp(self, count: int = 1) -> int:
        return self._tso.alloc(count)

    def alloc_ids(self, count: int) -> int:
        return self._ids.alloc(count)

    def all_collections(self) -> list[CollectionInfo]:
        """Every collection of every database (for start-up wiring)."""
        return list(self._catalog.collections.values())

    # --- databases
    def _db(self, name: str) -> DatabaseInfo:
        db = self._catalog.databases.get(name or DEFAULT_DB)
        if db is None:
            raise errors.database_not_found(name)
        return db

    def create_database(self, name: str, properties: dict[str, str]) -> None:
        with self._catalog.lock:
            if name in self._catalog.databases:
                raise errors.invalid_parameter(f"database already exist: {name}")
            # Milvus does not count the default database against the limit (its check is ``>``).
            if len(self._catalog.databases) > MAX_DATABASES:
                raise errors.error(errors.DATABASE_NUM_LIMIT, limit=MAX_DATABASES)
            self._catalog.put_database(DatabaseInfo(self.alloc_ids(1), name, self.alloc_timestamp(),
                                                    dict(properties)))

    def drop_database(self, name: str) -> None:
        with self._catalog.lock:
            if name == DEFAULT_DB:
                raise errors.invalid_parameter("can not drop default database")
            db = self._catalog.databases.get(name)
            if db is None:
                return
            if self._catalog.collections_in(db.id):
                raise errors.invalid_parameter(
                    f"database:{name} not empty, must drop all collections before drop database")
            self._catalog.delete_database(name)

    def list_databases(self) -> list[DatabaseInfo]:
        return sorted(self._catalog.databases.values(), key=lambda d: d.created_ts)

    def describe_database(self, name: str) -> DatabaseInfo:
        return self._db(name)

    def alter_database(self, name: str, properties: dict[str, str], delete_keys: list[str]) -> None:
        with self._catalog.lock:
            db = self._db(name)
            props = {k: v for k, v in {**db.properties, **properties}.items() if k not in delete_keys}
            self._catalog.put_database(replace(db, properties=props))

    # --- collections
    def _find(self, db: str, name: str) -> CollectionInfo:
        info = self._catalog.find_collection(self._db(db).id, name)
        if info is None:
            raise errors.collection_not_found(name, db or DEFAULT_DB)
        return info

    def create_collection(self, db: str, name: str, schema_bytes: bytes, num_shards: int,
                          consistency_level: ConsistencyLevel, properties: dict[str, str],
                          num_partitions: int = 0) -> None:
        sp = schema_pb2.CollectionSchema()
        sp.ParseFromString(schema_bytes)
        prepared = prepare_schema(sp, name)
        with self._catalog.lock:
            database = self._db(db)
            existing = self._catalog.find_collection(database.id, name)
            if existing is not None and existing.name == name:
                if _same_schema(existing.schema_bytes, prepared) and existing.num_shards == num_shards:
                    return
                raise errors.invalid_parameter(
                    f"create duplicate collection with different parameters, collection: {name}")
            if (database.id, name) in self._catalog.aliases:
                raise _alias_error(errors.ALIAS_COLLECTION_NAME_CONFLICT, database.name, name,
                                   "please choose a unique name")
            cid = self.alloc_ids(1)
            ts = self.alloc_timestamp()
            channels = tuple(f"{CHANNEL_PREFIX}_{(cid + i) % PCHANNEL_COUNT}_{cid}v{i}"
                             for i in range(num_shards))
            schema = from_proto(prepared)
            if schema.partition_key is not None:
                count = num_partitions or DEFAULT_PARTITIONS_WITH_KEY
                if count < 0:
                    raise errors.invalid_parameter(
                        "the specified partitions should be greater than 0 if partition key is used")
                if count > MAX_PARTITIONS:
                    raise errors.invalid_parameter(f"partition number ({count}) exceeds max configuration "
                                                   f"({MAX_PARTITIONS}), collection: {name}")
                partitions = tuple(PartitionInfo(self.alloc_ids(1), f"{DEFAULT_PARTITION}_{i}", ts)
                                   for i in range(count))
            else:
                partitions = (PartitionInfo(self.alloc_ids(1), DEFAULT_PARTITION, ts),)
            info = CollectionInfo(
                id=cid, db_id=database.id, db_name=database.name, name=name, schema=schema,
                schema_bytes=prepared.SerializeToString(), channels=channels, partitions=partitions,
                consistency_level=consistency_level, created_ts=ts, properties=dict(properties),
            )
            self._catalog.put_collection(info)
        for ch in channels:
            self._registry.data_node_for(ch).watch_channel(ch)
        log.info("created collection %s.%s id=%d shards=%d", database.name, name, cid, num_shards)

    def drop_collection(self, db: str, name: str) -> None:
        with self._catalog.lock:
            database = self._db(db)
            info = self._catalog.find_collection(database.id, name)
            if info is None:
                return
            if info.name != name:
                raise errors.invalid_parameter(
                    f"cannot drop the collection via alias = {name}")
            self._registry.query_coord().release(info.id)
            for ch in info.channels:
                self._registry.data_node_for(ch).drop_collection(info)
            self._registry.data_coord().drop_collection(info.id)
            self._catalog.delete_collection(info)

    def truncate_collection(self, db: str, name: str) -> None:
        """Remove every row; schema, partitions, indexes and load state stay (Milvus 2.6).

        Each channel's data node appends TRUNCATE and forgets the growing segments (readers
        drop what they hold of them); then the data coordinator drops every segment created
        before its channel's TRUNCATE and the query coordinator stops serving those."""
        with self._catalog.lock:
            info = self._find(db, name)
            fences = {ch: self._registry.data_node_for(ch).truncate_collection(info, ch)
                      for ch in info.channels}
            dropped = self._registry.data_coord().truncate_collection(info.id, fences)
            self._registry.query_coord().drop_segments(info.id, dropped)
        log.info("truncated collection %s.%s: %d segments dropped", info.db_name, info.name, len(dropped))

    def describe_collection(self, db: str, name: str = "", collection_id: int = 0) -> CollectionInfo:
        if collection_id:
            info = self._catalog.collections.get(collection_id)
            if info is None:
                raise errors.collection_not_found(str(collection_id), db or DEFAULT_DB)
            return self._catalog.with_aliases(info)
        return self._find(db, name)

    def list_collections(self, db: str) -> list[CollectionInfo]:
        return self._catalog.collections_in(self._db(db).id)

    def rename_collection(self, db: str, old: str, new_db: str, new: str) -> None:
        """Milvus's ``CheckIfCollectionRenamable`` checks, in its order."""
        db = db or DEFAULT_DB
        new_db = new_db or db
        if db == new_db and old == new:
            raise errors.invalid_parameter("collection name or database name should be different")
        with self._catalog.lock:
            target = self._db(new_db)
            source = self._db(db)
            if (source.id, old) in self._catalog.aliases:
                raise errors.invalid_parameter(f"unsupported use an alias to rename collection, alias:{old}")
            if (target.id, new) in self._catalog.aliases:
                raise _alias_error(errors.ALIAS_COLLECTION_NAME_CONFLICT, target.name, new)
            if self._catalog.find_collection(target.id, new) is not None:
                raise errors.invalid_parameter(
                    f"duplicated new collection name {target.name}:{new} with other collection name or alias")
            info = self._find(db, old)
            if info.aliases and target.id != source.id:
                raise errors.invalid_parameter(
                    "fail to rename db name, must drop all aliases of this collection before rename")
            self._catalog.put_collection(replace(info, name=new, db_id=target.id, db_name=target.name,
                                                 aliases=()))

    def alter_collection(self, db: str, name: str, properties: dict[str, str],
                         delete_keys: list[str]) -> None:
        with self._catalog.lock:
            info = self._find(db, name)
            props = {k: v for k, v in {**info.properties, **properties}.items() if k not in delete_keys}
            self._catalog.put_collection(replace(info, properties=props, aliases=()))

    def add_collection_field(self, db: str, name: str, field_bytes: bytes) -> int:
        """Add a field (see :mod:`elanus.coord.root.evolve`). As in Milvus, every channel of
        the collection carries the SCHEMA message before the catalog shows the new schema,
        so no proxy can write the field into a channel whose readers do not know it yet."""
        field = schema_pb2.FieldSchema()
        field.ParseFromString(field_bytes)
        with self._catalog.lock:
            info = self._find(db, name)
            sp = schema_with_field(info.schema_bytes, field)
            updated = replace(info, schema=from_proto(sp), schema_bytes=sp.SerializeToString(), aliases=())
            ts = 0
            for ch in info.channels:
                ts = max(ts, self._registry.data_node_for(ch).update_schema(updated, ch))
            self._catalog.put_collection(updated)
        log.info("collection %s.%s: added field %s (schema version %d)", info.db_name, info.name,
                 field.name, sp.version)
        return ts

    # --- partitions
    def create_partition(self, db: str, collection: str, partition: str) -> None:
        with self._catalog.lock:
            info = self._find(db, collection)
            if info.schema.partition_key is not None:
                raise errors.invalid_parameter("disable create partition if partition key mode is used")
            if info.partition(partition) is not None:
                return
            if len(info.partitions) >= MAX_PARTITIONS:
                raise errors.invalid_parameter(
                    f"partition number ({len(info.partitions)}) exceeds max configuration "
                    f"({MAX_PARTITIONS}), collection: {info.name}")
            part = PartitionInfo(self.alloc_ids(1), partition, self.alloc_timestamp())
            self._catalog.put_collection(replace(info, partitions=(*info.partitions, part), aliases=()))

    def drop_partition(self, db: str, collection: str, partition: str) -> None:
        with self._catalog.lock:
            info = self._find(db, collection)
            if info.schema.partition_key is not None:
                raise errors.invalid_parameter("disable drop partition if partition key mode is used")
            if partition == DEFAULT_PARTITION:
                raise errors.invalid_parameter("default partition cannot be deleted")
            part = info.partition(partition)
            if part is None:
                return
            qc = self._registry.query_coord()
            loaded = qc.loaded_partitions(info.id)
            if loaded is not None and part.id in loaded:
                raise errors.invalid_parameter(
                    "partition cannot be dropped, partition is loaded, please release it first")
            for ch in info.channels:
                self._registry.data_node_for(ch).drop_partition(info, part.id)
            self._registry.data_coord().drop_partition(info.id, part.id)
            parts = tuple(p for p in info.partitions if p.id != part.id)
            self._catalog.put_collection(replace(info, partitions=parts, aliases=()))

    # --- aliases (Milvus's MetaTable.CheckIfAlias* order and texts)
    def _by_name(self, db_id: int, name: str) -> CollectionInfo | None:
        """A collection by its own name only (aliases do not resolve)."""
        info = self._catalog.find_collection(db_id, name)
        return info if info is not None and info.name == name else None

    def create_alias(self, db: str, alias: str, collection: str) -> None:
        with self._catalog.lock:
            database = self._db(db)
            if self._by_name(database.id, alias) is not None:
                raise _alias_error(errors.ALIAS_COLLECTION_NAME_CONFLICT, database.name, alias)
            target = self._by_name(database.id, collection)
            if target is None:
                raise errors.collection_not_found(collection, database.name)
            current = self._catalog.aliases.get((database.id, alias))
            if current is not None:
                if current == target.id:
                    return
                other = self._catalog.collections[current].name
                raise _alias_error(errors.ALIAS_ALREADY_EXIST, database.name, alias,
                                   f"{alias} is alias to another collection: {other}")
            self._catalog.put_alias(database.id, alias, target.id)

    def drop_alias(self, db: str, alias: str) -> None:
        with self._catalog.lock:
            database = self._db(db)
            if (database.id, alias) in self._catalog.aliases:
                self._catalog.delete_alias(database.id, alias)

    def alter_alias(self, db: str, alias: str, collection: str) -> None:
        with self._catalog.lock:
            database = self._db(db)
            if self._by_name(database.id, alias) is not None:
                raise _alias_error(errors.ALIAS_COLLECTION_NAME_CONFLICT, database.name, alias)
            target = self._by_name(database.id, collection)
            if target is None:
                raise errors.error(errors.COLLECTION_NOT_FOUND, collection=collection)
            if (database.id, alias) not in self._catalog.aliases:
                raise _alias_error(errors.ALIAS_NOT_FOUND, database.name, alias)
            self._catalog.put_alias(database.id, alias, target.id)

    def describe_alias(self, db: str, alias: str) -> str:
        database = self._db(db)
        cid = self._catalog.aliases.get((database.id, alias))
        if cid is None or cid not in self._catalog.collections:
            raise _alias_error(errors.ALIAS_NOT_FOUND, database.name, alias)
        return self._catalog.collections[cid].name

    def list_aliases(self, db: str, collection: str = "") -> list[str]:
        database = self._db(db)
        if collection:
            info = self._by_name(database.id, collection)
            if info is None:
                raise errors.error(errors.COLLECTION_NOT_FOUND, collection=collection)
            return list(info.aliases)
        return sorted(a for (db_id, a) in self._catalog.aliases if db_id == database.id)


def _alias_error(code: int, database: str, alias: str, context: str = "") -> MilvusError:
    """merr's ``WrapErrAlias*(db, alias, msg)``: ``msg: base[database=..][alias=..]``."""
    text = errors.compose(code, fields={"database": database, "alias": alias})
    return MilvusError(code, f"{context}: {text}" if context else text)
