"""The channel writer: ordered, durable appends to the channels a data node owns.

Contract (see :class:`elanus.cluster.interfaces.ChannelWriter`):

* **Order.** Every append to a channel happens under that channel's lock, and
  the message's TSO timestamp is taken under the same lock, so offset order
  is timestamp order on every channel (ties only inside an upsert, whose
  DELETE and INSERT share one timestamp, delete first).
* **Durability with group commit.** The append is *queued* under the lock and
  waited for outside it, so concurrent writers of a channel share one fsync
  of the WAL. A write returns only once durable.
* **Segments.** Rows of a (collection, partition) go to its growing segment;
  a new one gets its id from the root coordinator and is registered with the
  data coordinator *before* its first INSERT is appended, so a segment that
  has data in the WAL is always known to the data coordinator (recovery
  depends on it). A segment is sealed — a ``FLUSH`` message appended and the
  data coordinator told — when the seal policy's rows or bytes are reached,
  when it has been idle for ``idle_seconds``, on a manual flush, or when the
  data node recovers a channel.
* **Time ticks.** A background ticker appends a non-durable ``TIMETICK`` to
  every owned channel every ``tick_interval`` seconds (so readers' tsafe
  advances without writes) and seals idle segments.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from elanus.cluster.registry import Registry
from elanus.cluster.types import CollectionInfo, Columns, SealPolicy, SegmentInfo, SegmentState
from elanus.core import batch
from elanus.core.errors import CHANNEL_NOT_FOUND, MilvusError, compose
from elanus.core.messages import UPSERT_DELETE, Message, MsgType, flush_body
from elanus.storage.errors import ChannelNotFound, StorageClosed
from elanus.storage.wal.base import Wal

log = logging.getLogger(__name__)

TICK_INTERVAL = 0.2
# Arrow schema metadata key naming the primary-key column of an INSERT body, so
# the flusher can write pk statistics without asking for the collection schema.
PK_METADATA_KEY = b"elanus.pk"


@dataclass
class _Growing:
    """A growing segment as the writer tracks it (rows/bytes written so far)."""

    segment_id: int
    collection_id: int
    partition_id: int
    rows: int = 0
    nbytes: int = 0
    last_write: float = field(default_factory=time.monotonic)


@dataclass
class _Channel:
    name: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_ts: int = 0
    growing: dict[tuple[int, int], _Growing] = field(default_factory=dict)
    closed: bool = False


def channel_not_found(channel: str) -> MilvusError:
    return MilvusError(CHANNEL_NOT_FOUND, compose(CHANNEL_NOT_FOUND, fields={"channel": channel}))


def insert_body(collection: CollectionInfo, columns: Columns) -> bytes:
    """The Arrow IPC body of an INSERT (schema metadata names the pk column)."""
    record = batch.to_arrow(columns, collection.schema)
    record = record.replace_schema_metadata({PK_METADATA_KEY: collection.schema.primary.name.encode()})
    return batch.to_ipc(record)


def delete_body(pks: np.ndarray) -> bytes:
    """The Arrow IPC body of a DELETE: one column ``pk``."""
    arr = pa.array(pks, type=pa.string()) if pks.dtype.kind in "OUS" else pa.array(pks, type=pa.int64())
    return batch.to_ipc(pa.RecordBatch.from_arrays([arr], names=["pk"]))


class ChannelWriterImpl:
    """Writes the channels opened with :meth:`open_channel`; see the module docstring."""

    def __init__(self, registry: Registry, wal: Wal, seal_policy: SealPolicy,
                 tick_interval: float = TICK_INTERVAL) -> None:
        self._registry = registry
        self._wal = wal
        self._policy = seal_policy
        self._tick_interval = tick_interval
        self._channels: dict[str, _Channel] = {}
        self._lock = threading.Lock()  # guards the _channels dict only
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="data-node-ticker", daemon=True)
        self._ticker.start()

    # ------------------------------------------------------------------ channels

    def open_channel(self, channel: str, recovered: list[SegmentInfo]) -> None:
        """Start writing ``channel``. ``recovered`` are the segments the data coordinator
        still has unflushed there: their in-memory assignment died with the previous owner,
        so they are sealed (FLUSH appended, again if need be) before any new write."""
        ch = _Channel(channel)
        with ch.lock:
            with self._lock:
                self._channels[channel] = ch
            by_collection: dict[int, list[int]] = defaultdict(list)
            for seg in recovered:
                by_collection[seg.collection_id].append(seg.id)
            futures = [self._append_flush(ch, coll, ids) for coll, ids in sorted(by_collection.items())]
        for fut in futures:
            fut.result()
        ids = [seg.id for seg in recovered]
        if ids:
            self._registry.data_coord().seal_segments(ids)
            log.info("channel %s: sealed %d segments left unflushed by the previous owner", channel, len(ids))

    def close_channel(self, channel: str) -> None:
        """Stop writing ``channel`` (no seal: a later owner recovers its segments)."""
        with self._lock:
            ch = self._channels.pop(channel, None)
        if ch is not None:
            with ch.lock:
                ch.closed = True

    def owns(self, channel: str) -> bool:
        with self._lock:
            return channel in self._channels

    def _channel(self, channel: str) -> _Channel:
        with self._lock:
            ch = self._channels.get(channel)
        if ch is None:
            raise channel_not_found(channel)
        return ch

    # ------------------------------------------------------------------- writes

    def insert(self, collection: CollectionInfo, channel: str, partition_id: int, columns: Columns) -> int:
        # Encoding is the expensive part and needs no lock.
        return self._write(collection, channel, partition_id, None, insert_body(collection, columns),
                           batch.num_rows(columns))

    def delete(self, collection: CollectionInfo, channel: str, partition_id: int, pks: np.ndarray) -> int:
        return self._write(collection, channel, partition_id, delete_body(pks), None, 0)

    def upsert(self, collection: CollectionInfo, channel: str, partition_id: int, columns: Columns) -> int:
        pks = columns[collection.schema.primary.name]
        return self._write(collection, channel, partition_id, delete_body(pks),
                           insert_body(collection, columns), batch.num_rows(columns))

    def _write(self, collection: CollectionInfo, channel: str, partition_id: int,
               del_body: bytes | None, ins_body: bytes | None, rows: int) -> int:
        ch = self._channel(channel)
        coll = collection.id
        futures: list[Future[int]] = []
        sealed: list[int] = []
        report: SegmentInfo | None = None
        with ch.lock:
            if ch.closed:
                raise channel_not_found(channel)
            ts = self._root_ts()
            try:
                if del_body is not None:
                    half = UPSERT_DELETE if ins_body is not None else 0
                    msg = Message(MsgType.DELETE, ts, coll, partition_id, half, del_body)
                    futures.append(self._append(ch, msg))
                if ins_body is not None:
                    seg = self._segment_for(ch, coll, partition_id, rows, len(ins_body), sealed)
                    futures.append(self._append(ch, Message(MsgType.INSERT, ts, coll, partition_id,
                                                            seg.segment_id, ins_body)))
                    seg.rows += rows
                    seg.nbytes += len(ins_body)
                    seg.last_write = time.monotonic()
                    report = SegmentInfo(seg.segment_id, coll, partition_id, channel, SegmentState.GROWING,
                                         num_rows=seg.rows)
                    if self._full(seg):
                        del ch.growing[(coll, partition_id)]
                        # Appended, not awaited here: the INSERT's durable wait below covers it.
                        self._append_flush(ch, coll, [seg.segment_id])
                        sealed.append(seg.segment_id)
            except ChannelNotFound:
                raise channel_not_found(channel) from None
        # Outside the lock: concurrent writers queue behind us and share the fsync.
        for fut in futures:
            fut.result()
        dc = self._registry.data_coord()
        if report is not None:
            dc.register_segment(report)  # known id: only updates the row count
        if sealed:
            dc.seal_segments(sealed)
        return ts

    def _segment_for(self, ch: _Channel, coll: int, part: int, rows: int, nbytes: int,
                     sealed: list[int]) -> _Growing:
        """The growing segment of (coll, part) that takes ``rows`` more rows (channel lock held).

        A segment that would overflow is sealed first, so segments stay near the policy's
        size; a single batch larger than the policy still goes into one segment."""
        seg = ch.growing.get((coll, part))
        if seg is not None and seg.rows and (seg.rows + rows > self._policy.max_rows
                                             or seg.nbytes + nbytes > self._policy.max_bytes):
            del ch.growing[(coll, part)]
            self._append_flush(ch, coll, [seg.segment_id])
            sealed.append(seg.segment_id)
            seg = None
        if seg is None:
            seg_id = self._registry.root().alloc_ids(1)
            # Registered before the first INSERT is appended: see the module docstring.
            self._registry.data_coord().register_segment(SegmentInfo(
                seg_id, coll, part, ch.name, SegmentState.GROWING,
                start_offset=self._wal.end_offset(ch.name)))
            seg = _Growing(seg_id, coll, part)
            ch.growing[(coll, part)] = seg
        return seg

    def _full(self, seg: _Growing) -> bool:
        return seg.rows >= self._policy.max_rows or seg.nbytes >= self._policy.max_bytes

    def _root_ts(self) -> int:
        return self._registry.root().alloc_timestamp()

    def _append(self, ch: _Channel, msg: Message, durable: bool = True) -> Future[int]:
        """Queue ``msg`` (channel lock held; ``msg.ts`` was taken under it)."""
        fut = self._wal.append_async(ch.name, msg.encode(), durable=durable)
        ch.last_ts = max(ch.last_ts, msg.ts)
        return fut

    def _append_flush(self, ch: _Channel, coll: int, segment_ids: list[int]) -> Future[int]:
        """Queue a FLUSH of ``segment_ids`` (possibly none: a manual flush's marker)."""
        seg = segment_ids[0] if len(segment_ids) == 1 else 0
        msg = Message(MsgType.FLUSH, self._root_ts(), coll, 0, seg, flush_body(segment_ids))
        return self._append(ch, msg)

    # ------------------------------------------------------------ seal and DDL

    def seal_collection(self, collection_id: int, channel: str) -> list[int]:
        """Seal the collection's growing segments on ``channel``; always appends a FLUSH
        (a marker when nothing is growing) so the flusher persists the collection's
        pending deletes and moves the checkpoint past everything before it."""
        ch = self._channel(channel)
        with ch.lock:
            keys = [k for k in ch.growing if k[0] == collection_id]
            ids = sorted(ch.growing.pop(k).segment_id for k in keys)
            try:
                fut = self._append_flush(ch, collection_id, ids)
            except ChannelNotFound:
                raise channel_not_found(channel) from None
        fut.result()
        if ids:
            self._registry.data_coord().seal_segments(ids)
        return ids

    def drop(self, channel: str, collection_id: int, partition_id: int | None) -> None:
        """Append DROP_COLLECTION (``partition_id`` None) or DROP_PARTITION to ``channel``
        and forget the growing segments concerned (the data coordinator drops their meta)."""
        ch = self._channel(channel)
        with ch.lock:
            for key in [k for k in ch.growing
                        if k[0] == collection_id and (partition_id is None or k[1] == partition_id)]:
                del ch.growing[key]
            mtype = MsgType.DROP_COLLECTION if partition_id is None else MsgType.DROP_PARTITION
            fut = self._append(ch, Message(mtype, self._root_ts(), collection_id, partition_id or 0))
        fut.result()

    def truncate(self, channel: str, collection_id: int) -> int:
        """Append TRUNCATE for the collection to ``channel`` and forget its growing segments;
        returns a fence id: every segment of the collection created on ``channel`` before the
        TRUNCATE has a smaller id, every later one a larger id (ids come from one allocator
        and are taken under the channel lock)."""
        ch = self._channel(channel)
        with ch.lock:
            if ch.closed:
                raise channel_not_found(channel)
            for key in [k for k in ch.growing if k[0] == collection_id]:
                del ch.growing[key]
            fence = self._registry.root().alloc_ids(1)
            try:
                fut = self._append(ch, Message(MsgType.TRUNCATE, self._root_ts(), collection_id))
            except ChannelNotFound:
                raise channel_not_found(channel) from None
        fut.result()
        return fence

    def update_schema(self, collection: CollectionInfo, channel: str) -> int:
        """Append SCHEMA (the collection's new schema) to ``channel``; returns once durable.
        INSERTs after it may carry the added fields; consumers adopt it in WAL order."""
        ch = self._channel(channel)
        with ch.lock:
            if ch.closed:
                raise channel_not_found(channel)
            ts = self._root_ts()
            try:
                fut = self._append(ch, Message(MsgType.SCHEMA, ts, collection.id, 0, 0, collection.schema_bytes))
            except ChannelNotFound:
                raise channel_not_found(channel) from None
        fut.result()
        return ts

    def last_ts(self, channel: str) -> int:
        with self._lock:
            ch = self._channels.get(channel)
        return 0 if ch is None else ch.last_ts

    # --------------------------------------------------------------- ticker

    def _tick_loop(self) -> None:
        while not self._stop.wait(self._tick_interval):
            with self._lock:
                channels = list(self._channels.values())
            for ch in channels:
                try:
                    self._tick(ch)
                except ChannelNotFound:
                    log.warning("channel %s vanished; no longer writing it", ch.name)
                    self.close_channel(ch.name)
                except StorageClosed:
                    return
                except Exception:
                    log.exception("time tick on channel %s failed", ch.name)

    def _tick(self, ch: _Channel) -> None:
        idle_before = time.monotonic() - self._policy.idle_seconds
        sealed: list[int] = []
        with ch.lock:
            if ch.closed:
                return
            idle = [k for k, seg in ch.growing.items() if seg.last_write <= idle_before]
            by_collection: dict[int, list[int]] = defaultdict(list)
            for key in idle:
                seg = ch.growing.pop(key)
                by_collection[seg.collection_id].append(seg.segment_id)
                sealed.append(seg.segment_id)
            for coll, ids in by_collection.items():
                self._append_flush(ch, coll, ids).add_done_callback(_log_failure)
            tick = self._append(ch, Message(MsgType.TIMETICK, self._root_ts()), durable=False)
        tick.add_done_callback(_log_failure)
        if sealed:
            log.info("channel %s: sealed idle segments %s", ch.name, sealed)
            self._registry.data_coord().seal_segments(sealed)

    def close(self) -> None:
        """Stop the ticker. Idempotent."""
        self._stop.set()
        if self._ticker.is_alive() and self._ticker is not threading.current_thread():
            self._ticker.join(timeout=5)


def _log_failure(fut: Future[int]) -> None:
    exc = fut.exception()
    if exc is not None and not isinstance(exc, ChannelNotFound | StorageClosed):
        log.warning("WAL append failed: %r", exc)
