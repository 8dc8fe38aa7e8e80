"""Contract tests of MetaStore, run against every backend (see conftest.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from elanus.storage import (
    Compare,
    InvalidKey,
    KeyValue,
    LeaseNotFound,
    MetaStore,
    Op,
    StorageClosed,
    WatchEvent,
)

WAIT = 5.0  # generous upper bound for anything asynchronous; tests finish far sooner


class Events:
    """Collects watch events and lets a test wait for a number of them."""

    def __init__(self) -> None:
        self.items: list[WatchEvent] = []
        self.threads: set[str] = set()
        self._cv = threading.Condition()

    def __call__(self, event: WatchEvent) -> None:
        with self._cv:
            self.items.append(event)
            self.threads.add(threading.current_thread().name)
            self._cv.notify_all()

    def wait_for(self, count: int, timeout: float = WAIT) -> list[WatchEvent]:
        with self._cv:
            assert self._cv.wait_for(lambda: len(self.items) >= count, timeout), (
                f"expected {count} events, got {self.items}"
            )
            return list(self.items)

    def summary(self) -> list[tuple[str, str, bytes]]:
        with self._cv:
            return [(e.type, e.kv.key, e.kv.value) for e in self.items]


# ------------------------------------------------------------------ basic KV


def test_put_get_and_key_metadata(meta: MetaStore) -> None:
    r0 = meta.revision()
    r1 = meta.put("a", b"1")
    assert r1 == r0 + 1 == meta.revision()
    assert meta.get("a") == KeyValue("a", b"1", r1, r1, 1, 0)
    r2 = meta.put("a", b"2")
    assert r2 == r1 + 1
    assert meta.get("a") == KeyValue("a", b"2", r1, r2, 2, 0)
    assert meta.get("missing") is None


def test_recreated_key_starts_a_new_incarnation(meta: MetaStore) -> None:
    meta.put("k", b"x")
    meta.put("k", b"y")
    assert meta.delete("k")
    r = meta.put("k", b"z")
    kv = meta.get("k")
    assert kv is not None and (kv.create_revision, kv.version) == (r, 1)


def test_get_prefix_is_sorted_and_exact(meta: MetaStore) -> None:
    for key in ["b/2", "a/1", "b/10", "b/1", "b0", "b", "c", "b/é", "b/z"]:
        meta.put(key, key.encode())
    assert [kv.key for kv in meta.get_prefix("b/")] == ["b/1", "b/10", "b/2", "b/z", "b/é"]
    assert [kv.key for kv in meta.get_prefix("b")] == ["b", "b/1", "b/10", "b/2", "b/z", "b/é", "b0"]
    assert len(meta.get_prefix("")) == 9
    assert meta.get_prefix("zzz") == []
    assert all(kv.value == kv.key.encode() for kv in meta.get_prefix(""))


def test_delete_and_delete_prefix(meta: MetaStore) -> None:
    for key in ["p/1", "p/2", "p/3", "q/1"]:
        meta.put(key, b"v")
    before = meta.revision()
    assert meta.delete("p/1") is True
    assert meta.revision() == before + 1
    assert meta.delete("p/1") is False
    assert meta.revision() == before + 1, "a delete that removes nothing is not a revision"
    assert meta.delete_prefix("p/") == 2
    assert meta.revision() == before + 2, "a prefix delete is one revision"
    assert meta.delete_prefix("p/") == 0
    assert meta.revision() == before + 2
    assert [kv.key for kv in meta.get_prefix("")] == ["q/1"]


def test_empty_value_and_binary_value(meta: MetaStore) -> None:
    meta.put("empty", b"")
    meta.put("bin", bytes(range(256)))
    assert meta.get("empty") is not None and meta.get("empty").value == b""  # type: ignore[union-attr]
    assert meta.get("bin").value == bytes(range(256))  # type: ignore[union-attr]


def test_invalid_key(meta: MetaStore) -> None:
    with pytest.raises(InvalidKey):
        meta.put("", b"x")
    with pytest.raises(ValueError):
        meta.get("")


# ----------------------------------------------------------------------- txn


def test_txn_create_if_absent(meta: MetaStore) -> None:
    create = [Compare("lock", "version", "==", 0)]
    assert meta.txn(create, [Op.put("lock", b"me")]) is True
    assert meta.txn(create, [Op.put("lock", b"you")], [Op.put("loser", b"1")]) is False
    assert meta.get("lock").value == b"me"  # type: ignore[union-attr]
    assert meta.get("loser").value == b"1"  # type: ignore[union-attr]


def test_txn_compare_targets_and_ops(meta: MetaStore) -> None:
    r = meta.put("k", b"b")
    kv = meta.get("k")
    assert kv is not None
    true_compares = [
        Compare("k", "mod_revision", "==", r),
        Compare("k", "create_revision", "==", r),
        Compare("k", "version", ">", 0),
        Compare("k", "version", "<", 2),
        Compare("k", "value", "==", b"b"),
        Compare("k", "value", "!=", b"c"),
        Compare("k", "value", "<", b"c"),
        Compare("k", "value", ">", b"a"),
        Compare("absent", "version", "==", 0),
        Compare("absent", "mod_revision", "<", 1),
    ]
    for c in true_compares:
        assert meta.txn([c], []) is True, c
    false_compares = [
        Compare("k", "mod_revision", "!=", r),
        Compare("k", "value", "==", b"x"),
        Compare("k", "version", ">", 1),
        Compare("absent", "value", "==", b""),  # value compares on an absent key are false
        Compare("absent", "value", "!=", b"x"),
    ]
    for c in false_compares:
        assert meta.txn([c], []) is False, c
    # All compares must hold.
    assert meta.txn([true_compares[0], false_compares[0]], []) is False
    assert meta.revision() == r, "a txn that writes nothing is not a revision"


def test_txn_branch_is_one_revision(meta: MetaStore) -> None:
    meta.put("d/1", b"x")
    meta.put("d/2", b"x")
    meta.put("gone", b"x")
    before = meta.revision()
    ok = meta.txn(
        [Compare("gone", "value", "==", b"x")],
        [Op.put("n/1", b"a"), Op.put("n/2", b"b"), Op.delete("gone"), Op.delete_prefix("d/")],
    )
    assert ok
    assert meta.revision() == before + 1
    assert {kv.mod_revision for kv in meta.get_prefix("n/")} == {before + 1}
    assert meta.get("gone") is None and meta.get_prefix("d/") == []


def test_txn_later_op_wins(meta: MetaStore) -> None:
    assert meta.txn([], [Op.put("k", b"1"), Op.put("k", b"2")])
    assert meta.get("k").value == b"2"  # type: ignore[union-attr]
    assert meta.txn([], [Op.put("j", b"1"), Op.delete("j")])
    assert meta.get("j") is None


def test_compare_validates_operands() -> None:
    with pytest.raises(TypeError):
        Compare("k", "value", "==", 1)
    with pytest.raises(TypeError):
        Compare("k", "version", "==", b"1")
    with pytest.raises(ValueError):
        Compare("k", "size", "==", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Compare("k", "version", "<=", 1)  # type: ignore[arg-type]


def test_txn_cas_counter_race(meta: MetaStore) -> None:
    """Threads increment one counter with compare-and-swap; no update may be lost."""
    meta.put("counter", b"0")
    threads, per_thread = 8, 10
    conflicts = [0] * threads

    def worker(t: int) -> None:
        for _ in range(per_thread):
            while True:
                kv = meta.get("counter")
                assert kv is not None
                new = str(int(kv.value) + 1).encode()
                if meta.txn(
                    [Compare("counter", "mod_revision", "==", kv.mod_revision)], [Op.put("counter", new)]
                ):
                    break
                conflicts[t] += 1

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    kv = meta.get("counter")
    assert kv is not None
    assert int(kv.value) == threads * per_thread
    assert kv.version == threads * per_thread + 1


def test_txn_create_race_has_one_winner(meta: MetaStore) -> None:
    barrier = threading.Barrier(8)
    wins: list[int] = []

    def worker(t: int) -> None:
        barrier.wait()
        if meta.txn([Compare("leader", "version", "==", 0)], [Op.put("leader", str(t).encode())]):
            wins.append(t)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    assert len(wins) == 1
    assert meta.get("leader").value == str(wins[0]).encode()  # type: ignore[union-attr]


# --------------------------------------------------------------------- watch


def test_watch_delivers_changes_in_revision_order(meta: MetaStore) -> None:
    meta.put("w/before", b"old")  # happened before the watch: not delivered
    events = Events()
    handle = meta.watch_prefix("w/", events)
    meta.put("w/a", b"1")
    meta.put("other", b"x")  # outside the prefix
    meta.put("w/a", b"2")
    meta.delete("w/before")
    meta.txn([], [Op.put("w/b", b"3"), Op.put("w/c", b"4")])
    meta.delete_prefix("w/")
    got = events.wait_for(8)
    assert [(e.type, e.kv.key, e.kv.value) for e in got[:5]] == [
        ("put", "w/a", b"1"),
        ("put", "w/a", b"2"),
        ("delete", "w/before", b""),
        ("put", "w/b", b"3"),
        ("put", "w/c", b"4"),
    ]
    assert sorted((e.type, e.kv.key) for e in got[5:]) == [
        ("delete", "w/a"),
        ("delete", "w/b"),
        ("delete", "w/c"),
    ]
    revisions = [e.kv.mod_revision for e in got]
    assert revisions == sorted(revisions)
    assert got[3].kv.mod_revision == got[4].kv.mod_revision, "one txn, one revision"
    assert len({e.kv.mod_revision for e in got[5:]}) == 1
    assert got[1].kv.version == 2
    deleted = got[2].kv
    assert (deleted.version, deleted.create_revision, deleted.lease) == (0, 0, 0)
    assert threading.current_thread().name not in events.threads, "callbacks run on a dispatcher thread"
    handle.cancel()


def test_watch_cancel_stops_delivery(meta: MetaStore) -> None:
    events, marker = Events(), Events()
    handle = meta.watch_prefix("c/", events)
    meta.watch_prefix("c/", marker)
    meta.put("c/1", b"x")
    events.wait_for(1)
    handle.cancel()
    handle.cancel()  # idempotent
    meta.put("c/2", b"y")
    marker.wait_for(2)  # the other watcher got it, so delivery has passed this revision
    assert events.summary() == [("put", "c/1", b"x")]


def test_raising_callback_does_not_stop_delivery(meta: MetaStore) -> None:
    seen: list[str] = []

    def flaky(event: WatchEvent) -> None:
        seen.append(event.kv.key)
        raise RuntimeError("watcher bug")

    events = Events()
    meta.watch_prefix("f/", flaky)
    meta.watch_prefix("f/", events)
    meta.put("f/1", b"x")
    meta.put("f/2", b"x")
    events.wait_for(2)
    assert seen == ["f/1", "f/2"]


def test_callback_may_use_the_store(meta: MetaStore) -> None:
    """Callbacks run without the store's lock, so they can read and write it."""
    done = threading.Event()

    def mirror(event: WatchEvent) -> None:
        if event.type == "put":
            meta.put("mirror/" + event.kv.key, event.kv.value)
            assert meta.get(event.kv.key) is not None
            done.set()

    meta.watch_prefix("src/", mirror)
    meta.put("src/x", b"42")
    assert done.wait(WAIT)
    assert meta.get("mirror/src/x").value == b"42"  # type: ignore[union-attr]


