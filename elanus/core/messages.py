"""WAL messages: what a channel carries.

Layout of one WAL payload (little-endian)::

    u8 type | u64 ts | i64 collection_id | i64 partition_id | i64 segment_id | body

Bodies: INSERT = Arrow IPC stream of the rows (user columns; see
:mod:`elanus.core.batch`); DELETE = Arrow IPC of one column ``pk``; FLUSH = the
sealed segment ids as little-endian int64; SCHEMA = the collection's new serialised
``schema_pb2.CollectionSchema`` (ids assigned, ``version`` bumped); TIMETICK / DROP_* /
TRUNCATE = empty.

Ordering contract (kept by the channel writer): messages on one channel have
non-decreasing timestamps in offset order, so a consumer that has applied the
message with timestamp ``t`` has seen everything at or before ``t`` (tsafe = t).
An upsert is a DELETE and an INSERT with the same timestamp, delete first, as
consecutive messages; the DELETE carries ``segment_id == UPSERT_DELETE`` so a
consumer knows the INSERT is coming and does not expose the state between the two.
A delete hides rows inserted strictly before it, so the new row survives.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

_HEADER = struct.Struct("<BQqqq")

UPSERT_DELETE = -1  # segment_id of a DELETE that is the first half of an upsert


class MsgType(IntEnum):
    TIMETICK = 1
    INSERT = 2
    DELETE = 3
    FLUSH = 4  # seal these segments: no more rows will be appended to them
    DROP_COLLECTION = 6
    DROP_PARTITION = 8
    SCHEMA = 9  # the collection's schema changed (a field was added); later INSERTs may carry it
    # truncate: every segment of the collection that got rows on this channel before this message
    # is dropped (growing ones with it; sealed ones by the coordinators); the collection stays.
    TRUNCATE = 10


@dataclass(frozen=True)
class Message:
    type: MsgType
    ts: int
    collection_id: int = 0
    partition_id: int = 0
    segment_id: int = 0
    body: bytes = b""

    def encode(self) -> bytes:
        return _HEADER.pack(self.type, self.ts, self.collection_id, self.partition_id,
                            self.segment_id) + self.body

    @staticmethod
    def decode(data: bytes) -> Message:
        mtype, ts, coll, part, seg = _HEADER.unpack_from(data)
        return Message(MsgType(mtype), ts, coll, part, seg, bytes(data[_HEADER.size:]))

    @staticmethod
    def peek_header(data: bytes) -> tuple[MsgType, int, int, int, int]:
        """(type, ts, collection, partition, segment) without copying the body."""
        mtype, ts, coll, part, seg = _HEADER.unpack_from(data)
        return MsgType(mtype), ts, coll, part, seg


def flush_body(segment_ids: list[int]) -> bytes:
    return np.asarray(segment_ids, dtype="<i8").tobytes()


def flush_segments(msg: Message) -> list[int]:
    return np.frombuffer(msg.body, dtype="<i8").tolist()
