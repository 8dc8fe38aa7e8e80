"""The query coordinator: which query node leads which channel and holds which sealed segment.

All work that talks to query nodes runs on one background worker thread, in the order
it was asked for (load, segment-ready handoffs, releases), so placement decisions never
race each other; the public methods only record intent and enqueue. ``release`` waits
for its task so that, when it returns, nothing of the collection is served.

Load of a collection (contracts step 5):

1. read every channel's checkpoint, *then* list the flushed segments (in that order: a
   segment flushed in between is then excluded from replay and loaded sealed, and no
   unflushed segment can start before the checkpoint);
2. per channel, a delegator on the node leading the fewest channels, replaying from the
   checkpoint with the flushed segments excluded;
3. per flushed segment in scope, ``load_segment`` on the node holding the fewest rows,
   then ``handoff`` to its channel's delegator;
4. LOADED once every step is done and every delegator has caught up with the WAL as it
   was when watched (checked when progress is asked, never by polling).

``segment_ready`` (the data coordinator: a segment is flushed, and indexed where an
index exists) repeats step 3 for one segment; a segment already served is reloaded in
place (its new copy takes over the old copy's deletes) or moved and then released.

``drop_segments`` (a truncate dropped them) takes segments out of their delegators'
distributions and releases them; they are remembered so that a late ``segment_ready``
or a load listing taken before the drop never serves them again.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from elanus.cluster.interfaces import QueryNode
from elanus.cluster.registry import Registry
from elanus.cluster.types import (
    CollectionInfo,
    DeltaLogInfo,
    LoadProgress,
    LoadState,
    SegmentInfo,
    SegmentState,
)
from elanus.coord.query import loadinfo
from elanus.coord.query.balance import Balancer
from elanus.coord.query.loadinfo import LoadInfo
from elanus.core.errors import UNEXPECTED, MilvusError
from elanus.storage.meta.base import MetaStore

log = logging.getLogger(__name__)


@dataclass
class _Collection:
    """A loaded (or loading) collection. Fields change only on the worker thread,
    except ``partitions``/``released``/``listed`` which the API sets under the lock."""

    info: CollectionInfo
    partitions: frozenset[int] | None  # None = every partition
    replicas: int = 1
    leaders: dict[str, int] = field(default_factory=dict)
    segments: dict[int, SegmentInfo] = field(default_factory=dict)
    total: int = 0
    done: int = 0
    listed: bool = False  # every step of the latest load task has run
    loaded: bool = False  # reported LOADED once; sticky until the scope changes
    released: bool = False
    error: str = ""
    dropped: set[int] = field(default_factory=set)  # truncated away: never serve again

    def in_scope(self, partition_id: int) -> bool:
        return self.partitions is None or partition_id in self.partitions

    def partition_ids(self) -> tuple[int, ...]:
        if self.partitions is not None:
            return tuple(sorted(self.partitions))
        ids = {p.id for p in self.info.partitions} | {s.partition_id for s in self.segments.values()}
        return tuple(sorted(ids))


class QueryCoordImpl:
    """interfaces.QueryCoord (see the module docstring). Call :meth:`start` once the
    registry is complete to reload what was loaded before a restart."""

    def __init__(self, registry: Registry, meta: MetaStore) -> None:
        self._registry = registry
        self._meta = meta
        self._lock = threading.Lock()
        self._collections: dict[int, _Collection] = {}
        self._balancer = Balancer()
        self._tasks: queue.Queue[tuple[Callable[[], None], threading.Event] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="querycoord", daemon=True)
        self._worker.start()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Load again every collection whose load info is persisted."""
        for li in loadinfo.load_all(self._meta):
            try:
                info = self._registry.root().describe_collection("", collection_id=li.collection_id)
            except MilvusError:
                log.info("collection %d is gone; forgetting its load info", li.collection_id)
                loadinfo.remove(self._meta, li.collection_id)
                continue
            log.info("reloading collection %d after restart", li.collection_id)
            self.load(info, li.partitions or (), li.replicas)

    def stop(self) -> None:
        self._tasks.put(None)
        self._worker.join(timeout=10)

    def _work(self) -> None:
        while True:
            item = self._tasks.get()
            if item is None:
                return
            task, done = item
            try:
                task()
            except Exception:
                log.exception("query coordinator task failed")
            finally:
                done.set()

    def _submit(self, task: Callable[[], None]) -> threading.Event:
        done = threading.Event()
        self._tasks.put((task, done))
        return done

    def _node(self, node_id: int) -> QueryNode:
        return self._registry.query_node(node_id)

    def _node_ids(self) -> list[int]:
        return [n.node_id for n in self._registry.query_nodes()]

    # ------------------------------------------------------------------ API
    def load(self, collection: CollectionInfo, partition_ids: tuple[int, ...] = (),
             replicas: int = 1) -> None:
        if replicas > 1:
            log.warning("collection %s: %d replicas asked, serving 1", collection.name, replicas)
        wanted = frozenset(partition_ids) or None
        with self._lock:
            st = self._collections.get(collection.id)
            if st is not None:
                if st.partitions is None or (wanted is not None and wanted <= st.partitions):
                    return  # already loaded (or loading) with at least this scope
                st.partitions = None if wanted is None else st.partitions | wanted
                st.loaded = st.listed = False
            else:
                st = _Collection(collection, wanted, 1)
                self._collections[collection.id] = st
            parts = None if st.partitions is None else tuple(sorted(st.partitions))
            loadinfo.save(self._meta, LoadInfo(collection.id, parts, replicas))
        self._submit(lambda: self._run_load(st))

    def release(self, collection_id: int, partition_ids: tuple[int, ...] = ()) -> None:
        with self._lock:
            st = self._collections.get(collection_id)
            if st is None:
                return
            removed = frozenset(partition_ids)
            remaining = None if not removed else frozenset(st.partition_ids()) - removed
            if remaining:
                st.partitions = remaining
                loadinfo.save(self._meta, LoadInfo(collection_id, tuple(sorted(remaining)), st.replicas))
                done = self._submit(lambda: self._release_partitions(st, removed))
            else:
                st.released = True
                del self._collections[collection_id]
                loadinfo.remove(self._meta, collection_id)
                done = self._submit(lambda: self._release_all(st))
        done.wait()

    def load_progress(self, collection_id: int, partition_ids: tuple[int, ...] = ()) -> LoadProgress:
        with self._lock:
            st = self._collections.get(collection_id)
        if st is None or (partition_ids and st.partitions is not None
                          and not frozenset(partition_ids) <= st.partitions):
            return LoadProgress(LoadState.NOT_LOAD, 0)
        if st.error:
            raise MilvusError(UNEXPECTED, f"load collection {st.info.name} failed: {st.error}")
        if st.loaded:
            return LoadProgress(LoadState.LOADED, 100)
        if not st.listed:
            percent = st.done * 100 // st.total if st.total else 0
            return LoadProgress(LoadState.LOADING, min(percent, 99))
        leaders = dict(st.leaders)
        if all(self._node(n).channel_caught_up(ch) for ch, n in leaders.items()):
            st.loaded = True
            return LoadProgress(LoadState.LOADED, 100)
        return LoadProgress(LoadState.LOADING, 99)

    def is_loaded(self, collection_id: int) -> bool:
        return collection_id in self._collections

    def loaded_partitions(self, collection_id: int) -> tuple[int, ...] | None:
        st = self._collections.get(collection_id)
        if st is None:
            return None
        if st.partitions is None:
            # A whole-collection load covers partitions created after it (as in Milvus),
            # so ask the root coordinator for the current list.
            try:
                info = self._registry.root().describe_collection("", collection_id=collection_id)
            except MilvusError:
                return st.partition_ids()
            return tuple(sorted({p.id for p in info.partitions} | set(st.partition_ids())))
        return st.partition_ids()

    def shard_leaders(self, collection_id: int) -> dict[str, int]:
        st = self._collections.get(collection_id)
        return {} if st is None else dict(st.leaders)

    def segment_ready(self, segment: SegmentInfo) -> None:
        with self._lock:
            st = self._collections.get(segment.collection_id)
            if st is None or not st.in_scope(segment.partition_id):
                return
        self._submit(lambda: self._ready(st, segment))

    def drop_segments(self, collection_id: int, segment_ids: list[int]) -> None:
        with self._lock:
            st = self._collections.get(collection_id)
            if st is None:
                return
            st.dropped.update(segment_ids)
            done = self._submit(lambda: self._drop_segments(st, set(segment_ids)))
        done.wait()

    def served_segments(self, collection_id: int) -> list[tuple[SegmentInfo, int]]:
        with self._lock:
            st = self._collections.get(collection_id)
            if st is None:
                return []
            segs = sorted(st.segments.values(), key=lambda s: s.id)
        out = []
        for seg in segs:
            node = self._balancer.segment_node(seg.id)
            if node is not None:
                out.append((seg, node))
        return out

    # ------------------------------------------------------------------ worker tasks
    def _run_load(self, st: _Collection) -> None:
        try:
            self._load_steps(st)
        except Exception as exc:
            log.exception("loading collection %d failed", st.info.id)
            st.error = str(exc) or type(exc).__name__

    def _refresh(self, st: _Collection) -> None:
        """Take a newer schema of the collection (a field added since it was loaded), so
        segments are loaded with every field their files may hold."""
        try:
            info = self._registry.root().describe_collection("", collection_id=st.info.id)
        except MilvusError:
            return
        if info.schema.version > st.info.schema.version:
            st.info = info

    def _load_steps(self, st: _Collection) -> None:
        if st.released:
            return
        self._refresh(st)
        info = st.info
        dc = self._registry.data_coord()
        checkpoints = {ch: dc.get_checkpoint(ch) for ch in info.channels}
        flushed = dc.list_segments(info.id, (SegmentState.FLUSHED,))
        todo = [s for s in flushed if st.in_scope(s.partition_id) and s.id not in st.segments]
        st.total, st.done = len(info.channels) + len(todo), 0
        parts = st.partition_ids() if st.partitions is not None else ()
        for ch in info.channels:
            if st.released:
                return
            excluded = [s.id for s in flushed if s.channel == ch]
            node = st.leaders.get(ch)
            if node is None:
                node = self._balancer.pick_channel_node(self._node_ids())
                cp = checkpoints[ch]
                self._node(node).watch_channel(info, ch, cp.offset if cp else 0, excluded, parts)
                st.leaders[ch] = node
            else:
                self._node(node).watch_channel(info, ch, 0, excluded, parts)  # widen the scope
            st.done += 1
        deltas = {ch: dc.list_delta_logs(info.id, ch) for ch in info.channels}
        for seg in todo:
            if st.released:
                return
            self._serve(st, seg, deltas.get(seg.channel, []))
            st.done += 1
        st.listed = True
        log.info("collection %d: %d channels led, %d segments served", info.id, len(st.leaders),
                 len(st.segments))

    def _serve(self, st: _Collection, seg: SegmentInfo, deltas: list[DeltaLogInfo]) -> None:
        if seg.id in st.dropped:
            return  # listed or announced before a truncate dropped it
        leader = st.leaders.get(seg.channel)
        if leader is None:
            log.warning("segment %d: channel %s has no delegator", seg.id, seg.channel)
            return
        nodes = self._node_ids()
        old = self._balancer.segment_node(seg.id)
        node = old if old in nodes else self._balancer.pick_segment_node(nodes)
        self._node(node).load_segment(st.info, seg, deltas)
        self._node(leader).handoff(seg.channel, seg, node)
        self._balancer.place_segment(seg.id, node, seg.num_rows)
        st.segments[seg.id] = seg
        if old is not None and old != node and old in nodes:
            self._node(old).release_segment(seg.id)

    def _ready(self, st: _Collection, seg: SegmentInfo) -> None:
        if st.released or seg.channel not in st.leaders:
            return  # a load task still to run lists this segment itself
        served = st.segments.get(seg.id)
        if served is not None and served.index_files == seg.index_files:
            return
        self._refresh(st)
        deltas = self._registry.data_coord().list_delta_logs(seg.collection_id, seg.channel)
        self._serve(st, seg, deltas)

    def _release_all(self, st: _Collection) -> None:
        for ch, node in st.leaders.items():
            self._node(node).unwatch_channel(st.info.id, ch)
            self._balancer.release_channel(node)
        for sid in st.segments:
            self._release_segment(sid)
        log.info("released collection %d", st.info.id)

    def _release_partitions(self, st: _Collection, removed: frozenset[int]) -> None:
        parts = st.partition_ids()
        for ch, node in st.leaders.items():
            self._node(node).watch_channel(st.info, ch, 0, [], parts)
        for sid, seg in list(st.segments.items()):
            if seg.partition_id not in removed:
                continue
            self._node(st.leaders[seg.channel]).drop_sealed(seg.channel, sid)
            self._release_segment(sid)
            del st.segments[sid]

    def _drop_segments(self, st: _Collection, ids: set[int]) -> None:
        for sid in sorted(ids & st.segments.keys()):
            seg = st.segments.pop(sid)
            leader = st.leaders.get(seg.channel)
            if leader is not None:
                self._node(leader).drop_sealed(seg.channel, sid)
            self._release_segment(sid)

    def _release_segment(self, segment_id: int) -> None:
        holder = self._balancer.segment_node(segment_id)
        if holder is not None:
            self._node(holder).release_segment(segment_id)
            self._balancer.remove_segment(segment_id)
