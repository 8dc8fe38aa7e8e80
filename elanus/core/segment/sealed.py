"""Sealed segment: a flushed segment loaded from object storage for search and query.

Loaded from ``insert_log/.../data.parquet`` (the user fields the collection had when it
was written, plus ``$ts``; fields added later read as their default value or null, see
:mod:`elanus.core.segment.evolve`), memory-mapped when the object store has a local file,
and from the segment's serialised vector and scalar indexes. Raw vectors are not even decoded when
the field's index reconstructs them exactly (``has_raw_data``); otherwise (IVF_SQ8/IVF_PQ,
COSINE, no index) they are kept for output fields and exact search — memory-mapped from a
local file when the query node gives ``load`` a spill directory and an index serves the
searches (:mod:`elanus.core.segment.spill`).

Scalar indexes (``index_files`` keys ``{field}#{index id}``, see
:mod:`elanus.core.scalar_index`) answer filter leaves on their targets: each filter is
planned once per segment (:func:`elanus.core.scalar_index.planner.plan`, cached by filter
identity) when it is evaluated over the whole segment; pk point lookups still scan their
few candidate rows.

Immutable except for delete timestamps and schema updates (``update_schema``). A sorted
pk index (built at load, off the request path) serves point lookups, delete matching and
pk-ordered queries; min/max pk prune deletes that cannot touch the segment.
"""

from __future__ import annotations

import logging
import mmap
import os
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from elanus.cluster.types import Columns, DeltaLogInfo, SearchRequest, SegmentInfo
from elanus.core import batch
from elanus.core.index import VectorIndex, exact_search, load, parse_search_params
from elanus.core.index.search_params import SearchParams
from elanus.core.schema import CollectionSchema
from elanus.core.segment.base import DEFAULT_METRIC, SegmentBase
from elanus.core.segment.deletes import DeleteState, PkIndex
from elanus.core.segment.evolve import missing_fields, with_absent_fields
from elanus.core.segment.filtering import FilterLike
from elanus.core.segment.spill import is_spilled, spill
from elanus.storage.objects.base import ObjectStore

if TYPE_CHECKING:
    from elanus.core.scalar_index import KeyedIndex

log = logging.getLogger(__name__)

TS_COLUMN = "$ts"


def read_parquet(objects: ObjectStore, key: str, columns: list[str] | None = None,
                 skip: Collection[str] = ()) -> pa.Table:
    """A Parquet object as an Arrow table (``columns``, default all, minus ``skip``: never
    decoded), memory-mapped when the store has a local file."""
    path = objects.local_path(key)
    source: str | pa.BufferReader = path if path is not None else pa.BufferReader(objects.get(key))
    if skip:
        names = columns if columns is not None else pq.read_schema(source).names
        columns = [name for name in names if name not in skip]
    return pq.read_table(source, columns=columns, memory_map=path is not None)


