"""Sparse float vector search: an inverted index (SPARSE_INVERTED_INDEX, SPARSE_WAND) and
exact search over a raw sparse column (growing and unindexed segments).

Scores are inner products (the only metric of sparse vectors here), larger is better. A
row is a result only when its score is positive, i.e. it shares at least one non-zero
dimension with the query (values are non-negative): an empty query, or one with no
overlap, has no results, as in Milvus. Ties are broken by the smaller offset.

:class:`SparseIndex` keeps, for every dimension present in the segment, its postings:
the (row, value) pairs of the rows holding that dimension, in row order. A search gathers
the postings of the query's dimensions in one vectorised step and accumulates
``value * query_value`` per row with ``np.bincount``; no per-row Python runs. Every
algorithm Milvus names (``inverted_index_algo``) gives these exact scores here.

``drop_ratio_build`` drops, at build time, the entries whose value is among the smallest
``drop_ratio_build`` share of all the segment's values; ``drop_ratio_search`` ignores the
smallest share of each query's values. Both are 0 by default (exact results).

Result layout is the index contract of :mod:`elanus.core.index.protocol`: ``(scores,
offsets)`` of shape (nq, k), missing slots with offset -1 and score -inf.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from elanus.core import sparse
from elanus.core.index import serde
from elanus.core.index.base import IndexBase
from elanus.core.index.brute_force import padding
from elanus.core.index.search_params import SearchParams, metric_mismatch
from elanus.core.index.spec import IndexSpec, MetricType

FloatMatrix = npt.NDArray[np.float32]
OffsetMatrix = npt.NDArray[np.int64]
# Up to this many queries, exact search scores straight from the column (no postings sort).
_DIRECT_MAX_QUERIES = 4


class Postings:
    """Per-dimension (row, value) lists of a CSR matrix: ``dims`` sorted, postings of
    ``dims[j]`` at ``rows[ptr[j]:ptr[j+1]]`` / ``values[...]``."""

    def __init__(self, dims: npt.NDArray[np.uint32], ptr: npt.NDArray[np.int64],
                 rows: npt.NDArray[np.int32], values: npt.NDArray[np.float32], ntotal: int) -> None:
        self.dims, self.ptr, self.rows, self.values, self.ntotal = dims, ptr, rows, values, ntotal

    @classmethod
    def from_csr(cls, csr: sparse.Csr, drop_ratio: float = 0.0) -> Postings:
        rows = csr.row_ids()
        indices, values = csr.indices, csr.values
        if drop_ratio > 0 and len(values):
            keep = _above_smallest(values, drop_ratio)
            rows, indices, values = rows[keep], indices[keep], values[keep]
        order = np.argsort(indices, kind="stable")  # stable: rows stay ascending per dimension
        dims_sorted = indices[order]
        starts = np.flatnonzero(np.diff(dims_sorted)) + 1 if len(dims_sorted) else np.zeros(0, np.int64)
        starts = np.concatenate([[0], starts]) if len(dims_sorted) else starts
        dims = dims_sorted[starts]
        ptr = np.append(starts, len(dims_sorted)).astype(np.int64)
        return cls(dims.astype(np.uint32), ptr, rows[order].astype(np.int32),
                   values[order].astype(np.float32), csr.num_rows)

    @property
    def nbytes(self) -> int:
        return int(self.dims.nbytes + self.ptr.nbytes + self.rows.nbytes + self.values.nbytes)

    def scores(self, q_idx: npt.NDArray[np.uint32], q_val: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Inner product of one query with every row (length ``ntotal``)."""
        out = np.zeros(self.ntotal, dtype=np.float64)
        if not len(q_idx) or not len(self.dims):
            return out
        pos = np.searchsorted(self.dims, q_idx)
        pos_c = np.minimum(pos, len(self.dims) - 1)
        hit = self.dims[pos_c] == q_idx
        if not hit.any():
            return out
        terms, weights = pos_c[hit], q_val[hit].astype(np.float64)
        starts, ends = self.ptr[terms], self.ptr[terms + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return out
        # positions of all gathered postings: each term's [start, end) range, concatenated
        first = np.cumsum(lengths) - lengths
        idx = np.arange(total, dtype=np.int64) + np.repeat(starts - first, lengths)
        contrib = self.values[idx].astype(np.float64) * np.repeat(weights, lengths)
        out += np.bincount(self.rows[idx], weights=contrib, minlength=self.ntotal)
        return out


def _above_smallest(values: npt.NDArray[np.float32], ratio: float) -> npt.NDArray[np.bool_]:
    """Which of (non-empty) ``values`` are not among their smallest ``ratio`` share."""
    return values >= np.partition(values, int(ratio * len(values)))[int(ratio * len(values))]


def drop_query_values(q_idx: npt.NDArray[np.uint32], q_val: npt.NDArray[np.float32],
                      ratio: float) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.float32]]:
    """The query less its smallest ``ratio`` share of values."""
    if ratio <= 0 or len(q_val) < 2:
        return q_idx, q_val
    keep = _above_smallest(q_val, ratio)
    return q_idx[keep], q_val[keep]


