"""Exact search for every vector type: binary metrics over packed bits, and the dispatch
segments use when a field has no index (growing segments, unindexed sealed ones).

Binary scores are Milvus's (knowhere's ``binary_distances``), all "smaller is better":

- HAMMING: the number of differing bits;
- JACCARD: ``1 - |q & x| / |q | x|`` in float32, and 1.0 when both are all zeros;
- SUBSTRUCTURE / SUPERSTRUCTURE are filters, not rankings: a row matches when the query's
  bits are all set in it (``q & x == q``), resp. when its bits are all set in the query
  (``q & x == x``); the first ``k`` matches in row order are returned with score 0.

Result layout is the one of :func:`~elanus.core.index.brute_force.brute_force_search`:
``(scores, offsets)`` of shape (nq, k), best first, ties by smaller offset, missing
results padded with offset -1 and score +inf.

Bits are compared 64 at a time: rows are padded with zero bytes to whole uint64 words
(zero padding changes no count) and ``np.bitwise_count`` does the popcount. Work is cut
into blocks so the (queries, rows, words) temporaries stay near ``_BLOCK`` words.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from elanus.core import vectors
from elanus.core.index.brute_force import (
    brute_force_search,
    kept_rows,
    original_offsets,
    padding,
    select_topk,
)
from elanus.core.index.sparse_index import sparse_search
from elanus.core.index.spec import MetricType
from elanus.core.schema import DataType

FloatMatrix = npt.NDArray[np.float32]
OffsetMatrix = npt.NDArray[np.int64]
_BLOCK = 1 << 21  # uint64 words per temporary (16 MiB)


def exact_search(vector_type: DataType, values: npt.ArrayLike, queries: npt.ArrayLike, k: int, metric: str,
                 valid: npt.ArrayLike | None = None) -> tuple[FloatMatrix, OffsetMatrix]:
    """Exact top-``k`` over a vector column of ``vector_type`` (its column form, see
    :mod:`elanus.core.vectors`); ``queries`` are float32 (packed uint8 for binary, an
    object array of row bytes for sparse, see :mod:`elanus.core.sparse`)."""
    if vector_type is DataType.BINARY_VECTOR:
        return binary_search(values, queries, k, metric, valid)
    if vector_type is DataType.SPARSE_FLOAT_VECTOR:
        return sparse_search(np.asarray(values), np.asarray(queries), k, metric, valid)
    if vector_type is not DataType.FLOAT_VECTOR:
        values = vectors.to_float32(vector_type, values)
    return brute_force_search(values, queries, k, metric, valid)


def binary_search(codes: npt.ArrayLike, queries: npt.ArrayLike, k: int, metric: str,
                  valid: npt.ArrayLike | None = None) -> tuple[FloatMatrix, OffsetMatrix]:
    """Exact top-``k`` of packed binary ``queries`` (nq, bytes) among ``codes`` (N, bytes).

    ``valid`` (bool, length N) keeps only the rows marked True. Raises ValueError on
    shape errors, ``k < 1`` or a non-binary metric.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    m = MetricType(metric)
    if not m.is_binary:
        raise ValueError(f"{m} is not a binary metric")
    base = np.ascontiguousarray(codes, dtype=np.uint8)
    q = np.ascontiguousarray(queries, dtype=np.uint8)
    if base.ndim != 2 or q.ndim != 2 or base.shape[1] != q.shape[1]:
        raise ValueError(f"need codes (N, bytes) and queries (nq, bytes), got {base.shape} and {q.shape}")
    base, rows = kept_rows(base, valid)
    scores, offsets = padding(q.shape[0], k, m)
    if base.shape[0] and q.shape[0]:
        bw, qw = _words(base), _words(q)
        if m in (MetricType.SUBSTRUCTURE, MetricType.SUPERSTRUCTURE):
            _structure(bw, qw, k, m, scores, offsets)
        else:
            _ranked(bw, qw, k, m, scores, offsets)
    return scores, original_offsets(offsets, rows)


def _words(m: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    n, nbytes = m.shape
    if nbytes % 8 == 0:
        words: npt.NDArray[np.uint64] = m.view(np.uint64)
        return words
    padded = np.zeros((n, -(-nbytes // 8) * 8), dtype=np.uint8)
    padded[:, :nbytes] = m
    out: npt.NDArray[np.uint64] = padded.view(np.uint64)
    return out


def _row_chunk(nq: int, w: int) -> int:
    return max(1, _BLOCK // max(1, nq * w))


def _ranked(bw: npt.NDArray[np.uint64], qw: npt.NDArray[np.uint64], k: int, metric: MetricType,
            scores: FloatMatrix, offsets: OffsetMatrix) -> None:
    n, w = bw.shape
    qblock = max(1, min(qw.shape[0], _BLOCK // max(1, n)))
    for start in range(0, qw.shape[0], qblock):
        qb = qw[start:start + qblock, None, :]
        dist = np.empty((qb.shape[0], n), dtype=np.float32)
        step = _row_chunk(qb.shape[0], w)
        for lo in range(0, n, step):
            xb = bw[None, lo:lo + step, :]
            if metric is MetricType.HAMMING:
                dist[:, lo:lo + step] = np.bitwise_count(qb ^ xb).sum(axis=2, dtype=np.int32)
            else:
                inter = np.bitwise_count(qb & xb).sum(axis=2, dtype=np.int32)
                union = np.bitwise_count(qb | xb).sum(axis=2, dtype=np.int32)
                den = union.astype(np.float32)
                jac = np.ones_like(den)
                np.divide((union - inter).astype(np.float32), den, out=jac, where=union > 0)
                dist[:, lo:lo + step] = jac
        top_s, top_i = select_topk(dist, k, False)
        kk = top_i.shape[1]
        scores[start:start + qblock, :kk] = top_s
        offsets[start:start + qblock, :kk] = top_i


def _structure(bw: npt.NDArray[np.uint64], qw: npt.NDArray[np.uint64], k: int, metric: MetricType,
               scores: FloatMatrix, offsets: OffsetMatrix) -> None:
    n, w = bw.shape
    sub = metric is MetricType.SUBSTRUCTURE
    for i in range(qw.shape[0]):
        q = qw[i][None, :]
        found: list[npt.NDArray[np.int64]] = []
        count = 0
        step = _row_chunk(1, w)
        for lo in range(0, n, step):
            xb = bw[lo:lo + step]
            both = q & xb
            match = (both == q).all(axis=1) if sub else (both == xb).all(axis=1)
            hits = np.flatnonzero(match)[:k - count] + lo
            found.append(hits)
            count += len(hits)
            if count == k:
                break
        hits = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
        offsets[i, :len(hits)] = hits
        scores[i, :len(hits)] = 0.0