def read_object(objects: ObjectStore, key: str) -> bytes | memoryview:
    """An object's bytes; memory-mapped when the store has a local file, so a large blob
    (an index file) is read through the page cache instead of a heap copy. Objects are
    immutable (replaced by rename, never rewritten in place), so the mapping stays valid."""
    path = objects.local_path(key)
    if path is None:
        return objects.get(key)
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return b""
        return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))


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
                 insert_ts: np.ndarray, indexes: Mapping[str, VectorIndex] | None = None,
                 scalar_indexes: Sequence[KeyedIndex] = ()) -> None:
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
        for sx in scalar_indexes:
            if sx.num_rows != self._n:
                raise ValueError(f"scalar index {sx!r} has {sx.num_rows} rows, segment {info.id} has {self._n}")
        self._scalar = list(scalar_indexes)
        self._plans: dict[int, tuple[FilterLike, FilterLike]] = {}
        self._deletes = DeleteState(self._n)
        self._pk_index = PkIndex(self._cols[self.pk_name])
        self._max_ts = int(self._ts.max()) if self._n else 0
        self._params_cache: dict[tuple[str, str, str, int], SearchParams] = {}

    @classmethod
    def load(cls, objects: ObjectStore, schema: CollectionSchema, info: SegmentInfo,
             deltas: list[DeltaLogInfo] | None = None, spill_dir: str | None = None) -> SealedSegment:
        """Read the data file and index files of ``info``, then apply ``deltas``. With
        ``spill_dir``, raw vectors an index does not hold (read for output fields only)
        are memory-mapped from a file there instead of kept on the heap (see :mod:`spill`)."""
        indexes: dict[str, VectorIndex] = {}
        scalars: list[KeyedIndex] = []
        for field_name, key in info.index_files.items():
            if "#" in field_name:  # a scalar index: {field}#{index id}
                if schema.get(field_name.split("#", 1)[0]) is not None:
                    from elanus.core import scalar_index  # the filter engine, loaded on first use

                    scalars.append(scalar_index.load(read_object(objects, key)))
            elif schema.get(field_name) is not None:
                indexes[field_name] = load(read_object(objects, key))
        # Vectors an index reconstructs exactly are never decoded (the index is their copy);
        # nullable ones are, for their validity.
        exact = {name for name, index in indexes.items()
                 if index.has_raw_data and not getattr(schema.get(name), "nullable", True)}
        table = read_parquet(objects, info.data_path, skip=exact)
        insert_ts = table.column(TS_COLUMN).to_numpy().astype(np.uint64, copy=False)
        keep = [name for name in table.column_names if schema.get(name) is not None]
        columns = batch.from_arrow(table.select(keep), schema)
        del table
        # Fields added after this file was written have no column: default or null.
        absent = [f for f in missing_fields(schema, columns) if f.name not in exact]
        columns = with_absent_fields(columns, schema, len(insert_ts), absent)
        if spill_dir is not None:
            for name, index in indexes.items():
                col = columns.get(name)
                if col is not None and col.dtype != object and not index.has_raw_data:
                    columns[name] = spill(col, spill_dir)
        seg = cls(info, schema, columns, insert_ts, indexes, scalars)
        if deltas:
            pairs = read_deltas(objects, deltas)
            if pairs is not None:
                seg.apply_delete(pairs[0], pairs[1])
        log.debug("loaded segment %d: %d rows, indexes %s, scalar indexes %s", info.id, seg.num_rows,
                  sorted(indexes), scalars)
        return seg

    def adopt_deletes(self, old: SealedSegment) -> None:
        """Take over the deletes applied to ``old``, an earlier copy of this segment (same
        data file, so same rows in the same order), e.g. before its index was built."""
        if old.num_rows != self._n:
            raise ValueError(f"segment {self.segment_id}: copies differ ({old.num_rows} vs {self._n} rows)")
        self._deletes.merge_from(old._deletes)

    def update_schema(self, schema: CollectionSchema) -> None:
        """Adopt a newer schema of the collection: the fields it adds read as their default
        value, else null, on every row (this segment's file predates them)."""
        if schema.version <= self.schema.version:
            return
        added = [f for f in missing_fields(schema, ()) if self.schema.get(f.name) is None]
        self._cols = with_absent_fields(self._cols, schema, self._n, added)  # swap, then publish
        self.schema = schema

    # ------------------------------------------------------------------ hooks
    @property
    def num_rows(self) -> int:
        return self._n

    @property
    def memory_bytes(self) -> int:
        """Heap bytes (spilled, memory-mapped columns are not counted)."""
        total = self._ts.nbytes + self._deletes.ts.nbytes + self._pk_index.order.nbytes
        for col in self._cols.values():
            if not is_spilled(col):
                total += col.nbytes + (64 * len(col) if col.dtype == object else 0)
        total += sum(sx.memory_bytes for sx in self._scalar)
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

    @property
    def scalar_indexes(self) -> tuple[KeyedIndex, ...]:
        return tuple(self._scalar)

    def _planned(self, flt: FilterLike) -> FilterLike:
        """``flt`` with the leaves this segment's scalar indexes answer (see the module docstring)."""
        if not self._scalar:
            return flt
        from elanus.core.expr import Filter
        from elanus.core.scalar_index.planner import plan

        if not isinstance(flt, Filter):
            return flt
        hit = self._plans.get(id(flt))
        if hit is not None and hit[0] is flt:
            return hit[1]
        planned = plan(flt, self.schema, self._scalar, self._n)
        if len(self._plans) >= 64:
            self._plans.clear()
        self._plans[id(flt)] = (flt, planned)  # holds flt, so its id is not reused meanwhile
        return planned

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
            field = self.schema.get(request.anns_field)
            assert field is not None
            scores, offsets = exact_search(field.dtype, self._cols[request.anns_field], request.queries,
                                           request.k, metric, valid)
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
