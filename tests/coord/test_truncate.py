"""Truncate in the coordinators: the root coordinator's orchestration, the query coordinator's
drop of truncated segments (and its refusal to serve them again), the delegator's TRUNCATE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from elanus.cluster.types import CollectionInfo, LoadState, SegmentInfo
from elanus.core import errors
from elanus.core.messages import Message, MsgType
from tests.coord.test_query_coord import COLLECTION, Cluster
from tests.coord.test_root_coord import Env, FakeDataCoord, FakeDataNode, FakeQueryCoord, create, raises


def _node_truncate(self: FakeDataNode, collection: CollectionInfo, channel: str) -> int:
    self.calls.append(("truncate_collection", (collection.id, channel)))
    return 1000 + len(self.calls)


def _dc_truncate(self: FakeDataCoord, collection_id: int, fences: dict[str, int]) -> list[int]:
    self.calls.append(("truncate_collection", (collection_id, dict(fences))))
    return [7, 8]


def _qc_drop(self: FakeQueryCoord, collection_id: int, segment_ids: list[int]) -> None:
    self.calls.append(("drop_segments", (collection_id, list(segment_ids))))


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """The root coordinator's recording fakes, taught the truncate calls."""
    monkeypatch.setattr(FakeDataNode, "truncate_collection", _node_truncate, raising=False)
    monkeypatch.setattr(FakeDataCoord, "truncate_collection", _dc_truncate, raising=False)
    monkeypatch.setattr(FakeQueryCoord, "drop_segments", _qc_drop, raising=False)
    e = Env(tmp_path / "meta")
    yield e
    e.close()


def test_root_truncates_every_channel_then_the_segments(env: Env) -> None:
    info = create(env.root, "c", shards=2)
    env.root.create_alias("", "a", "c")
    env.root.truncate_collection("", "a")  # through an alias, as Milvus resolves the name
    calls = env.node_calls("truncate_collection")
    assert sorted(ch for _, ch in calls) == sorted(info.channels)
    ((coll_id, fences),) = env.dc.named("truncate_collection")
    assert coll_id == info.id and set(fences) == set(info.channels)
    assert env.qc.named("drop_segments") == [(info.id, [7, 8])]
    assert env.root.describe_collection("", "c").partitions == info.partitions  # the collection stays
    with raises(errors.COLLECTION_NOT_FOUND, "collection not found[database=default][collection=nope]"):
        env.root.truncate_collection("", "nope")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    yield c
    c.close()


def _truncate(cluster: Cluster) -> None:
    ts = cluster.next_ts()
    for ch in COLLECTION.channels:
        cluster.wal.append(ch, Message(MsgType.TRUNCATE, ts, COLLECTION.id).encode(), durable=False)


def test_truncated_segments_leave_and_never_come_back(cluster: Cluster) -> None:
    cluster.flushed(1, np.arange(0, 50), "qc0")
    cluster.flushed(2, np.arange(50, 80), "qc1")
    cluster.growing(3, np.arange(80, 90), "qc0")
    cluster.qc.load(COLLECTION)
    cluster.wait_loaded()
    assert cluster.count() == 90
    assert sorted(s.id for s, _ in cluster.qc.served_segments(COLLECTION.id)) == [1, 2]

    _truncate(cluster)  # the delegators drop the growing rows
    late: SegmentInfo = cluster.dc.segments[2]
    cluster.qc.drop_segments(COLLECTION.id, [1, 2])
    assert cluster.count() == 0
    assert cluster.qc.served_segments(COLLECTION.id) == []
    assert all(n.segment_ids() == [] for n in cluster.nodes)
    assert cluster.qc.load_progress(COLLECTION.id).state == LoadState.LOADED

    cluster.qc.segment_ready(late)  # a notice sent before the drop, arriving after it
    cluster.growing(4, np.arange(100, 105), "qc1")
    assert cluster.count() == 5
    assert cluster.qc.served_segments(COLLECTION.id) == []
    cluster.qc.drop_segments(COLLECTION.id + 1, [9])  # a collection not loaded: nothing to do


def test_delegator_replaying_a_truncate_skips_what_came_before(cluster: Cluster) -> None:
    cluster.growing(1, np.arange(0, 40), "qc0")
    _truncate(cluster)
    cluster.growing(2, np.arange(40, 43), "qc0")
    cluster.qc.load(COLLECTION)
    cluster.wait_loaded()
    assert cluster.count() == 3
    leader: Any = cluster.registry.query_node(cluster.qc.shard_leaders(COLLECTION.id)["qc0"])
    assert [g.segment_id for g in leader.delegator("qc0").distribution.growing] == [2]
