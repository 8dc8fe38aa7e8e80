"""Cluster behaviour across processes: two proxies, segments over both query nodes, a query node
joining while serving, a standby mixcoord taking over (run last: it kills the first mixcoord)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient

from elanus.cluster.remote_registry import ClusterRegistry
from elanus.cluster.session import live_sessions
from tests.cluster.harness import Cluster

pytestmark = pytest.mark.slow

DIM = 8
BATCH = 300


@pytest.fixture()
def client2(uri2: str) -> Iterator[MilvusClient]:
    c = MilvusClient(uri=uri2, timeout=60)
    yield c
    c.close()


def _until(cond: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}: not reached"
        time.sleep(0.25)


def _rows(start: int, n: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(start)
    vecs = rng.random((n, DIM), dtype=np.float32)
    return [{"id": start + i, "v": vecs[i].tolist(), "tag": f"t{(start + i) % 7}"} for i in range(n)]


def _collection(client: MilvusClient, name: str) -> None:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=DIM)
    schema.add_field("tag", DataType.VARCHAR, max_length=8)
    index = client.prepare_index_params()
    index.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")


def _sealed_batches(client: MilvusClient, name: str, batches: int) -> int:
    """``batches`` flushed segments of BATCH rows each; returns the row count."""
    for b in range(batches):
        client.insert(name, _rows(b * BATCH, BATCH))
        client.flush(name)
    return batches * BATCH


def _placement(client: MilvusClient, name: str) -> dict[int, int]:
    """segment id -> query node id, as GetQuerySegmentInfo reports it."""
    return {int(s.segment_id): int(s.node_ids[0]) for s in client.list_loaded_segments(name)}


def _all_ids(client: MilvusClient, name: str, total: int) -> set[int]:
    res = client.search(name, data=[[0.5] * DIM], limit=total, output_fields=["id"])
    return {int(hit["id"]) for hit in res[0]}


def test_written_through_one_proxy_read_through_the_other(client: MilvusClient, client2: MilvusClient,
                                                          name: str) -> None:
    _collection(client, name)
    assert client2.has_collection(name)
    client.insert(name, _rows(0, 100))
    assert client2.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"] == 100
    client2.insert(name, _rows(100, 50))
    client2.delete(name, ids=[0, 1, 2])
    assert client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"] == 147
    got = client2.query(name, filter="id in [3, 120]", output_fields=["tag"])
    assert sorted((r["id"], r["tag"]) for r in got) == [(3, "t3"), (120, "t1")]
    client2.drop_collection(name)
    _until(lambda: not client.has_collection(name), "drop seen by proxy 1", 10)


def test_search_spans_segments_on_both_query_nodes(client: MilvusClient, name: str) -> None:
    _collection(client, name)
    total = _sealed_batches(client, name, 4)
    placement = _until(lambda: (p := _placement(client, name)) and len(p) == 4 and p, "4 segments served")
    assert len(set(placement.values())) == 2, placement  # spread over both query nodes
    assert _all_ids(client, name, total) == set(range(total))
    assert client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"] == total
    client.drop_collection(name)


def test_query_node_joining_takes_a_share_and_losing_it_moves_them_back(cluster: Cluster, client: MilvusClient,
                                                                       name: str) -> None:
    _collection(client, name)
    total = _sealed_batches(client, name, 4)
    _until(lambda: len(_placement(client, name)) == 4, "4 segments served")
    before = cluster.count("querynode")
    cluster.spawn("querynode-3", "querynode")
    cluster.wait(lambda: cluster.count("querynode") == before + 1, "query node 3 registered")
    newest = max(s.node_id for s in live_sessions(cluster.meta, "querynode"))
    placement = _until(lambda: (p := _placement(client, name)) and newest in p.values() and p,
                       "segments moved onto the new query node")
    assert len(placement) == 4
    assert _all_ids(client, name, total) == set(range(total))
    cluster.kill("querynode-3")  # and lost again: its segments go back to the others
    placement = _until(lambda: (p := _placement(client, name)) and len(p) == 4 and newest not in p.values() and p,
                       "segments of the lost query node served elsewhere")
    assert _all_ids(client, name, total) == set(range(total))
    client.drop_collection(name)


def test_lost_data_node_channels_move_to_a_new_one(cluster: Cluster, client: MilvusClient, name: str) -> None:
    _collection(client, name)
    client.insert(name, _rows(0, 200))
    client.flush(name)
    client.insert(name, _rows(200, 100))  # only in the WAL and the lost node's buffers
    old = {s.node_id for s in live_sessions(cluster.meta, "datanode")}
    cluster.kill("datanode-1")
    cluster.spawn("datanode-2", "datanode")
    cluster.wait(lambda: {s.node_id for s in live_sessions(cluster.meta, "datanode")} - old != set()
                 and not old & {s.node_id for s in live_sessions(cluster.meta, "datanode")}, "data node replaced")
    client.insert(name, _rows(300, 50))  # the channel now has a new owner
    assert client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"] == 350
    client.flush(name)  # the new owner flushes what the lost one left in the WAL too
    persisted = _until(lambda: (n := sum(s.num_rows for s in client.list_persistent_segments(name))) == 350 and n,
                       "every row flushed by the new owner")
    assert persisted == 350
    assert _all_ids(client, name, 350) == set(range(350))
    client.drop_collection(name)


def test_standby_mixcoord_takes_over(cluster: Cluster, client: MilvusClient, name: str) -> None:
    _collection(client, name)
    client.insert(name, _rows(0, 200))
    client.flush(name)
    client.insert(name, _rows(200, 100))  # growing
    registry = ClusterRegistry(cluster.meta).start()
    try:
        ts_before = registry.root().alloc_timestamp()
        first = cluster.active_node()
        cluster.spawn("mixcoord-2", "mixcoord", config_file=True)  # settings from --config this time
        cluster.wait(lambda: cluster.count("mixcoord") == 2, "standby registered")
        assert cluster.active_node() == first
        cluster.kill("mixcoord-1")
        # Right away, while the dead one still holds the election key: the write waits for
        # the standby to take over (the registry resends a call the dead coordinator missed).
        client.insert(name, _rows(300, 50))
        assert cluster.active_node() not in (None, first)
        ts_after = registry.root().alloc_timestamp()
        assert ts_after > ts_before  # the TSO continues above the old window
    finally:
        registry.close()
    count = _until(lambda: _try(lambda: client.query(name, filter="", output_fields=["count(*)"])),
                   "reads after failover")
    assert count[0]["count(*)"] == 350
    client.flush(name)
    assert _all_ids(client, name, 350) == set(range(350))
    other = name + "_after"
    _collection(client, other)  # DDL on the new active
    client.insert(other, _rows(0, 10))
    assert client.query(other, filter="", output_fields=["count(*)"])[0]["count(*)"] == 10
    client.drop_collection(other)
    client.drop_collection(name)


def _try(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception:
        return None
