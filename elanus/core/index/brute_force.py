"""Exact top-k search over raw vectors with numpy: growing segments and filtered searches.

Score conventions are Milvus's and identical to the faiss indexes':
L2 is the squared Euclidean distance (ascending), IP the inner product and
COSINE the cosine similarity clipped to ``[-1, 1]`` (both descending). A
zero vector has cosine 0 with everything. Result rows are ordered best
first, ties broken by the smaller offset; missing results are padded with
offset ``-1`` and the worst score (``+inf`` for L2, ``-inf`` otherwise).

Memory: scores come from one matrix product per block of queries (BLAS for
batches, see :func:`_dot`); the block is sized so the ``(queries, rows)`` score matrix stays near
``_SCORE_BLOCK`` floats. Nothing of shape ``(nq, N, dim)`` is ever formed.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

from elanus.core.index.spec import MetricType

FloatMatrix = npt.NDArray[np.float32]
OffsetMatrix = npt.NDArray[np.int64]
BoolVector = npt.NDArray[np.bool_]
_Row = TypeVar("_Row", bound=np.generic)

# ~16 MiB of float32 scores per block: large enough for BLAS efficiency,
# small enough that a 10k-query batch against 1M rows does not need 40 GB.
_SCORE_BLOCK = 1 << 22
_BLAS_MIN_NQ = 8
_FLOAT_METRICS = (MetricType.L2, MetricType.IP, MetricType.COSINE)


def brute_force_search(vectors: npt.ArrayLike, queries: npt.ArrayLike, k: int, metric: str,
                       valid: npt.ArrayLike | None = None) -> tuple[FloatMatrix, OffsetMatrix]:
    """Exact top-``k`` of ``queries`` (nq, dim) among the rows of ``vectors`` (N, dim).

    ``valid`` (bool, length N) keeps only the rows marked True; only those rows
    are read (they are gathered, then scored). Returns ``(scores, offsets)``,
    both (nq, k): offsets are row positions in ``vectors``.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    metric = MetricType(metric)
    if metric not in _FLOAT_METRICS:
        raise ValueError(f"{metric} is a binary metric: use binary_search")
    base = np.ascontiguousarray(vectors, dtype=np.float32)
    q = np.ascontiguousarray(queries, dtype=np.float32)
    if base.ndim != 2 or q.ndim != 2 or base.shape[1] != q.shape[1]:
        raise ValueError(f"need vectors (N, dim) and queries (nq, dim), got {base.shape} and {q.shape}")
    base, rows = kept_rows(base, valid)
    scores, offsets = _search_all(base, q, k, metric)
    return scores, original_offsets(offsets, rows)


def kept_rows(base: npt.NDArray[_Row],
              valid: npt.ArrayLike | None) -> tuple[npt.NDArray[_Row], npt.NDArray[np.int64] | None]:
    """The rows of ``base`` (N, ...) that the bool mask ``valid`` (length N) keeps, and their
    positions in ``base``; ``(base, None)`` when there is no mask or it keeps every row.

    Only the kept rows are copied. Raises ValueError when ``valid`` has the wrong shape.
    """
    if valid is None:
        return base, None
    mask = np.asarray(valid, dtype=np.bool_)
    if mask.shape != (base.shape[0],):
        raise ValueError(f"valid must have shape ({base.shape[0]},), got {mask.shape}")
    if mask.all():
        return base, None
    rows = np.flatnonzero(mask)
    return np.take(base, rows, axis=0), rows  # ~3x faster than base[rows]


def original_offsets(offsets: OffsetMatrix, rows: npt.NDArray[np.int64] | None) -> OffsetMatrix:
    """``offsets`` into the rows :func:`kept_rows` kept, as offsets into the whole matrix
    (``rows`` its positions; -1 stays -1, and ``rows=None`` means nothing was dropped)."""
    if rows is None or not rows.size:
        return offsets
    return np.where(offsets >= 0, rows[np.maximum(offsets, 0)], -1)


def normalize_rows(x: FloatMatrix) -> FloatMatrix:
    """A float32 copy of ``x`` with unit-length rows; zero rows stay zero."""
    out = np.array(x, dtype=np.float32, copy=True)
    norms = np.sqrt(np.einsum("ij,ij->i", out, out))
    np.divide(out, norms[:, None], out=out, where=norms[:, None] > 0)
    return out


def padding(nq: int, k: int, metric: MetricType) -> tuple[FloatMatrix, OffsetMatrix]:
    """An all-missing result: offsets -1, worst scores."""
    worst = -np.inf if metric.larger_is_better else np.inf
    return np.full((nq, k), worst, dtype=np.float32), np.full((nq, k), -1, dtype=np.int64)


def _search_all(base: FloatMatrix, q: FloatMatrix, k: int,
                metric: MetricType) -> tuple[FloatMatrix, OffsetMatrix]:
    nq, n = q.shape[0], base.shape[0]
    scores, offsets = padding(nq, k, metric)
    if n == 0 or nq == 0:
        return scores, offsets
    if metric is MetricType.COSINE:
        q = normalize_rows(q)
        norms = np.sqrt(np.einsum("ij,ij->i", base, base))
        # Scale per row instead of normalizing a copy of `base`.
        inv_norms = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    elif metric is MetricType.L2:
        sq_norms = np.einsum("ij,ij->i", base, base)
    block = max(1, _SCORE_BLOCK // n)
    for start in range(0, nq, block):
        qb = q[start:start + block]
        s = _dot(qb, base)
        if metric is MetricType.L2:
            # |q - x|^2 = |q|^2 - 2 q.x + |x|^2, clamped: rounding can make it slightly negative.
            s *= -2.0
            s += sq_norms[None, :]
            s += np.einsum("ij,ij->i", qb, qb)[:, None]
            np.maximum(s, 0.0, out=s)
        elif metric is MetricType.COSINE:
            s *= inv_norms[None, :]
            np.clip(s, -1.0, 1.0, out=s)
        top_s, top_i = select_topk(s, k, metric.larger_is_better)
        kk = top_i.shape[1]
        scores[start:start + block, :kk] = top_s
        offsets[start:start + block, :kk] = top_i
    return scores, offsets


def _dot(qb: FloatMatrix, base: FloatMatrix) -> FloatMatrix:
    """``qb @ base.T``. Few queries go through einsum's own loop rather than BLAS:
    OpenBLAS multithreads a matrix-vector product above a size threshold, and
    on a busy 2-core box that made one 50k x 128 query take 13-16 ms instead
    of ~1.3 ms. Batches use BLAS (GEMM), where threads pay off."""
    if qb.shape[0] < _BLAS_MIN_NQ:
        out: FloatMatrix = np.einsum("ij,kj->ik", qb, base)
        return out
    return qb @ base.T


def select_topk(scores: FloatMatrix, k: int,
                larger_is_better: bool) -> tuple[FloatMatrix, OffsetMatrix]:
    """Per row, the best ``min(k, columns)`` scores and their column indexes, best
    first, ties by smaller column index."""
    m = scores.shape[1]
    kk = min(k, m)
    key = -scores if larger_is_better else scores
    part = (np.argpartition(key, kk - 1, axis=1)[:, :kk] if kk < m
            else np.broadcast_to(np.arange(m), key.shape))
    part_keys = np.take_along_axis(key, part, axis=1)
    order = np.lexsort((part, part_keys), axis=1)
    idx = np.take_along_axis(part, order, axis=1).astype(np.int64, copy=False)
    return np.take_along_axis(scores, idx, axis=1), idx
