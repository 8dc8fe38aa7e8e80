"""The data coordinator: segment metadata, flush, index meta and builds, GC.

Implements :class:`elanus.cluster.interfaces.DataCoord` over a
:class:`~elanus.coord.data.segments.SegmentTable` (segments, delta logs,
checkpoints) and an :class:`~elanus.coord.data.indexes.IndexTable`, both
persisted in the meta store and reloaded on start, so the coordinator survives
a kill -9 with nothing more than what the stores hold.

Flows it drives:

* **flush** — takes the flush timestamp *first*, then has each channel's data
  node seal the collection (which appends a FLUSH marker after every write
  with a smaller timestamp). ``flush_done`` is true once every returned
  segment is FLUSHED (or DROPPED: it was empty) and every channel's checkpoint
  timestamp has reached the flush timestamp, i.e. everything written before
  the flush, deletes included, is in object storage.
* **index builds** — for every FLUSHED segment of a collection with built
  indexes (vector indexes, and scalar indexes of a built kind: see
  :attr:`IndexRecord.is_built`), builds are dispatched to index nodes on a thread
  pool (never on the caller's thread); when the segment has a file for each such
  index (or its build failed for good) ``QueryCoord.segment_ready`` is called,
  also on a background thread. A segment of a collection without built indexes
  is ready as soon as it is flushed. After a restart, missing builds resume.
* **GC** — dropping a collection or partition marks its segments DROPPED and
  deletes their object files; files that arrive later for a dropped segment
  (a flush or build racing the drop) are deleted on arrival. Truncating a
  collection does the same for the segments created before each channel's
  TRUNCATE message (the data nodes' fences).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from elanus.cluster.registry import Registry
from elanus.cluster.types import (
    Checkpoint,
    CollectionInfo,
    DeltaLogInfo,
    IndexInfo,
    SegmentInfo,
    SegmentState,
)
from elanus.coord.data import index_rules
from elanus.coord.data.builds import IndexBuilds
from elanus.coord.data.codec import IndexRecord
from elanus.coord.data.indexes import IndexTable
from elanus.coord.data.segments import SegmentTable
from elanus.core.errors import collection_not_found, index_not_found
from elanus.storage.meta.base import MetaStore
from elanus.storage.objects.base import ObjectStore

log = logging.getLogger(__name__)

_DONE = (SegmentState.FLUSHED, SegmentState.DROPPED)


class DataCoordImpl:
    """See the module docstring."""

    def __init__(self, registry: Registry, meta: MetaStore, objects: ObjectStore) -> None:
        self._registry = registry
        self._objects = objects
        self._segments = SegmentTable(meta)
        self._indexes = IndexTable(meta)
        # (segment, index id) whose build failed for good; memory only, so retried after a restart.
        self._failed_builds: set[tuple[int, int]] = set()
        self._flush_channels: dict[int, tuple[str, ...]] = {}
        self._notifier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segment-ready")
        self._builds = IndexBuilds(registry, self._build_wanted, self._on_built, self._on_build_failed)
        self._resume_builds()

    # ------------------------------------------------- from writers and flushers

    def register_segment(self, info: SegmentInfo) -> None:
        if self._segments.is_dropped(info.collection_id):
            raise collection_not_found(str(info.collection_id))
        self._segments.register(info)

    def seal_segments(self, segment_ids: list[int]) -> None:
        self._segments.seal(segment_ids)

    def segment_flushed(self, info: SegmentInfo) -> None:
        stored, garbage = self._segments.flushed(info)
        if garbage:
            self._delete_segment_files(info)
            return
        if stored is None or stored.state != SegmentState.FLUSHED:
            return
        log.info("segment %d of collection %d flushed: %d rows", stored.id, stored.collection_id,
                 stored.num_rows)
        self._schedule(stored)

    def add_delta_log(self, info: DeltaLogInfo) -> None:
        if not self._segments.add_delta(info):
            self._objects.delete(info.path)

    def update_checkpoint(self, cp: Checkpoint) -> None:
        self._segments.update_checkpoint(cp)

    # ------------------------------------------------------------------ reads

    def get_checkpoint(self, channel: str) -> Checkpoint | None:
        return self._segments.checkpoint(channel)

    def list_segments(self, collection_id: int, states: tuple[int, ...] = ()) -> list[SegmentInfo]:
        return self._segments.of_collection(collection_id, states)

    def channel_segments(self, channel: str, states: tuple[int, ...] = ()) -> list[SegmentInfo]:
        return self._segments.by_channel(channel, states)

    def list_delta_logs(self, collection_id: int, channel: str = "") -> list[DeltaLogInfo]:
        return self._segments.deltas(collection_id, channel)

    def collection_row_count(self, collection_id: int, partition_ids: tuple[int, ...] = ()) -> int:
        return self._segments.row_count(collection_id, partition_ids)

    # ------------------------------------------------------------------ flush

    def flush(self, collection: CollectionInfo) -> tuple[list[int], int]:
        flush_ts = self._registry.root().alloc_timestamp()
        self._flush_channels[collection.id] = collection.channels
        ids: set[int] = set()
        for channel in collection.channels:
            ids.update(self._registry.data_node_for(channel).seal_collection(collection.id, channel))
        # Sealed earlier (by size or idleness) but not flushed yet: the flush waits for them too.
        ids.update(s.id for s in self._segments.of_collection(collection.id, (SegmentState.SEALED,)))
        return sorted(ids), flush_ts

    def flush_done(self, segment_ids: list[int], flush_ts: int, collection_id: int) -> bool:
        for seg_id in segment_ids:
            seg = self._segments.get(seg_id)
            if seg is not None and seg.state not in _DONE:
                return False
        channels = self._flush_channels.get(collection_id) or tuple(
            {s.channel for s in self._segments.of_collection(collection_id)})
        for channel in channels:
            cp = self._segments.checkpoint(channel)
            if cp is None or cp.ts < flush_ts:
                return False
        return True

    # ---------------------------------------------------------------- indexes

    def create_index(self, collection: CollectionInfo, field_name: str, index_name: str,
                     params: dict[str, str]) -> None:
        checked = index_rules.validate(collection.schema, field_name, params)
        if checked.spec is not None and checked.spec.auto_index:
            # Milvus's wrapUserIndexParams: an AUTOINDEX (asked for or implied by a missing
            # index_type) is recorded as {index_type: AUTOINDEX, metric_type: <resolved>}.
            params = checked.spec.to_params()
        root = self._registry.root()
        record, created = self._indexes.create(
            collection.id, checked, index_name, params,
            lambda: (root.alloc_ids(1), root.alloc_timestamp()))
        if created:
            log.info("index %s (%s) created on %s.%s", record.info.index_name, record.info.id,
                     collection.name, checked.field.name)
            if record.is_built:
                for seg in self._segments.of_collection(collection.id, (SegmentState.FLUSHED,)):
                    self._builds.submit(seg, record)

    def describe_indexes(self, collection_id: int, index_name: str = "",
                         field_name: str = "") -> list[IndexInfo]:
        return self._indexes.describe(collection_id, index_name, field_name)

    def index_progress(self, collection_id: int, index_id: int) -> tuple[int, int, int]:
        record = self._indexes.get(collection_id, index_id)
        if record is None:
            raise index_not_found(indexID=index_id)
        segs = self._segments.of_collection(collection_id, (SegmentState.FLUSHED,))
        total = sum(s.num_rows for s in segs)
        if not record.is_built:
            return total, total, 0
        key = record.file_key
        done = [s for s in segs if key in s.index_files or (s.id, index_id) in self._failed_builds]
        return total, sum(s.num_rows for s in done), len(segs) - len(done)

    def drop_index(self, collection_id: int, index_name: str) -> None:
        record = self._indexes.drop(collection_id, index_name)
        if record is None:
            return  # Milvus: dropping a missing index succeeds
        log.info("index %s of collection %d dropped", record.info.index_name, collection_id)
        if not record.is_built:
            return  # metadata-only scalar indexes have no files
        for seg in self._segments.clear_index_files(collection_id, record.file_key):
            self._objects.delete_prefix(f"index_files/{collection_id}/{seg.id}/{record.file_key}/")

    def index_built(self, segment_id: int, field_name: str, index_path: str) -> None:
        seg = self._segments.get(segment_id)
        record = None if seg is None else self._indexes.vector_by_field(seg.collection_id, field_name)
        if record is None:
            self._objects.delete(index_path)
            return
        self._on_built(segment_id, record, index_path)

    # ------------------------------------------------------------- lifecycle

    def drop_collection(self, collection_id: int) -> None:
        self._segments.drop(collection_id)
        self._indexes.drop_collection(collection_id)
        self._flush_channels.pop(collection_id, None)
        for kind in ("insert_log", "stats_log", "delta_log", "index_files"):
            self._objects.delete_prefix(f"{kind}/{collection_id}/")
        log.info("collection %d dropped: segments marked DROPPED, files deleted", collection_id)

    def drop_partition(self, collection_id: int, partition_id: int) -> None:
        victims = self._segments.drop(collection_id, partition_id)
        for kind in ("insert_log", "stats_log"):
            self._objects.delete_prefix(f"{kind}/{collection_id}/{partition_id}/")
        for seg in victims:
            self._objects.delete_prefix(f"index_files/{collection_id}/{seg.id}/")

    def truncate_collection(self, collection_id: int, fences: dict[str, int]) -> list[int]:
        victims = self._segments.truncate(collection_id, fences)
        for seg in victims:
            for kind in ("insert_log", "stats_log"):
                self._objects.delete_prefix(f"{kind}/{collection_id}/{seg.partition_id}/{seg.id}/")
            self._objects.delete_prefix(f"index_files/{collection_id}/{seg.id}/")
        log.info("collection %d truncated: %d segments dropped", collection_id, len(victims))
        return [s.id for s in victims]

    def close(self) -> None:
        """Stop builds and notifications; persist pending checkpoints. Idempotent."""
        self._builds.close()
        self._notifier.shutdown(wait=False, cancel_futures=True)
        self._segments.persist_checkpoints()

    # --------------------------------------------------------------- internals

    def _schedule(self, seg: SegmentInfo) -> None:
        """Dispatch the builds a flushed segment lacks, or announce it if it lacks none."""
        missing = [r for r in self._indexes.built_records(seg.collection_id) if self._lacks(seg, r)]
        if not missing:
            self._notify_ready(seg)
        for record in missing:
            self._builds.submit(seg, record)

    def _resume_builds(self) -> None:
        """After a restart: dispatch every build a flushed segment still lacks."""
        for coll in self._indexes.collections():
            for record in self._indexes.built_records(coll):
                for seg in self._segments.of_collection(coll, (SegmentState.FLUSHED,)):
                    if record.file_key not in seg.index_files:
                        self._builds.submit(seg, record)

    def _build_wanted(self, segment_id: int, index_id: int) -> bool:
        """A build is wanted while the segment is FLUSHED, the index exists and has no file yet
        (a second build racing the first, e.g. create_index during a flush, is discarded)."""
        seg = self._segments.get(segment_id)
        if seg is None or seg.state != SegmentState.FLUSHED:
            return False
        record = self._indexes.get(seg.collection_id, index_id)
        return record is not None and record.file_key not in seg.index_files

    def _on_built(self, segment_id: int, record: IndexRecord, path: str) -> None:
        if not self._build_wanted(segment_id, record.info.id):
            self._objects.delete(path)  # the segment or the index was dropped meanwhile
            return
        seg = self._segments.set_index_file(segment_id, record.file_key, path)
        if seg is None:
            self._objects.delete(path)
            return
        self._announce_if_complete(seg)

    def _on_build_failed(self, segment_id: int, record: IndexRecord) -> None:
        self._failed_builds.add((segment_id, record.info.id))
        seg = self._segments.get(segment_id)
        if seg is not None and seg.state == SegmentState.FLUSHED:
            self._announce_if_complete(seg)

    def _announce_if_complete(self, seg: SegmentInfo) -> None:
        if not any(self._lacks(seg, r) for r in self._indexes.built_records(seg.collection_id)):
            self._notify_ready(seg)

    def _lacks(self, seg: SegmentInfo, record: IndexRecord) -> bool:
        """Whether ``seg`` still waits for a build of ``record`` (not built, not failed)."""
        built = record.file_key in seg.index_files
        return not built and (seg.id, record.info.id) not in self._failed_builds

    def _notify_ready(self, seg: SegmentInfo) -> None:
        try:
            self._notifier.submit(self._call_ready, seg)
        except RuntimeError:
            pass  # shut down

    def _call_ready(self, seg: SegmentInfo) -> None:
        try:
            self._registry.query_coord().segment_ready(seg)
        except Exception:
            log.exception("segment_ready(%d) failed", seg.id)

    def _delete_segment_files(self, info: SegmentInfo) -> None:
        if info.data_path:
            self._objects.delete(info.data_path)
        self._objects.delete(f"stats_log/{info.collection_id}/{info.partition_id}/{info.id}/pk_stats.json")
