"""Contract tests of the Wal, run against every backend (see conftest.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from elanus.storage import ChannelNotFound, InvalidKey, StorageClosed, Wal, WalRecord, WalTruncated
from tests.storage.store_helpers import blocked_read, read_all


def payload(i: int) -> bytes:
    return f"record-{i}".encode() * (1 + i % 7)


def fill(wal: Wal, channel: str, n: int, start: int = 0) -> None:
    futures = [wal.append_async(channel, payload(i)) for i in range(start, start + n)]
    assert [f.result() for f in futures] == list(range(start, start + n))


# ------------------------------------------------------------------ channels


def test_channels_create_drop(wal: Wal) -> None:
    assert wal.channels() == []
    wal.create_channel("dml_1")
    wal.create_channel("dml_0")
    wal.create_channel("dml_0")  # idempotent
    assert wal.channels() == ["dml_0", "dml_1"]
    wal.append("dml_0", b"x")
    wal.create_channel("dml_0")  # does not reset it
    assert wal.end_offset("dml_0") == 1
    wal.drop_channel("dml_0")
    wal.drop_channel("dml_0")  # idempotent
    assert wal.channels() == ["dml_1"]
    with pytest.raises(ChannelNotFound):
        wal.append("dml_0", b"x")
    wal.create_channel("dml_0")
    assert wal.end_offset("dml_0") == 0, "a re-created channel starts empty"
    assert read_all(wal, "dml_0") == []


@pytest.mark.parametrize("name", ["", ".hidden", "-x", "a/b", "a b", "x" * 256, "../up"])
def test_invalid_channel_names(wal: Wal, name: str) -> None:
    with pytest.raises(InvalidKey):
        wal.create_channel(name)


def test_unknown_channel(wal: Wal) -> None:
    for call in (
        lambda: wal.append("nope", b"x"),
        lambda: wal.end_offset("nope"),
        lambda: wal.visible_offset("nope"),
        lambda: wal.reader("nope", 0),
        lambda: wal.truncate("nope", 0),
    ):
        with pytest.raises(ChannelNotFound):
            call()


# ------------------------------------------------------------ append & read


def test_append_assigns_consecutive_offsets(wal: Wal) -> None:
    wal.create_channel("a")
    wal.create_channel("b")
    assert wal.end_offset("a") == wal.visible_offset("a") == 0
    assert wal.append("a", b"first") == 0
    assert wal.append("a", b"second") == 1
    assert wal.append("b", b"other") == 0, "offsets are per channel"
    futures = [wal.append_async("a", payload(i), durable=i % 2 == 0) for i in range(2, 50)]
    assert wal.end_offset("a") == 50, "offsets are assigned at call time"
    assert [f.result() for f in futures] == list(range(2, 50))
    assert wal.visible_offset("a") == 50
    records = read_all(wal, "a")
    assert records[:2] == [WalRecord(0, b"first"), WalRecord(1, b"second")]
    assert records[2:] == [WalRecord(i, payload(i)) for i in range(2, 50)]
    assert read_all(wal, "b") == [WalRecord(0, b"other")]


def test_payload_edge_cases(wal: Wal) -> None:
    wal.create_channel("c")
    big = bytes(range(256)) * 4096  # 1 MiB
    for data in (b"", b"\x00" * 16, big):
        wal.append("c", data)
    assert [r.payload for r in read_all(wal, "c")] == [b"", b"\x00" * 16, big]


def test_reader_from_any_offset(wal: Wal) -> None:
    wal.create_channel("c")
    fill(wal, "c", 1000)
    for start in (0, 1, 127, 128, 129, 500, 999, 1000):
        reader = wal.reader("c", start)
        assert reader.position == start
        got = reader.read(max_records=3)
        assert got == [WalRecord(i, payload(i)) for i in range(start, min(start + 3, 1000))]
        assert reader.position == min(start + 3, 1000)
        reader.close()
    with pytest.raises(ValueError):
        wal.reader("c", 1001)
    with pytest.raises(ValueError):
        wal.reader("c", -1)


def test_readers_are_independent(wal: Wal) -> None:
    wal.create_channel("c")
    fill(wal, "c", 10)
    r1, r2 = wal.reader("c", 0), wal.reader("c", 5)
    assert [r.offset for r in r1.read(max_records=4)] == [0, 1, 2, 3]
    assert [r.offset for r in r2.read(max_records=4)] == [5, 6, 7, 8]
    assert [r.offset for r in r1.read(max_records=4)] == [4, 5, 6, 7]
    assert [r.offset for r in r2.read()] == [9]
    assert r2.read() == []
    fill(wal, "c", 2, start=10)
    assert [r.offset for r in r2.read()] == [10, 11]
    assert [r.offset for r in r1.read()] == [8, 9, 10, 11]
    r1.close()
    r2.close()
    with pytest.raises(StorageClosed):
        r1.read()
    with pytest.raises(ValueError):
        wal.reader("c", 0).read(max_records=0)


def test_read_timeout_returns_empty(wal: Wal) -> None:
    wal.create_channel("c")
    reader = wal.reader("c", 0)
    assert reader.read(timeout=0.0) == []
    t0 = time.monotonic()
    assert reader.read(timeout=0.2) == []
    assert 0.15 <= time.monotonic() - t0 < 2.0


def test_blocked_reader_wakes_on_append(wal: Wal) -> None:
    wal.create_channel("c")
    reader = wal.reader("c", 0)
    # wake_within 1 s: woken by the append, not by polling
    got = blocked_read(reader, lambda: wal.append("c", b"wake up"), settle=0.1, wake_within=1.0)
    assert got == [WalRecord(0, b"wake up")]


def test_concurrent_appenders_keep_call_order_per_thread(wal: Wal) -> None:
    wal.create_channel("c")
    threads, per_thread = 8, 40
    results: dict[int, list[int]] = {}

    def worker(t: int) -> None:
        results[t] = [wal.append("c", f"{t}:{i}".encode(), durable=i % 3 != 0) for i in range(per_thread)]

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    records = read_all(wal, "c")
    assert [r.offset for r in records] == list(range(threads * per_thread))
    by_payload = {r.payload: r.offset for r in records}
    for t, offsets in results.items():
        assert offsets == sorted(offsets)
        assert [by_payload[f"{t}:{i}".encode()] for i in range(per_thread)] == offsets


# ---------------------------------------------------------------- truncate


def test_truncate(wal: Wal) -> None:
    wal.create_channel("c")
    fill(wal, "c", 300)
    reader = wal.reader("c", 0)
    wal.truncate("c", 200)
    with pytest.raises(WalTruncated):
        reader.read()
    with pytest.raises(WalTruncated):
        wal.reader("c", 199).read()
    assert read_all(wal, "c", 200) == [WalRecord(i, payload(i)) for i in range(200, 300)]
    wal.truncate("c", 100)  # never lowers the truncation point
    with pytest.raises(WalTruncated):
        wal.reader("c", 150).read()
    with pytest.raises(ValueError):
        wal.truncate("c", 301)
    wal.truncate("c", 300)  # everything
    assert wal.append("c", b"next") == 300
    assert read_all(wal, "c", 300) == [WalRecord(300, b"next")]


# ---------------------------------------------------------- drop and close


def test_drop_channel_fails_its_readers(wal: Wal) -> None:
    wal.create_channel("c")
    reader = wal.reader("c", 0)
    assert isinstance(blocked_read(reader, lambda: wal.drop_channel("c")), ChannelNotFound)


def test_close_flushes_and_stops(wal: Wal) -> None:
    wal.create_channel("c")
    futures = [wal.append_async("c", payload(i)) for i in range(100)]
    reader = wal.reader("c", 100)
    assert isinstance(blocked_read(reader, wal.close, settle=0.0), StorageClosed)
    assert [f.result(timeout=0) for f in futures] == list(range(100)), "close resolves what was queued"
    wal.close()  # idempotent
    with pytest.raises(StorageClosed):
        wal.append("c", b"x")
    with pytest.raises(StorageClosed):
        wal.channels()


# -------------------------------------------------------------- durability


def test_records_survive_reopen(wal_opener: Callable[[], Wal]) -> None:
    wal = wal_opener()
    wal.create_channel("c")
    wal.create_channel("empty")
    fill(wal, "c", 250)
    wal.truncate("c", 10)
    wal.close()

    wal = wal_opener()
    assert wal.channels() == ["c", "empty"]
    assert wal.end_offset("c") == wal.visible_offset("c") == 250
    assert wal.end_offset("empty") == 0
    assert read_all(wal, "c", 10) == [WalRecord(i, payload(i)) for i in range(10, 250)]
    with pytest.raises(WalTruncated):
        wal.reader("c", 9).read()
    assert wal.append("c", b"after reopen") == 250
    assert wal.reader("c", 249).read() == [WalRecord(249, payload(249)), WalRecord(250, b"after reopen")]
    wal.close()
