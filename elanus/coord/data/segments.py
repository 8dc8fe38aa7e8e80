"""The data coordinator's segment, delta-log and checkpoint tables, persisted in the meta store.

Everything is held in memory (loaded in ``__init__``) and written through to
the meta store under one lock, so memory and store change in the same order.

Invariants:

* A segment's state only moves forward: GROWING -> SEALED -> FLUSHED, and any
  state -> DROPPED. Late or repeated calls (a seal after the flush, a flush
  replayed after a data node restart) change nothing.
* A segment is persisted when first registered and at every state change.
  Growing row counts are kept in memory only (they change on every insert):
  after a coordinator restart they restart from the persisted value until the
  writer reports again; flushed counts are exact.
* Checkpoints never move backwards. They are persisted at most once per
  ``CHECKPOINT_PERSIST_SECONDS`` per channel (and on :meth:`close`): a restart
  from an older checkpoint only replays more, which the flusher tolerates.
* A dropped collection stays dropped: registering or flushing into it is refused.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from elanus.cluster.types import Checkpoint, DeltaLogInfo, SegmentInfo, SegmentState
from elanus.coord.data import codec
from elanus.storage.meta.base import MetaStore, Op

CHECKPOINT_PERSIST_SECONDS = 1.0
LIVE_STATES = (SegmentState.GROWING, SegmentState.SEALED, SegmentState.FLUSHED)


class SegmentTable:
    """See the module docstring. Thread-safe."""

    def __init__(self, meta: MetaStore) -> None:
        self._meta = meta
        self._lock = threading.Lock()
        self._segments: dict[int, SegmentInfo] = {}
        self._deltas: dict[int, dict[int, DeltaLogInfo]] = {}
        self._checkpoints: dict[str, Checkpoint] = {}
        self._cp_saved_at: dict[str, float] = {}
        self._cp_dirty: set[str] = set()
        self._dropped: set[int] = set()
        self._load()

    def _load(self) -> None:
        for kv in self._meta.get_prefix(codec.SEGMENT_PREFIX):
            seg = codec.decode_segment(kv.value)
            self._segments[seg.id] = seg
        for kv in self._meta.get_prefix(codec.SEGMENT_INDEX_PREFIX):
            _, _coll, seg_id, field = kv.key.split("/", 3)
            owner = self._segments.get(int(seg_id))
            if owner is not None:
                owner.index_files[field] = codec.json_path(kv.value)
        for kv in self._meta.get_prefix(codec.DELTA_PREFIX):
            delta = codec.decode_delta(kv.value)
            self._deltas.setdefault(delta.collection_id, {})[delta.log_id] = delta
        for kv in self._meta.get_prefix(codec.CHECKPOINT_PREFIX):
            cp = codec.decode_checkpoint(kv.value)
            self._checkpoints[cp.channel] = cp
        for kv in self._meta.get_prefix(codec.DROPPED_PREFIX):
            self._dropped.add(int(kv.key.rsplit("/", 1)[1]))

    def _put(self, seg: SegmentInfo) -> None:
        self._meta.put(codec.segment_key(seg.collection_id, seg.id), codec.encode_segment(seg))
        self._segments[seg.id] = seg

    # ------------------------------------------------------------- segments

    def is_dropped(self, collection_id: int) -> bool:
        with self._lock:
            return collection_id in self._dropped

    def get(self, segment_id: int) -> SegmentInfo | None:
        with self._lock:
            return self._segments.get(segment_id)

    def register(self, info: SegmentInfo) -> bool:
        """Persist a new segment (True), or update a known growing one's row count (False)."""
        with self._lock:
            old = self._segments.get(info.id)
            if old is None:
                self._put(replace(info, index_files={}))
                return True
            if old.state == SegmentState.GROWING and info.num_rows > old.num_rows:
                # Reports from concurrent inserts may arrive out of order: counts only grow.
                self._segments[info.id] = replace(old, num_rows=info.num_rows)
            return False

    def seal(self, segment_ids: list[int]) -> None:
        with self._lock:
            for seg_id in segment_ids:
                old = self._segments.get(seg_id)
                if old is not None and old.state == SegmentState.GROWING:
                    self._put(replace(old, state=SegmentState.SEALED))

    def flushed(self, info: SegmentInfo) -> tuple[SegmentInfo | None, bool]:
        """Record a flush. Returns (the new record, or None if nothing changed; True if the
        segment's collection or the segment itself was dropped: its files are garbage)."""
        with self._lock:
            old = self._segments.get(info.id)
            if info.collection_id in self._dropped or (old is not None and old.state == SegmentState.DROPPED):
                return None, True
            if old is not None and old.state == SegmentState.FLUSHED:
                return None, False
            if info.num_rows == 0:
                new = replace(old or info, state=SegmentState.DROPPED, num_rows=0, index_files={})
            else:
                start = old.start_offset if old is not None else info.start_offset
                new = replace(info, state=SegmentState.FLUSHED, start_offset=min(start, info.start_offset),
                              index_files=dict(old.index_files) if old is not None else {})
            self._put(new)
            return new, False

    def set_index_file(self, segment_id: int, field: str, path: str) -> SegmentInfo | None:
        """Record a built index file of a flushed segment; None if the segment is gone."""
        with self._lock:
            old = self._segments.get(segment_id)
            if old is None or old.state != SegmentState.FLUSHED:
                return None
            self._meta.put(codec.segment_index_key(old.collection_id, segment_id, field),
                           codec.encode_json_path(path))
            new = replace(old, index_files={**old.index_files, field: path})
            self._segments[segment_id] = new
            return new

    def clear_index_files(self, collection_id: int, field: str) -> list[SegmentInfo]:
        """Forget ``field``'s index files in every segment of the collection; the segments
        that had one (before the change)."""
        with self._lock:
            touched = [s for s in self._segments.values()
                       if s.collection_id == collection_id and field in s.index_files]
            if touched:
                self._meta.txn([], [Op.delete(codec.segment_index_key(collection_id, s.id, field))
                                     for s in touched])
            for seg in touched:
                files = dict(seg.index_files)
                files.pop(field)
                self._segments[seg.id] = replace(seg, index_files=files)
            return touched

    def of_collection(self, collection_id: int, states: tuple[int, ...] = ()) -> list[SegmentInfo]:
        with self._lock:
            segs = [s for s in self._segments.values() if s.collection_id == collection_id
                    and (not states or s.state in states)]
        return sorted(segs, key=lambda s: s.id)

    def by_channel(self, channel: str, states: tuple[int, ...] = ()) -> list[SegmentInfo]:
        with self._lock:
            segs = [s for s in self._segments.values() if s.channel == channel
                    and (not states or s.state in states)]
        return sorted(segs, key=lambda s: s.id)

    def row_count(self, collection_id: int, partition_ids: tuple[int, ...] = ()) -> int:
        with self._lock:
            return sum(s.num_rows for s in self._segments.values()
                       if s.collection_id == collection_id and s.state in LIVE_STATES
                       and (not partition_ids or s.partition_id in partition_ids))

    def drop(self, collection_id: int, partition_id: int | None = None) -> list[SegmentInfo]:
        """Mark the collection's (or one partition's) segments DROPPED; the collection is
        remembered as dropped when ``partition_id`` is None. Returns the segments as they were."""
        with self._lock:
            victims = [s for s in self._segments.values() if s.collection_id == collection_id
                       and s.state != SegmentState.DROPPED
                       and (partition_id is None or s.partition_id == partition_id)]
            ops = [Op.put(codec.segment_key(collection_id, s.id),
                          codec.encode_segment(replace(s, state=SegmentState.DROPPED))) for s in victims]
            if partition_id is None:
                ops.append(Op.put(codec.dropped_key(collection_id), b"{}"))
                ops.append(Op.delete_prefix(f"{codec.DELTA_PREFIX}{collection_id}/"))
                ops.append(Op.delete_prefix(f"{codec.SEGMENT_INDEX_PREFIX}{collection_id}/"))
            else:
                ops.extend(Op.delete_prefix(f"{codec.SEGMENT_INDEX_PREFIX}{collection_id}/{s.id}/")
                           for s in victims)
            self._meta.txn([], ops)
            for seg in victims:
                self._segments[seg.id] = replace(seg, state=SegmentState.DROPPED, index_files={})
            if partition_id is None:
                self._dropped.add(collection_id)
                self._deltas.pop(collection_id, None)
            return victims

    def truncate(self, collection_id: int, fences: dict[str, int]) -> list[SegmentInfo]:
        """Mark DROPPED every live segment of the collection on a channel of ``fences`` whose id
        is below that channel's fence (created before the channel's TRUNCATE). Returns them as
        they were. The collection itself stays live."""
        with self._lock:
            victims = [s for s in self._segments.values() if s.collection_id == collection_id
                       and s.state != SegmentState.DROPPED and s.id < fences.get(s.channel, 0)]
            ops = [Op.put(codec.segment_key(collection_id, s.id),
                          codec.encode_segment(replace(s, state=SegmentState.DROPPED))) for s in victims]
            ops.extend(Op.delete_prefix(f"{codec.SEGMENT_INDEX_PREFIX}{collection_id}/{s.id}/")
                       for s in victims)
            if ops:
                self._meta.txn([], ops)
            for seg in victims:
                self._segments[seg.id] = replace(seg, state=SegmentState.DROPPED, index_files={})
            return victims

    # ----------------------------------------------------------- delta logs

    def add_delta(self, info: DeltaLogInfo) -> bool:
        """Record a delta log; False if its collection was dropped (the file is garbage)."""
        with self._lock:
            if info.collection_id in self._dropped:
                return False
            self._meta.put(codec.delta_key(info.collection_id, info.log_id), codec.encode_delta(info))
            self._deltas.setdefault(info.collection_id, {})[info.log_id] = info
            return True

    def deltas(self, collection_id: int, channel: str = "") -> list[DeltaLogInfo]:
        with self._lock:
            logs = list(self._deltas.get(collection_id, {}).values())
        return sorted((d for d in logs if not channel or d.channel == channel), key=lambda d: d.log_id)

    # ----------------------------------------------------------- checkpoints

    def update_checkpoint(self, cp: Checkpoint) -> None:
        with self._lock:
            old = self._checkpoints.get(cp.channel)
            if old is not None and cp.offset < old.offset:
                return
            self._checkpoints[cp.channel] = cp
            now = time.monotonic()
            saved_at = self._cp_saved_at.get(cp.channel)
            if saved_at is None or now - saved_at >= CHECKPOINT_PERSIST_SECONDS:
                self._meta.put(codec.checkpoint_key(cp.channel), codec.encode_checkpoint(cp))
                self._cp_saved_at[cp.channel] = now
                self._cp_dirty.discard(cp.channel)
            else:
                self._cp_dirty.add(cp.channel)

    def checkpoint(self, channel: str) -> Checkpoint | None:
        with self._lock:
            return self._checkpoints.get(channel)

    def persist_checkpoints(self) -> None:
        """Write every checkpoint not persisted yet (shutdown)."""
        with self._lock:
            dirty = sorted(self._cp_dirty)
            if dirty:
                cps = [self._checkpoints[ch] for ch in dirty]
                self._meta.txn([], [Op.put(codec.checkpoint_key(cp.channel), codec.encode_checkpoint(cp))
                                    for cp in cps])
            self._cp_dirty.clear()
