"""The flusher: consumes one channel and turns it into files in object storage.

One :class:`ChannelFlusher` (one thread) per owned channel. It reads the WAL
from the data coordinator's checkpoint and

* buffers INSERT bodies (Arrow batches, zero-copy views of the WAL payload)
  per segment; on the segment's ``FLUSH`` writes ``insert_log/.../data.parquet``
  (user columns plus ``$ts``) and ``stats_log/.../pk_stats.json`` and calls
  ``DataCoord.segment_flushed``;
* buffers DELETEs per collection and writes them as a delta log
  (``delta_log/{coll}/{channel}/{log_id}.parquet``, columns ``pk``, ``ts``) at
  every FLUSH and whenever deletes have waited ``delete_flush_seconds``;
* reports the checkpoint: the offset of the oldest message whose content is
  still only in memory (or the read position when nothing is), with the
  timestamp of the message just before it.

Invariants:

* The checkpoint never passes a message whose content is not in object
  storage, and never goes backwards.
* Restart-safe: re-consuming from an older checkpoint skips INSERT/FLUSH of
  segments the data coordinator already has FLUSHED or DROPPED, and DELETEs
  whose timestamp is covered by an existing delta log of the channel (deletes
  reach delta logs in timestamp order, so persisted ones form a prefix).
  Rewriting a segment's files after a crash writes the same keys.
* A FLUSH of a segment that received no rows reports 0 rows (the data
  coordinator drops it).
* TRUNCATE discards the collection's buffered segments and deletes (the data
  coordinator drops every segment created before it).
* Any unexpected error makes the flusher start over from the checkpoint with
  empty buffers, exactly as a restarted data node would.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from elanus.cluster.registry import Registry
from elanus.cluster.types import Checkpoint, DeltaLogInfo, SegmentInfo, SegmentState
from elanus.core import batch
from elanus.core.errors import MilvusError
from elanus.core.memory import release_free_memory
from elanus.core.messages import Message, MsgType, flush_segments
from elanus.core.segment.evolve import arrow_with_defaults
from elanus.storage.errors import ChannelNotFound, StorageClosed
from elanus.storage.objects.base import ObjectStore
from elanus.storage.wal.base import Wal
from elanus.worker.data_node.writer import PK_METADATA_KEY

WAL_RETENTION_SECONDS = 600.0

log = logging.getLogger(__name__)

TS_COLUMN = "$ts"
DELETE_FLUSH_SECONDS = 5.0
DELETE_FLUSH_ROWS = 100_000
CHECKPOINT_INTERVAL = 0.2
_READ_BATCH = 512
_RETRY_SECONDS = 1.0
_DONE = (SegmentState.FLUSHED, SegmentState.DROPPED)


def insert_log_key(coll: int, part: int, seg: int) -> str:
    return f"insert_log/{coll}/{part}/{seg}/data.parquet"


def stats_log_key(coll: int, part: int, seg: int) -> str:
    return f"stats_log/{coll}/{part}/{seg}/pk_stats.json"


def delta_log_key(coll: int, channel: str, log_id: int) -> str:
    return f"delta_log/{coll}/{channel}/{log_id}.parquet"


@dataclass
class _SegmentBuffer:
    collection_id: int
    partition_id: int
    first_offset: int
    prev_ts: int  # ts of the message before first_offset (the checkpoint ts if we stop here)
    batches: list[pa.RecordBatch] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    rows: int = 0


@dataclass
class _DeleteBuffer:
    first_offset: int
    prev_ts: int
    since: float = field(default_factory=time.monotonic)
    pks: list[pa.Array] = field(default_factory=list)
    ts: list[np.ndarray] = field(default_factory=list)
    rows: int = 0


def _to_parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


class ChannelFlusher:
    """Consumes ``channel`` on its own thread; see the module docstring."""

    def __init__(self, channel: str, registry: Registry, wal: Wal, objects: ObjectStore, *,
                 delete_flush_seconds: float = DELETE_FLUSH_SECONDS,
                 checkpoint_interval: float = CHECKPOINT_INTERVAL) -> None:
        self.channel = channel
        self._registry = registry
        self._wal = wal
        self._objects = objects
        self._delete_flush_seconds = delete_flush_seconds
        self._checkpoint_interval = checkpoint_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"flusher-{channel}", daemon=True)
        self._reset(Checkpoint(channel, 0, 0))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop consuming (buffers are dropped; the checkpoint says where to resume)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    @property
    def position(self) -> int:
        """Offset of the next record to consume."""
        return self._position

    # ------------------------------------------------------------------ loop

    def _reset(self, cp: Checkpoint) -> None:
        self._segments: dict[int, _SegmentBuffer] = {}
        self._deletes: dict[int, _DeleteBuffer] = {}
        # Per collection: segment id -> state as the data coordinator knew it when we first
        # met the collection, updated by our own flushes (we are the channel's only flusher).
        self._states: dict[int, dict[int, SegmentState]] = {}
        self._delta_ts: dict[int, int] = {}  # collection -> max ts already in a delta log
        self._dropped: set[int] = set()
        self._position = cp.offset
        self._last_ts = cp.ts
        self._reported = cp
        self._reported_at = time.monotonic()
        # Checkpoints reported, oldest first: the WAL is cut only below one that is at
        # least WAL_RETENTION_SECONDS old, so a query node still catching up from a
        # slightly older checkpoint never finds its records gone.
        self._history: deque[tuple[float, int]] = deque()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._consume()
            except (ChannelNotFound, StorageClosed):
                log.info("flusher of %s stops: channel dropped or log closed", self.channel)
                return
            except Exception:
                log.exception("flusher of %s failed; restarting from its checkpoint", self.channel)
                self._stop.wait(_RETRY_SECONDS)

    def _consume(self) -> None:
        dc = self._registry.data_coord()
        cp = dc.get_checkpoint(self.channel) or Checkpoint(self.channel, 0, 0)
        self._reset(cp)
        reader = self._wal.reader(self.channel, cp.offset)
        try:
            while not self._stop.is_set():
                records = reader.read(_READ_BATCH, timeout=self._checkpoint_interval)
                force = False
                for rec in records:
                    force |= self._apply(rec.offset, rec.payload)
                    self._position = rec.offset + 1
                if self._deletes and self._deletes_due():
                    self._write_deletes()
                    force = True
                self._report(force)
        finally:
            reader.close()

    def _apply(self, offset: int, payload: bytes) -> bool:
        """Apply one record; True when the checkpoint should be reported at once."""
        mtype, ts, coll, part, seg = Message.peek_header(payload)
        force = False
        if mtype == MsgType.INSERT:
            self._buffer_insert(offset, Message.decode(payload), coll, part, seg)
        elif mtype == MsgType.DELETE:
            self._buffer_delete(offset, Message.decode(payload), coll)
        elif mtype == MsgType.FLUSH:
            self._write_deletes()
            for seg_id in flush_segments(Message.decode(payload)):
                self._flush_segment(seg_id, coll)
            force = True
        elif mtype == MsgType.DROP_COLLECTION:
            self._dropped.add(coll)
            self._segments = {k: b for k, b in self._segments.items() if b.collection_id != coll}
            self._deletes.pop(coll, None)
            force = True
        elif mtype == MsgType.DROP_PARTITION:
            self._segments = {k: b for k, b in self._segments.items()
                              if (b.collection_id, b.partition_id) != (coll, part)}
            force = True
        elif mtype == MsgType.TRUNCATE:
            # Every row of the collection written so far is gone (the data coordinator drops
            # the segments), and so are the pending deletes: they could only hide those rows.
            self._segments = {k: b for k, b in self._segments.items() if b.collection_id != coll}
            self._deletes.pop(coll, None)
            force = True
        self._last_ts = ts
        return force

    # ---------------------------------------------------------------- inserts

    def _state(self, coll: int, seg: int) -> SegmentState | None:
        states = self._states.get(coll)
        if states is None:
            segs = self._registry.data_coord().list_segments(coll)
            states = self._states[coll] = {s.id: s.state for s in segs}
        return states.get(seg)

    def _buffer_insert(self, offset: int, msg: Message, coll: int, part: int, seg: int) -> None:
        if coll in self._dropped or self._state(coll, seg) in _DONE:
            return  # replay after a restart, or a dropped collection
        buf = self._segments.get(seg)
        if buf is None:
            buf = self._segments[seg] = _SegmentBuffer(coll, part, offset, self._last_ts)
        record = batch.from_ipc(msg.body)
        buf.batches.append(record)
        buf.ts.append(msg.ts)
        buf.rows += record.num_rows

    def _flush_segment(self, seg_id: int, coll: int) -> None:
        buf = self._segments.pop(seg_id, None)
        if coll in self._dropped or self._state(coll, seg_id) in _DONE:
            return
        dc = self._registry.data_coord()
        if buf is None or buf.rows == 0:
            dc.segment_flushed(SegmentInfo(seg_id, coll, 0, self.channel, SegmentState.FLUSHED, num_rows=0))
        else:
            info = self._write_segment(seg_id, buf)
            del buf  # the segment's rows: by far the largest buffers a data node holds
            release_free_memory()
            dc.segment_flushed(info)
        self._states[coll][seg_id] = SegmentState.FLUSHED

    def _write_segment(self, seg_id: int, buf: _SegmentBuffer) -> SegmentInfo:
        """Write the segment's Parquet and pk stats; the SegmentInfo to report."""
        coll, part = buf.collection_id, buf.partition_id
        schemas = {b.schema.remove_metadata() for b in buf.batches}
        if len(schemas) == 1:
            table = pa.Table.from_batches(buf.batches)
        else:  # batches written before and after a field was added: default, else null
            batches = self._with_defaults(coll, buf.batches)
            table = pa.concat_tables([pa.Table.from_batches([b]) for b in batches],
                                     promote_options="default")
        counts = np.fromiter((b.num_rows for b in buf.batches), dtype=np.int64, count=len(buf.batches))
        ts = np.repeat(np.asarray(buf.ts, dtype=np.uint64), counts)
        table = table.append_column(TS_COLUMN, pa.array(ts, type=pa.uint64()))
        data = _to_parquet(table)
        key = insert_log_key(coll, part, seg_id)
        self._objects.put(key, data)
        self._objects.put(stats_log_key(coll, part, seg_id), self._pk_stats(table, buf))
        log.debug("flushed segment %d of %s: %d rows, %d bytes", seg_id, self.channel, buf.rows, len(data))
        return SegmentInfo(seg_id, coll, part, self.channel, SegmentState.FLUSHED, num_rows=buf.rows,
                           start_offset=buf.first_offset, data_path=key, data_size=len(data),
                           min_ts=int(min(buf.ts)), max_ts=int(max(buf.ts)))

    def _with_defaults(self, coll: int, batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
        """Batches lacking an added field that has a default value get it (rare: only a
        segment straddling an ``add_collection_field`` has batches of different columns)."""
        try:
            schema = self._registry.root().describe_collection("", collection_id=coll).schema
        except MilvusError:
            return batches  # dropped meanwhile: nulls are as good as anything
        return [arrow_with_defaults(b, schema) for b in batches]

    @staticmethod
    def _pk_stats(table: pa.Table, buf: _SegmentBuffer) -> bytes:
        meta = buf.batches[0].schema.metadata or {}
        pk_name = meta.get(PK_METADATA_KEY, b"").decode()
        stats: dict[str, object] = {"num_rows": buf.rows}
        if pk_name in table.column_names:
            mm = pc.min_max(table.column(pk_name))
            stats["min"] = mm["min"].as_py()
            stats["max"] = mm["max"].as_py()
        return json.dumps(stats).encode()

    # ---------------------------------------------------------------- deletes

    def _delta_max_ts(self, coll: int) -> int:
        got = self._delta_ts.get(coll)
        if got is None:
            logs = self._registry.data_coord().list_delta_logs(coll, self.channel)
            got = self._delta_ts[coll] = max((d.max_ts for d in logs), default=0)
        return got

    def _buffer_delete(self, offset: int, msg: Message, coll: int) -> None:
        if coll in self._dropped or msg.ts <= self._delta_max_ts(coll):
            return
        buf = self._deletes.get(coll)
        if buf is None:
            buf = self._deletes[coll] = _DeleteBuffer(offset, self._last_ts)
        pks = batch.from_ipc(msg.body).column(0)
        buf.pks.append(pks)
        buf.ts.append(np.full(len(pks), msg.ts, dtype=np.uint64))
        buf.rows += len(pks)

    def _deletes_due(self) -> bool:
        oldest = min(b.since for b in self._deletes.values())
        rows = sum(b.rows for b in self._deletes.values())
        return rows >= DELETE_FLUSH_ROWS or time.monotonic() - oldest >= self._delete_flush_seconds

    def _write_deletes(self) -> None:
        """Persist every pending delete of the channel, one delta log per collection."""
        dc = self._registry.data_coord()
        for coll, buf in sorted(self._deletes.items()):
            if buf.rows:
                log_id = self._registry.root().alloc_ids(1)
                ts = np.concatenate(buf.ts)
                table = pa.table({"pk": pa.concat_arrays(buf.pks), "ts": pa.array(ts, type=pa.uint64())})
                key = delta_log_key(coll, self.channel, log_id)
                self._objects.put(key, _to_parquet(table))
                info = DeltaLogInfo(log_id, coll, self.channel, key, buf.rows, int(ts.min()), int(ts.max()))
                dc.add_delta_log(info)
                self._delta_ts[coll] = info.max_ts
        self._deletes.clear()

    # ------------------------------------------------------------- checkpoint

    def checkpoint(self) -> Checkpoint:
        """Where a restart must resume: the oldest offset still only in memory."""
        held = [(b.first_offset, b.prev_ts) for b in self._segments.values()]
        held += [(b.first_offset, b.prev_ts) for b in self._deletes.values()]
        offset, ts = min(held) if held else (self._position, self._last_ts)
        return Checkpoint(self.channel, offset, ts)

    def _report(self, force: bool) -> None:
        cp = self.checkpoint()
        if cp.offset <= self._reported.offset:
            return
        now = time.monotonic()
        if force or now - self._reported_at >= self._checkpoint_interval:
            self._registry.data_coord().update_checkpoint(cp)
            self._reported, self._reported_at = cp, now
            self._history.append((now, cp.offset))
            self._truncate_wal(now)

    def _truncate_wal(self, now: float) -> None:
        cut = -1
        while self._history and now - self._history[0][0] >= WAL_RETENTION_SECONDS:
            cut = self._history.popleft()[1]
        if cut > 0:
            try:
                self._wal.truncate(self.channel, cut)
            except (ChannelNotFound, StorageClosed, ValueError) as exc:
                log.debug("wal truncate of %s skipped: %s", self.channel, exc)
