"""Truncate on the data path: the writer's TRUNCATE and fence, the flusher, the data coordinator's drop."""

from __future__ import annotations

from elanus.cluster.types import CollectionInfo, SegmentState
from elanus.core.messages import MsgType
from tests.worker.datapath_fakes import DataStack, rows, wait_for
from tests.worker.test_data_node import all_flushed_pks, wal_messages


def _states(stack: DataStack, coll: CollectionInfo) -> dict[int, SegmentState]:
    return {s.id: s.state for s in stack.dc.list_segments(coll.id)}


def test_truncate_drops_every_earlier_segment_and_keeps_later_ones(stack: DataStack,
                                                                   coll: CollectionInfo) -> None:
    ch, part = coll.channels[0], coll.partitions[0].id
    stack.node.insert(coll, ch, part, rows(0, 10))
    (flushed,) = stack.flush_and_wait(coll)
    stack.node.insert(coll, ch, part, rows(10, 5))  # growing when the truncate comes
    stack.node.delete(coll, ch, part, rows(0, 2)["id"])
    (growing,) = [sid for sid, st in _states(stack, coll).items() if st == SegmentState.GROWING]

    fence = stack.node.truncate_collection(coll, ch)
    assert flushed < fence and growing < fence
    assert wal_messages(stack, ch)[-1].type == MsgType.TRUNCATE
    dropped = stack.dc.truncate_collection(coll.id, {ch: fence})
    assert sorted(dropped) == sorted([flushed, growing])
    assert not stack.objects.list(f"insert_log/{coll.id}/{part}/{flushed}/")
    assert stack.dc.collection_row_count(coll.id) == 0

    stack.node.insert(coll, ch, part, rows(100, 3))  # a new segment, above the fence
    (after,) = stack.flush_and_wait(coll)
    assert after > fence
    states = _states(stack, coll)
    assert states[flushed] == states[growing] == SegmentState.DROPPED
    assert states[after] == SegmentState.FLUSHED
    assert sorted(all_flushed_pks(stack, coll).tolist()) == [100, 101, 102]
    assert stack.dc.collection_row_count(coll.id) == 3
    assert stack.dc.truncate_collection(coll.id, {ch: fence}) == []  # again: nothing left before it

    # A crash that loses the checkpoint replays the whole channel: nothing truncated comes back.
    from elanus.coord.data import codec
    stack.meta.delete(codec.checkpoint_key(ch))
    stack.crash()
    stack.node.watch_channel(ch)
    wait_for(lambda: stack.caught_up(ch), what="replay caught up")
    stack.flush_and_wait(coll)
    assert _states(stack, coll) == states
    assert sorted(all_flushed_pks(stack, coll).tolist()) == [100, 101, 102]


def test_flusher_discards_buffered_rows_of_a_truncated_collection(stack: DataStack,
                                                                 coll: CollectionInfo) -> None:
    ch, part = coll.channels[0], coll.partitions[0].id
    stack.node.insert(coll, ch, part, rows(0, 10))
    fence = stack.node.truncate_collection(coll, ch)
    stack.dc.truncate_collection(coll.id, {ch: fence})
    wait_for(lambda: stack.caught_up(ch), what="flusher caught up")
    flusher = stack.node.flusher(ch)
    assert flusher is not None
    # Nothing held in memory any more: the checkpoint moved past the truncated rows.
    wait_for(lambda: (cp := stack.dc.get_checkpoint(ch)) is not None and cp.offset == flusher.position,
             what="checkpoint past the TRUNCATE")
    stack.flush_and_wait(coll)
    assert stack.flushed(coll) == []
