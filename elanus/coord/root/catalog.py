"""The root coordinator's catalog: databases, collections, aliases in the meta store.

The catalog is the only writer of ``root-coord/...`` keys. It keeps an in-memory
copy (loaded once at start) and writes through: a method returns only after the
meta store has made the change durable, so a crash never loses an acknowledged DDL.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import replace

from elanus.cluster.types import (
    DEFAULT_DB,
    DEFAULT_DB_ID,
    CollectionInfo,
    ConsistencyLevel,
    DatabaseInfo,
    PartitionInfo,
)
from elanus.core.schema import from_bytes
from elanus.storage.meta.base import MetaStore, Op

_DB_PREFIX = "root-coord/database/db-info/"
_COLL_PREFIX = "root-coord/database/collection-info/"
_ALIAS_PREFIX = "root-coord/database/aliases/"


def _collection_to_json(info: CollectionInfo) -> bytes:
    return json.dumps({
        "id": info.id, "db_id": info.db_id, "db_name": info.db_name, "name": info.name,
        "schema": base64.b64encode(info.schema_bytes).decode(),
        "channels": list(info.channels),
        "partitions": [[p.id, p.name, p.created_ts] for p in info.partitions],
        "consistency_level": int(info.consistency_level), "created_ts": info.created_ts,
        "properties": info.properties,
    }).encode()


def _collection_from_json(data: bytes) -> CollectionInfo:
    d = json.loads(data)
    schema_bytes = base64.b64decode(d["schema"])
    return CollectionInfo(
        id=d["id"], db_id=d["db_id"], db_name=d["db_name"], name=d["name"],
        schema=from_bytes(schema_bytes), schema_bytes=schema_bytes,
        channels=tuple(d["channels"]),
        partitions=tuple(PartitionInfo(p[0], p[1], p[2]) for p in d["partitions"]),
        consistency_level=ConsistencyLevel(d["consistency_level"]), created_ts=d["created_ts"],
        properties=dict(d.get("properties", {})),
    )


class Catalog:
    """In-memory view of the root metadata, written through to the meta store.

    Invariants: collection names are unique per database; an alias never equals a
    collection name of its database; every alias points at an existing collection.
    Callers serialise mutations with :attr:`lock`.
    """

    def __init__(self, meta: MetaStore) -> None:
        self._meta = meta
        self.lock = threading.RLock()
        self.databases: dict[str, DatabaseInfo] = {}
        self.collections: dict[int, CollectionInfo] = {}
        self.aliases: dict[tuple[int, str], int] = {}  # (db_id, alias) -> collection id
        self._load()

    def _load(self) -> None:
        for kv in self._meta.get_prefix(_DB_PREFIX):
            d = json.loads(kv.value)
            self.databases[d["name"]] = DatabaseInfo(d["id"], d["name"], d["created_ts"],
                                                     dict(d.get("properties", {})))
        if DEFAULT_DB not in self.databases:
            self.put_database(DatabaseInfo(DEFAULT_DB_ID, DEFAULT_DB, 0))
        for kv in self._meta.get_prefix(_COLL_PREFIX):
            info = _collection_from_json(kv.value)
            self.collections[info.id] = info
        for kv in self._meta.get_prefix(_ALIAS_PREFIX):
            db_id, alias = kv.key[len(_ALIAS_PREFIX):].split("/", 1)
            self.aliases[(int(db_id), alias)] = int(kv.value)

    # --- databases
    def put_database(self, db: DatabaseInfo) -> None:
        self._meta.put(_DB_PREFIX + db.name, json.dumps({
            "id": db.id, "name": db.name, "created_ts": db.created_ts, "properties": db.properties,
        }).encode())
        self.databases[db.name] = db

    def delete_database(self, name: str) -> None:
        self._meta.delete(_DB_PREFIX + name)
        self.databases.pop(name, None)

    # --- collections
    def put_collection(self, info: CollectionInfo) -> None:
        key = f"{_COLL_PREFIX}{info.db_id}/{info.id}"
        old = self.collections.get(info.id)
        if old is not None and old.db_id != info.db_id:
            # Renamed into another database: the key moves, in one transaction, so a
            # restart never loads the collection twice (or from its old database).
            self._meta.txn([], [Op.delete(f"{_COLL_PREFIX}{old.db_id}/{info.id}"),
                                Op.put(key, _collection_to_json(info))])
        else:
            self._meta.put(key, _collection_to_json(info))
        self.collections[info.id] = info

    def delete_collection(self, info: CollectionInfo) -> None:
        for (db_id, alias), cid in list(self.aliases.items()):
            if cid == info.id:
                self.delete_alias(db_id, alias)
        self._meta.delete(f"{_COLL_PREFIX}{info.db_id}/{info.id}")
        self.collections.pop(info.id, None)

    def find_collection(self, db_id: int, name: str) -> CollectionInfo | None:
        """By name, or through an alias."""
        for info in self.collections.values():
            if info.db_id == db_id and info.name == name:
                return self.with_aliases(info)
        cid = self.aliases.get((db_id, name))
        if cid is not None and cid in self.collections:
            return self.with_aliases(self.collections[cid])
        return None

    def with_aliases(self, info: CollectionInfo) -> CollectionInfo:
        names = tuple(sorted(a for (db, a), cid in self.aliases.items() if cid == info.id))
        return info if names == info.aliases else replace(info, aliases=names)

    def collections_in(self, db_id: int) -> list[CollectionInfo]:
        return sorted((self.with_aliases(c) for c in self.collections.values() if c.db_id == db_id),
                      key=lambda c: c.created_ts)

    # --- aliases
    def put_alias(self, db_id: int, alias: str, collection_id: int) -> None:
        self._meta.put(f"{_ALIAS_PREFIX}{db_id}/{alias}", str(collection_id).encode())
        self.aliases[(db_id, alias)] = collection_id

    def delete_alias(self, db_id: int, alias: str) -> None:
        self._meta.delete(f"{_ALIAS_PREFIX}{db_id}/{alias}")
        self.aliases.pop((db_id, alias), None)
