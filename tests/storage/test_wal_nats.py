"""Tests specific to the NATS JetStream WAL: two instances on one stream, a second writer,
records larger than a NATS message, and crashes of the writer and of the server."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from elanus.cluster import infra
from elanus.storage import ChannelNotFound, StorageError, WalRecord, WalTruncated, open_wal
from elanus.storage.wal.nats import NatsWal
from tests.storage.store_helpers import blocked_read, check_acked, kill_writer_after, read_all


@pytest.fixture
def opener(nats_service: infra.Service, unique_prefix: str) -> Iterator[Callable[[], NatsWal]]:
    """Opens WAL instances on one private namespace (as separate processes would)."""
    url = f"{nats_service.url}/{unique_prefix}"
    opened: list[NatsWal] = []

    def open_one() -> NatsWal:
        wal = open_wal(url)
        assert isinstance(wal, NatsWal)
        opened.append(wal)
        return wal

    yield open_one
    for wal in opened:
        wal.close()


@pytest.mark.parametrize("url", ["nats://", "nats://h:1/bad.ns", "nats://h:1/" + "x" * 65, "http://h:1"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError):
        NatsWal(url)


def test_unreachable_server_fails_the_open() -> None:
    with pytest.raises(ConnectionError):
        NatsWal(f"nats://127.0.0.1:{infra.free_port()}", connect_timeout=1.0)


def test_namespaces_are_separate(nats_service: infra.Service, unique_prefix: str) -> None:
    a, b = NatsWal(f"{nats_service.url}/{unique_prefix}a"), NatsWal(f"{nats_service.url}/{unique_prefix}b")
    try:
        a.create_channel("x.y")
        assert a.channels() == ["x.y"] and b.channels() == []
        with pytest.raises(ChannelNotFound):
            b.append("x.y", b"no")
    finally:
        a.close()
        b.close()


def test_another_instance_reads_tails_and_sees_truncation_and_drop(opener: Callable[[], NatsWal]) -> None:
    a, b = opener(), opener()
    a.create_channel("c")
    for f in [a.append_async("c", b"%d" % i) for i in range(10)]:
        f.result()
    assert b.end_offset("c") == b.visible_offset("c") == 10
    reader = b.reader("c", 3)
    assert [r.offset for r in reader.read()] == list(range(3, 10))
    assert blocked_read(reader, lambda: a.append("c", b"late"), settle=0.1) == [WalRecord(10, b"late")]
    a.truncate("c", 5)
    with pytest.raises(WalTruncated):
        b.reader("c", 0).read()  # b learns the truncation point from the stream
    a.drop_channel("c")
    with pytest.raises(ChannelNotFound):
        b.end_offset("c")


def test_a_second_writer_makes_the_first_one_fail_then_resync(opener: Callable[[], NatsWal]) -> None:
    a, b = opener(), opener()
    a.create_channel("c")
    assert [a.append("c", b"a%d" % i) for i in range(3)] == [0, 1, 2]
    assert b.append("c", b"b3") == 3
    with pytest.raises(StorageError):
        a.append("c", b"stale")  # numbered 3 by a: JetStream refuses it (wrong last sequence)
    deadline = time.monotonic() + 5
    while True:  # a re-reads the end once the failed append settled
        try:
            assert a.append("c", b"a4") == 4
            break
        except StorageError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert [r.payload for r in read_all(b)] == [b"a0", b"a1", b"a2", b"b3", b"a4"]


def test_records_larger_than_a_message(opener: Callable[[], NatsWal]) -> None:
    a, b = opener(), opener()
    a.create_channel("c")
    big = os.urandom(3 * a.nc.max_payload)
    offsets = [f.result() for f in [a.append_async("c", p) for p in (b"s0", big, b"s2", big[:100], big)]]
    assert offsets == [0, 1, 2, 3, 4]
    assert [r.payload for r in read_all(b)] == [b"s0", big, b"s2", big[:100], big]
    stream = a._state("c").stream
    info = a.run(a.js.stream_info(f"elanus-wal-{a.namespace}-big", subjects_filter=">"))
    assert sorted(info.state.subjects or {}) == [f"elanus.walbig.{a.namespace}.{stream}.{i}" for i in (1, 4)]
    a.truncate("c", 2)
    info = a.run(a.js.stream_info(f"elanus-wal-{a.namespace}-big", subjects_filter=">"))
    assert sorted(info.state.subjects or {}) == [f"elanus.walbig.{a.namespace}.{stream}.4"]
    assert read_all(b, "c", 4) == [WalRecord(4, big)]
    a.drop_channel("c")
    info = a.run(a.js.stream_info(f"elanus-wal-{a.namespace}-big", subjects_filter=">"))
    assert not info.state.subjects


_OPEN_WAL = "from elanus.storage import open_wal\nwal = open_wal(sys.argv[1])"


@pytest.mark.timeout(60)
def test_sigkill_of_the_writer_loses_no_acknowledged_record(
    opener: Callable[[], NatsWal], nats_service: infra.Service, unique_prefix: str
) -> None:
    acked = kill_writer_after(_OPEN_WAL, f"{nats_service.url}/{unique_prefix}", 300)
    check_acked(opener(), acked)


@pytest.mark.timeout(120)
def test_sigkill_of_the_server_loses_no_acknowledged_record(tmp_path: Path) -> None:
    service = infra.start_nats(tmp_path)
    try:
        wal = NatsWal(service.url)
        wal.create_channel("c")
        acked = {f.result(): b"%d" % i for i, f in enumerate([wal.append_async("c", b"%d" % i) for i in range(200)])}
        service.process.send_signal(signal.SIGKILL)
        service.process.wait()
        wal.close()
    finally:
        service.stop()
    with infra.start_nats(tmp_path) as restarted:
        wal = NatsWal(restarted.url)
        try:
            check_acked(wal, acked)
        finally:
            wal.close()


def test_a_channel_dropped_and_created_again_elsewhere(opener: Callable[[], NatsWal]) -> None:
    a, b = opener(), opener()
    a.create_channel("c")
    for i in range(5):
        a.append("c", b"old%d" % i)
    b.drop_channel("c")
    b.create_channel("c")
    b.append("c", b"new0")
    assert a.end_offset("c") == 1, "a notices the new stream"
    assert a.append("c", b"new1") == 1
    assert [r.payload for r in read_all(a)] == [b"new0", b"new1"]


def test_a_channel_a_reader_found_dropped_is_found_again_once_created_again(opener: Callable[[], NatsWal]) -> None:
    a, b = opener(), opener()
    a.create_channel("c")
    reader = a.reader("c", 0)
    b.drop_channel("c")
    with pytest.raises(ChannelNotFound):
        reader.read()  # the reader finds the stream gone and marks a's view of the channel dropped
    b.create_channel("c")
    assert b.append("c", b"new0") == 0
    assert a.append("c", b"new1") == 1, "a looks the channel up again instead of keeping the dropped view"
    assert [r.payload for r in read_all(b)] == [b"new0", b"new1"]
