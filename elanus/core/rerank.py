"""Fusing the results of several searches (hybrid search): RRF and weighted rerank.

Each part is the merged :class:`~elanus.cluster.types.SearchHits` of one sub-search (all
parts answer the same ``nq`` queries). Per query, every primary key found by any part gets
a fused score (Milvus's merge operator, ``function/chain/operator_merge.go``):

- RRF: ``sum over parts of 1 / (k + rank)``, ``rank`` the 1-based position of the pk in
  that part's result;
- weighted: ``sum over parts of weight * f(score)``, where ``f`` normalises each metric to
  "larger is better" in ``[0, 1]`` when ``norm_score`` is set (COSINE ``(1 + s) / 2``, IP
  and other similarities ``0.5 + atan(s) / pi``, distances such as L2
  ``1 - 2 * atan(d) / pi``), and otherwise is the identity, except that distances are
  turned around with that same ``1 - 2 * atan(d) / pi`` when the parts mix directions.

Results are sorted by fused score, best first (ties by smaller pk), ``offset`` skipped,
``limit`` kept. Each hit's output fields come from the first part (in request order) that
found its pk.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from elanus.cluster.types import Columns, SearchHits
from elanus.core.segment.hits import larger_is_better


def _normalise(scores: npt.NDArray[np.float64], metric: str, full: bool) -> npt.NDArray[np.float64]:
    m = metric.upper()
    if not larger_is_better(m):
        return 1.0 - 2.0 * np.arctan(scores) / np.pi
    if not full:
        return scores
    if m == "COSINE":
        return (1.0 + scores) * 0.5
    if m == "BM25":
        return 2.0 * np.arctan(scores) / np.pi
    return 0.5 + np.arctan(scores) / np.pi


def rrf_scores(parts: Sequence[SearchHits], k: float) -> list[npt.NDArray[np.float64]]:
    """Per part, the (nq, width) RRF contribution of every slot (0 at invalid slots)."""
    out = []
    for p in parts:
        ranks = np.arange(1, p.scores.shape[1] + 1, dtype=np.float64)
        contrib = np.broadcast_to(1.0 / (k + ranks), p.scores.shape)
        out.append(np.where(p.valid, contrib, 0.0))
    return out


def weighted_scores(parts: Sequence[SearchHits], weights: Sequence[float],
                    norm_score: bool) -> tuple[list[npt.NDArray[np.float64]], bool]:
    """Per part, the (nq, width) weighted contribution of every slot, and whether the fused
    score is larger-is-better (False only without normalisation when every part is a distance)."""
    directions = {larger_is_better(p.metric) for p in parts}
    mixed = len(directions) > 1
    convert = norm_score or mixed
    out = []
    for p, w in zip(parts, weights, strict=True):
        s = p.scores.astype(np.float64)
        s = _normalise(s, p.metric, norm_score) if convert else s
        out.append(np.where(p.valid, w * s, 0.0))
    return out, convert or directions == {True}


def fuse(parts: Sequence[SearchHits], contributions: Sequence[npt.NDArray[np.float64]],
         larger_better: bool, limit: int, offset: int = 0) -> SearchHits:
    """Sum ``contributions`` per pk and query, keep the best ``limit`` after ``offset``.

    The result's metric is ``IP`` when larger fused scores are better, ``L2`` otherwise
    (so later reduces order it correctly); its fields are gathered from the parts.
    """
    nq = parts[0].scores.shape[0]
    widths = [p.scores.shape[1] for p in parts]
    pk_dtype = parts[0].pks.dtype
    out_pks = np.zeros((nq, limit), dtype=pk_dtype) if pk_dtype.kind != "O" else np.full((nq, limit), "", object)
    out_scores = np.full((nq, limit), -np.inf if larger_better else np.inf, dtype=np.float32)
    out_valid = np.zeros((nq, limit), dtype=np.bool_)
    src = np.zeros((nq, limit), dtype=np.int64)  # flat row in the concatenated part fields
    bases = np.cumsum([0] + [nq * w for w in widths])[:-1]
    for i in range(nq):
        pks = np.concatenate([p.pks[i][p.valid[i]] for p in parts])
        if not len(pks):
            continue
        scores = np.concatenate([c[i][p.valid[i]] for c, p in zip(contributions, parts, strict=True)])
        rows = np.concatenate([bases[j] + i * widths[j] + np.flatnonzero(p.valid[i])
                               for j, p in enumerate(parts)])
        uniq, first, inverse = np.unique(pks, return_index=True, return_inverse=True)
        total = np.bincount(inverse.reshape(-1), weights=scores, minlength=len(uniq))
        # np.unique sorts pks ascending, so a stable sort on the score keeps ties by pk.
        order = np.argsort(-total if larger_better else total, kind="stable")[offset:offset + limit]
        m = len(order)
        out_pks[i, :m] = uniq[order]
        out_scores[i, :m] = total[order]
        out_valid[i, :m] = True
        src[i, :m] = rows[first[order]]
    fields: Columns = {}
    names = list(parts[0].fields)
    for name in names:
        column = np.concatenate([p.fields[name] for p in parts])
        fields[name] = column[src.reshape(-1)]
    return SearchHits(scores=out_scores, pks=out_pks, valid=out_valid, fields=fields,
                      metric="IP" if larger_better else "L2")
