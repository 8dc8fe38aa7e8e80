"""The shard delegator: one per watched WAL channel, on the query node chosen as its leader.

A consumer thread replays the channel from the seek offset (the data coordinator's
checkpoint) and keeps the shard's in-memory state:

- INSERT → the growing segment of that id (created on first rows), unless the id is
  excluded (its sealed copy is, or will be, served instead);
- DELETE → every growing segment, every sealed segment of the channel (through the
  owning node's ``apply_deletes``) and the delete buffer, which is replayed into a
  sealed copy at handoff so deletes consumed while it was loading are not lost;
- FLUSH → the named growing segments are marked sealed (still served until handoff);
- DROP_PARTITION / DROP_COLLECTION → their segments leave the distribution;
- TRUNCATE → the growing segments leave it (and are never served again); the query
  coordinator drops the sealed ones;
- SCHEMA (a field was added) → the delegator, its growing segments and the sealed copies
  it serves (through their nodes' ``update_schema``) adopt the newer schema; a copy handed
  off later is brought up to date at handoff;
- every message → tsafe = its timestamp, waking waiting reads.

Upserts are a DELETE and an INSERT with the same timestamp ``t`` (delete first, the
DELETE marked ``UPSERT_DELETE``): after such a DELETE tsafe is held at ``t - 1`` until the
INSERT, the next message of the channel, has been applied,
so no read at ``t`` can see the old row gone and the new one missing.

Reads wait for tsafe >= guarantee_ts, read at mvcc_ts = tsafe, pin one
:class:`~elanus.worker.query_node.distribution.Distribution` snapshot, search growing
segments here and sealed ones on their nodes (direct calls through the registry), and
reduce. A batch of WAL records and a handoff never interleave (one lock), so a delete
reaches either the old or the new copy of a segment, and the buffer covers the rest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import Executor, Future
from dataclasses import replace

import numpy as np

from elanus.cluster.registry import Registry
from elanus.cluster.types import (
    CollectionInfo,
    QueryRequest,
    QueryResult,
    SearchHits,
    SearchRequest,
    SegmentInfo,
)
from elanus.core import batch
from elanus.core.errors import SERVICE_UNAVAILABLE, MilvusError, compose
from elanus.core.messages import UPSERT_DELETE, Message, MsgType, flush_segments
from elanus.core.reduce import merge_hits, merge_query_results
from elanus.core.schema import from_bytes
from elanus.core.segment import GrowingSegment
from elanus.core.segment.base import DEFAULT_METRIC
from elanus.core.segment.hits import empty_fields, empty_hits, output_columns
from elanus.storage.errors import StorageClosed
from elanus.storage.wal.base import Wal
from elanus.worker.query_node.distribution import Distribution, SealedCopy
from elanus.worker.query_node.tsafe import TSafe

log = logging.getLogger(__name__)

_BATCH = 1024
_IDLE_WAIT = 0.05  # how often an idle consumer checks for stop (reads wake on new records)


class Delegator:
    """Leader of one shard channel (see the module docstring)."""

    def __init__(self, collection: CollectionInfo, channel: str, seek_offset: int,
                 excluded_segments: Iterable[int], partition_ids: tuple[int, ...], wal: Wal,
                 registry: Registry, pool: Executor, wait_timeout: float = 30.0) -> None:
        self.collection = collection
        self.channel = channel
        self.schema = collection.schema
        self._wal = wal
        self._registry = registry
        self._pool = pool
        self._wait_timeout = wait_timeout
        self._excluded = set(excluded_segments)
        self._partitions: frozenset[int] | None = frozenset(partition_ids) or None
        self._target = wal.visible_offset(channel)
        self._seek = seek_offset
        self._consumed = seek_offset
        self._growing: dict[int, GrowingSegment] = {}
        self._dist = Distribution()
        self._deletes: list[tuple[np.ndarray, np.ndarray]] = []
        self._lock = threading.RLock()
        self.tsafe = TSafe(channel)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"delegator-{channel}", daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.tsafe.close()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def update(self, partition_ids: tuple[int, ...], excluded_segments: Iterable[int]) -> None:
        """Serve another partition set; never serve the given segments as growing."""
        with self._lock:
            self._partitions = frozenset(partition_ids) or None
            self._excluded.update(excluded_segments)

    @property
    def caught_up(self) -> bool:
        """Whether everything visible in the WAL when the watch began has been applied."""
        return self._consumed >= self._target

    @property
    def distribution(self) -> Distribution:
        return self._dist

    # ------------------------------------------------------------------ consumer
    def _run(self) -> None:
        try:
            reader = self._wal.reader(self.channel, self._seek)
        except Exception as exc:
            self._fail(exc)
            return
        try:
            while not self._stop.is_set():
                records = reader.read(_BATCH, _IDLE_WAIT)
                if not records:
                    continue
                last_ts, half_upsert = 0, False
                with self._lock:
                    for rec in records:
                        mtype, last_ts, seg = self._apply(rec.payload)
                        half_upsert = mtype == MsgType.DELETE and seg == UPSERT_DELETE
                        self._consumed = rec.offset + 1
                # The first half of an upsert ends this batch: keep tsafe below its
                # timestamp until its INSERT (the next message) is applied too.
                self.tsafe.advance(last_ts - 1 if half_upsert else last_ts)
        except StorageClosed:
            pass
        except Exception as exc:
            self._fail(exc)
        finally:
            reader.close()

    def _fail(self, exc: BaseException) -> None:
        if self._stop.is_set():
            return
        log.exception("delegator of %s stopped", self.channel, exc_info=exc)
        self._error = exc
        self.tsafe.close()

    def _apply(self, payload: bytes) -> tuple[MsgType, int, int]:
        mtype, ts, coll, part, seg = Message.peek_header(payload)
        if coll != self.collection.id and mtype != MsgType.TIMETICK:
            return mtype, ts, seg
        if mtype == MsgType.INSERT:
            if seg not in self._excluded:
                self._insert(Message.decode(payload), seg, part, ts)
        elif mtype == MsgType.DELETE:
            rb = batch.from_ipc(Message.decode(payload).body)
            self._delete(rb.column(0).to_numpy(zero_copy_only=False), ts)
        elif mtype == MsgType.FLUSH:
            for sid in flush_segments(Message.decode(payload)):
                g = self._growing.get(sid)
                if g is not None:
                    g.sealed = True
        elif mtype == MsgType.DROP_PARTITION:
            self._growing = {k: g for k, g in self._growing.items() if g.partition_id != part}
            self._dist = self._dist.without_partition(part)
        elif mtype == MsgType.DROP_COLLECTION:
            self._growing = {}
            self._dist = Distribution(version=self._dist.version + 1)
        elif mtype == MsgType.TRUNCATE:
            # Later rows go to new segments; sealed copies are dropped by the query coordinator.
            for sid in list(self._growing):
                self._excluded.add(sid)
                self._dist = self._dist.without_segment(sid)
            self._growing = {}
        elif mtype == MsgType.SCHEMA:
            self._update_schema(Message.decode(payload).body)
        return mtype, ts, seg

    def _update_schema(self, schema_bytes: bytes) -> None:
        schema = from_bytes(schema_bytes)
        if schema.version <= self.schema.version:
            return  # replayed, or the schema this delegator was started with is newer
        self.schema = schema
        self.collection = replace(self.collection, schema=schema, schema_bytes=schema_bytes)
        for g in self._growing.values():
            g.update_schema(schema)
        for node_id, ids in self._dist.sealed_by_node.items():
            self._registry.query_node(node_id).update_schema(ids, schema)
        log.info("%s: collection %d now at schema version %d", self.channel, self.collection.id,
                 schema.version)

    def _insert(self, msg: Message, segment_id: int, partition_id: int, ts: int) -> None:
        columns = batch.from_arrow(batch.from_ipc(msg.body), self.schema)
        g = self._growing.get(segment_id)
        if g is None:
            g = GrowingSegment(segment_id, self.collection.id, partition_id, self.schema)
            self._growing[segment_id] = g
            self._dist = self._dist.with_growing(g)
        g.append(columns, ts)

    def _delete(self, pks: np.ndarray, ts: int) -> None:
        for g in self._dist.growing:
            g.apply_delete(pks, ts)
        ts_arr = np.full(len(pks), ts, dtype=np.uint64)
        for node_id, ids in self._dist.sealed_by_node.items():
            self._registry.query_node(node_id).apply_deletes(ids, pks, ts_arr)
        self._deletes.append((pks, ts_arr))

    # ------------------------------------------------------------------ distribution changes
    def handoff(self, segment: SegmentInfo, node_id: int) -> None:
        """Serve ``segment`` from ``node_id``: replay buffered deletes into that copy, then
        swap it in for the growing copy (or an older sealed copy) in one snapshot."""
        with self._lock:
            if len(self._deletes) > 1:
                pks = np.concatenate([p for p, _ in self._deletes])
                self._deletes = [(pks, np.concatenate([t for _, t in self._deletes]))]
            if self._deletes:
                pks, ts = self._deletes[0]
                self._registry.query_node(node_id).apply_deletes([segment.id], pks, ts)
            if self.schema.version:
                # The copy may have been loaded with an older schema than this delegator's.
                self._registry.query_node(node_id).update_schema([segment.id], self.schema)
            self._excluded.add(segment.id)
            self._growing.pop(segment.id, None)
            self._dist = self._dist.handoff(SealedCopy(segment.id, node_id, segment.partition_id))

    def drop_sealed(self, segment_id: int) -> None:
        with self._lock:
            self._dist = self._dist.without_segment(segment_id)

    # ------------------------------------------------------------------ reads
    def _check(self) -> None:
        if self._error is not None:
            detail = f"delegator failed: {self._error}"
            raise MilvusError(SERVICE_UNAVAILABLE, compose(
                SERVICE_UNAVAILABLE, fields={"channel": self.channel}, detail=detail))

    def _scope(self, requested: tuple[int, ...]) -> frozenset[int] | None:
        loaded = self._partitions
        if not requested:
            return loaded
        wanted = frozenset(requested)
        return wanted if loaded is None else wanted & loaded

    def _wait(self, guarantee_ts: int) -> int:
        self._check()
        t = self.tsafe.wait(guarantee_ts, self._wait_timeout)
        self._check()
        return t

    def search(self, request: SearchRequest) -> SearchHits:
        """Shard top-k at mvcc_ts = tsafe (after waiting for ``guarantee_ts``)."""
        request = replace(request, mvcc_ts=self._wait(request.guarantee_ts))
        dist = self._dist  # pinned: handoffs after this line do not affect this read
        scope = self._scope(request.partition_ids)
        growing = [g for g in dist.growing if scope is None or g.partition_id in scope]
        by_node = dist.sealed_by_node if scope is None else dist.group_sealed(scope)
        if not growing and not by_node:
            columns = output_columns(self.schema, request.output_fields)
            return empty_hits(self.schema, len(request.queries), request.k,
                              request.metric or DEFAULT_METRIC, columns)
        if not growing and len(by_node) == 1:
            ((node_id, ids),) = by_node.items()
            return self._registry.query_node(node_id).search_segments(ids, request)
        futures: list[Future[SearchHits]] = [
            self._pool.submit(self._registry.query_node(node_id).search_segments, ids, request)
            for node_id, ids in by_node.items()]
        parts = [g.search(request, g.visible_mask(request.mvcc_ts)) for g in growing]
        parts.extend(f.result() for f in futures)
        return merge_hits(parts, request.k)

    def query(self, request: QueryRequest) -> QueryResult:
        """Shard rows at mvcc_ts = tsafe: up to ``offset + limit`` smallest-pk matches
        (the proxy cuts ``offset``), every match without a limit, or the count."""
        request = replace(request, mvcc_ts=self._wait(request.guarantee_ts))
        dist = self._dist
        scope = self._scope(request.partition_ids)
        growing = [g for g in dist.growing if scope is None or g.partition_id in scope]
        by_node = dist.sealed_by_node if scope is None else dist.group_sealed(scope)
        futures: list[Future[QueryResult]] = [
            self._pool.submit(self._registry.query_node(node_id).query_segments, ids, request)
            for node_id, ids in by_node.items()]
        parts = [g.query(request) for g in growing]
        parts.extend(f.result() for f in futures)
        if not parts:
            names = [self.schema.primary.name, *output_columns(self.schema, request.output_fields)]
            parts = [QueryResult(columns={} if request.count_only else
                                 empty_fields(self.schema, list(dict.fromkeys(names)), 0), count=0)]
        limit = request.offset + request.limit if request.limit >= 0 else -1
        return merge_query_results(parts, self.schema.primary.name, limit=limit,
                                   count_only=request.count_only)
