"""What every proxy handler shares: peers, the collection cache, timestamps.

The proxy is stateless: the cache only saves round trips to the root
coordinator. It is dropped on every DDL this proxy forwards and, in cluster
mode, when the meta store reports a change under ``root-coord/`` (another proxy's
DDL), so a stale entry lives at most one watch delay.
"""

from __future__ import annotations

import threading
from typing import Any

from elanus.cluster.registry import Registry
from elanus.cluster.types import DEFAULT_DB, CollectionInfo, ConsistencyLevel, IndexInfo
from elanus.core import errors
from elanus.core.tso import compose, now_ms
from elanus.storage.meta.base import MetaStore, WatchEvent

BOUNDED_STALENESS_MS = 5000  # Milvus common.gracefulTime


def kv_dict(pairs: Any) -> dict[str, str]:
    """``repeated KeyValuePair`` → dict."""
    return {kv.key: kv.value for kv in pairs}


def db_of(request: Any, context: Any = None) -> str:
    """The request's database: its ``db_name`` field, else pymilvus's ``dbname`` metadata."""
    name = getattr(request, "db_name", "")
    if not name and context is not None:
        for key, value in context.invocation_metadata() or ():
            if key == "dbname":
                name = value
                break
    return name or DEFAULT_DB


# The query coordinator's meta records (coord/query/loadinfo.py and placement.py own them;
# tests/access check these stay equal).
LOADINFO_PREFIX = "querycoord-collection-loadinfo/"
PLACEMENT_PREFIX = "querycoord-dist/"


class ProxyContext:
    """Shared state of one proxy: registry of peers and a schema cache."""

    def __init__(self, registry: Registry, meta: MetaStore | None = None) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._collections: dict[tuple[str, str], CollectionInfo] = {}
        self._indexes: dict[int, list[IndexInfo]] = {}
        self._leaders: dict[int, dict[str, int]] = {}  # loaded collection -> channel -> delegator node
        if meta is not None:
            meta.watch_prefix("root-coord/", lambda _event: self.invalidate())
            meta.watch_prefix("field-index/", lambda _event: self.invalidate_indexes())
            # Load state and delegator placement (the query coordinator's records): a cached
            # route lives at most one watch delay after a release, a failover or a rebalance.
            meta.watch_prefix(LOADINFO_PREFIX, self._on_route_record)
            meta.watch_prefix(PLACEMENT_PREFIX, self._on_route_record)

    # --- cache
    def collection(self, db: str, name: str) -> CollectionInfo:
        key = (db or DEFAULT_DB, name)
        info = self._collections.get(key)
        if info is None:
            if not name:
                raise errors.invalid_parameter("collection name should not be empty")
            info = self.registry.root().describe_collection(key[0], name)
            with self._lock:
                self._collections[key] = info
        return info

    def invalidate(self) -> None:
        with self._lock:
            self._collections.clear()
            self._indexes.clear()
            self._leaders.clear()

    def invalidate_leaders(self, collection_id: int | None = None) -> None:
        with self._lock:
            if collection_id is None:
                self._leaders.clear()
            else:
                self._leaders.pop(collection_id, None)

    def _on_route_record(self, event: WatchEvent) -> None:
        """Drop the cached route of the collection a load or channel-leader record names.

        Segment placement records (``querycoord-dist/{coll}/segment/...``, one per handoff)
        do not change routes, so they leave the cache alone."""
        key = event.kv.key
        if key.startswith(LOADINFO_PREFIX):
            coll = key[len(LOADINFO_PREFIX):]
        else:
            coll, _, rest = key[len(PLACEMENT_PREFIX):].partition("/")
            if not rest.startswith("channel/"):
                return
        self.invalidate_leaders(int(coll) if coll.isdigit() else None)

    def shard_leaders(self, info: CollectionInfo) -> dict[str, int] | None:
        """channel -> delegator node of a loaded collection, or None when it is not loaded.

        Cached once every channel has a leader (reads then cost no coordinator call);
        dropped by :meth:`invalidate_leaders` (meta watch, release, a failed delegator call).
        """
        found = self._leaders.get(info.id)
        if found is not None:
            return found
        qc = self.registry.query_coord()
        if not qc.is_loaded(info.id):
            return None
        leaders = qc.shard_leaders(info.id)
        if all(ch in leaders for ch in info.channels):
            with self._lock:
                self._leaders[info.id] = leaders
        return leaders

    def invalidate_indexes(self) -> None:
        with self._lock:
            self._indexes.clear()

    def indexes(self, collection_id: int) -> list[IndexInfo]:
        found = self._indexes.get(collection_id)
        if found is None:
            found = self.registry.data_coord().describe_indexes(collection_id)
            with self._lock:
                self._indexes[collection_id] = found
        return found

    # --- time
    def now(self) -> int:
        return self.registry.root().alloc_timestamp()

    def guarantee_ts(self, info: CollectionInfo, level: int, use_default: bool, client_ts: int) -> int:
        """The timestamp a read must observe, by consistency level (Milvus semantics).

        Strong reads wait for the highest timestamp issued on the collection's channels
        (everything acknowledged before the read), not for a fresh TSO value, so they
        need not wait for the next time tick.
        """
        lvl = ConsistencyLevel(info.consistency_level if use_default else level)
        if lvl == ConsistencyLevel.STRONG:
            return max(self.registry.data_node_for(ch).last_ts(ch) for ch in info.channels)
        if lvl == ConsistencyLevel.BOUNDED:
            # Staleness is relative to now, so the proxy's own clock serves (no TSO round trip
            # per read); the TSO's physical part is the same wall clock.
            return max(compose(now_ms() - BOUNDED_STALENESS_MS), 1)
        if lvl in (ConsistencyLevel.SESSION, ConsistencyLevel.CUSTOMIZED):
            # Milvus keeps the request's guarantee_timestamp for both: pymilvus sends the
            # session's last write ts (Session) or the caller's ``guarantee_timestamp`` (Customized).
            return max(client_ts, 1)
        return 1


def partition_ids(info: CollectionInfo, names: Any) -> tuple[int, ...]:
    """Resolve partition names; empty → all partitions. Raises partition-not-found (200)."""
    if not names:
        return ()
    ids = []
    for name in names:
        part = info.partition(name)
        if part is None:
            raise errors.partition_not_found(name)
        ids.append(part.id)
    return tuple(ids)
