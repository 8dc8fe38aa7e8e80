"""Query coordinator: load/progress/release, partitions, segment_ready handoff, restart reload."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from elanus.cluster.registry import LocalRegistry
from elanus.cluster.types import Checkpoint, CollectionInfo, LoadState
from elanus.coord.query import QueryCoordImpl
from elanus.coord.query.loadinfo import PREFIX
from elanus.core.errors import collection_not_found
from elanus.worker.query_node import QueryNodeImpl
from tests.worker.querypath_fakes import QueryStack
from tests.worker.segdata import (
    PART,
    FakeDataCoord,
    flush_msg,
    insert_msg,
    make_collection,
    make_columns,
    make_schema,
    query_req,
    tick_msg,
    write_segment,
)

SCHEMA = make_schema()
COLLECTION = make_collection(SCHEMA, channels=("qc0", "qc1"))
INDEX = {"index_type": "FLAT", "metric_type": "L2"}


class FakeRoot:
    def __init__(self) -> None:
        self.collections = {COLLECTION.id: COLLECTION}

    def describe_collection(self, db: str, name: str = "", collection_id: int = 0) -> CollectionInfo:
        if collection_id not in self.collections:
            raise collection_not_found(str(collection_id))
        return self.collections[collection_id]


class Cluster(QueryStack):
    def __init__(self, root: Path) -> None:
        super().__init__(root, COLLECTION.channels, wait_timeout=5.0, ts=1000)
        self.dc = FakeDataCoord()
        self.root = FakeRoot()
        self.registry.set_data_coord(self.dc)  # type: ignore[arg-type]
        self.registry.set_root(self.root)  # type: ignore[arg-type]
        self.qc = QueryCoordImpl(self.registry, self.meta)
        self.registry.set_query_coord(self.qc)

    def flushed(self, seg: int, pks: np.ndarray, channel: str, partition: int = PART) -> None:
        """A segment the data node flushed: its file, its meta, its WAL records."""
        cols = make_columns(SCHEMA, pks, seed=seg)
        ts = self.next_ts()
        self.wal.append(channel, insert_msg(SCHEMA, cols, ts, seg, part=partition), durable=False)
        self.wal.append(channel, flush_msg([seg], self.next_ts()), durable=False)
        info = write_segment(self.objects, SCHEMA, seg, cols, ts, channel=channel, partition=partition,
                             index=INDEX)
        self.dc.segments[seg] = info

    def growing(self, seg: int, pks: np.ndarray, channel: str, partition: int = PART) -> int:
        ts = self.next_ts()
        cols = make_columns(SCHEMA, pks, seed=seg)
        self.wal.append(channel, insert_msg(SCHEMA, cols, ts, seg, part=partition), durable=False)
        return ts

    def wait_loaded(self, qc: QueryCoordImpl | None = None, timeout: float = 5.0) -> None:
        qc = qc or self.qc
        deadline = time.monotonic() + timeout
        while qc.load_progress(COLLECTION.id).state != LoadState.LOADED:
            assert time.monotonic() < deadline, qc.load_progress(COLLECTION.id)
            time.sleep(0.005)

    def count(self, partitions: tuple[int, ...] = ()) -> int:
        tick = self.next_ts()
        for ch in COLLECTION.channels:  # what the channel writer's time tick does every 200 ms
            self.wal.append(ch, tick_msg(tick), durable=False)
        total = 0
        for ch, node in self.qc.shard_leaders(COLLECTION.id).items():
            req = query_req(0, guarantee_ts=self.ts, count_only=True, partition_ids=partitions)
            total += self.registry.query_node(node).query(ch, req).count
        return total

    def close(self) -> None:
        self.qc.stop()
        super().close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    yield c
    c.close()


def test_load_progress_and_serving(cluster: Cluster) -> None:
    cluster.flushed(1, np.arange(0, 100), "qc0")
    cluster.flushed(2, np.arange(100, 130), "qc1")
    cluster.flushed(3, np.arange(130, 160), "qc1")
    cluster.growing(4, np.arange(1000, 1010), "qc0")
    assert cluster.qc.load_progress(COLLECTION.id).state == LoadState.NOT_LOAD
    assert cluster.qc.loaded_partitions(COLLECTION.id) is None
    assert not cluster.qc.is_loaded(COLLECTION.id)
    cluster.qc.load(COLLECTION)
    state = cluster.qc.load_progress(COLLECTION.id).state
    assert state in (LoadState.LOADING, LoadState.LOADED)
    cluster.wait_loaded()
    assert cluster.qc.load_progress(COLLECTION.id).percent == 100
    leaders = cluster.qc.shard_leaders(COLLECTION.id)
    assert sorted(leaders) == ["qc0", "qc1"] and sorted(leaders.values()) == [1, 2]
    assert cluster.count() == 170
    # Balanced by rows: the 100-row segment alone on one node, the two 30-row ones together.
    held = {n.node_id: n.segment_ids() for n in cluster.nodes}
    assert sorted(held.values()) == [[1], [2, 3]]
    assert set(cluster.qc.loaded_partitions(COLLECTION.id) or ()) == {PART, PART + 1}
    assert cluster.qc.is_loaded(COLLECTION.id)
    cluster.qc.load(COLLECTION)  # loading again is a no-op
    assert cluster.qc.load_progress(COLLECTION.id).state == LoadState.LOADED


def test_seek_from_checkpoint(cluster: Cluster) -> None:
    cluster.flushed(1, np.arange(0, 50), "qc0")
    cp = cluster.wal.end_offset("qc0")
    cluster.dc.checkpoints["qc0"] = Checkpoint("qc0", cp, cluster.ts)
    cluster.growing(2, np.arange(50, 60), "qc0")
    cluster.qc.load(COLLECTION)
    cluster.wait_loaded()
    assert cluster.count() == 60


def test_segment_ready_hands_off_growing(cluster: Cluster) -> None:
    cluster.growing(5, np.arange(0, 40), "qc0")
    cluster.qc.load(COLLECTION)
    cluster.wait_loaded()
    assert cluster.count() == 40
    cluster.flushed(5, np.arange(0, 40), "qc0")  # same rows; the file now exists
    cluster.qc.segment_ready(cluster.dc.segments[5])
    leader = cluster.registry.query_node(cluster.qc.shard_leaders(COLLECTION.id)["qc0"])
    deadline = time.monotonic() + 5
    while True:
        d = leader.delegator("qc0")  # type: ignore[attr-defined]
        if d is not None and d.distribution.sealed:
            break
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert not d.distribution.growing
    assert cluster.count() == 40


def test_release_collection(cluster: Cluster) -> None:
    cluster.flushed(1, np.arange(0, 20), "qc0")
    cluster.qc.load(COLLECTION)
    cluster.wait_loaded()
    assert cluster.meta.get(PREFIX + str(COLLECTION.id)) is not None
    cluster.qc.release(COLLECTION.id)
    assert cluster.qc.load_progress(COLLECTION.id).state == LoadState.NOT_LOAD
    assert cluster.qc.loaded_partitions(COLLECTION.id) is None
    assert cluster.qc.shard_leaders(COLLECTION.id) == {}
    assert all(n.segment_ids() == [] and n.delegator("qc0") is None for n in cluster.nodes)
    assert cluster.meta.get(PREFIX + str(COLLECTION.id)) is None
    cluster.qc.load(COLLECTION)  # load again after release
    cluster.wait_loaded()
    assert cluster.count() == 20


def test_partition_load_and_release(cluster: Cluster) -> None:
    cluster.flushed(1, np.arange(0, 20), "qc0", partition=PART)
    cluster.flushed(2, np.arange(20, 50), "qc0", partition=PART + 1)
    cluster.growing(3, np.arange(50, 55), "qc1", partition=PART + 1)
    cluster.qc.load(COLLECTION, (PART,))
    cluster.wait_loaded()
    assert cluster.qc.loaded_partitions(COLLECTION.id) == (PART,)
    assert cluster.qc.load_progress(COLLECTION.id, (PART + 1,)).state == LoadState.NOT_LOAD
    assert cluster.count() == 20
    cluster.qc.load(COLLECTION, (PART + 1,))
    cluster.wait_loaded()
    assert cluster.qc.loaded_partitions(COLLECTION.id) == (PART, PART + 1)
    assert cluster.count() == 55
    assert cluster.count((PART + 1,)) == 35
    cluster.qc.release(COLLECTION.id, (PART,))
    assert cluster.qc.loaded_partitions(COLLECTION.id) == (PART + 1,)
    assert cluster.count() == 35
    assert all(1 not in n.segment_ids() for n in cluster.nodes)
    cluster.qc.release(COLLECTION.id, (PART + 1,))  # last partition: the collection is released
    assert cluster.qc.loaded_partitions(COLLECTION.id) is None


def test_restart_reloads_persisted_collections(cluster: Cluster) -> None:
    cluster.flushed(1, np.arange(0, 25), "qc1")
    cluster.growing(2, np.arange(25, 30), "qc0")
    cluster.qc.load(COLLECTION)
    cluster.wait_loaded()
    # The coordinator and its nodes restart; the meta store keeps the load info.
    cluster.qc.stop()
    for n in cluster.nodes:
        n.close()
    registry = LocalRegistry()
    registry.set_data_coord(cluster.dc)  # type: ignore[arg-type]
    registry.set_root(cluster.root)  # type: ignore[arg-type]
    cluster.nodes = [QueryNodeImpl(i, registry, cluster.meta, cluster.objects, cluster.wal) for i in (1, 2)]
    for n in cluster.nodes:
        registry.add_query_node(n)
    cluster.registry = registry
    cluster.qc = QueryCoordImpl(registry, cluster.meta)
    registry.set_query_coord(cluster.qc)
    cluster.qc.start()
    cluster.wait_loaded()
    assert cluster.count() == 30
    # A collection dropped while down is forgotten.
    cluster.qc.stop()
    cluster.root.collections.clear()
    qc = QueryCoordImpl(registry, cluster.meta)
    qc.start()
    assert qc.loaded_partitions(COLLECTION.id) is None
    assert cluster.meta.get(PREFIX + str(COLLECTION.id)) is None
    cluster.qc = qc
