"""Growing segment: the in-memory, append-only rows a delegator builds from the WAL.

Storage: one buffer per column with doubling capacity — numpy for fixed-width
columns (vectors ``(cap, width)`` in their column dtype, see :mod:`elanus.core.vectors`;
numbers, bools, ``$ts`` uint64, the
per-row delete timestamps) and object arrays for strings, JSON and arrays.

Single writer, many lock-free readers. The writer (the delegator's consumer
thread) fills rows past ``num_rows`` — in a larger copy of a buffer when it
must grow, swapped in whole — and publishes the new ``num_rows`` last. A reader
reads ``num_rows`` first and buffers after, so every row it counts is present in
whichever buffer it sees; an append never invalidates a reader's view.

Rows arrive in WAL order, whose timestamps never decrease, so the rows visible
at ``t`` are a prefix found by binary search on ``$ts``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from elanus.cluster.types import Columns, SearchRequest
from elanus.core import batch, vectors
from elanus.core.index.brute_force import brute_force_search
from elanus.core.index.exact import exact_search
from elanus.core.schema import CollectionSchema, DataType, FieldSchema
from elanus.core.segment.base import DEFAULT_METRIC, SegmentBase
from elanus.core.segment.deletes import MAX_TS, PkIndex, as_pk_array
from elanus.core.segment.evolve import absent_column, default_fill, missing_fields

_INITIAL_CAPACITY = 1024
_FLOAT_VECTOR = DataType.FLOAT_VECTOR


def _alloc(field: FieldSchema, capacity: int) -> np.ndarray:
    if vectors.is_dense(field.dtype):
        return vectors.zeros(field.dtype, field.dim, capacity)
    if field.dtype.is_numeric or field.dtype == DataType.BOOL:
        return np.zeros(capacity, dtype=batch.empty_column(field, 0).dtype)
    batch.check_supported(field)
    return np.empty(capacity, dtype=object)


def _grown(old: np.ndarray, n: int, capacity: int, fill: Any = None) -> np.ndarray:
    new = np.empty((capacity, *old.shape[1:]), dtype=old.dtype)
    new[:n] = old[:n]
    if fill is not None:
        new[n:] = fill
    elif old.dtype != object:
        new[n:] = 0
    return new


class GrowingSegment(SegmentBase):
    """Append-only rows of one (collection, partition, segment id) on one channel."""

    def __init__(self, segment_id: int, collection_id: int, partition_id: int,
                 schema: CollectionSchema, capacity: int = _INITIAL_CAPACITY) -> None:
        super().__init__(segment_id, collection_id, partition_id, schema)
        capacity = max(1, capacity)
        self._fields = {f.name: f for f in schema.fields if f.dtype != DataType.NONE}
        self._cols: dict[str, np.ndarray] = {}
        for f in self._fields.values():
            self._cols[f.name] = _alloc(f, capacity)
            if f.nullable:
                self._cols[batch.valid_key(f.name)] = np.zeros(capacity, dtype=np.bool_)
        self._ts = np.zeros(capacity, dtype=np.uint64)
        self._deletes.ts = np.full(capacity, MAX_TS, dtype=np.uint64)
        self._capacity = capacity
        self._n = 0
        self._pk_min: Any = None
        self._pk_max: Any = None
        self.sealed = False  # a FLUSH named this segment: no more rows will come

    # ------------------------------------------------------------------ writer
    def append(self, columns: Columns, ts: int) -> None:
        """Append rows inserted at ``ts`` (not before the last appended timestamp).
        Missing columns read as the field's default value, else null (see
        :mod:`elanus.core.segment.evolve`). Single writer only."""
        pk = columns[self.pk_name]
        m = len(pk)
        if m == 0:
            return
        n = self._n
        if n and ts < int(self._ts[n - 1]):
            raise ValueError(f"segment {self.segment_id}: insert ts {ts} is below the last one")
        if n + m > self._capacity:
            self._grow(max(2 * self._capacity, n + m))
        for name, buf in self._cols.items():
            values = columns.get(name)
            if values is not None:
                buf[n:n + m] = values
            elif name.endswith(batch.VALID_SUFFIX):
                # A value column without validity is all valid; a missing field (rows
                # written before it was added) is valid only where it has a default.
                base = name[:-len(batch.VALID_SUFFIX)]
                buf[n:n + m] = base in columns or default_fill(self._fields[base]) is not None
            else:
                buf[n:n + m] = absent_column(self._fields[name], m)[0]
        self._ts[n:n + m] = ts
        lo, hi = pk.min(), pk.max()
        self._pk_min = lo if self._pk_min is None else min(self._pk_min, lo)
        self._pk_max = hi if self._pk_max is None else max(self._pk_max, hi)
        self._n = n + m  # publish last: readers never count a row that is not written

    def update_schema(self, schema: CollectionSchema) -> None:
        """Adopt a newer schema of the collection (single writer only): the rows held read
        each field it adds as the field's default value, else null."""
        if schema.version <= self.schema.version:
            return
        n, capacity = self._n, self._capacity
        cols = dict(self._cols)
        for f in missing_fields(schema, self._fields):
            values, valid = absent_column(f, n)
            buf = _alloc(f, capacity)
            buf[:n] = values
            cols[f.name] = buf
            if valid is not None:
                flags = np.zeros(capacity, dtype=np.bool_)
                flags[:n] = valid
                cols[batch.valid_key(f.name)] = flags
        self._fields = {f.name: f for f in schema.fields if f.dtype != DataType.NONE}
        self._cols = cols  # one reference swap: readers see the old or the new set
        self.schema = schema

    def _grow(self, capacity: int) -> None:
        n = self._n
        cols = {name: _grown(buf, n, capacity) for name, buf in self._cols.items()}
        ts = _grown(self._ts, n, capacity)
        dts = _grown(self._deletes.ts, n, capacity, fill=MAX_TS)
        # Each swap is one reference assignment: a reader sees the old or the new buffer,
        # both holding every published row.
        self._cols = cols
        self._ts = ts
        self._deletes.ts = dts
        self._capacity = capacity

    # ------------------------------------------------------------------ hooks
    @property
    def num_rows(self) -> int:
        return self._n

    @property
    def memory_bytes(self) -> int:
        n = self._n
        total = self._ts.nbytes + self._deletes.ts.nbytes
        for buf in self._cols.values():
            total += buf.nbytes
            if buf.dtype == object and n:
                # Rough per-object cost: strings/dicts are far larger than their pointer.
                total += 64 * n
        return total

    def rows_at(self, t: int) -> int:
        n = self._n
        if n == 0:
            return 0
        ts = self._ts
        if int(ts[n - 1]) <= t:
            return n
        return int(np.searchsorted(ts[:n], np.uint64(t), side="right"))

    def column(self, name: str) -> np.ndarray | None:
        if name == "$ts":
            return self._ts
        return self._cols.get(name)

    def insert_ts(self) -> np.ndarray:
        return self._ts

    def _insert_mask(self, t: int, n: int) -> np.ndarray | None:
        return None  # rows_at(t) already stops at the last row inserted at or before t

    def _vector_search(self, request: SearchRequest, valid: np.ndarray | None,
                       n: int) -> tuple[np.ndarray, np.ndarray, str]:
        values = self._cols[request.anns_field][:n]
        metric = request.metric or DEFAULT_METRIC
        vtype = self._fields[request.anns_field].dtype
        if vtype is _FLOAT_VECTOR:
            scores, offsets = brute_force_search(values, request.queries, request.k, metric, valid)
        else:
            scores, offsets = exact_search(vtype, values, request.queries, request.k, metric, valid)
        return scores, offsets, metric

    def _match_deletes(self, pks: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        # No pk index over an append-only buffer: index the (few) deletes instead and
        # probe every row against them.
        pk_col = self._cols[self.pk_name][:n]
        if len(pks) == 1:
            rows = np.flatnonzero(pk_col == pks[0])
            return rows, np.zeros(len(rows), dtype=np.int64)
        del_idx, rows = PkIndex(pks).pairs(as_pk_array(pk_col, pks))
        return rows, del_idx

    def _pk_rows(self, values: np.ndarray, n: int) -> np.ndarray:
        pk_col = self._cols[self.pk_name][:n]
        rows = np.flatnonzero(np.isin(pk_col, values))
        return rows[np.argsort(pk_col[rows], kind="stable")]

    def _pk_order(self, n: int) -> np.ndarray:
        return np.argsort(self._cols[self.pk_name][:n], kind="stable")

    def _pk_bounds(self) -> tuple[Any, Any]:
        return self._pk_min, self._pk_max
