"""Row masks: which rows of a segment a search may return, and how to honour them.

A mask is a bool vector with one entry per indexed row (True = may be
returned); it combines deletions, MVCC visibility and scalar filters.
Masks are applied *inside* the search (faiss ``IDSelectorBitmap``, or a
scan restricted to the kept rows): filtering a finished top-k afterwards
can leave it short or empty while matching rows exist.

Two decisions live here.

:func:`filtered_ef` — faiss's HNSW counts *every* visited node, masked or
not, against ``efSearch``, whereas knowhere's (Milvus's) ``ef`` effectively
counts kept rows. With 10% of rows kept, ``ef=64`` in faiss leaves ~6 kept
candidates and recall@10 fell from 0.49 to 0.34 (100k x 128 random); so the
graph search runs with ``ef * n / kept``, which restores Milvus's meaning.

:func:`prefer_exact` — when to scan the kept rows exactly instead:

- always below :data:`EXACT_ROWS_FLOOR` kept rows (microseconds of work);
- knowhere's rule: 93% or more of the rows masked out, or ``k`` at least
  half of the kept rows (a graph walk would mostly visit masked nodes);
- cost model for graphs: a search expanding ``ef`` nodes computes about
  ``ef * 2M`` distances (level 0 has 2M links); an exact scan computes
  ``kept`` distances, each costing about the same (~100 ns for d=128, both
  memory-bound). So if ``kept <= ef * 2M`` the exact scan is cheaper *and*
  exact. Measured on 100k x 128, 10% kept: graph (ef 638) 1.9 ms at
  recall 0.82, exact scan 1.05 ms at recall 1.0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# knowhere kHnswSearchKnnBFFilterThreshold / kHnswSearchBFTopkThreshold.
FILTERED_OUT_EXACT_RATIO = 0.93
TOPK_EXACT_RATIO = 0.5
# Kept rows at or below this are always scanned exactly.
EXACT_ROWS_FLOOR = 1024
_INT32_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class MaskInfo:
    """A validated mask: ``valid`` is ``None`` when every row is kept."""

    valid: npt.NDArray[np.bool_] | None
    kept: int


def inspect_mask(valid: npt.ArrayLike, n: int) -> MaskInfo:
    """Validate ``valid`` against ``n`` rows and count the kept rows.

    A mask keeping every row is reported as ``valid=None`` so that the
    unfiltered (fastest) path is taken. Raises ValueError on a wrong shape.
    """
    mask = np.asarray(valid)
    if mask.dtype != np.bool_:
        mask = mask.astype(np.bool_)
    if mask.shape != (n,):
        raise ValueError(f"valid mask must have shape ({n},), got {mask.shape}")
    # count_nonzero on a uint8 view is ~30% faster than on bool (same bytes).
    kept = int(np.count_nonzero(mask.view(np.uint8)))
    return MaskInfo(None if kept == n else mask, kept)


def filtered_ef(ef: int, kept: int, n: int) -> int:
    """The faiss ``efSearch`` giving ~``ef`` kept candidates when ``kept`` of ``n`` rows are kept."""
    if kept >= n or kept <= 0:
        return ef
    return min(max(ef, math.ceil(ef * n / kept)), n, _INT32_MAX)


def prefer_exact(kept: int, n: int, k: int, graph_work: int | None = None) -> bool:
    """Whether a search keeping ``kept`` of ``n`` rows should scan the kept rows exactly.

    ``graph_work`` is the expected number of distance computations of the
    index's own search when that cost grows with ``ef`` (HNSW), else None.
    """
    if kept <= EXACT_ROWS_FLOOR:
        return True
    if (n - kept) >= FILTERED_OUT_EXACT_RATIO * n or k >= TOPK_EXACT_RATIO * kept:
        return True
    return graph_work is not None and kept <= graph_work
