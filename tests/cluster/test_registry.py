"""ClusterRegistry and ChannelAssigner over sessions in a (local) meta store, with stand-in clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from elanus.cluster.channels import ChannelAssigner
from elanus.cluster.election import Election
from elanus.cluster.remote_registry import OWNER_PREFIX, ClusterRegistry, owner_key
from elanus.cluster.session import Session
from elanus.core.errors import MilvusError
from elanus.storage.meta.base import MetaStore


class Stub:
    """What a client would be: remembers its kind, address and the channels it was told to watch."""

    def __init__(self, kind: str, address: str, node_id: int) -> None:
        self.kind, self.address, self.node_id = kind, address, node_id
        self.watched: list[str] = []
        self.closed = False

    def watch_channel(self, channel: str) -> None:
        self.watched.append(channel)

    def close(self) -> None:
        self.closed = True


class Factory:
    def __init__(self) -> None:
        self.made: list[Stub] = []

    def make(self, kind: str, address: str, node_id: int) -> Any:
        stub = Stub(kind, address, node_id)
        self.made.append(stub)
        return stub


@pytest.fixture
def factory() -> Factory:
    return Factory()


@pytest.fixture
def registry(meta: MetaStore, factory: Factory) -> Iterator[ClusterRegistry]:
    r = ClusterRegistry(meta, clients=factory, wait=0.5).start()
    yield r
    r.close()


def _session(meta: MetaStore, role: str, address: str, ttl: float = 5.0) -> Session:
    s = Session(meta, role, address, ttl=ttl, keepalive=min(1.0, ttl / 3))
    s.register()
    return s


def _until(cond: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_coordinators_follow_the_active_key(meta: MetaStore, registry: ClusterRegistry) -> None:
    with pytest.raises(MilvusError, match="service unavailable"):
        registry.root().alloc_timestamp()  # no coordinator is active
    s = _session(meta, "mixcoord", "10.0.0.1:5")
    assert Election(meta, "mixcoord", s.info, s.lease).try_acquire()
    _until(lambda: registry.active("mixcoord") is not None)
    root, address = registry.active_client("root")
    assert (root.kind, root.address, address) == ("root", "10.0.0.1:5", "10.0.0.1:5")
    assert registry.active_client("root")[0] is root  # cached per address
    assert registry.active_client("query_coord")[0].address == "10.0.0.1:5"
    s.stop()  # the active is gone: its clients are closed
    _until(lambda: root.closed)
    local = object()
    registry.set_local(root=local)  # type: ignore[arg-type]
    assert registry.root() is local


def test_calls_follow_a_failover(meta: MetaStore, factory: Factory) -> None:
    from elanus.cluster.rpc import RoleUnavailable

    registry = ClusterRegistry(meta, clients=factory, wait=5.0).start()
    first = _session(meta, "mixcoord", "old:1", ttl=1.0)
    assert Election(meta, "mixcoord", first.info, first.lease).try_acquire()
    _until(lambda: registry.active("mixcoord") is not None)
    calls: list[str] = []

    def alloc(stub: Stub) -> int:
        calls.append(stub.address)
        if stub.address == "old:1":
            raise RoleUnavailable("RootCoord", stub.address, "connection refused")
        return 42

    Stub.alloc_timestamp = lambda self: alloc(self)  # type: ignore[attr-defined]
    try:
        second = _session(meta, "mixcoord", "new:1")
        standby = Election(meta, "mixcoord", second.info, second.lease)
        first._stop.set()  # the active dies; its key goes with its lease, the standby wins
        threading.Thread(target=lambda: standby.campaign(threading.Event()), daemon=True).start()
        assert registry.root().alloc_timestamp() == 42
        assert calls == ["old:1", "new:1"]
    finally:
        del Stub.alloc_timestamp  # type: ignore[attr-defined]
        registry.close()
        second.stop()


def test_nodes(meta: MetaStore, registry: ClusterRegistry) -> None:
    q1 = _session(meta, "querynode", "q:1")
    q2 = _session(meta, "querynode", "q:2")
    i1 = _session(meta, "indexnode", "i:1")
    i2 = _session(meta, "indexnode", "i:2")
    _until(lambda: len(registry.query_nodes()) == 2 and len(registry.sessions("indexnode")) == 2)
    node: Any = registry.query_node(q2.node_id)
    assert (node.kind, node.address, node.node_id) == ("query_node", "q:2", q2.node_id)
    assert {n.node_id for n in registry.query_nodes()} == {q1.node_id, q2.node_id}
    picked = {registry.index_node().address for _ in range(4)}  # type: ignore[attr-defined]
    assert picked == {"i:1", "i:2"}  # round robin
    q2.stop()
    _until(lambda: len(registry.query_nodes()) == 1)
    with pytest.raises(MilvusError, match="not alive"):
        registry.query_node(q2.node_id)
    local = Stub("query_node", "local", 99)
    registry.set_local(node_id=99, query_node=local)  # type: ignore[arg-type]
    assert registry.query_node(99) is local
    for s in (q1, i1, i2):
        s.stop()


def test_channel_owners_spread_and_move(meta: MetaStore, registry: ClusterRegistry) -> None:
    d1 = _session(meta, "datanode", "d:1")
    d2 = _session(meta, "datanode", "d:2", ttl=0.5)
    _until(lambda: len(registry.data_nodes()) == 2)
    owners = {ch: registry.data_node_for(ch).address for ch in ("c0", "c1", "c2", "c3")}  # type: ignore[attr-defined]
    assert sorted(owners.values()) == ["d:1", "d:1", "d:2", "d:2"]
    assert registry.data_node_for("c1").address == owners["c1"]  # type: ignore[attr-defined]
    other = ClusterRegistry(meta, clients=Factory()).start()  # another process agrees
    assert other.data_node_for("c2").address == owners["c2"]  # type: ignore[attr-defined]
    other.close()
    d2._stop.set()  # d2 dies
    _until(lambda: len(registry.data_nodes()) == 1)
    assert {registry.data_node_for(ch).address for ch in owners} == {"d:1"}  # type: ignore[attr-defined]
    assert {kv.value for kv in meta.get_prefix(OWNER_PREFIX)} == {str(d1.node_id).encode()}
    d1.stop()


def test_assigner_reassigns_lost_nodes_channels(meta: MetaStore, registry: ClusterRegistry,
                                                factory: Factory) -> None:
    channels = ["a", "b"]
    meta.put(owner_key("gone"), b"12345")  # a channel of a dropped collection
    d1 = _session(meta, "datanode", "d:1")
    d2 = _session(meta, "datanode", "d:2", ttl=0.5)
    _until(lambda: len(registry.data_nodes()) == 2)
    assigner = ChannelAssigner(meta, registry, lambda: list(channels))
    assigner.start()
    try:
        _until(lambda: len(meta.get_prefix(OWNER_PREFIX)) == 2)
        assert meta.get(owner_key("gone")) is None
        watched = {s.address: s.watched for s in factory.made if s.kind == "data_node"}
        _until(lambda: sorted(ch for w in watched.values() for ch in w) == ["a", "b"])
        d2._stop.set()
        _until(lambda: {kv.value for kv in meta.get_prefix(OWNER_PREFIX)} == {str(d1.node_id).encode()})
        d1_client = next(s for s in factory.made if s.address == "d:1")
        _until(lambda: sorted(d1_client.watched) == ["a", "b"])
    finally:
        assigner.stop()
        d1.stop()
