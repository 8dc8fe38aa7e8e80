"""Data coordinator: segment meta, index meta and Milvus's errors, build dispatch, persistence, GC."""

from __future__ import annotations

from pathlib import Path

import pytest

from elanus.cluster.types import Checkpoint, CollectionInfo, DeltaLogInfo, SegmentInfo, SegmentState
from elanus.core import errors
from elanus.core.errors import MilvusError
from elanus.core.index import load
from tests.worker.datapath_fakes import DataStack, make_collection, rows, wait_for

HNSW = {"index_type": "HNSW", "metric_type": "L2", "params": '{"M": 8, "efConstruction": 64}'}


def insert_and_flush(stack: DataStack, coll: CollectionInfo, start: int, n: int) -> SegmentInfo:
    stack.node.insert(coll, coll.channels[0], coll.partitions[0].id, rows(start, n))
    (seg_id,) = stack.flush_and_wait(coll)
    seg = stack.dc.list_segments(coll.id)
    return next(s for s in seg if s.id == seg_id)


# ------------------------------------------------------------------ index meta


def test_create_index_rules_and_errors(stack: DataStack) -> None:
    coll = make_collection()
    dc = stack.dc
    dc.create_index(coll, "vec", "", HNSW)
    (info,) = dc.describe_indexes(coll.id)
    assert (info.index_name, info.field_name, info.field_id) == ("vec", "vec", 101)
    dc.create_index(coll, "vec", "", dict(HNSW))  # same again: no-op
    dc.create_index(coll, "vec", "vec", dict(HNSW))
    assert [i.id for i in dc.describe_indexes(coll.id)] == [info.id]

    with pytest.raises(MilvusError) as err:
        dc.create_index(coll, "vec", "", {"index_type": "IVF_FLAT", "metric_type": "L2"})
    assert (err.value.code, err.value.message) == (
        1100, "at most one distinct index is allowed per field: invalid parameter")
    with pytest.raises(MilvusError) as err:
        dc.create_index(coll, "vec", "other", dict(HNSW))
    assert err.value.message == ("CreateIndex failed: creating multiple indexes on same field is not supported: "
                                 "invalid parameter")
    with pytest.raises(MilvusError) as err:
        dc.create_index(coll, "tag", "vec", {"index_type": "INVERTED"})  # name taken by another field
    assert "at most one distinct index is allowed per field" in err.value.message
    with pytest.raises(MilvusError) as err:
        dc.create_index(coll, "nosuch", "", {})
    assert err.value.message == "cannot create index on non-exist field: nosuch"
    with pytest.raises(MilvusError) as err:
        dc.create_index(coll, "id", "", {"index_type": "BITMAP"})
    assert err.value.message == "create bitmap index on primary key not supported: invalid parameter"
    with pytest.raises(MilvusError) as err:
        dc.create_index(coll, "tag", "", {"index_type": "HNSW", "metric_type": "L2"})
    assert "index HNSW only supports vector data type" in err.value.message

    dc.create_index(coll, "tag", "tag_idx", {"index_type": "INVERTED"})  # scalar: metadata only
    assert [i.index_name for i in dc.describe_indexes(coll.id)] == ["vec", "tag_idx"]
    assert [i.index_name for i in dc.describe_indexes(coll.id, field_name="tag")] == ["tag_idx"]
    assert dc.describe_indexes(coll.id, index_name="nosuch") == []
    with pytest.raises(MilvusError) as err:
        dc.drop_index(coll.id, "")
    assert err.value.message == "there are multiple indexes, please specify the index_name"
    dc.drop_index(coll.id, "nosuch")  # Milvus: dropping a missing index succeeds
    dc.drop_index(coll.id, "tag_idx")
    assert [i.index_name for i in dc.describe_indexes(coll.id)] == ["vec"]
    with pytest.raises(MilvusError) as err:
        dc.index_progress(coll.id, 12345)
    assert err.value.code == errors.INDEX_NOT_FOUND


def test_invalid_vector_index_params_use_core_index_errors(stack: DataStack) -> None:
    coll = make_collection()
    with pytest.raises(MilvusError) as err:
        stack.dc.create_index(coll, "vec", "", {"index_type": "HNSW"})
    assert "metric type not set for vector index" in err.value.message
    assert stack.dc.describe_indexes(coll.id) == []


# -------------------------------------------------------------- index builds


