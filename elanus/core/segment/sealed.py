"""Sealed segment: a flushed segment loaded from object storage for search and query.

Loaded from ``insert_log/.../data.parquet`` (all user fields plus ``$ts``), memory-mapped
when the object store has a local file, and from the segment's serialised vector
indexes. Raw vectors are dropped after load when the field's index reconstructs
them exactly (``has_raw_data``); otherwise (IVF_SQ8/IVF_PQ, COSINE, no index) they
are kept for output fields and exact search.

Immutable except for delete timestamps. A sorted pk index (built at load, off the
request path) serves point lookups, delete matching and pk-ordered queries; min/max pk
prune deletes that cannot touch the segment.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from elanus.cluster.types import Columns, DeltaLogInfo, SearchRequest, SegmentInfo
from elanus.core import batch
from elanus.core.index import VectorIndex, brute_force_search, load, parse_search_params
from elanus.core.index.search_params import SearchParams
from elanus.core.schema import CollectionSchema
from elanus.core.segment.base import DEFAULT_METRIC, SegmentBase
from elanus.core.segment.deletes import DeleteState, PkIndex
from elanus.storage.objects.base import ObjectStore

log = logging.getLogger(__name__)

TS_COLUMN = "$ts"


def read_parquet(objects: ObjectStore, key: str, columns: list[str] | None = None) -> pa.Table:
    """A Parquet object as an Arrow table, memory-mapped when the store has a local file."""
    path = objects.local_path(key)
    if path is not None:
        return pq.read_table(path, columns=columns, memory_map=True)
    return pq.read_table(pa.BufferReader(objects.get(key)), columns=columns)


def read_deltas(objects: ObjectStore, deltas: list[DeltaLogInfo]) -> tuple[np.ndarray, np.ndarray] | None:
    """All (pk, ts) pairs of the given delta logs, or None when there are none."""
    pks: list[np.ndarray] = []
    tss: list[np.ndarray] = []
    for d in deltas:
        table = read_parquet(objects, d.path, ["pk", "ts"])
        pks.append(table.column("pk").to_numpy())
        tss.append(table.column("ts").to_numpy().astype(np.uint64, copy=False))
    if not pks or not sum(len(p) for p in pks):
        return None
    return np.concatenate(pks), np.concatenate(tss)


class SealedSegment(SegmentBase):
    """An immutable segment with optional vector indexes (see the module docstring)."""

    def __init__(self, info: SegmentInfo, schema: CollectionSchema, columns: Columns,
                 insert_ts: np.ndarray, indexes: Mapping[str, VectorIndex] | None = None) -> None:
        super().__init__(info.id, info.collection_id, info.partition_id, schema)
        self.info = info
        self._n = len(insert_ts)
        self._ts = np.asarray(insert_ts, dtype=np.uint64)
        self._indexes = dict(indexes or {})
        self._cols = dict(columns)
        for name, index in self._indexes.items():
            if index.ntotal != self._n:
                raise ValueError(f"index of {name} has {index.ntotal} rows, segment {info.id} has {self._n}")
            if index.has_raw_data:
                self._cols.pop(name, None)  # the index holds the exact vectors: keep one copy
        self._deletes = DeleteState(self._n)
        self._pk_index = PkIndex(self._cols[self.pk_name])
        self._max_ts = int(self._ts.max()) if self._n else 0
        self._params_cache: dict[tuple[str, str, str, int], SearchParams] = {}

    @classmethod
    def load(cls, objects: ObjectStore, schema: CollectionSchema, info: SegmentInfo,
             deltas: list[DeltaLogInfo] | None = None) -> SealedSegment:
        """Read the data file and index files of ``info``, then apply ``deltas``."""
        table = read_parquet(objects, info.data_path)
        insert_ts = table.column(TS_COLUMN).to_numpy().astype(np.uint64, copy=False)
        keep = [name for name in table.column_names if schema.get(name) is not None]
        columns = batch.from_arrow(table.select(keep), schema)
        indexes: dict[str, VectorIndex] = {}
        for field_name, key in info.index_files.items():
            if schema.get(field_name) is not None:
                indexes[field_name] = load(objects.get(key))
        seg = cls(info, schema, columns, insert_ts, indexes)
        if deltas:
            pairs = read_deltas(objects, deltas)
            if pairs is not None:
                seg.apply_delete(pairs[0], pairs[1])
        log.debug("loaded segment %d: %d rows, indexes %s", info.id, seg.num_rows, sorted(indexes))
        return seg

    def adopt_deletes(self, old: SealedSegment) -> None:
        """Take over the deletes applied to ``old``, an earlier copy of this segment (same
        data file, so same rows in the same order), e.g. before its index was built."""
        if old.num_rows != self._n:
            raise ValueError(f"segment {self.segment_id}: copies differ ({old.num_rows} vs {self._n} rows)")
        self._deletes.merge_from(old._deletes)

    # ------------------------------------------------------------------ hooks
    @property
    def num_rows(self) -> int:
        return self._n

    @property
    def memory_bytes(self) -> int:
        total = self._ts.nbytes + self._deletes.ts.nbytes + self._pk_index.order.nbytes
        for col in self._cols.values():
            total += col.nbytes + (64 * len(col) if col.dtype == object else 0)
        return total + sum(index.memory_bytes for index in self._indexes.values())

    @property
    def indexed_fields(self) -> tuple[str, ...]:
        return tuple(sorted(self._indexes))

    def rows_at(self, t: int) -> int:
        return self._n

    def column(self, name: str) -> np.ndarray | None:
        if name == TS_COLUMN:
            return self._ts
        return self._cols.get(name)

    def insert_ts(self) -> np.ndarray:
        return self._ts

    def take(self, name: str, rows: np.ndarray) -> np.ndarray:
        col = self._cols.get(name)
        if col is not None:
            return col[rows]
        index = self._indexes.get(name)
        if index is None:
            raise KeyError(f"segment {self.segment_id} has no column {name}")
        return index.reconstruct(rows)

    def _insert_mask(self, t: int, n: int) -> np.ndarray | None:
        # A sealed copy may hold rows newer than the delegator's tsafe (it was flushed
        # from further down the WAL); they stay hidden until tsafe passes them.
        if t >= self._max_ts:
            return None
        return self._ts <= np.uint64(t)

    def _search_params(self, index: VectorIndex, request: SearchRequest) -> SearchParams:
        key = (request.anns_field, request.metric, repr(request.params), request.k)
        params = self._params_cache.get(key)
        if params is None:
            params = parse_search_params(index.spec, request.metric or None, request.params, k=request.k)
            if len(self._params_cache) > 64:
                self._params_cache.clear()
            self._params_cache[key] = params
        return params

    def _vector_search(self, request: SearchRequest, valid: np.ndarray | None,
                       n: int) -> tuple[np.ndarray, np.ndarray, str]:
        index = self._indexes.get(request.anns_field)
        if index is None:
            metric = request.metric or DEFAULT_METRIC
            vectors = self._cols[request.anns_field]
            scores, offsets = brute_force_search(vectors, request.queries, request.k, metric, valid)
            return scores, offsets, metric
        params = self._search_params(index, request)
        scores, offsets = index.search(request.queries, request.k, params, valid)
        return scores, offsets, str(params.metric_type)

    def _match_deletes(self, pks: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        return self._pk_index.pairs(pks)

    def _pk_rows(self, values: np.ndarray, n: int) -> np.ndarray:
        return self._pk_index.rows_of(values)

    def _pk_order(self, n: int) -> np.ndarray:
        return self._pk_index.order

    def _pk_bounds(self) -> tuple[Any, Any]:
        return self._pk_index.min, self._pk_index.max
