"""Tests specific to the object-store WAL: batch objects, writer fencing, tailing from another
instance, failed puts, and a writer killed mid-stream. Mostly on the local object and meta stores
(the contract tests also run it on S3 + etcd)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from elanus.cluster import infra
from elanus.storage import (
    ChannelNotFound,
    LocalMetaStore,
    LocalObjectStore,
    MetaStore,
    ObjectStore,
    StorageError,
    WalRecord,
    WalTruncated,
    open_meta,
    open_objects,
    open_wal,
)
from elanus.storage.wal import _batch
from elanus.storage.wal.objectstore import ObjectStoreWal, WalFenced
from tests.storage.store_helpers import blocked_read, check_acked, kill_writer_after, read_all


@pytest.fixture(params=["local", "s3-etcd"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[ObjectStore, MetaStore]]:
    """The process's object and meta stores: local ones, or moto's S3 server and etcd."""
    objects: ObjectStore
    meta: MetaStore
    if request.param == "local":
        objects, meta = LocalObjectStore(tmp_path / "objects"), LocalMetaStore(tmp_path / "meta")
    else:
        s3: infra.Service = request.getfixturevalue("s3_service")
        etcd: infra.Service = request.getfixturevalue("etcd_service")
        prefix = request.getfixturevalue("unique_prefix")
        base, _, query = s3.url.partition("?")
        objects, meta = open_objects(f"{base}/{prefix}?{query}"), open_meta(f"{etcd.url}/{prefix}")
    yield objects, meta
    meta.close()
    objects.close()


@pytest.fixture
def pair(stores: tuple[ObjectStore, MetaStore]) -> Iterator[tuple[ObjectStoreWal, ObjectStoreWal]]:
    """Two WAL instances on the same stores: two processes of one cluster."""
    a, b = ObjectStoreWal(*stores, prefix="p"), ObjectStoreWal(*stores, prefix="p")
    yield a, b
    a.close()
    b.close()


def test_factory_needs_the_stores(stores: tuple[ObjectStore, MetaStore]) -> None:
    with pytest.raises(ValueError):
        open_wal("objectstore")
    for url, prefix in (("objectstore://a/b", "a/b/"), ("objectstore", "")):
        wal = open_wal(url, *stores)
        assert isinstance(wal, ObjectStoreWal)
        wal.create_channel("c")
        wal.append("c", b"x")
        assert stores[0].list(f"{prefix}wal/c/")[0].endswith("/00000000000000000000.batch")
        wal.close()


def test_concurrent_appends_share_batch_objects(pair: tuple[ObjectStoreWal, ObjectStoreWal],
                                                stores: tuple[ObjectStore, MetaStore]) -> None:
    wal, _ = pair
    wal.create_channel("c")
    wal.append("c", b"first")

    def worker(t: int) -> None:
        for i in range(50):
            wal.append("c", f"{t}:{i}".encode())

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    keys = stores[0].list("p/wal/c/")
    firsts = [f for f in map(_batch.parse_name, keys) if f is not None]
    assert len(firsts) == len(keys) and firsts[0] == 0 and firsts == sorted(firsts)
    assert len(keys) < 401 / 2, "group commit puts many records per object"
    assert [r.offset for r in read_all(wal)] == list(range(401))


def test_another_instance_tails_truncates_and_sees_drop(pair: tuple[ObjectStoreWal, ObjectStoreWal]) -> None:
    a, b = pair
    a.create_channel("c")
    for i in range(10):
        a.append("c", b"%d" % i)
    assert b.channels() == ["c"]
    assert b.end_offset("c") == b.visible_offset("c") == 10
    reader = b.reader("c", 3)
    assert [r.offset for r in reader.read()] == list(range(3, 10))
    got = blocked_read(reader, lambda: a.append("c", b"late"), settle=0.1, wake_within=1.0)
    assert got == [WalRecord(10, b"late")]
    a.truncate("c", 5)
    with pytest.raises(WalTruncated):
        b.reader("c", 4).read()
    assert isinstance(blocked_read(reader, lambda: a.drop_channel("c")), ChannelNotFound)
    with pytest.raises(ChannelNotFound):
        b.end_offset("c")


def test_a_new_writer_fences_the_old_one(pair: tuple[ObjectStoreWal, ObjectStoreWal]) -> None:
    a, b = pair
    a.create_channel("c")
    assert [a.append("c", b"a%d" % i) for i in range(3)] == [0, 1, 2]
    assert b.append("c", b"b3") == 3, "the second writer continues after the first one's records"
    with pytest.raises(WalFenced):
        a.append("c", b"a-late")
    assert b.append("c", b"b4") == 4
    a.create_channel("c")  # asked for the channel again: a takes it back
    assert a.append("c", b"a5") == 5
    with pytest.raises(WalFenced):
        b.append("c", b"b-late")
    assert [r.payload for r in read_all(b)] == [b"a0", b"a1", b"a2", b"b3", b"b4", b"a5"]


def test_put_conflict_fences_even_without_the_watch(pair: tuple[ObjectStoreWal, ObjectStoreWal]) -> None:
    a, b = pair
    a.create_channel("c")
    a.append("c", b"a0")
    state = a._state("c")
    a._watch.cancel()  # a never hears of b's epoch
    b.append("c", b"b1")
    with pytest.raises(WalFenced):
        a.append("c", b"a-late")  # its put finds key 1 taken
    assert state.fenced is not None
    assert [r.payload for r in read_all(b)] == [b"a0", b"b1"]


def test_failed_put_fails_the_batch_and_the_next_append_recovers(
    pair: tuple[ObjectStoreWal, ObjectStoreWal], monkeypatch: pytest.MonkeyPatch
) -> None:
    wal, _ = pair
    wal.create_channel("c")
    wal.append("c", b"0")
    real = wal._objects.put_if_absent
    calls = []

    def flaky(key: str, data: bytes) -> bool:
        calls.append(key)
        if len(calls) == 1:
            raise OSError("network down")
        return real(key, data)

    monkeypatch.setattr(wal._objects, "put_if_absent", flaky)
    with pytest.raises(OSError):
        wal.append("c", b"lost")
    assert wal.append("c", b"1") == 1, "the failed record's offset is reused"
    assert [r.payload for r in read_all(wal)] == [b"0", b"1"]


def test_truncate_keeps_the_last_batch(pair: tuple[ObjectStoreWal, ObjectStoreWal],
                                       stores: tuple[ObjectStore, MetaStore]) -> None:
    wal, other = pair
    wal.create_channel("c")
    for i in range(5):
        wal.append("c", b"%d" % i)  # one object each
    wal.truncate("c", 5)
    assert [_batch.parse_name(k) for k in stores[0].list("p/wal/c/")] == [4]
    assert wal.append("c", b"5") == 5
    assert other.end_offset("c") == 6
    assert read_all(other, "c", 5) == [WalRecord(5, b"5")]


def test_dropped_and_recreated_channel_uses_fresh_keys(pair: tuple[ObjectStoreWal, ObjectStoreWal],
                                                       stores: tuple[ObjectStore, MetaStore]) -> None:
    a, b = pair
    a.create_channel("c")
    a.append("c", b"old")
    old_keys = stores[0].list("p/wal/c/")
    a.drop_channel("c")
    b.create_channel("c")
    assert b.append("c", b"new") == 0
    new_keys = stores[0].list("p/wal/c/")
    assert len(new_keys) == 1 and new_keys[0] not in old_keys
    assert read_all(a) == [WalRecord(0, b"new")]


_OPEN_WAL = """\
from elanus.storage import LocalMetaStore, LocalObjectStore
from elanus.storage.wal.objectstore import ObjectStoreWal
wal = ObjectStoreWal(LocalObjectStore(sys.argv[1] + "/objects"), LocalMetaStore(sys.argv[1] + "/meta"))"""


@pytest.mark.timeout(60)
def test_sigkill_loses_no_acknowledged_record(tmp_path: Path) -> None:
    acked = kill_writer_after(_OPEN_WAL, str(tmp_path), 300)
    objects, meta = LocalObjectStore(tmp_path / "objects"), LocalMetaStore(tmp_path / "meta")
    wal = ObjectStoreWal(objects, meta)
    try:
        check_acked(wal, acked)
    finally:
        wal.close()
        meta.close()
        objects.close()


def test_appends_after_close_or_to_a_dropped_channel_fail(pair: tuple[ObjectStoreWal, ObjectStoreWal]) -> None:
    a, b = pair
    a.create_channel("c")
    future = a.append_async("c", b"x")
    b.drop_channel("c")
    try:
        assert future.result() == 0  # written before the drop
    except StorageError:
        pass  # or failed by it: either is allowed
    with pytest.raises(ChannelNotFound):
        a.append("c", b"y")


def test_readers_in_the_writer_process_read_recent_batches_from_memory(
    pair: tuple[ObjectStoreWal, ObjectStoreWal], monkeypatch: pytest.MonkeyPatch
) -> None:
    wal, other = pair
    wal.create_channel("c")
    for i in range(5):
        wal.append("c", b"%d" % i)
    gets: list[str] = []
    real_get = wal._objects.get

    def counting_get(key: str) -> bytes:
        gets.append(key)
        return real_get(key)

    monkeypatch.setattr(wal._objects, "get", counting_get)  # the pair shares one object store
    assert [r.payload for r in read_all(wal)] == [b"%d" % i for i in range(5)]
    assert gets == []
    assert [r.payload for r in read_all(other)] == [b"%d" % i for i in range(5)]
    assert {_batch.parse_name(k) for k in gets} >= {0, 1, 2, 3, 4}, "another process gets each batch object"
