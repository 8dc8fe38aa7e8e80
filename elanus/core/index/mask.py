"""Row masks: which rows of a segment a search may return, and how to honour them.

A mask is a bool vector with one entry per indexed row (True = may be
returned); it combines deletions, MVCC visibility and scalar filters.
Masks are applied *inside* the search (faiss ``IDSelectorBitmap``, or a
scan restricted to the kept rows): filtering a finished top-k afterwards
can leave it short or empty while matching rows exist.

The strategy decision (:func:`prefer_exact`) follows knowhere's HNSW rule:
when 93% or more of the rows are masked out, or ``k`` is at least half of
the rows left, a graph walk would mostly visit masked nodes and may come
back short, so an exact scan of the kept rows is both cheaper and exact.
Below an absolute floor of kept rows the exact scan is used regardless,
since it then costs microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# knowhere kHnswSearchKnnBFFilterThreshold / kHnswSearchBFTopkThreshold.
FILTERED_OUT_EXACT_RATIO = 0.93
TOPK_EXACT_RATIO = 0.5
# Kept rows at or below this are always scanned exactly (cost ~ rows x dim flops).
EXACT_ROWS_FLOOR = 1024


@dataclass(frozen=True, slots=True)
class MaskInfo:
    """A validated mask: ``valid`` is ``None`` when every row is kept."""

    valid: npt.NDArray[np.bool_] | None
    kept: int


def inspect_mask(valid: npt.ArrayLike | None, n: int) -> MaskInfo:
    """Validate ``valid`` against ``n`` rows and count the kept rows.

    A mask keeping every row is reported as ``valid=None`` so that the
    unfiltered (fastest) path is taken. Raises ValueError on a wrong shape.
    """
    if valid is None:
        return MaskInfo(None, n)
    mask = np.asarray(valid)
    if mask.dtype != np.bool_:
        mask = mask.astype(np.bool_)
    if mask.shape != (n,):
        raise ValueError(f"valid mask must have shape ({n},), got {mask.shape}")
    # count_nonzero on a uint8 view is ~30% faster than on bool (same bytes).
    kept = int(np.count_nonzero(mask.view(np.uint8)))
    return MaskInfo(None if kept == n else mask, kept)


def prefer_exact(kept: int, n: int, k: int) -> bool:
    """Whether a search keeping ``kept`` of ``n`` rows should scan the kept rows exactly."""
    if kept <= EXACT_ROWS_FLOOR:
        return True
    return (n - kept) >= FILTERED_OUT_EXACT_RATIO * n or k >= TOPK_EXACT_RATIO * kept
