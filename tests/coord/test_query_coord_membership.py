"""Query coordinator scale-out: a joining node takes a share of the segments, a lost node's work moves."""

from __future__ import annotations

import time

import numpy as np
import pytest

from elanus.cluster.types import LoadState
from elanus.coord.query import QueryCoordImpl
from elanus.core.errors import MilvusError
from elanus.worker.query_node import QueryNodeImpl
from tests.coord.test_query_coord import COLLECTION, Cluster, cluster

__all__ = ["cluster"]


def _drain(c: Cluster) -> None:
    c.qc._submit(lambda: None).wait(10)


def test_joining_node_takes_a_share(cluster: Cluster) -> None:
    for seg in range(1, 7):
        cluster.flushed(seg, np.arange(seg * 100, seg * 100 + 40), "qc0" if seg % 2 else "qc1")
    cluster.qc.load(COLLECTION)
    cluster.wait_loaded()
    assert cluster.count() == 240
    new = QueryNodeImpl(3, cluster.registry, cluster.meta, cluster.objects, cluster.wal, wait_timeout=5.0)
    cluster.nodes.append(new)
    cluster.registry.add_query_node(new)
    cluster.qc.node_joined(3)
    _drain(cluster)
    held = {n.node_id: n.segment_ids() for n in cluster.nodes}
    assert len(held[3]) == 2 and len(held[1]) == 2 and len(held[2]) == 2, held
    served = {sid: node for seg_info, node in cluster.qc.served_segments(COLLECTION.id)
              for sid in [seg_info.id]}
    assert sorted(s for s, n in served.items() if n == 3) == held[3]
    assert cluster.count() == 240  # no row lost or counted twice while moving
    # Embedded mode (adopt_placements off) neither persists nor reads placements.
    assert cluster.meta.get_prefix("querycoord-dist/") == []


def test_lost_node_work_moves(cluster: Cluster) -> None:
    for seg in range(1, 5):  # segments alternate between the nodes, channels go in pairs
        cluster.flushed(seg, np.arange(seg * 100, seg * 100 + 30), "qc0" if seg <= 2 else "qc1")
    cluster.growing(9, np.arange(5000, 5010), "qc1")
    cluster.qc.load(COLLECTION)
    cluster.wait_loaded()
    assert cluster.count() == 130
    kept = {sid: cluster.nodes[0].segment(sid) for sid in cluster.nodes[0].segment_ids()}
    led_by_2 = {ch for ch, n in cluster.qc.shard_leaders(COLLECTION.id).items() if n == 2}
    # node 1 holds a segment of a channel node 2 leads: it is re-handed to the new delegator
    assert any(s.channel in led_by_2 for s, n in cluster.qc.served_segments(COLLECTION.id) if n == 1)
    lost = cluster.nodes.pop(1)
    del cluster.registry._query_nodes[lost.node_id]
    lost.close()
    cluster.qc.node_lost(lost.node_id)
    _drain(cluster)
    assert set(cluster.qc.shard_leaders(COLLECTION.id).values()) == {1}
    assert cluster.nodes[0].segment_ids() == [1, 2, 3, 4]
    assert all(node == 1 for _, node in cluster.qc.served_segments(COLLECTION.id))
    for sid, copy in kept.items():  # copies the survivor held are handed off again, not reloaded
        assert cluster.nodes[0].segment(sid) is copy
    cluster.wait_loaded()
    assert cluster.qc.load_progress(COLLECTION.id).state == LoadState.LOADED
    assert cluster.count() == 130


def test_successor_adopts_live_placements(cluster: Cluster) -> None:
    for seg in range(1, 5):
        cluster.flushed(seg, np.arange(seg * 100, seg * 100 + 30), "qc0" if seg % 2 else "qc1")
    first = QueryCoordImpl(cluster.registry, cluster.meta, adopt_placements=True)
    first.load(COLLECTION)
    _until_loaded(first)
    leaders = first.shard_leaders(COLLECTION.id)
    delegators = {ch: cluster.registry.query_node(n).delegator(ch) for ch, n in leaders.items()}  # type: ignore[attr-defined]
    copies = {sid: n.segment(sid) for n in cluster.nodes for sid in n.segment_ids()}
    first.stop()  # the active coordinator dies; a standby takes over with the same nodes alive
    second = QueryCoordImpl(cluster.registry, cluster.meta, adopt_placements=True)
    cluster.registry.set_query_coord(second)
    second.start()
    _until_loaded(second)
    assert second.shard_leaders(COLLECTION.id) == leaders
    for ch, n in leaders.items():
        assert cluster.registry.query_node(n).delegator(ch) is delegators[ch]  # type: ignore[attr-defined]
    assert {sid: n.segment(sid) for n in cluster.nodes for sid in n.segment_ids()} == copies  # not reloaded
    assert sorted(s.id for s, _ in second.served_segments(COLLECTION.id)) == [1, 2, 3, 4]
    cluster.qc = second
    assert cluster.count() == 120
    second.release(COLLECTION.id)
    assert cluster.meta.get_prefix("querycoord-dist/") == []


def _until_loaded(qc: QueryCoordImpl) -> None:
    deadline = time.monotonic() + 10
    while qc.load_progress(COLLECTION.id).state != LoadState.LOADED:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_load_resumes_when_a_node_joins_after_all_were_lost(cluster: Cluster) -> None:
    for seg in range(1, 3):
        cluster.flushed(seg, np.arange(seg * 100, seg * 100 + 20), "qc0" if seg % 2 else "qc1")
    cluster.qc.load(COLLECTION)
    cluster.wait_loaded()
    for node in list(cluster.nodes):
        cluster.nodes.remove(node)
        del cluster.registry._query_nodes[node.node_id]
        node.close()
        cluster.qc.node_lost(node.node_id)
    _drain(cluster)
    with pytest.raises(MilvusError, match="no query node"):  # nowhere to serve it for now
        cluster.qc.load_progress(COLLECTION.id)
    new = QueryNodeImpl(7, cluster.registry, cluster.meta, cluster.objects, cluster.wal, wait_timeout=5.0)
    cluster.nodes.append(new)
    cluster.registry.add_query_node(new)
    cluster.qc.node_joined(7)
    _drain(cluster)
    cluster.wait_loaded()
    assert set(cluster.qc.shard_leaders(COLLECTION.id).values()) == {7}
    assert new.segment_ids() == [1, 2]
    assert cluster.count() == 40
