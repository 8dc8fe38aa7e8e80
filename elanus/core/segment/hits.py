"""Building :class:`~elanus.cluster.types.SearchHits` from an index's (scores, offsets).

Conventions shared with the reduce (``elanus.core.reduce``):
scores are Milvus's (L2/HAMMING/JACCARD: smaller is better; IP/COSINE/BM25:
larger is better); an invalid slot has ``valid == False``, the metric's worst
score, and arbitrary values in ``pks`` and ``fields``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from elanus.cluster.types import Columns, SearchHits
from elanus.core import batch
from elanus.core.schema import CollectionSchema

_SMALLER_IS_BETTER = frozenset({"L2", "HAMMING", "JACCARD", "SUBSTRUCTURE", "SUPERSTRUCTURE"})


def larger_is_better(metric: str) -> bool:
    """True for similarity metrics (IP, COSINE, BM25), False for distances (L2, HAMMING, ...)."""
    return metric.upper() not in _SMALLER_IS_BETTER


def worst_score(metric: str) -> float:
    return -np.inf if larger_is_better(metric) else np.inf


def output_columns(schema: CollectionSchema, names: Sequence[str]) -> list[str]:
    """Column names that carry the given output fields: each known field, then its
    ``$valid`` column when nullable. Unknown names are skipped (the proxy validated them)."""
    out: list[str] = []
    for name in names:
        field = schema.get(name)
        if field is None or name in out:
            continue
        out.append(name)
        if field.nullable:
            out.append(batch.valid_key(name))
    return out


def empty_fields(schema: CollectionSchema, columns: Sequence[str], n: int) -> Columns:
    """``n`` null rows for each of ``columns`` (field columns and ``$valid`` columns)."""
    out: Columns = {}
    for name in columns:
        if name.endswith(batch.VALID_SUFFIX):
            out[name] = np.zeros(n, dtype=np.bool_)
        else:
            field = schema.get(name)
            assert field is not None
            out[name] = batch.empty_column(field, n)
    return out


def empty_hits(schema: CollectionSchema, nq: int, k: int, metric: str,
               columns: Sequence[str]) -> SearchHits:
    """A result with no valid hit (all slots invalid)."""
    pk_field = schema.primary
    pk_dtype = np.int64 if pk_field.dtype.is_integer else object
    pks = np.zeros((nq, k), dtype=pk_dtype) if pk_dtype is np.int64 else np.full((nq, k), "", dtype=object)
    return SearchHits(
        scores=np.full((nq, k), worst_score(metric), dtype=np.float32),
        pks=pks,
        valid=np.zeros((nq, k), dtype=np.bool_),
        fields=empty_fields(schema, columns, nq * k),
        metric=metric,
    )


def make_hits(scores: np.ndarray, offsets: np.ndarray, pk_column: np.ndarray, metric: str,
              columns: Sequence[str], take: Callable[[str, np.ndarray], np.ndarray]) -> SearchHits:
    """Hits for index output ``(scores, offsets)`` (offset ``-1`` = no hit).

    ``take(column, rows)`` returns a column's values at segment rows; it is called once
    per output column with the flattened ``(nq * k)`` rows, so only the top-k rows are
    ever materialised.
    """
    valid = offsets >= 0
    all_valid = bool(valid.all())
    rows = offsets if all_valid else np.where(valid, offsets, 0)
    pks = pk_column[rows]
    fields: Columns = {}
    if columns:
        flat = rows.reshape(-1)
        for name in columns:
            fields[name] = take(name, flat)
    if not all_valid:
        scores = np.where(valid, scores, np.float32(worst_score(metric))).astype(np.float32, copy=False)
    return SearchHits(scores=scores, pks=pks, valid=valid, fields=fields, metric=metric)