def test_flushed_segment_is_indexed_then_announced(stack: DataStack, coll: CollectionInfo) -> None:
    stack.dc.create_index(coll, "vec", "", HNSW)
    seg = insert_and_flush(stack, coll, 0, 50)
    (ready,) = wait_for(lambda: stack.registry.qc.ready_for(seg.id), what="segment_ready")
    key = ready.index_files["vec"]
    assert key.startswith(f"index_files/{coll.id}/{seg.id}/vec/") and key.endswith(".index")
    index = load(stack.objects.get(key))
    assert index.ntotal == 50 and index.spec.hnsw_m == 8
    (info,) = stack.dc.describe_indexes(coll.id)
    assert stack.dc.index_progress(coll.id, info.id) == (50, 50, 0)


def test_no_index_means_ready_at_flush_and_a_later_index_announces_again(stack: DataStack,
                                                                         coll: CollectionInfo) -> None:
    seg = insert_and_flush(stack, coll, 0, 20)
    (first,) = wait_for(lambda: stack.registry.qc.ready_for(seg.id), what="segment_ready")
    assert first.index_files == {}
    stack.dc.create_index(coll, "vec", "", {"index_type": "FLAT", "metric_type": "IP"})
    wait_for(lambda: len(stack.registry.qc.ready_for(seg.id)) == 2, what="second segment_ready")
    assert "vec" in stack.registry.qc.ready_for(seg.id)[1].index_files
    (info,) = stack.dc.describe_indexes(coll.id)
    assert stack.dc.index_progress(coll.id, info.id) == (20, 20, 0)
    stack.dc.drop_index(coll.id, "vec")
    assert stack.objects.list(f"index_files/{coll.id}/") == []
    assert stack.dc.list_segments(coll.id)[0].index_files == {}


def test_failed_builds_do_not_hold_a_segment_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from elanus.coord.data import builds

    monkeypatch.setattr(builds, "RETRY_DELAYS", (0.01,))
    stack = DataStack(tmp_path, index_node=False)  # every build attempt fails: no index node
    try:
        coll = make_collection()
        stack.dc.create_index(coll, "vec", "", HNSW)
        seg = insert_and_flush(stack, coll, 0, 10)
        (ready,) = wait_for(lambda: stack.registry.qc.ready_for(seg.id), what="segment_ready after failure")
        assert ready.index_files == {}
        (info,) = stack.dc.describe_indexes(coll.id)
        assert stack.dc.index_progress(coll.id, info.id) == (10, 10, 0)
    finally:
        stack.close()


def test_missing_builds_resume_after_restart(tmp_path: Path) -> None:
    stack = DataStack(tmp_path, index_node=False)  # builds cannot run yet
    try:
        coll = make_collection()
        stack.dc.create_index(coll, "vec", "", HNSW)
        seg = insert_and_flush(stack, coll, 0, 10)
        assert stack.registry.qc.ready_for(seg.id) == []
        stack.with_index_node = True  # the restarted cluster has an index node
        stack.restart()
        ready = wait_for(lambda: stack.registry.qc.ready_for(seg.id), what="resumed build")
        assert "vec" in ready[0].index_files
    finally:
        stack.close()


# ------------------------------------------------------------- segment meta


def test_segment_states_only_move_forward(stack: DataStack) -> None:
    dc = stack.dc
    dc.register_segment(SegmentInfo(1, 7, 70, "ch", SegmentState.GROWING))
    dc.register_segment(SegmentInfo(1, 7, 70, "ch", SegmentState.GROWING, num_rows=5))
    dc.register_segment(SegmentInfo(1, 7, 70, "ch", SegmentState.GROWING, num_rows=3))  # late report
    assert dc.collection_row_count(7) == 5
    dc.segment_flushed(SegmentInfo(1, 7, 70, "ch", SegmentState.FLUSHED, num_rows=6, data_path="x"))
    dc.seal_segments([1])  # late seal: no downgrade
    (seg,) = dc.list_segments(7)
    assert (seg.state, seg.num_rows) == (SegmentState.FLUSHED, 6)
    dc.register_segment(SegmentInfo(2, 7, 71, "ch", SegmentState.GROWING))
    dc.seal_segments([2])
    dc.segment_flushed(SegmentInfo(2, 7, 0, "ch", SegmentState.FLUSHED, num_rows=0))  # sealed empty
    assert dc.list_segments(7, (SegmentState.DROPPED,))[0].partition_id == 71
    assert [s.id for s in dc.channel_segments("ch", (SegmentState.FLUSHED,))] == [1]
    assert dc.collection_row_count(7, (70,)) == 6 and dc.collection_row_count(7, (71,)) == 0


