"""The data node: owns channels, writing them (ChannelWriter) and flushing them.

Watching a channel (``watch_channel``) recovers the writer side first — every
segment the data coordinator still has GROWING (or SEALED, whose FLUSH may not
have become durable) on the channel is sealed again, since the in-memory
assignment that could have kept filling it is gone — and then
starts the channel's flusher from the data coordinator's checkpoint. Writes to
a channel not watched yet watch it first, so a restarted node serves writes
without waiting for an explicit watch.

Channels belong to one collection (the root coordinator names them
``{pchannel}_{collection}v{shard}``): dropping the collection retires the
channel on this node (its flusher and ticks stop; writes are refused).
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from elanus.cluster.registry import Registry
from elanus.cluster.types import CollectionInfo, Columns, SealPolicy, SegmentState
from elanus.core.errors import collection_not_found
from elanus.storage.meta.base import MetaStore
from elanus.storage.objects.base import ObjectStore
from elanus.storage.wal.base import Wal
from elanus.worker.data_node.flusher import ChannelFlusher
from elanus.worker.data_node.writer import TICK_INTERVAL, ChannelWriterImpl

log = logging.getLogger(__name__)


class DataNodeImpl:
    """Implements :class:`elanus.cluster.interfaces.DataNode` (see the module docstring)."""

    def __init__(self, registry: Registry, meta: MetaStore, objects: ObjectStore, wal: Wal,
                 seal_policy: SealPolicy | None = None, *, tick_interval: float = TICK_INTERVAL) -> None:
        self._registry = registry
        self._meta = meta  # sessions (cluster mode) will live here
        self._objects = objects
        self._wal = wal
        self._writer = ChannelWriterImpl(registry, wal, seal_policy or SealPolicy(), tick_interval)
        self._flushers: dict[str, ChannelFlusher] = {}
        self._retired: set[str] = set()
        # The root coordinator drops a partition once per channel; append one message each.
        self._dropped_partitions: set[tuple[str, int, int]] = set()
        self._lock = threading.Lock()  # serialises watch/unwatch/retire

    # ------------------------------------------------------------- channels

    def watch_channel(self, channel: str) -> None:
        with self._lock:
            if channel in self._flushers:
                return
            self._retired.discard(channel)
            self._wal.create_channel(channel)
            # SEALED too: its FLUSH may have been lost with the machine (it is appended, then
            # reported before it is durable). A FLUSH twice is harmless: the flusher skips
            # segments already flushed.
            unflushed = self._registry.data_coord().channel_segments(
                channel, (SegmentState.GROWING, SegmentState.SEALED))
            self._writer.open_channel(channel, unflushed)
            flusher = ChannelFlusher(channel, self._registry, self._wal, self._objects)
            self._flushers[channel] = flusher
            flusher.start()
            log.info("data node watches %s", channel)

    def unwatch_channel(self, channel: str) -> None:
        with self._lock:
            self._writer.close_channel(channel)
            flusher = self._flushers.pop(channel, None)
        if flusher is not None:
            flusher.stop()

    def watched_channels(self) -> list[str]:
        with self._lock:
            return sorted(self._flushers)

    def flusher(self, channel: str) -> ChannelFlusher | None:
        """The channel's flusher (tests and diagnostics)."""
        with self._lock:
            return self._flushers.get(channel)

    def _ensure(self, channel: str, collection: CollectionInfo) -> None:
        if self._writer.owns(channel):
            return
        with self._lock:
            retired = channel in self._retired
        if retired:
            raise collection_not_found(collection.name, collection.db_name)
        self.watch_channel(channel)

    # -------------------------------------------------------- ChannelWriter

    def insert(self, collection: CollectionInfo, channel: str, partition_id: int, columns: Columns) -> int:
        self._ensure(channel, collection)
        return self._writer.insert(collection, channel, partition_id, columns)

    def delete(self, collection: CollectionInfo, channel: str, partition_id: int, pks: np.ndarray) -> int:
        self._ensure(channel, collection)
        return self._writer.delete(collection, channel, partition_id, pks)

    def upsert(self, collection: CollectionInfo, channel: str, partition_id: int, columns: Columns) -> int:
        self._ensure(channel, collection)
        return self._writer.upsert(collection, channel, partition_id, columns)

    def truncate_collection(self, collection: CollectionInfo, channel: str) -> int:
        self._ensure(channel, collection)
        return self._writer.truncate(channel, collection.id)

    def seal_collection(self, collection_id: int, channel: str) -> list[int]:
        if not self._writer.owns(channel):
            self.watch_channel(channel)
        return self._writer.seal_collection(collection_id, channel)

    def last_ts(self, channel: str) -> int:
        return self._writer.last_ts(channel)

    def update_schema(self, collection: CollectionInfo, channel: str) -> int:
        self._ensure(channel, collection)
        return self._writer.update_schema(collection, channel)

    def drop_collection(self, collection: CollectionInfo) -> None:
        """Append DROP_COLLECTION to the collection's channels this node owns, then retire them."""
        for channel in collection.channels:
            if self._writer.owns(channel):
                self._writer.drop(channel, collection.id, None)
                self.unwatch_channel(channel)
                with self._lock:
                    self._retired.add(channel)

    def drop_partition(self, collection: CollectionInfo, partition_id: int) -> None:
        for channel in collection.channels:
            key = (channel, collection.id, partition_id)
            with self._lock:
                done = key in self._dropped_partitions
                self._dropped_partitions.add(key)
            if not done and self._writer.owns(channel):
                self._writer.drop(channel, collection.id, partition_id)

    # ------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Stop ticking and flushing (buffers are dropped; checkpoints say where to resume)."""
        self._writer.close()
        with self._lock:
            flushers = list(self._flushers.values())
            self._flushers.clear()
        for flusher in flushers:
            flusher.stop()
