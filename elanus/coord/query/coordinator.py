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

Cluster membership (the process running the coordinator reports sessions): ``node_joined``
moves segments from the fullest nodes onto the new node while that narrows the row gap
(load on the new node, hand off to the delegator, then release the old copy, so reads
always find one copy); ``node_lost`` gives the lost node's channels new delegators
(replaying from the checkpoint, every sealed segment of the channel handed off again,
without reloading copies that other nodes still hold) and loads its segments elsewhere.

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
from elanus.coord.query import loadinfo, placement
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
    # still held by their node, with the index files of the held copy: if those are still the
    # segment's, it is only handed off again (not reloaded)
    rehome: dict[int, dict[str, str]] = field(default_factory=dict)
    adopted: bool = False  # placements persisted by a predecessor were taken over

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

    def __init__(self, registry: Registry, meta: MetaStore, *, adopt_placements: bool = False) -> None:
        """``adopt_placements``: persist placements and take over those persisted by a
        predecessor whose nodes are still alive (cluster mode only: there node ids are never
        reused, while an embedded restart brings back node 1 empty, so embedded mode neither
        writes nor reads them)."""
        self._registry = registry
        self._meta = meta
        self._adopt_placements = adopt_placements
        self._lock = threading.Lock()
        self._collections: dict[int, _Collection] = {}
        self._balancer = Balancer()
        self._dead: set[int] = set()  # lost query nodes (node ids are never reused)
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
        return [n.node_id for n in self._registry.query_nodes() if n.node_id not in self._dead]

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
        try:
            caught_up = all(self._node(n).channel_caught_up(ch) for ch, n in leaders.items())
        except MilvusError:  # a leader just went away; node_lost moves its channels
            caught_up = False
        if caught_up:
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

    # ------------------------------------------------------------------ membership
    def node_joined(self, node_id: int) -> None:
        """A query node joined: finish loads that had no node to run on, then give it a share
        of the sealed segments (asynchronously)."""
        self._submit(lambda: self._repair())
        self._submit(lambda: self._rebalance(node_id))

    def node_lost(self, node_id: int) -> None:
        """A query node is gone: move its channels and segments to live nodes (asynchronously)."""
        self._dead.add(node_id)
        self._submit(lambda: self._recover_node(node_id))

    def _repair(self) -> None:
        """Load again every collection whose load failed or left a channel without a leader
        (say, every query node was lost)."""
        for st in list(self._collections.values()):
            if not st.released and (st.error or set(st.info.channels) - st.leaders.keys()):
                log.info("collection %d: resuming its load on the nodes now alive", st.info.id)
                st.error = ""
                self._run_load(st)

    def _rebalance(self, new: int) -> None:
        nodes = self._node_ids()
        if new not in nodes or len(nodes) < 2:
            return
        held: list[tuple[int, int, int]] = []  # (rows, segment id, node)
        for n in nodes:
            if n != new:
                held.extend((rows, sid, n) for sid, rows in self._balancer.segments_on(n))
        moved = 0
        for rows, sid, donor in sorted(held, reverse=True):
            if self._balancer.node_rows(donor) - self._balancer.node_rows(new) <= rows:
                continue  # moving it would not narrow the gap
            st = next((c for c in self._collections.values() if sid in c.segments), None)
            if st is None or st.released:
                continue
            seg = st.segments[sid]
            deltas = self._registry.data_coord().list_delta_logs(seg.collection_id, seg.channel)
            self._serve(st, seg, deltas, target=new)
            moved += 1
        if moved:
            log.info("query node %d joined: moved %d segments onto it", new, moved)

    def _recover_node(self, node_id: int) -> None:
        self._balancer.forget_node(node_id)
        for st in list(self._collections.values()):
            if st.released:
                continue
            lost = {ch for ch, n in st.leaders.items() if n == node_id}
            for ch in lost:
                del st.leaders[ch]
            redo = 0
            for sid, seg in list(st.segments.items()):
                node = self._balancer.segment_node(sid)
                if node is None or seg.channel in lost:
                    del st.segments[sid]  # listed again by the load steps below
                    redo += 1
                    if node is not None:
                        st.rehome[sid] = dict(seg.index_files)
            if lost or redo:
                log.warning("query node %d lost: collection %d re-leads %s, re-serves %d segments",
                            node_id, st.info.id, sorted(lost), redo)
                self._run_load(st)

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
        if not st.adopted:
            st.adopted = True
            if self._adopt_placements:
                self._adopt(st, flushed)
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
                if self._adopt_placements:
                    placement.save_leader(self._meta, info.id, ch, node)
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

    def _serve(self, st: _Collection, seg: SegmentInfo, deltas: list[DeltaLogInfo],
               target: int | None = None) -> None:
        """Load ``seg`` (on ``target``, else where it is, else on the emptiest node), hand it
        to its channel's delegator, then release a copy left on another node."""
        if seg.id in st.dropped:
            return  # listed or announced before a truncate dropped it
        leader = st.leaders.get(seg.channel)
        if leader is None:
            log.warning("segment %d: channel %s has no delegator", seg.id, seg.channel)
            return
        nodes = self._node_ids()
        old = self._balancer.segment_node(seg.id)
        if target is not None and target in nodes:
            node = target
        else:
            node = old if old in nodes else self._balancer.pick_segment_node(nodes)
        # A copy held as it is (its placement record already says so) is only handed off again.
        held = st.rehome.pop(seg.id, None)
        reuse = node == old and held == seg.index_files
        if not reuse:
            self._node(node).load_segment(st.info, seg, deltas)
        self._node(leader).handoff(seg.channel, seg, node)
        self._balancer.place_segment(seg.id, node, seg.num_rows)
        if self._adopt_placements and not reuse:
            placement.save_segment(self._meta, st.info.id, seg.id, node, dict(seg.index_files))
        st.segments[seg.id] = seg
        if old is not None and old != node and old in nodes:
            self._node(old).release_segment(seg.id)

    def _adopt(self, st: _Collection, flushed: list[SegmentInfo]) -> None:
        """Take over the placements a predecessor persisted whose nodes are alive (see
        :mod:`.placement`); segments it placed that are no longer flushed are released."""
        found = placement.load(self._meta, st.info.id)
        if not found.channels and not found.segments:
            return
        live = set(self._node_ids())
        for ch, node in found.channels.items():
            if node in live and ch in st.info.channels and ch not in st.leaders:
                st.leaders[ch] = node
                self._balancer.place_channel(node)
        current = {s.id: s for s in flushed}
        for sid, (node, index_files) in found.segments.items():
            seg = current.get(sid)
            if node not in live:
                continue
            if seg is None:
                self._node(node).release_segment(sid)
                placement.remove_segment(self._meta, st.info.id, sid)
                continue
            self._balancer.place_segment(sid, node, seg.num_rows)
            st.rehome[sid] = index_files
        log.info("collection %d: took over %d channel and %d segment placements", st.info.id,
                 len(st.leaders), len(st.rehome))

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
        placement.remove_collection(self._meta, st.info.id)
        log.info("released collection %d", st.info.id)

    def _release_partitions(self, st: _Collection, removed: frozenset[int]) -> None:
        parts = st.partition_ids()
        for ch, node in st.leaders.items():
            self._node(node).watch_channel(st.info, ch, 0, [], parts)
        for sid, seg in list(st.segments.items()):
            if seg.partition_id not in removed:
                continue
            self._node(st.leaders[seg.channel]).drop_sealed(seg.channel, sid)
            self._release_segment(sid, st.info.id)
            del st.segments[sid]

    def _drop_segments(self, st: _Collection, ids: set[int]) -> None:
        for sid in sorted(ids & st.segments.keys()):
            seg = st.segments.pop(sid)
            leader = st.leaders.get(seg.channel)
            if leader is not None:
                self._node(leader).drop_sealed(seg.channel, sid)
            self._release_segment(sid, st.info.id)

    def _release_segment(self, segment_id: int, collection_id: int = 0) -> None:
        """Release the segment's copy; forget its persisted placement (unless the caller
        removes the whole collection's, ``collection_id`` 0)."""
        if collection_id and self._adopt_placements:
            placement.remove_segment(self._meta, collection_id, segment_id)
        holder = self._balancer.segment_node(segment_id)
        if holder is not None:
            self._node(holder).release_segment(segment_id)
            self._balancer.remove_segment(segment_id)