def test_everything_survives_a_restart(stack: DataStack, coll: CollectionInfo) -> None:
    stack.dc.create_index(coll, "vec", "my_index", HNSW)
    stack.dc.create_index(coll, "tag", "", {"index_type": "INVERTED"})
    seg = insert_and_flush(stack, coll, 0, 30)
    stack.node.delete(coll, coll.channels[0], coll.partitions[0].id, rows(0, 2)["id"])
    stack.flush_and_wait(coll)
    wait_for(lambda: stack.dc.list_segments(coll.id)[0].index_files, what="index built")
    stack.node.close()  # no more ticks: the checkpoint stays put
    before = (stack.dc.list_segments(coll.id), stack.dc.list_delta_logs(coll.id),
              stack.dc.describe_indexes(coll.id), stack.dc.get_checkpoint(coll.channels[0]))
    stack.restart()
    after = (stack.dc.list_segments(coll.id), stack.dc.list_delta_logs(coll.id),
             stack.dc.describe_indexes(coll.id), stack.dc.get_checkpoint(coll.channels[0]))
    assert after == before
    assert after[0][0].id == seg.id and after[0][0].index_files


def test_checkpoints_never_move_backwards(stack: DataStack) -> None:
    stack.dc.update_checkpoint(Checkpoint("ch", 10, 100))
    stack.dc.update_checkpoint(Checkpoint("ch", 5, 50))
    assert stack.dc.get_checkpoint("ch") == Checkpoint("ch", 10, 100)
    stack.dc.update_checkpoint(Checkpoint("ch", 12, 120))  # within the persist interval: memory only
    stack.restart()
    assert stack.dc.get_checkpoint("ch") == Checkpoint("ch", 12, 120)  # close() persisted it


def test_flush_done_waits_for_segments_and_checkpoints(stack: DataStack) -> None:
    dc = stack.dc
    coll = make_collection(coll_id=55)
    stack.node.watch_channel(coll.channels[0])
    stack.node.insert(coll, coll.channels[0], coll.partitions[0].id, rows(0, 5))
    stack.node.close()  # no flusher any more: the flush cannot complete
    ids, ts = dc.flush(coll)
    assert len(ids) == 1 and not dc.flush_done(ids, ts, coll.id)
    dc.segment_flushed(SegmentInfo(ids[0], coll.id, coll.partitions[0].id, coll.channels[0],
                                   SegmentState.FLUSHED, num_rows=5, data_path="x"))
    assert not dc.flush_done(ids, ts, coll.id)  # the checkpoint is behind the flush
    dc.update_checkpoint(Checkpoint(coll.channels[0], 99, ts + 1))
    assert dc.flush_done(ids, ts, coll.id)


def test_drop_collection_and_partition_gc(stack: DataStack) -> None:
    coll = make_collection(partitions=2)
    ch = coll.channels[0]
    stack.node.watch_channel(ch)
    stack.dc.create_index(coll, "vec", "", HNSW)
    p0, p1 = (p.id for p in coll.partitions)
    stack.node.insert(coll, ch, p0, rows(0, 10))
    stack.node.insert(coll, ch, p1, rows(10, 10))
    stack.node.delete(coll, ch, p0, rows(0, 1)["id"])
    stack.flush_and_wait(coll)
    wait_for(lambda: all(s.index_files for s in stack.flushed(coll)), what="indexes built")
    stack.dc.drop_partition(coll.id, p1)
    assert stack.objects.list(f"insert_log/{coll.id}/{p1}/") == []
    assert stack.objects.list(f"insert_log/{coll.id}/{p0}/")
    assert len(stack.objects.list(f"index_files/{coll.id}/")) == 1
    stack.dc.drop_collection(coll.id)
    for kind in ("insert_log", "stats_log", "delta_log", "index_files"):
        assert stack.objects.list(f"{kind}/{coll.id}/") == []
    assert {s.state for s in stack.dc.list_segments(coll.id)} == {SegmentState.DROPPED}
    assert stack.dc.list_delta_logs(coll.id) == [] and stack.dc.describe_indexes(coll.id) == []
    # Files that arrive after the drop (a racing flush) are deleted on arrival.
    stack.objects.put(f"delta_log/{coll.id}/{ch}/1.parquet", b"x")
    stack.dc.add_delta_log(DeltaLogInfo(1, coll.id, ch, f"delta_log/{coll.id}/{ch}/1.parquet", 1, 1, 1))
    assert stack.objects.list(f"delta_log/{coll.id}/") == []
    with pytest.raises(MilvusError):
        stack.dc.register_segment(SegmentInfo(9, coll.id, p0, ch, SegmentState.GROWING))
