"""Data node: channel writer ordering and group commit, sealing, flushing, deletes, checkpoints, restart."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from elanus.cluster.types import CollectionInfo, SealPolicy, SegmentState
from elanus.core.errors import MilvusError
from elanus.core.messages import Message, MsgType
from tests.worker.datapath_fakes import DataStack, make_collection, rows, wait_for


def wal_messages(stack: DataStack, channel: str) -> list[Message]:
    reader = stack.wal.reader(channel, 0)
    try:
        out: list[Message] = []
        while batch := reader.read(1024, timeout=0):
            out.extend(Message.decode(r.payload) for r in batch)
        return out
    finally:
        reader.close()


def all_flushed_pks(stack: DataStack, coll: CollectionInfo) -> np.ndarray:
    parts = [stack.read_segment(s).column("id").to_numpy() for s in stack.flushed(coll)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def test_concurrent_inserts_get_increasing_timestamps_in_offset_order(stack: DataStack,
                                                                       coll: CollectionInfo) -> None:
    ch, part = coll.channels[0], coll.partitions[0].id
    returned: list[int] = []
    lock = threading.Lock()

    def writer(t: int) -> None:
        for i in range(15):
            ts = stack.node.insert(coll, ch, part, rows(t * 1000 + i * 5, 5))
            with lock:
                returned.append(ts)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    msgs = wal_messages(stack, ch)
    stamps = [m.ts for m in msgs]
    assert stamps == sorted(stamps), "offset order must be timestamp order"
    inserts = [m.ts for m in msgs if m.type == MsgType.INSERT]
    assert len(set(returned)) == len(returned) == 120
    assert sorted(inserts) == sorted(returned)
    assert stack.node.last_ts(ch) >= max(returned)


def test_concurrent_writers_share_fsyncs(stack: DataStack, coll: CollectionInfo,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ch, part = coll.channels[0], coll.partitions[0].id
    stack.node.insert(coll, ch, part, rows(0, 1))  # segment registered outside the measurement
    calls = 0
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        nonlocal calls
        calls += 1
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    n_threads, per_thread = 16, 10
    barrier = threading.Barrier(n_threads)

    def writer(t: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            stack.node.insert(coll, ch, part, rows(10_000 + t * 100 + i, 1))

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    monkeypatch.setattr(os, "fsync", real_fsync)
    writes = n_threads * per_thread
    assert 0 < calls < writes / 2, f"{calls} fsyncs for {writes} durable writes"


def test_seal_by_rows_flushes_full_segments(tmp_path: Path) -> None:
    stack = DataStack(tmp_path, SealPolicy(max_rows=100))
    try:
        coll = make_collection()
        ch, part = coll.channels[0], coll.partitions[0].id
        stack.node.insert(coll, ch, part, rows(0, 50))
        stack.node.insert(coll, ch, part, rows(50, 50))  # reaches 100 rows: sealed
        stack.node.insert(coll, ch, part, rows(100, 30))  # a new growing segment
        flushed = wait_for(lambda: stack.flushed(coll), what="auto-flushed segment")
        assert [s.num_rows for s in flushed] == [100]
        table = stack.read_segment(flushed[0])
        assert table.column("id").to_pylist() == list(range(100))
        assert table.column("$ts").type == "uint64"
        growing = stack.dc.list_segments(coll.id, (SegmentState.GROWING,))
        assert len(growing) == 1
        assert stack.dc.collection_row_count(coll.id) == 130
    finally:
        stack.close()


def test_manual_flush_writes_parquet_stats_and_completes(stack: DataStack, coll: CollectionInfo) -> None:
    ch, part = coll.channels[0], coll.partitions[0].id
    stamps = [stack.node.insert(coll, ch, part, rows(i * 10, 10)) for i in range(3)]
    ids = stack.flush_and_wait(coll)
    assert len(ids) == 1
    (seg,) = stack.flushed(coll)
    assert seg.id == ids[0] and seg.num_rows == 30
    assert (seg.min_ts, seg.max_ts) == (stamps[0], stamps[-1])
    table = stack.read_segment(seg)
    assert table.column_names == ["id", "vec", "tag", "$ts"]
    assert table.column("id").to_pylist() == list(range(30))
    assert table.column("$ts").to_pylist() == [s for s in stamps for _ in range(10)]
    expected = rows(0, 10)["vec"]
    assert np.allclose(np.stack(table.column("vec").to_pylist()[:10]), expected)
    stats = json.loads(stack.objects.get(f"stats_log/{coll.id}/{part}/{seg.id}/pk_stats.json"))
    assert stats == {"num_rows": 30, "min": 0, "max": 29}
    # A flush with nothing growing completes too (the marker moves the checkpoint).
    assert stack.flush_and_wait(coll) == []


def test_deletes_reach_a_delta_log(stack: DataStack, coll: CollectionInfo) -> None:
    ch, part = coll.channels[0], coll.partitions[0].id
    ins_ts = stack.node.insert(coll, ch, part, rows(0, 20))
    del_ts = stack.node.delete(coll, ch, part, np.array([3, 4, 5], dtype=np.int64))
    assert del_ts > ins_ts
    stack.flush_and_wait(coll)
    (delta,) = stack.dc.list_delta_logs(coll.id, ch)
    assert (delta.num_rows, delta.min_ts, delta.max_ts) == (3, del_ts, del_ts)
    table = pq.read_table(stack.objects.local_path(delta.path))
    assert table.column("pk").to_pylist() == [3, 4, 5]
    assert table.column("ts").to_pylist() == [del_ts] * 3


def test_upsert_is_delete_then_insert_at_one_timestamp(stack: DataStack, coll: CollectionInfo) -> None:
    ch, part = coll.channels[0], coll.partitions[0].id
    ts = stack.node.upsert(coll, ch, part, rows(7, 2))
    data = [m for m in wal_messages(stack, ch) if m.type in (MsgType.INSERT, MsgType.DELETE)]
    assert [(m.type, m.ts) for m in data] == [(MsgType.DELETE, ts), (MsgType.INSERT, ts)]


def test_varchar_primary_keys_delete(stack: DataStack, coll: CollectionInfo) -> None:
    ch, part = coll.channels[0], coll.partitions[0].id
    stack.node.delete(coll, ch, part, np.array(["a", "b"], dtype=object))
    stack.flush_and_wait(coll)
    (delta,) = stack.dc.list_delta_logs(coll.id, ch)
    assert pq.read_table(stack.objects.local_path(delta.path)).column("pk").to_pylist() == ["a", "b"]


def test_idle_segments_are_sealed_and_ticks_advance(tmp_path: Path) -> None:
    stack = DataStack(tmp_path, SealPolicy(idle_seconds=0.2))
    try:
        coll = make_collection()
        ch = coll.channels[0]
        stack.node.insert(coll, ch, coll.partitions[0].id, rows(0, 5))
        before = stack.node.last_ts(ch)
        wait_for(lambda: stack.flushed(coll), what="idle seal and flush")
        assert stack.node.last_ts(ch) > before  # time ticks keep coming without writes
        assert any(m.type == MsgType.TIMETICK for m in wal_messages(stack, ch))
    finally:
        stack.close()


def test_checkpoint_advances_and_clean_restart_neither_loses_nor_duplicates(tmp_path: Path) -> None:
    stack = DataStack(tmp_path)
    try:
        coll = make_collection()
        ch, part = coll.channels[0], coll.partitions[0].id
        stack.node.insert(coll, ch, part, rows(0, 40))
        stack.flush_and_wait(coll)
        cp = stack.dc.get_checkpoint(ch)
        assert cp is not None and cp.offset > 0
        stack.node.insert(coll, ch, part, rows(40, 25))  # growing: only in WAL and memory
        stack.node.delete(coll, ch, part, np.array([1, 41], dtype=np.int64))
        held = wait_for(lambda: stack.dc.get_checkpoint(ch), what="checkpoint")
        assert held.offset <= stack.dc.list_segments(coll.id, (SegmentState.GROWING,))[0].start_offset
        stack.restart()
        stack.node.watch_channel(ch)  # recovery seals the segment left growing
        wait_for(lambda: len(stack.flushed(coll)) == 2, what="recovered segment flushed")
        stack.node.insert(coll, ch, part, rows(65, 5))
        stack.flush_and_wait(coll)
        pks = all_flushed_pks(stack, coll)
        assert sorted(pks.tolist()) == list(range(70))
        deltas = stack.dc.list_delta_logs(coll.id, ch)
        assert sum(d.num_rows for d in deltas) == 2
        assert stack.dc.collection_row_count(coll.id) == 70
    finally:
        stack.close()


def test_replay_from_an_old_checkpoint_after_a_crash_skips_what_is_persisted(tmp_path: Path) -> None:
    stack = DataStack(tmp_path)
    try:
        coll = make_collection()
        ch, part = coll.channels[0], coll.partitions[0].id
        stack.node.insert(coll, ch, part, rows(0, 30))
        stack.node.delete(coll, ch, part, np.array([2], dtype=np.int64))
        stack.flush_and_wait(coll)
        stack.node.insert(coll, ch, part, rows(30, 10))
        segments_before = {s.id for s in stack.flushed(coll)}
        # The crash loses the checkpoint: the restarted flusher replays the channel from 0.
        from elanus.coord.data import codec
        stack.meta.delete(codec.checkpoint_key(ch))
        stack.crash()
        stack.node.watch_channel(ch)
        wait_for(lambda: len(stack.flushed(coll)) == 2, what="growing segment recovered")
        wait_for(lambda: stack.caught_up(ch), what="replay caught up")
        stack.flush_and_wait(coll)
        assert segments_before < {s.id for s in stack.flushed(coll)}
        assert sorted(all_flushed_pks(stack, coll).tolist()) == list(range(40))
        assert [d.num_rows for d in stack.dc.list_delta_logs(coll.id, ch)] == [1]
    finally:
        stack.close()


def test_drop_collection_retires_the_channel_and_deletes_files(stack: DataStack,
                                                               coll: CollectionInfo) -> None:
    ch, part = coll.channels[0], coll.partitions[0].id
    stack.node.insert(coll, ch, part, rows(0, 10))
    stack.flush_and_wait(coll)
    stack.node.insert(coll, ch, part, rows(10, 10))
    stack.node.drop_collection(coll)
    stack.dc.drop_collection(coll.id)
    assert stack.objects.list(f"insert_log/{coll.id}/") == []
    assert stack.dc.collection_row_count(coll.id) == 0
    assert ch not in stack.node.watched_channels()
    with pytest.raises(MilvusError):
        stack.node.insert(coll, ch, part, rows(20, 1))


def test_drop_partition_discards_its_rows(tmp_path: Path) -> None:
    stack = DataStack(tmp_path)
    try:
        coll = make_collection(partitions=2)
        ch = coll.channels[0]
        p0, p1 = (p.id for p in coll.partitions)
        stack.node.insert(coll, ch, p0, rows(0, 10))
        stack.node.insert(coll, ch, p1, rows(10, 10))
        stack.node.drop_partition(coll, p1)
        stack.dc.drop_partition(coll.id, p1)
        stack.flush_and_wait(coll)
        assert [(s.partition_id, s.num_rows) for s in stack.flushed(coll)] == [(p0, 10)]
        assert stack.dc.collection_row_count(coll.id) == 10
    finally:
        stack.close()


def test_recovery_reseals_a_segment_whose_flush_was_lost(tmp_path: Path) -> None:
    stack = DataStack(tmp_path)
    try:
        coll = make_collection()
        ch, part = coll.channels[0], coll.partitions[0].id
        stack.node.insert(coll, ch, part, rows(0, 12))
        (seg,) = stack.dc.list_segments(coll.id)
        stack.dc.seal_segments([seg.id])  # reported sealed, but its FLUSH never reached the WAL
        stack.crash()
        stack.node.watch_channel(ch)
        (flushed,) = wait_for(lambda: stack.flushed(coll), what="re-sealed segment flushed")
        assert (flushed.id, flushed.num_rows) == (seg.id, 12)
    finally:
        stack.close()


def test_wal_is_truncated_below_old_checkpoints(stack: DataStack, coll: CollectionInfo,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from elanus.worker.data_node import flusher

    monkeypatch.setattr(flusher, "WAL_RETENTION_SECONDS", 0.0)
    ch, part = coll.channels[0], coll.partitions[0].id
    stack.node.insert(coll, ch, part, rows(0, 50))
    stack.flush_and_wait(coll)
    stack.node.insert(coll, ch, part, rows(50, 50))
    stack.flush_and_wait(coll)
    # everything below the reported checkpoint may go; reading from 0 is then refused
    from elanus.storage.errors import WalTruncated

    def truncated() -> bool:
        try:
            stack.wal.reader(ch, 0).read(1, timeout=0)
        except WalTruncated:
            return True
        return False

    wait_for(truncated, what="wal truncation")
    assert len(all_flushed_pks(stack, coll)) == 100
