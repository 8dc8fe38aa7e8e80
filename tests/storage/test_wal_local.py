"""Tests specific to the local WAL: segment files, crash recovery, group commit."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from elanus.storage import StorageError, WalRecord
from elanus.storage.wal import LocalWal
from elanus.storage.wal._format import HEADER, encode
from tests.storage.store_helpers import check_acked, kill_writer_after, read_all


def payload(i: int) -> bytes:
    return f"payload-{i:05d}".encode() * (1 + i % 5)


def segments(root: Path, channel: str = "c") -> list[Path]:
    return sorted((root / channel).glob("*.log"))


def write_records(root: Path, n: int, **options: int) -> None:
    wal = LocalWal(root, **options)
    wal.create_channel("c")
    for f in [wal.append_async("c", payload(i)) for i in range(n)]:
        f.result()
    wal.close()


# ------------------------------------------------------------------ segments


def test_segments_roll_and_are_read_across(tmp_path: Path) -> None:
    wal = LocalWal(tmp_path, segment_bytes=4096)
    wal.create_channel("c")
    for f in [wal.append_async("c", payload(i), durable=False) for i in range(1000)]:
        f.result()
    files = segments(tmp_path)
    assert len(files) > 10
    assert all(f.stat().st_size <= 4096 for f in files)
    assert files[0].name == "00000000000000000000.log"
    firsts = [int(f.stem) for f in files]
    assert firsts == sorted(firsts)
    assert read_all(wal) == [WalRecord(i, payload(i)) for i in range(1000)]
    wal.close()

    # After a restart old segments have no in-memory index; seeking into them builds it.
    wal = LocalWal(tmp_path, segment_bytes=4096)
    for start in (999, 0, 500, firsts[3], firsts[3] - 1, firsts[-1]):
        assert wal.reader("c", start).read(max_records=2) == [
            WalRecord(i, payload(i)) for i in range(start, min(start + 2, 1000))
        ]
    wal.close()


def test_oversized_record_gets_its_own_segment(tmp_path: Path) -> None:
    wal = LocalWal(tmp_path, segment_bytes=100)
    wal.create_channel("c")
    big = b"x" * 1000
    assert [wal.append("c", p) for p in (b"a", big, b"b")] == [0, 1, 2]
    assert read_all(wal) == [WalRecord(0, b"a"), WalRecord(1, big), WalRecord(2, b"b")]
    assert [int(f.stem) for f in segments(tmp_path)] == [0, 1, 2]
    wal.close()


def test_truncate_removes_whole_files_only(tmp_path: Path) -> None:
    wal = LocalWal(tmp_path, segment_bytes=2048)
    wal.create_channel("c")
    for f in [wal.append_async("c", payload(i)) for i in range(500)]:
        f.result()
    firsts = [int(f.stem) for f in segments(tmp_path)]
    cut = firsts[5] + 3  # inside the sixth segment
    wal.truncate("c", cut)
    assert [int(f.stem) for f in segments(tmp_path)] == firsts[5:]
    assert read_all(wal, start=cut)[0] == WalRecord(cut, payload(cut))
    wal.truncate("c", 500)
    assert [int(f.stem) for f in segments(tmp_path)] == firsts[-1:], "the active segment stays"
    wal.close()


def test_second_open_of_a_root_is_refused(tmp_path: Path) -> None:
    wal = LocalWal(tmp_path)
    with pytest.raises(StorageError):
        LocalWal(tmp_path)
    wal.close()
    LocalWal(tmp_path).close()  # released by close


# ----------------------------------------------------------- crash recovery


def _damage_tail(path: Path, how: str) -> None:
    data = path.read_bytes()
    last_len = len(encode(payload(19)))
    if how == "garbage":
        path.write_bytes(data + b"\xde\xad\xbe\xef" * 7)
    elif how == "zeros":  # what some filesystems show for a crashed, half-allocated tail
        path.write_bytes(data + b"\x00" * 4096)
    elif how == "cut_payload":
        path.write_bytes(data[: len(data) - last_len // 2])
    elif how == "cut_header":
        path.write_bytes(data[: len(data) - last_len + HEADER.size // 2])
    elif how == "bad_crc":
        path.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    elif how == "huge_length":
        path.write_bytes(data + HEADER.pack(2**32 - 1, 0) + b"partial")
    else:
        raise AssertionError(how)


@pytest.mark.parametrize(
    ("how", "survivors"),
    [
        ("garbage", 20),
        ("zeros", 20),
        ("huge_length", 20),
        ("cut_payload", 19),
        ("cut_header", 19),
        ("bad_crc", 19),
    ],
)
def test_recovery_cuts_a_torn_tail(tmp_path: Path, how: str, survivors: int) -> None:
    write_records(tmp_path, 20)
    (last,) = segments(tmp_path)
    _damage_tail(last, how)

    wal = LocalWal(tmp_path)
    assert wal.end_offset("c") == wal.visible_offset("c") == survivors
    assert read_all(wal) == [WalRecord(i, payload(i)) for i in range(survivors)]
    assert wal.append("c", b"after crash") == survivors
    assert read_all(wal, start=survivors) == [WalRecord(survivors, b"after crash")]
    wal.close()

    wal = LocalWal(tmp_path)  # the repaired file is clean now
    assert wal.end_offset("c") == survivors + 1
    wal.close()


def test_recovery_only_touches_the_last_segment(tmp_path: Path) -> None:
    write_records(tmp_path, 300, segment_bytes=2048)
    files = segments(tmp_path)
    sizes = [f.stat().st_size for f in files[:-1]]
    with open(files[-1], "ab") as f:
        f.write(b"torn")
    wal = LocalWal(tmp_path, segment_bytes=2048)
    assert wal.end_offset("c") == 300
    assert [f.stat().st_size for f in segments(tmp_path)[:-1]] == sizes
    assert read_all(wal) == [WalRecord(i, payload(i)) for i in range(300)]
    wal.close()


def test_lost_records_above_a_truncation_point_leave_no_hidden_gap(tmp_path: Path) -> None:
    write_records(tmp_path, 20)
    wal = LocalWal(tmp_path)
    wal.truncate("c", 20)
    wal.close()
    # A machine crash took the tail of the (non-durable) records below the cut.
    (last,) = segments(tmp_path)
    os.truncate(last, 10)
    wal = LocalWal(tmp_path)
    assert wal.end_offset("c") == 20, "numbering continues at the truncation point"
    assert wal.append("c", b"x") == 20
    assert read_all(wal, start=20) == [WalRecord(20, b"x")]
    wal.close()


_OPEN_WAL = "from elanus.storage.wal import LocalWal\nwal = LocalWal(sys.argv[1])"


@pytest.mark.timeout(60)
def test_sigkill_loses_no_acknowledged_record(tmp_path: Path) -> None:
    acked = kill_writer_after(_OPEN_WAL, str(tmp_path), 400)
    wal = LocalWal(tmp_path)
    check_acked(wal, acked)
    wal.close()


# -------------------------------------------------------------- group commit


class _CountingFsync:
    """Counts os.fsync calls; each takes at least ``floor`` seconds, like a real disk, so the
    test measures batching the same way on tmpfs (where fsync is free) as on a disk."""

    def __init__(self, floor: float = 0.002) -> None:
        self.calls = 0
        self._real = os.fsync
        self._floor = floor
        self._lock = threading.Lock()

    def __call__(self, fd: int) -> None:
        with self._lock:
            self.calls += 1
        self._real(fd)
        time.sleep(self._floor)


def test_group_commit_shares_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wal = LocalWal(tmp_path)
    wal.create_channel("c")
    counter = _CountingFsync()
    monkeypatch.setattr(os, "fsync", counter)
    threads, per_thread = 8, 25
    start = threading.Barrier(threads)

    def worker(t: int) -> None:
        start.wait()
        for i in range(per_thread):
            wal.append("c", f"{t}:{i}".encode() * 50)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    appends = threads * per_thread
    print(f"\n{appends} durable appends from {threads} threads took {counter.calls} fsyncs")
    assert counter.calls < appends / 3, f"{counter.calls} fsyncs for {appends} appends: no group commit"
    assert wal.visible_offset("c") == appends
    wal.close()


def test_pipelined_appends_share_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wal = LocalWal(tmp_path)
    wal.create_channel("c")
    counter = _CountingFsync()
    monkeypatch.setattr(os, "fsync", counter)
    futures = [wal.append_async("c", payload(i)) for i in range(200)]
    assert [f.result() for f in futures] == list(range(200))
    assert counter.calls <= 10
    wal.close()


def test_non_durable_appends_do_not_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wal = LocalWal(tmp_path)
    wal.create_channel("c")
    counter = _CountingFsync()
    monkeypatch.setattr(os, "fsync", counter)
    for i in range(50):
        wal.append("c", payload(i), durable=False)
    assert counter.calls == 0
    wal.append("c", b"durable")  # one fsync covers it and everything before
    assert counter.calls == 1
    wal.close()


# ---------------------------------------------------------- visibility/failure


def test_records_are_invisible_until_synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wal = LocalWal(tmp_path)
    wal.create_channel("c")
    entered, release = threading.Event(), threading.Event()
    real_fsync = os.fsync

    def held_fsync(fd: int) -> None:
        entered.set()
        release.wait(5.0)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", held_fsync)
    future = wal.append_async("c", b"x")
    assert entered.wait(5.0)
    assert (wal.end_offset("c"), wal.visible_offset("c")) == (1, 0)
    reader = wal.reader("c", 0)
    assert reader.read(timeout=0.05) == []
    assert not future.done()
    release.set()
    assert future.result(timeout=5.0) == 0
    assert wal.visible_offset("c") == 1
    assert reader.read() == [WalRecord(0, b"x")]
    wal.close()


def test_io_failure_stops_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wal = LocalWal(tmp_path)
    wal.create_channel("c")
    wal.append("c", b"safe")

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        wal.append("c", b"lost")
    with pytest.raises(StorageError):
        wal.append("c", b"refused")
    monkeypatch.undo()
    wal.close()

    wal = LocalWal(tmp_path)  # reopening recovers from what reached the file
    assert read_all(wal)[0] == WalRecord(0, b"safe")
    wal.close()