# -------------------------------------------------------------------- leases


def _wait_until(predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_lease_expiry_deletes_keys_and_notifies_watchers(meta: MetaStore) -> None:
    events = Events()
    meta.watch_prefix("session/", events)
    lease = meta.grant_lease(0.3)
    assert lease > 0
    meta.put("session/node-1", b"alive", lease=lease)
    meta.put("session/node-2", b"alive", lease=lease)
    meta.put("session/node-3", b"no lease")
    kv = meta.get("session/node-1")
    assert kv is not None and kv.lease == lease
    got = events.wait_for(5)
    assert meta.get("session/node-1") is None and meta.get("session/node-2") is None
    assert sorted((e.type, e.kv.key) for e in got[3:]) == [
        ("delete", "session/node-1"),
        ("delete", "session/node-2"),
    ]
    assert got[3].kv.mod_revision == got[4].kv.mod_revision, "an expiry is one revision"
    assert meta.get("session/node-3") is not None
    assert meta.keepalive(lease) is False
    with pytest.raises(LeaseNotFound):
        meta.put("session/late", b"x", lease=lease)


def test_keepalive_extends_a_lease(meta: MetaStore) -> None:
    lease = meta.grant_lease(0.4)
    meta.put("k", b"v", lease=lease)
    deadline = time.monotonic() + 1.0  # 2.5 TTLs
    while time.monotonic() < deadline:
        assert meta.keepalive(lease) is True
        time.sleep(0.1)
    assert meta.get("k") is not None
    assert _wait_until(lambda: meta.get("k") is None)


def test_revoke_lease(meta: MetaStore) -> None:
    lease = meta.grant_lease(60)
    meta.put("a", b"1", lease=lease)
    meta.put("b", b"2", lease=lease)
    meta.put("b", b"3")  # re-put without a lease detaches the key
    meta.revoke_lease(lease)
    assert meta.get("a") is None
    assert meta.get("b").value == b"3"  # type: ignore[union-attr]
    assert meta.keepalive(lease) is False
    meta.revoke_lease(lease)  # unknown: ignored


def test_unknown_lease_is_rejected_atomically(meta: MetaStore) -> None:
    with pytest.raises(LeaseNotFound):
        meta.put("k", b"v", lease=12345)
    assert meta.keepalive(12345) is False
    before = meta.revision()
    with pytest.raises(LeaseNotFound):
        meta.txn([], [Op.put("x", b"1"), Op.put("y", b"2", lease=12345)])
    assert meta.get("x") is None
    assert meta.revision() == before
    with pytest.raises(ValueError):
        meta.grant_lease(0)


# ---------------------------------------------------------- durability/close


def test_state_survives_reopen(meta_opener: Callable[[], MetaStore]) -> None:
    store = meta_opener()
    store.put("keep/a", b"1")
    store.put("keep/a", b"2")
    store.txn([], [Op.put("keep/b", b"3")])
    kv_a = store.get("keep/a")
    rev = store.revision()
    store.close()

    store = meta_opener()
    assert store.get("keep/a") == kv_a
    assert store.get("keep/b").value == b"3"  # type: ignore[union-attr]
    assert store.revision() >= rev
    assert store.put("keep/c", b"4") > rev, "revisions never go backwards"
    store.close()


# Local only: "leases do not survive a restart of the store" holds where the leases live in
# the store's own process. With a server-side store (etcd) closing and reopening a client is
# not a restart of the store: the lease lives on in the server until its TTL runs out, as it
# must for a session whose holder reconnects (test_meta_etcd.py checks that behaviour).
@pytest.mark.parametrize("meta_opener", ["local"], indirect=True)
def test_leases_do_not_survive_reopen(meta_opener: Callable[[], MetaStore]) -> None:
    store = meta_opener()
    lease = store.grant_lease(60)
    store.put("ephemeral", b"x", lease=lease)
    store.put("kept", b"y")
    store.close()

    store = meta_opener()
    assert store.get("ephemeral") is None, "leases do not survive a restart"
    assert store.keepalive(lease) is False
    assert store.get("kept") is not None
    store.close()


def test_close(meta: MetaStore) -> None:
    meta.put("k", b"v")
    meta.close()
    meta.close()  # idempotent
    with pytest.raises(StorageClosed):
        meta.get("k")
    with pytest.raises(StorageClosed):
        meta.put("k", b"v")
