"""What growing and sealed segments share: MVCC visibility, deletes, search and query.

A segment is a set of rows, each with an insert timestamp (``$ts``) and a delete
timestamp. A read at MVCC timestamp ``t`` sees row ``r`` iff
``insert_ts[r] <= t < delete_ts[r]``. Subclasses say how rows are stored; this class
turns that into reads:

- :meth:`visible_mask` returns None when every row counted at ``t`` is visible, so
  an unfiltered search with no deletes hands the index no mask at all and allocates
  nothing proportional to the segment;
- :meth:`search` combines that mask with the filter (evaluated on only the columns
  the filter reads) and, for a nullable vector field, with its validity (null vectors
  are stored as zeros and never returned) into the ``valid`` rows given to the index,
  and materialises output fields for the top-k rows only;
- :meth:`query` returns matching rows (pk point lookups through the pk index when the
  filter pins the primary key; a count-only path that never gathers columns).

Rows counted at ``t`` (``rows_at(t)``) are a prefix of the segment; every mask and
column view used by one read has exactly that length, so rows appended by a writer
during a read are never seen by it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from elanus.cluster.types import QueryRequest, QueryResult, SearchHits, SearchRequest
from elanus.core.schema import CollectionSchema
from elanus.core.segment.deletes import DeleteState, as_pk_array
from elanus.core.segment.filtering import FilterLike, compiled_filter, pk_values_of
from elanus.core.segment.hits import empty_fields, empty_hits, make_hits, output_columns

DEFAULT_METRIC = "COSINE"  # Milvus's default for float vectors without an index


class SegmentBase(ABC):
    """Common read/delete logic; see the module docstring for the visibility contract."""

    def __init__(self, segment_id: int, collection_id: int, partition_id: int,
                 schema: CollectionSchema) -> None:
        self.segment_id = segment_id
        self.collection_id = collection_id
        self.partition_id = partition_id
        self.schema = schema
        self.pk_name = schema.primary.name
        self._deletes = DeleteState(0)

    # ------------------------------------------------------------------ storage hooks
    @property
    @abstractmethod
    def num_rows(self) -> int: ...

    @property
    @abstractmethod
    def memory_bytes(self) -> int: ...

    @abstractmethod
    def rows_at(self, t: int) -> int:
        """How many leading rows a read at ``t`` considers (rows beyond are never visible)."""

    @abstractmethod
    def column(self, name: str) -> np.ndarray | None:
        """The stored column (may be longer than ``num_rows``: slice it), or None if absent."""

    @abstractmethod
    def insert_ts(self) -> np.ndarray:
        """Insert timestamps (uint64), at least ``num_rows`` long."""

    @abstractmethod
    def _insert_mask(self, t: int, n: int) -> np.ndarray | None:
        """Rows of ``[0, n)`` inserted at or before ``t``; None when all are."""

    @abstractmethod
    def _vector_search(self, request: SearchRequest, valid: np.ndarray | None,
                       n: int) -> tuple[np.ndarray, np.ndarray, str]:
        """(scores, offsets, metric) of the top-k among rows ``[0, n)`` allowed by ``valid``."""

    @abstractmethod
    def _match_deletes(self, pks: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Aligned (row, index into pks) pairs with equal primary keys, rows below ``n``."""

    @abstractmethod
    def _pk_rows(self, values: np.ndarray, n: int) -> np.ndarray:
        """Rows below ``n`` whose pk is in ``values``, ascending by pk."""

    @abstractmethod
    def _pk_order(self, n: int) -> np.ndarray:
        """Rows ``[0, n)`` ordered by pk."""

    @abstractmethod
    def _pk_bounds(self) -> tuple[Any, Any]:
        """(min pk, max pk) of the rows, or (None, None) when empty."""

    def take(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Values of column ``name`` at ``rows``."""
        col = self.column(name)
        assert col is not None, f"segment {self.segment_id} has no column {name}"
        return col[rows]

    # ------------------------------------------------------------------ deletes
    def apply_delete(self, pks: np.ndarray, ts: int | np.ndarray) -> int:
        """Delete rows with a pk in ``pks`` inserted before the matching ``ts``
        (scalar or per pk). Idempotent. Returns how many (row, delete) pairs applied."""
        pk_col = self.column(self.pk_name)
        if pk_col is None or not len(pks):
            return 0
        pks = as_pk_array(pks, pk_col)
        ts_arr = np.broadcast_to(np.asarray(ts, dtype=np.uint64), pks.shape)
        lo, hi = self._pk_bounds()
        if lo is None:
            return 0
        inside = (pks >= lo) & (pks <= hi)  # min/max pruning: most deletes miss most segments
        if not inside.all():
            pks, ts_arr = pks[inside], ts_arr[inside]
            if not len(pks):
                return 0
        rows, j = self._match_deletes(pks, self.num_rows)
        return self._deletes.apply(rows, ts_arr[j], self.insert_ts())

    @property
    def num_deleted(self) -> int:
        return self._deletes.deleted_rows(self.num_rows)

    # ------------------------------------------------------------------ visibility
    def visible_mask(self, mvcc_ts: int) -> np.ndarray | None:
        """Rows of ``[0, rows_at(mvcc_ts))`` visible at ``mvcc_ts``; None when all are."""
        n = self.rows_at(mvcc_ts)
        ins = self._insert_mask(mvcc_ts, n)
        dele = self._deletes.mask(mvcc_ts, n)
        if ins is None:
            return dele
        return ins if dele is None else ins & dele

    # ------------------------------------------------------------------ search
    def search(self, request: SearchRequest, mask: np.ndarray | None) -> SearchHits:
        """Top-``request.k`` of each query among rows visible under ``mask`` (from
        :meth:`visible_mask` at ``request.mvcc_ts``) that pass ``request.filter``."""
        n = self.rows_at(request.mvcc_ts)
        columns = output_columns(self.schema, request.output_fields)
        nq = len(request.queries)
        metric = request.metric or DEFAULT_METRIC
        if n == 0:
            return empty_hits(self.schema, nq, request.k, metric, columns)
        valid = None if mask is None else mask[:n]
        flt = compiled_filter(self.schema, request.filter, request.filter_params)
        if flt is not None:
            valid = self._filter_mask(flt, n, valid)
        anns = self.schema.get(request.anns_field)
        if anns is not None and anns.nullable:
            valid = self._non_null(request.anns_field, n, valid)
        if valid is not None and not valid.any():
            return empty_hits(self.schema, nq, request.k, metric, columns)
        scores, offsets, metric = self._vector_search(request, valid, n)
        pk_col = self.column(self.pk_name)
        assert pk_col is not None
        return make_hits(scores, offsets, pk_col, metric, columns, self.take)

    def _non_null(self, name: str, n: int, base: np.ndarray | None) -> np.ndarray | None:
        """``base`` less the rows where vector field ``name`` is null: a null vector is
        stored as zeros but is never a search result."""
        flags = self.column(name + "$valid")
        if flags is None:
            return base
        present = flags[:n]
        if present.all():
            return base
        return present if base is None else base & present

    def _filter_columns(self, flt: FilterLike, n: int, rows: np.ndarray | None) -> dict[str, np.ndarray]:
        cols: dict[str, np.ndarray] = {}
        for name in flt.fields:
            for key in (name, name + "$valid"):
                col = self.column(key)
                if col is not None:
                    cols[key] = col[:n] if rows is None else col[rows]
        return cols

    def _eval_rows(self, flt: FilterLike, rows: np.ndarray) -> np.ndarray:
        """The filter evaluated on just ``rows`` (bool, aligned with ``rows``)."""
        if not len(rows):
            return np.zeros(0, dtype=np.bool_)
        return np.asarray(flt.evaluate(self._filter_columns(flt, 0, rows), len(rows)), dtype=np.bool_)

    def _filter_mask(self, flt: FilterLike, n: int, base: np.ndarray | None) -> np.ndarray:
        values = pk_values_of(flt)
        if values is not None:
            cand = self._candidates(values, n)
            mask = np.zeros(n, dtype=np.bool_)
            mask[cand[self._eval_rows(flt, cand)]] = True
        else:
            flt = self._planned(flt)
            mask = np.asarray(flt.evaluate(self._filter_columns(flt, n, None), n), dtype=np.bool_)
        return mask if base is None else mask & base

    def _planned(self, flt: FilterLike) -> FilterLike:
        """The form of ``flt`` to evaluate over all rows ``[0, n)``: a segment with scalar
        indexes answers some leaves from them (identical results); here, ``flt`` itself."""
        return flt

    def _candidates(self, values: Any, n: int) -> np.ndarray:
        pk_col = self.column(self.pk_name)
        assert pk_col is not None
        return self._pk_rows(as_pk_array(values, pk_col), n)

    # ------------------------------------------------------------------ query
    def query(self, request: QueryRequest) -> QueryResult:
        """Rows matching ``request.filter`` visible at ``request.mvcc_ts``.

        With ``limit >= 0`` returns the ``offset + limit`` smallest-pk matches, sorted by
        pk (the caller cuts ``offset`` after merging segments and shards); without a limit,
        every match in row order. Columns: the pk, then the output fields. ``count_only``
        returns just the count.
        """
        t = request.mvcc_ts
        n = self.rows_at(t)
        names = [self.pk_name, *(c for c in output_columns(self.schema, request.output_fields)
                                 if c != self.pk_name)]
        if n == 0:
            return QueryResult(columns={} if request.count_only else empty_fields(self.schema, names, 0),
                               count=0)
        need = request.offset + request.limit if request.limit >= 0 else None
        vis = self.visible_mask(t)
        flt = compiled_filter(self.schema, request.filter, request.filter_params)
        values = None if flt is None else pk_values_of(flt)
        if flt is not None and values is not None:
            # Point lookup: touch only the candidate rows, never an n-long mask.
            rows = self._candidates(values, n)
            ok = self._eval_rows(flt, rows)
            if vis is not None:
                ok &= vis[rows]
            rows = rows[ok]
            if request.count_only:
                return QueryResult(columns={}, count=len(rows))
        else:
            mask = vis if flt is None else self._filter_mask(flt, n, vis)
            if request.count_only:
                return QueryResult(columns={}, count=n if mask is None else int(np.count_nonzero(mask)))
            if need is not None:
                order = self._pk_order(n)
                rows = order if mask is None else order[mask[order]]
            else:
                rows = np.arange(n) if mask is None else np.flatnonzero(mask)
        if need is not None:
            rows = rows[:need]
        return QueryResult(columns={c: self.take(c, rows) for c in names}, count=len(rows))
