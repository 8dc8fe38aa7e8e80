"""The query node: delegators of the channels it leads, and the sealed segments it holds.

Two roles in one object, as in Milvus:

- shard leader — ``watch_channel`` starts a :class:`Delegator`; ``search``/``query``
  on a channel go to it; ``handoff``/``drop_sealed`` change what it serves;
- worker — ``load_segment``/``release_segment`` manage sealed segments;
  ``search_segments``/``query_segments``/``apply_deletes``/``update_schema`` serve
  delegators (this node's or another's, always called through the registry).

Reloading a segment that is already held (say, once its index is built) swaps the
new copy in under the node lock after taking over the old copy's deletes (and newer
schema), so no delete is lost and readers see one copy or the other. A released segment stays
readable for a short grace period, so a read that pinned a distribution naming it
just before a move still finds it.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from elanus.cluster.registry import Registry
from elanus.cluster.types import (
    CollectionInfo,
    DeltaLogInfo,
    QueryRequest,
    QueryResult,
    SearchHits,
    SearchRequest,
    SegmentInfo,
)
from elanus.core.errors import CHANNEL_NOT_FOUND, SEGMENT_NOT_FOUND, error
from elanus.core.memory import release_free_memory
from elanus.core.reduce import merge_hits, merge_query_results
from elanus.core.schema import CollectionSchema
from elanus.core.segment import SealedSegment
from elanus.core.segment.spill import clear_spill_dir
from elanus.storage.meta.base import MetaStore
from elanus.storage.objects.base import ObjectStore
from elanus.storage.wal.base import Wal
from elanus.worker.query_node.delegator import Delegator

log = logging.getLogger(__name__)

_RETIRE_GRACE = 5.0  # seconds a released segment stays readable for in-flight reads


class QueryNodeImpl:
    """interfaces.QueryNode for embedded and cluster mode (see the module docstring)."""

    def __init__(self, node_id: int, registry: Registry, meta: MetaStore, objects: ObjectStore,
                 wal: Wal, *, wait_timeout: float = 30.0, search_workers: int = 4,
                 spill_dir: str | None = None) -> None:
        self.node_id = node_id
        # Raw vectors an index does not hold are memory-mapped from files here (None: heap).
        self._spill_dir = spill_dir
        if spill_dir is not None:
            clear_spill_dir(spill_dir)
        self._registry = registry
        self._meta = meta
        self._objects = objects
        self._wal = wal
        self._wait_timeout = wait_timeout
        self._lock = threading.Lock()
        self._delegators: dict[str, Delegator] = {}
        self._segments: dict[int, SealedSegment] = {}
        self._retired: dict[int, tuple[float, SealedSegment]] = {}
        # Created once: sub-searches on other nodes run here in parallel (faiss and
        # numpy release the GIL); never a pool per request.
        self._pool = ThreadPoolExecutor(max_workers=search_workers, thread_name_prefix=f"qn{node_id}")

    def close(self) -> None:
        with self._lock:
            delegators = list(self._delegators.values())
            self._delegators.clear()
        for d in delegators:
            d.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ channels
    def watch_channel(self, collection: CollectionInfo, channel: str, seek_offset: int,
                      excluded_segments: list[int], partition_ids: tuple[int, ...]) -> None:
        """Lead ``channel`` from ``seek_offset``; on a channel already led for this
        collection, only update the served partitions and excluded segments."""
        with self._lock:
            current = self._delegators.get(channel)
            if current is not None and current.collection.id == collection.id:
                current.update(partition_ids, excluded_segments)
                return
            d = Delegator(collection, channel, seek_offset, excluded_segments, partition_ids,
                          self._wal, self._registry, self._pool, self._wait_timeout)
            self._delegators[channel] = d
        if current is not None:
            current.stop()
        d.start()
        log.info("node %d leads %s from offset %d", self.node_id, channel, seek_offset)

    def unwatch_channel(self, collection_id: int, channel: str) -> None:
        with self._lock:
            d = self._delegators.get(channel)
            if d is None or d.collection.id != collection_id:
                return
            del self._delegators[channel]
        d.stop()

    def _delegator(self, channel: str) -> Delegator:
        d = self._delegators.get(channel)
        if d is None:
            raise error(CHANNEL_NOT_FOUND, channel=channel)
        return d

    def channel_caught_up(self, channel: str) -> bool:
        d = self._delegators.get(channel)
        return d is not None and d.caught_up

    def delegator(self, channel: str) -> Delegator | None:
        """The delegator of ``channel`` if this node leads it (diagnostics, tests)."""
        return self._delegators.get(channel)

    def handoff(self, channel: str, segment: SegmentInfo, node_id: int) -> None:
        self._delegator(channel).handoff(segment, node_id)

    def drop_sealed(self, channel: str, segment_id: int) -> None:
        d = self._delegators.get(channel)
        if d is not None:
            d.drop_sealed(segment_id)

    # ------------------------------------------------------------------ sealed segments
    def load_segment(self, collection: CollectionInfo, segment: SegmentInfo,
                     deltas: list[DeltaLogInfo]) -> None:
        """Load ``segment`` (data, indexes, then ``deltas``); replaces a held copy."""
        seg = SealedSegment.load(self._objects, collection.schema, segment, deltas, self._spill_dir)
        with self._lock:
            old = self._segments.get(segment.id)
            if old is not None:
                seg.adopt_deletes(old)
                seg.update_schema(old.schema)  # a schema update the old copy got while this one loaded
            self._segments[segment.id] = seg
            self._retired.pop(segment.id, None)
        old = None  # an earlier copy (say, one without the index) goes now, not on return
        release_free_memory()  # the load's temporaries (decoded columns, index blob)
        log.info("node %d loaded segment %d (%d rows)", self.node_id, segment.id, seg.num_rows)

    def release_segment(self, segment_id: int) -> None:
        now = time.monotonic()
        with self._lock:
            seg = self._segments.pop(segment_id, None)
            if seg is not None:
                self._retired[segment_id] = (now, seg)
            expired = [sid for sid, (at, _) in self._retired.items() if now - at > _RETIRE_GRACE]
            for sid in expired:
                del self._retired[sid]
        if expired:
            release_free_memory()

    def segment(self, segment_id: int) -> SealedSegment:
        seg = self._segments.get(segment_id)
        if seg is None:
            retired = self._retired.get(segment_id)
            if retired is None:
                raise error(SEGMENT_NOT_FOUND, segment=segment_id)
            seg = retired[1]
        return seg

    def segment_ids(self) -> list[int]:
        return sorted(self._segments)

    @property
    def memory_bytes(self) -> int:
        return sum(s.memory_bytes for s in list(self._segments.values()))

    def apply_deletes(self, segment_ids: list[int], pks: np.ndarray, ts: np.ndarray) -> None:
        # Under the node lock so a concurrent reload cannot take over the old copy's
        # deletes between this delete and the swap (the delete would be lost).
        with self._lock:
            for sid in segment_ids:
                seg = self._segments.get(sid)
                if seg is not None:
                    seg.apply_delete(pks, ts)

    def update_schema(self, segment_ids: list[int], schema: CollectionSchema) -> None:
        # Under the node lock, like apply_deletes: a reload swapping in a new copy takes
        # the old copy's schema over (load_segment), so the update is never lost.
        with self._lock:
            for sid in segment_ids:
                seg = self._segments.get(sid)
                if seg is not None:
                    seg.update_schema(schema)

    # ------------------------------------------------------------------ reads
    def search(self, channel: str, request: SearchRequest) -> SearchHits:
        return self._delegator(channel).search(request)

    def query(self, channel: str, request: QueryRequest) -> QueryResult:
        return self._delegator(channel).query(request)

    def search_segments(self, segment_ids: list[int], request: SearchRequest) -> SearchHits:
        """Top-k over the given held segments at ``request.mvcc_ts``."""
        if len(segment_ids) == 1:
            seg = self.segment(segment_ids[0])
            return seg.search(request, seg.visible_mask(request.mvcc_ts))
        parts = []
        for sid in segment_ids:
            seg = self.segment(sid)
            parts.append(seg.search(request, seg.visible_mask(request.mvcc_ts)))
        return merge_hits(parts, request.k)

    def query_segments(self, segment_ids: list[int], request: QueryRequest) -> QueryResult:
        parts = [self.segment(sid).query(request) for sid in segment_ids]
        pk = self._pk_name(segment_ids)
        limit = request.offset + request.limit if request.limit >= 0 else -1
        return merge_query_results(parts, pk, limit=limit, count_only=request.count_only)

    def _pk_name(self, segment_ids: list[int]) -> str:
        return self.segment(segment_ids[0]).pk_name if segment_ids else ""
