"""A small data-path stack for unit tests: real local storage, fake root and query coordinators.

:class:`DataStack` opens the local meta store, object store and WAL in a
directory and wires a real ``DataCoordImpl``, ``DataNodeImpl`` and
``IndexNodeImpl`` through :class:`FakeRegistry`. :meth:`DataStack.restart`
closes everything and reopens it on the same directories (a clean restart);
:meth:`DataStack.crash` abandons the roles without closing them (no final
checkpoint persisted), then reopens the stores.

The ``stack`` and ``coll`` fixtures defined here reach the tests of ``tests/worker`` and
``tests/coord`` through those folders' ``conftest.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from elanus.cluster.types import (
    CollectionInfo,
    ConsistencyLevel,
    PartitionInfo,
    SealPolicy,
    SegmentInfo,
    SegmentState,
)
from elanus.coord.data import DataCoordImpl
from elanus.core.schema import CollectionSchema, DataType, FieldSchema
from elanus.core.tso import IdAllocator, TimestampOracle
from elanus.storage import open_meta, open_objects, open_wal
from elanus.storage.meta.base import MetaStore
from elanus.worker.data_node import DataNodeImpl
from elanus.worker.index_node import IndexNodeImpl

DIM = 4


class FakeRoot:
    """TSO and id allocation over the meta store, as the root coordinator does it."""

    def __init__(self, meta: MetaStore) -> None:
        self._tso = TimestampOracle(meta, "kv/gid/timestamp")
        self._ids = IdAllocator(meta, "kv/gid/idTimestamp")

    def alloc_timestamp(self, count: int = 1) -> int:
        return self._tso.alloc(count)

    def alloc_ids(self, count: int) -> int:
        return self._ids.alloc(count)


class FakeQueryCoord:
    """Records ``segment_ready`` notices."""

    def __init__(self) -> None:
        self.ready: list[SegmentInfo] = []
        self._lock = threading.Lock()

    def segment_ready(self, segment: SegmentInfo) -> None:
        with self._lock:
            self.ready.append(segment)

    def ready_for(self, segment_id: int) -> list[SegmentInfo]:
        with self._lock:
            return [s for s in self.ready if s.id == segment_id]

    def loaded_partitions(self, collection_id: int) -> tuple[int, ...] | None:
        return None


class FakeRegistry:
    def __init__(self) -> None:
        self.root_coord: Any = None
        self.dc: Any = None
        self.qc = FakeQueryCoord()
        self.node: Any = None
        self.index: Any = None

    def root(self) -> Any:
        return self.root_coord

    def data_coord(self) -> Any:
        return self.dc

    def query_coord(self) -> Any:
        return self.qc

    def data_node_for(self, channel: str) -> Any:
        return self.node

    def data_nodes(self) -> list[Any]:
        return [self.node]

    def index_node(self) -> Any:
        if self.index is None:
            raise RuntimeError("no index node")
        return self.index

    def query_node(self, node_id: int) -> Any:
        raise KeyError(node_id)

    def query_nodes(self) -> list[Any]:
        return []


def make_collection(coll_id: int = 1000, shards: int = 1, partitions: int = 1) -> CollectionInfo:
    schema = CollectionSchema("c", (
        FieldSchema(100, "id", DataType.INT64, is_primary=True),
        FieldSchema(101, "vec", DataType.FLOAT_VECTOR, params={"dim": str(DIM)}),
        FieldSchema(102, "tag", DataType.VARCHAR, params={"max_length": "64"}),
    ))
    channels = tuple(f"dml_{i}_{coll_id}v{i}" for i in range(shards))
    parts = tuple(PartitionInfo(coll_id + 1 + i, "_default" if i == 0 else f"p{i}", 0)
                  for i in range(partitions))
    return CollectionInfo(id=coll_id, db_id=1, db_name="default", name=f"c{coll_id}", schema=schema,
                          schema_bytes=b"", channels=channels, partitions=parts,
                          consistency_level=ConsistencyLevel.STRONG, created_ts=0)


def rows(start: int, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + start)
    pks = np.arange(start, start + n, dtype=np.int64)
    return {"id": pks, "vec": rng.random((n, DIM), dtype=np.float32),
            "tag": np.array([f"t{i}" for i in pks.tolist()], dtype=object)}


def wait_for(cond: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class DataStack:
    """Real local stores + DataCoordImpl + DataNodeImpl (+ IndexNodeImpl) in ``directory``."""

    def __init__(self, directory: Path, policy: SealPolicy | None = None, *, index_node: bool = True,
                 tick_interval: float = 0.05) -> None:
        self.directory = directory
        self.policy = policy or SealPolicy()
        self.with_index_node = index_node
        self.tick_interval = tick_interval
        self._open()

    def _open(self) -> None:
        self.meta = open_meta(str(self.directory / "meta"))
        self.objects = open_objects(str(self.directory / "objects"))
        self.wal = open_wal(str(self.directory / "wal"))
        self.registry = FakeRegistry()
        self.registry.root_coord = FakeRoot(self.meta)
        self.dc = DataCoordImpl(self.registry, self.meta, self.objects)  # type: ignore[arg-type]
        self.registry.dc = self.dc
        self.node = DataNodeImpl(self.registry, self.meta, self.objects, self.wal, self.policy,  # type: ignore[arg-type]
                                 tick_interval=self.tick_interval)
        self.registry.node = self.node
        if self.with_index_node:
            self.registry.index = IndexNodeImpl(self.objects)

    def _close_stores(self) -> None:
        self.wal.close()
        self.meta.close()
        self.objects.close()

    def close(self) -> None:
        self.node.close()
        self.dc.close()
        self._close_stores()

    def restart(self) -> None:
        self.close()
        self._open()

    def crash(self) -> None:
        """Stop the roles' threads without any orderly shutdown work, then reopen."""
        self.node.close()  # threads must stop: they would write into the closed stores
        self.dc._builds.close()  # no checkpoint persisted: what a kill -9 leaves
        self._close_stores()
        self._open()

    # --- helpers
    def flush_and_wait(self, coll: CollectionInfo, timeout: float = 10.0) -> list[int]:
        ids, flush_ts = self.dc.flush(coll)
        wait_for(lambda: self.dc.flush_done(ids, flush_ts, coll.id), timeout, "flush_done")
        return ids

    def flushed(self, coll: CollectionInfo) -> list[SegmentInfo]:
        return self.dc.list_segments(coll.id, (SegmentState.FLUSHED,))

    def read_segment(self, seg: SegmentInfo) -> Any:
        return pq.read_table(self.objects.local_path(seg.data_path))

    def caught_up(self, channel: str) -> bool:
        flusher = self.node.flusher(channel)
        return flusher is not None and flusher.position >= self.wal.end_offset(channel)


@pytest.fixture()
def stack(tmp_path: Path) -> Iterator[DataStack]:
    """A :class:`DataStack` in the test's directory, closed after the test."""
    s = DataStack(tmp_path)
    yield s
    s.close()


@pytest.fixture()
def coll(stack: DataStack) -> CollectionInfo:
    """A :func:`make_collection` collection whose channels the stack's data node watches."""
    info = make_collection()
    for ch in info.channels:
        stack.node.watch_channel(ch)
    return info
