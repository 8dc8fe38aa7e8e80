"""Values that travel between roles.

Everything a role hands to another role is one of these plain dataclasses (or
numpy arrays inside them), never a live object of the sender. In-process they
are passed by reference and must be treated as immutable by the receiver; the
gRPC transport serialises them (arrays as Arrow IPC / packed buffers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np

from elanus.core.schema import CollectionSchema

Columns = dict[str, np.ndarray]

DEFAULT_DB = "default"
DEFAULT_DB_ID = 1
DEFAULT_PARTITION = "_default"
ALL_PARTITIONS = -1


class ConsistencyLevel(IntEnum):
    """common.ConsistencyLevel numbers."""

    STRONG = 0
    SESSION = 1
    BOUNDED = 2
    EVENTUALLY = 3
    CUSTOMIZED = 4


class SegmentState(IntEnum):
    """common.SegmentState numbers."""

    GROWING = 2
    SEALED = 3
    FLUSHED = 4
    FLUSHING = 5
    DROPPED = 6


class LoadState(IntEnum):
    """common.LoadState numbers."""

    NOT_EXIST = 0
    NOT_LOAD = 1
    LOADING = 2
    LOADED = 3


@dataclass(frozen=True)
class DatabaseInfo:
    id: int
    name: str
    created_ts: int
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PartitionInfo:
    id: int
    name: str
    created_ts: int


@dataclass(frozen=True)
class CollectionInfo:
    """A collection as the root coordinator stores it.

    ``channels[i]`` is the WAL channel of shard ``i``; primary keys hash to shards
    (see :mod:`elanus.core.hashing`). ``schema_bytes`` is the serialised
    ``schema_pb2.CollectionSchema`` with field ids assigned.
    """

    id: int
    db_id: int
    db_name: str
    name: str
    schema: CollectionSchema
    schema_bytes: bytes
    channels: tuple[str, ...]
    partitions: tuple[PartitionInfo, ...]
    consistency_level: ConsistencyLevel
    created_ts: int
    properties: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    def partition(self, name: str) -> PartitionInfo | None:
        for p in self.partitions:
            if p.name == name:
                return p
        return None

    @property
    def num_shards(self) -> int:
        return len(self.channels)


@dataclass(frozen=True)
class IndexInfo:
    """A field index as the data coordinator stores it (``params`` as the user gave them).

    ``field_name`` is the schema field (``$meta`` for an index on a dynamic key). For an
    index on a JSON field or the dynamic field, ``json_pointer`` is the indexed path as a
    JSON pointer (``/a/0/b``; ``""`` = the whole field), Milvus's internal ``json_path``;
    it is ``""`` for every other index.
    """

    id: int
    collection_id: int
    field_name: str
    field_id: int
    index_name: str
    params: dict[str, str]
    created_ts: int
    json_pointer: str = ""


@dataclass(frozen=True)
class SegmentInfo:
    """Segment metadata kept by the data coordinator.

    Invariants: a FLUSHED segment has ``data_path`` set and ``num_rows`` final;
    ``start_offset`` is the WAL offset of its first insert (checkpoints never pass it
    before the segment is flushed).
    """

    id: int
    collection_id: int
    partition_id: int
    channel: str
    state: SegmentState
    num_rows: int = 0
    start_offset: int = 0
    data_path: str = ""
    data_size: int = 0
    min_ts: int = 0
    max_ts: int = 0
    index_files: dict[str, str] = field(default_factory=dict)  # field name -> object key


@dataclass(frozen=True)
class DeltaLogInfo:
    """A delete log of one channel: (pk, ts) pairs persisted in the object store."""

    log_id: int
    collection_id: int
    channel: str
    path: str
    num_rows: int
    min_ts: int
    max_ts: int


@dataclass(frozen=True)
class Checkpoint:
    """Where a channel's consumer may restart: every message below ``offset`` is in object storage."""

    channel: str
    offset: int
    ts: int


@dataclass(frozen=True)
class SealPolicy:
    """When the channel writer seals a growing segment (Milvus: ~12% of 1 GiB, idle 600 s)."""

    max_rows: int = 1_000_000
    max_bytes: int = 128 * 1024 * 1024
    idle_seconds: float = 600.0


@dataclass(frozen=True)
class SearchRequest:
    """One vector search, as the proxy hands it to shard delegators.

    ``k`` is ``offset + limit`` (each shard returns its own top-k; the proxy cuts the offset).
    ``mvcc_ts`` is filled by the delegator once tsafe >= ``guarantee_ts``.
    """

    collection_id: int
    partition_ids: tuple[int, ...]
    anns_field: str
    queries: np.ndarray
    k: int
    metric: str
    params: dict[str, Any]
    filter: str
    filter_params: dict[str, Any]
    output_fields: tuple[str, ...]
    guarantee_ts: int
    mvcc_ts: int = 0


@dataclass
class SearchHits:
    """Partial or final top-k for ``nq`` queries.

    ``scores``/``pks``/``valid`` are (nq, k); row ``i*k + j`` of every column in
    ``fields`` belongs to hit ``(i, j)``. Invalid slots (fewer hits than k) have
    ``valid == False`` and arbitrary values.
    """

    scores: np.ndarray
    pks: np.ndarray
    valid: np.ndarray
    fields: Columns
    metric: str


@dataclass(frozen=True)
class QueryRequest:
    collection_id: int
    partition_ids: tuple[int, ...]
    filter: str
    filter_params: dict[str, Any]
    output_fields: tuple[str, ...]
    limit: int  # -1 = no limit
    offset: int
    guarantee_ts: int
    count_only: bool = False
    mvcc_ts: int = 0


@dataclass
class QueryResult:
    columns: Columns
    count: int  # rows matched (for count(*)), or len of columns


@dataclass(frozen=True)
class LoadProgress:
    state: LoadState
    percent: int
