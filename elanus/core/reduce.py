"""Reducing partial results: the k-way top-k merge of search hits and the merge of query rows.

Used by delegators (segments and worker nodes of one shard) and by the proxy (shards).

:func:`merge_hits` follows Milvus's reduce (``ReduceSearchResultData``): per query, walk
the parts best score first, skip a primary key already taken (the same pk can live in
two segments of a shard: a duplicate insert, or a row seen both growing and sealed),
drop the first ``offset`` hits and keep ``k``. Vectorised instead of a cursor loop:
concatenate the parts along k, sort each query's row by score, push duplicates behind.

:func:`merge_query_results` concatenates rows and, with a limit, keeps the
smallest-pk ``offset + limit`` rows (Milvus orders limited query results by pk).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from elanus.cluster.types import Columns, QueryResult, SearchHits
from elanus.core.segment.hits import larger_is_better, worst_score


def merge_hits(parts: Sequence[SearchHits], k: int, offset: int = 0) -> SearchHits:
    """The best ``k`` hits per query after skipping ``offset``, from ``parts`` (same nq,
    metric and field columns; widths may differ). Invalid slots sort last."""
    if not parts:
        raise ValueError("merge_hits needs at least one part")
    first = parts[0]
    if len(parts) == 1 and offset == 0 and first.scores.shape[1] == k:
        return first  # fast path: nothing to merge (nq=1 single-segment searches)
    metric = first.metric
    nq = first.scores.shape[0]
    live = [p for p in parts if p.scores.shape[1] and p.valid.any()]
    if not live:
        live = [p for p in parts if p.scores.shape[1]][:1]
    if not live:
        return _all_invalid(nq, k, metric, first)
    widths = np.array([p.scores.shape[1] for p in live], dtype=np.int64)
    scores = np.concatenate([p.scores for p in live], axis=1) if len(live) > 1 else live[0].scores
    valid = np.concatenate([p.valid for p in live], axis=1) if len(live) > 1 else live[0].valid.copy()
    pks = np.concatenate([p.pks for p in live], axis=1) if len(live) > 1 else live[0].pks
    key = (-scores if larger_is_better(metric) else scores).astype(np.float64)
    key[~valid] = np.inf
    order = _push_duplicates_back(np.argsort(key, axis=1, kind="stable"), pks, valid)
    m = scores.shape[1]
    width = max(0, min(k, m - offset))
    sel = order[:, offset:offset + width]

    out_scores = np.full((nq, k), worst_score(metric), dtype=np.float32)
    out_valid = np.zeros((nq, k), dtype=np.bool_)
    out_pks = _blank_pks(nq, k, pks.dtype)
    sel_valid = np.take_along_axis(valid, sel, axis=1)
    out_valid[:, :width] = sel_valid
    out_scores[:, :width] = np.take_along_axis(scores, sel, axis=1)
    out_pks[:, :width] = np.take_along_axis(pks, sel, axis=1)
    out_scores[~out_valid] = worst_score(metric)

    # Row of hit (i, c) in the concatenated field columns: part base + i * width + j.
    col_base = np.repeat(np.cumsum(widths * nq) - widths * nq, widths)
    col_j = np.arange(m, dtype=np.int64) - np.repeat(np.cumsum(widths) - widths, widths)
    col_k = np.repeat(widths, widths)
    rows = np.zeros((nq, k), dtype=np.int64)
    if width:
        i = np.arange(nq, dtype=np.int64)[:, None]
        rows[:, :width] = col_base[sel] + col_j[sel] + i * col_k[sel]
    flat = rows.reshape(-1)
    fields: Columns = {}
    for name in first.fields:
        cat = np.concatenate([p.fields[name] for p in live]) if len(live) > 1 else live[0].fields[name]
        fields[name] = cat[flat]
    return SearchHits(scores=out_scores, pks=out_pks, valid=out_valid, fields=fields, metric=metric)


def _push_duplicates_back(order: np.ndarray, pks: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``order`` (best first) with every valid repeat of an earlier valid pk moved to the
    end of its row and marked invalid in ``valid`` (in place)."""
    nq, m = order.shape
    s_pks = np.take_along_axis(pks, order, axis=1)
    s_valid = np.take_along_axis(valid, order, axis=1)
    by_pk = np.argsort(s_pks, axis=1, kind="stable")  # equal pks: better (earlier) first
    p = np.take_along_axis(s_pks, by_pk, axis=1)
    v = np.take_along_axis(s_valid, by_pk, axis=1)
    dup_sorted = np.zeros((nq, m), dtype=np.bool_)
    dup_sorted[:, 1:] = (p[:, 1:] == p[:, :-1]) & v[:, 1:] & v[:, :-1]
    if not dup_sorted.any():
        return order
    dup = np.zeros((nq, m), dtype=np.bool_)
    np.put_along_axis(dup, by_pk, dup_sorted, axis=1)
    # Invalidate the duplicates at their original positions, then move them behind.
    rows = np.nonzero(dup)
    valid[rows[0], order[rows]] = False
    return np.take_along_axis(order, np.argsort(dup, axis=1, kind="stable"), axis=1)


def _blank_pks(nq: int, k: int, dtype: np.dtype) -> np.ndarray:
    if dtype.kind == "O":
        return np.full((nq, k), "", dtype=object)
    return np.zeros((nq, k), dtype=dtype)


def _all_invalid(nq: int, k: int, metric: str, like: SearchHits) -> SearchHits:
    pks = _blank_pks(nq, k, like.pks.dtype)
    fields = {name: np.resize(col, (nq * k, *col.shape[1:])) for name, col in like.fields.items()}
    return SearchHits(scores=np.full((nq, k), worst_score(metric), dtype=np.float32), pks=pks,
                      valid=np.zeros((nq, k), dtype=np.bool_), fields=fields, metric=metric)


def merge_query_results(parts: Sequence[QueryResult], pk_name: str, limit: int = -1,
                        offset: int = 0, count_only: bool = False) -> QueryResult:
    """Rows of all ``parts`` (same columns), duplicates of a pk dropped (first kept).

    With ``limit >= 0``: sorted by pk, rows ``[offset, offset + limit)``. Without: every
    row (``offset`` still skipped). ``count_only`` sums the parts' counts.
    """
    if count_only:
        return QueryResult(columns={}, count=sum(p.count for p in parts))
    live = [p for p in parts if p.count]
    if not live:
        return parts[0] if parts else QueryResult(columns={}, count=0)
    cols = live[0].columns
    if len(live) > 1:
        cols = {name: np.concatenate([p.columns[name] for p in live]) for name in cols}
    pks = cols[pk_name]
    if limit >= 0 or len(live) > 1:
        _, first = np.unique(pks, return_index=True)  # sorted by pk, first occurrence of each
        if limit < 0:
            first.sort()  # no limit: keep arrival order
        if len(first) != len(pks) or limit >= 0:
            cols = {name: col[first] for name, col in cols.items()}
    if offset or limit >= 0:
        end = None if limit < 0 else offset + limit
        cols = {name: col[offset:end] for name, col in cols.items()}
    n = len(cols[pk_name])
    return QueryResult(columns=cols, count=n)
