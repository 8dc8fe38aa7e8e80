"""Sessions, node ids and active/standby election on a (local) meta store."""

from __future__ import annotations

import threading
import time

from elanus.cluster.election import Election, active
from elanus.cluster.session import Session, SessionInfo, SessionWatcher, allocate_node_id, live_sessions
from elanus.storage.meta.base import MetaStore


def _until(cond: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_node_ids_are_unique_under_contention(meta: MetaStore) -> None:
    got: list[int] = []
    lock = threading.Lock()

    def grab() -> None:
        for _ in range(20):
            n = allocate_node_id(meta)
            with lock:
                got.append(n)

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1, 81))


def test_register_keepalive_and_stop(meta: MetaStore) -> None:
    s = Session(meta, "querynode", "127.0.0.1:1", ttl=0.6, keepalive=0.1)
    s.register()
    time.sleep(1.0)  # longer than the ttl: the keepalive holds it
    assert live_sessions(meta, "querynode") == [s.info]
    assert SessionInfo.from_json(s.info.to_json()) == s.info
    s.stop()
    assert live_sessions(meta, "querynode") == []
    s.stop()  # idempotent


def test_watcher_reports_joins_and_losses(meta: MetaStore) -> None:
    early = Session(meta, "datanode", "a:1", ttl=5, keepalive=1)
    early.register()
    joined: list[int] = []
    lost: list[int] = []
    w = SessionWatcher(meta, ("datanode",), on_join=lambda i: joined.append(i.node_id),
                       on_lost=lambda i: lost.append(i.node_id))
    w.start()
    assert joined == [early.node_id]
    late = Session(meta, "datanode", "b:1", ttl=0.5, keepalive=0.1)
    late.register()
    _until(lambda: joined == [early.node_id, late.node_id])
    late._stop.set()  # a crash: no keepalive, no revoke
    _until(lambda: lost == [late.node_id])
    early.stop()
    _until(lambda: lost == [late.node_id, early.node_id])
    w.resync()  # nothing new
    assert len(joined) == 2 and len(lost) == 2
    w.stop()


def test_lost_lease_is_reported(meta: MetaStore) -> None:
    fired = threading.Event()
    s = Session(meta, "proxy", "p:1", ttl=0.5, keepalive=0.1, on_lost=fired.set)
    s.register()
    meta.revoke_lease(s.lease)
    assert fired.wait(3)
    s.stop()


def test_standby_takes_over(meta: MetaStore) -> None:
    first = Session(meta, "mixcoord", "m:1", ttl=0.6, keepalive=0.1)
    first.register()
    e1 = Election(meta, "mixcoord", first.info, first.lease)
    assert e1.campaign(threading.Event())
    assert active(meta, "mixcoord") == first.info
    second = Session(meta, "mixcoord", "m:2", ttl=0.6, keepalive=0.1)
    second.register()
    e2 = Election(meta, "mixcoord", second.info, second.lease, poll_interval=5)
    won = threading.Event()
    t = threading.Thread(target=lambda: e2.campaign(threading.Event()) and won.set())
    t.start()
    time.sleep(0.5)
    assert not won.is_set()  # standby
    assert [s.address for s in live_sessions(meta, "mixcoord")] == ["m:1", "m:2"]  # 'active' not listed
    first._stop.set()  # the active dies: its lease runs out
    assert won.wait(3), "the standby did not take over"
    t.join()
    assert active(meta, "mixcoord") == second.info
    e2.resign()
    assert active(meta, "mixcoord") is None
    stop = threading.Event()
    stop.set()
    assert not Election(meta, "mixcoord", second.info, second.lease).campaign(stop)  # stopped: gives up
    second.stop()
