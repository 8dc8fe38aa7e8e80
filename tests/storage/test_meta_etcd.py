"""EtcdMetaStore beyond the shared contract: URLs, txn reduction, server-side leases, reconnects."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from elanus.cluster import infra
from elanus.storage import Compare, KeyValue, Op, WatchEvent, open_meta
from elanus.storage.meta._etcd_ops import Step, coalesce, prefix_end
from elanus.storage.meta.etcd import EtcdMetaStore, parse_etcd_url

# ------------------------------------------------------------------ pure helpers


def test_parse_etcd_url() -> None:
    assert parse_etcd_url("etcd://127.0.0.1:2379") == ([("127.0.0.1", 2379)], "")
    assert parse_etcd_url("etcd://a:1,b:2/elanus/c1") == ([("a", 1), ("b", 2)], "elanus/c1/")
    assert parse_etcd_url("etcd://h:1/p/") == ([("h", 1)], "p/")
    assert parse_etcd_url("etcd://[::1]:2379") == ([("::1", 2379)], "")
    for bad in ["etcd://host", "etcd://:1", "etcd://h:x", "etcd://h:1?timeout=3", "http://h:1"]:
        with pytest.raises(ValueError):
            parse_etcd_url(bad)


def test_prefix_end() -> None:
    assert prefix_end(b"a/") == b"a0"
    assert prefix_end(b"a\xff") == b"b"
    assert prefix_end(b"\xff\xff") == b"\0"


def _reduce(*ops: tuple[Op, bytes, bytes]) -> list[tuple[str, bytes, bytes, bytes]]:
    return [(s.op.kind, s.start, s.end, s.op.value) for s in coalesce(ops)]


def test_coalesce_keeps_the_net_effect_without_overlaps() -> None:
    put1, put2 = Op.put("k", b"1"), Op.put("k", b"2")
    assert _reduce((put1, b"k", b""), (put2, b"k", b"")) == [("put", b"k", b"", b"2")]
    assert _reduce((put1, b"k", b""), (Op.delete("k"), b"k", b"")) == [("delete", b"k", b"", b"")]
    assert _reduce((Op.delete("k"), b"k", b""), (put2, b"k", b"")) == [("put", b"k", b"", b"2")]
    # A put inside an earlier range delete splits the range around the key.
    prefix = Op.delete_prefix("d/")
    assert _reduce((prefix, b"d/", b"d0"), (Op.put("d/m", b"x"), b"d/m", b"")) == [
        ("delete_prefix", b"d/", b"d/m", b""),
        ("delete_prefix", b"d/m\0", b"d0", b""),
        ("put", b"d/m", b"", b"x"),
    ]
    # Unbounded ranges and a put at the very start of a range.
    everything = Op.delete_prefix("")
    assert _reduce((everything, b"\0", b"\0"), (Op.put("a", b"x"), b"a", b"")) == [
        ("delete_prefix", b"\0", b"a", b""),
        ("delete_prefix", b"a\0", b"\0", b""),
        ("put", b"a", b"", b"x"),
    ]
    assert coalesce([(prefix, b"d/", b"d0"), (Op.put("d/", b"x"), b"d/", b"")])[0] == Step(prefix, b"d/\0", b"d0")
    # Unrelated ops are kept in order; overlapping deletes are left to etcd.
    assert [s.start for s in coalesce([(Op.put("b", b""), b"b", b""), (Op.put("a", b""), b"a", b"")])] == [
        b"b",
        b"a",
    ]
    assert len(coalesce([(prefix, b"d/", b"d0"), (Op.delete("d/1"), b"d/1", b"")])) == 2


# ------------------------------------------------------------- against etcd


@pytest.fixture
def url(etcd_service: infra.Service, unique_prefix: str) -> str:
    return f"{etcd_service.url}/{unique_prefix}"


def test_prefix_namespaces_keys(etcd_service: infra.Service, unique_prefix: str) -> None:
    a = open_meta(f"{etcd_service.url}/{unique_prefix}/a")
    b = open_meta(f"{etcd_service.url}/{unique_prefix}/b")
    outer = open_meta(f"{etcd_service.url}/{unique_prefix}")
    try:
        a.put("k", b"in a")
        b.put("k", b"in b")
        assert a.get("k").value == b"in a" and b.get("k").value == b"in b"  # type: ignore[union-attr]
        assert [kv.key for kv in outer.get_prefix("")] == ["a/k", "b/k"]
        assert a.delete_prefix("") == 1
        assert [kv.key for kv in outer.get_prefix("")] == ["b/k"]
    finally:
        for store in (a, b, outer):
            store.close()


def test_get_prefix_pages_through_many_keys(url: str) -> None:
    meta = open_meta(url)
    try:
        keys = [f"many/{i:05d}" for i in range(2500)]
        for start in range(0, len(keys), 1000):
            assert meta.txn([], [Op.put(k, k.encode()) for k in keys[start : start + 1000]])
        got = meta.get_prefix("many/")
        assert [kv.key for kv in got] == keys
        assert all(kv.value == kv.key.encode() for kv in got)
        assert meta.delete_prefix("many/") == 2500
    finally:
        meta.close()


def test_txn_delete_then_put_in_one_branch(url: str) -> None:
    meta = open_meta(url)
    try:
        for key in ["d/1", "d/2", "d/3"]:
            meta.put(key, b"old")
        before = meta.revision()
        assert meta.txn(
            [Compare("d/1", "version", "==", 1)],
            [Op.delete_prefix("d/"), Op.put("d/2", b"new"), Op.delete("x"), Op.put("x", b"1")],
        )
        assert meta.revision() == before + 1
        assert [(kv.key, kv.value) for kv in meta.get_prefix("d/")] == [("d/2", b"new")]
        assert meta.get("x").value == b"1"  # type: ignore[union-attr]
    finally:
        meta.close()


def test_leases_live_in_the_server(url: str) -> None:
    """Closing a client is not a restart of etcd: its leases and their keys stay until the TTL ends."""
    first = open_meta(url)
    lease = first.grant_lease(30)
    first.put("session/1", b"me", lease=lease)
    first.close()
    second = open_meta(url)
    try:
        kv = second.get("session/1")
        assert kv is not None and kv.lease == lease
        assert second.keepalive(lease) is True
        second.revoke_lease(lease)
        assert second.get("session/1") is None
        assert second.keepalive(lease) is False
    finally:
        second.close()


def test_lease_ttl_is_rounded_up_to_seconds(url: str) -> None:
    meta = open_meta(url)
    try:
        lease = meta.grant_lease(1.2)
        meta.put("k", b"v", lease=lease)
        time.sleep(1.3)
        assert meta.get("k") is not None, "1.2 s becomes 2 s"
        meta.revoke_lease(lease)
    finally:
        meta.close()


def test_unreachable_etcd_fails_fast_with_connection_error() -> None:
    port = infra.free_port()
    started = time.monotonic()
    with pytest.raises(ConnectionError):
        EtcdMetaStore(f"etcd://127.0.0.1:{port}", timeout=0.5)
    assert time.monotonic() - started < 5


def test_second_endpoint_is_used_when_the_first_is_down(etcd_service: infra.Service, unique_prefix: str) -> None:
    dead = infra.free_port()
    meta = open_meta(f"etcd://127.0.0.1:{dead},{etcd_service.address}/{unique_prefix}")
    try:
        revision = meta.put("k", b"v")
        assert meta.get("k") == KeyValue("k", b"v", revision, revision, 1, 0)
    finally:
        meta.close()


def test_watch_resumes_after_an_etcd_restart(tmp_path: Path) -> None:
    etcd = infra.start_etcd(tmp_path / "etcd")
    meta = open_meta(f"{etcd.url}/w")
    try:
        seen: list[tuple[str, bytes]] = []
        got_two = threading.Event()

        def on_event(event: WatchEvent) -> None:
            seen.append((event.kv.key, event.kv.value))
            if len(seen) == 2:
                got_two.set()

        meta.watch_prefix("", on_event)
        meta.put("a", b"1")
        etcd.stop()
        etcd = infra.start_etcd(tmp_path / "etcd", ports=etcd.ports)
        meta.put("b", b"2")  # waits for the reconnect
        assert got_two.wait(10), seen
        assert seen == [("a", b"1"), ("b", b"2")]
    finally:
        meta.close()
        etcd.stop()