class RowScorer:
    """Exact inner products straight from a CSR column, without building postings: each
    stored entry looks its dimension up among the query's (sorted) dimensions. Cheaper
    than :class:`Postings` for a few queries over a column that changes between searches
    (growing segments)."""

    def __init__(self, csr: sparse.Csr) -> None:
        self.csr, self.ntotal = csr, csr.num_rows
        self._rows = csr.row_ids()

    def scores(self, q_idx: npt.NDArray[np.uint32], q_val: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Inner product of one query (indices ascending) with every row."""
        if not len(q_idx) or not len(self.csr.indices):
            return np.zeros(self.ntotal, dtype=np.float64)
        pos = np.minimum(np.searchsorted(q_idx, self.csr.indices), len(q_idx) - 1)
        hit = q_idx[pos] == self.csr.indices
        contrib = self.csr.values[hit].astype(np.float64) * q_val[pos[hit]]
        return np.bincount(self._rows[hit], weights=contrib, minlength=self.ntotal).astype(np.float64, copy=False)


def search_postings(postings: Postings | RowScorer, queries: np.ndarray, k: int, valid: npt.ArrayLike | None,
                    drop_ratio: float = 0.0) -> tuple[FloatMatrix, OffsetMatrix]:
    """Top-``k`` rows of each query (object array of row bytes) scored by ``postings``."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    qcsr = sparse.to_csr(queries)
    nq = qcsr.num_rows
    scores, offsets = padding(nq, k, MetricType.IP)
    mask = None if valid is None else np.asarray(valid, dtype=np.bool_)
    if mask is not None and len(mask) != postings.ntotal:
        raise ValueError(f"valid has {len(mask)} entries for {postings.ntotal} rows")
    for i in range(nq):
        lo, hi = qcsr.indptr[i], qcsr.indptr[i + 1]
        q_idx, q_val = drop_query_values(qcsr.indices[lo:hi], qcsr.values[lo:hi], drop_ratio)
        row_scores = postings.scores(q_idx, q_val)
        ok = row_scores > 0
        if mask is not None:
            ok &= mask
        cand = np.flatnonzero(ok)
        if not len(cand):
            continue
        cs = row_scores[cand]
        if len(cand) > k:
            part = np.argpartition(-cs, k - 1)[:k]
            cand, cs = cand[part], cs[part]
        order = np.lexsort((cand, -cs))
        m = len(order)
        scores[i, :m] = cs[order].astype(np.float32)
        offsets[i, :m] = cand[order]
    return scores, offsets


def sparse_search(rows: np.ndarray, queries: np.ndarray, k: int, metric: str = "IP",
                  valid: npt.ArrayLike | None = None, drop_ratio: float = 0.0
                  ) -> tuple[FloatMatrix, OffsetMatrix]:
    """Exact top-``k`` over a raw sparse column ``rows`` (no index): scored straight from
    the column for a few queries, through postings built on the fly for many."""
    if MetricType(metric) is not MetricType.IP:
        raise ValueError(f"sparse vectors are searched with IP, not {metric}")
    csr = sparse.to_csr(rows)
    scorer = RowScorer(csr) if len(queries) <= _DIRECT_MAX_QUERIES else Postings.from_csr(csr)
    return search_postings(scorer, queries, k, valid, drop_ratio)


class SparseIndex(IndexBase):
    """An inverted index over one segment's sparse column (see the module docstring)."""

    def __init__(self, spec: IndexSpec, postings: Postings) -> None:
        if not spec.index_type.is_sparse:
            raise ValueError(f"{spec.index_type} is not a sparse index type")
        super().__init__(spec, postings.ntotal)
        self._postings = postings
        self._nlist = 0

    @property
    def memory_bytes(self) -> int:
        return self._postings.nbytes

    @property
    def has_raw_data(self) -> bool:
        return False  # build-time drops may lose entries: rows are read from the segment

    def search(self, queries: npt.ArrayLike, k: int, params: SearchParams | None = None,
               valid: npt.ArrayLike | None = None) -> tuple[FloatMatrix, OffsetMatrix]:
        """Top-``k`` for ``queries``, an object array of row bytes; see the protocol."""
        q = np.asarray(queries, dtype=object)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        p = self._default_params if params is None else params
        if p.metric_type is not self._spec.metric_type:
            raise metric_mismatch(self._spec.metric_type, p.metric_type)
        return search_postings(self._postings, q, k, valid, p.drop_ratio_search)

    def reconstruct(self, offsets: npt.ArrayLike) -> npt.NDArray[np.float32]:
        raise ValueError("a sparse index does not return raw vectors: read them from the segment")

    def serialize(self) -> bytes:
        pst = self._postings
        return serde.encode_arrays(self._spec, pst.ntotal, {
            "dims": pst.dims, "ptr": pst.ptr, "rows": pst.rows, "values": pst.values})


def build_sparse(spec: IndexSpec, rows: np.ndarray) -> SparseIndex:
    """Build a sparse index of kind ``spec`` over the column ``rows`` (object array of row bytes)."""
    drop = spec.drop_ratio_build or 0.0
    return SparseIndex(spec, Postings.from_csr(sparse.to_csr(rows), drop))


def load_sparse(data: bytes | bytearray | memoryview) -> SparseIndex:
    """Restore a :meth:`SparseIndex.serialize` blob."""
    spec, ntotal, arrays = serde.decode_arrays(data)
    return SparseIndex(spec, Postings(arrays["dims"], arrays["ptr"], arrays["rows"], arrays["values"], ntotal))
