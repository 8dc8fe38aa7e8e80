"""What :class:`~elanus.core.index.faiss_index.FaissIndex` and
:class:`~elanus.core.index.binary_index.BinaryIndex` share.

:class:`IndexBase` holds the spec, row count and IVF list count behind the protocol's
properties, checks a search's arguments and a reconstruct's offsets, and resolves the
``valid`` mask. The module functions handle faiss's results: :func:`short_rows` finds the
query rows a faiss search left short (they are redone exactly), :func:`pad_missing` turns
faiss's padding scores into the contract's infinities.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from elanus.core.index.mask import MaskInfo, inspect_mask
from elanus.core.index.search_params import SearchParams, metric_mismatch
from elanus.core.index.spec import IndexSpec, MetricType

FloatMatrix = npt.NDArray[np.float32]
OffsetMatrix = npt.NDArray[np.int64]
RowIndexes = npt.NDArray[np.int64]


class IndexBase:
    """Spec, size and search-argument checks common to the index classes.

    A subclass calls ``__init__`` with its spec and row count and sets ``_nlist`` (0
    without inverted lists) before the index is used.
    """

    _nlist: int

    def __init__(self, spec: IndexSpec, ntotal: int) -> None:
        self._spec = spec
        self._ntotal = ntotal
        self._default_params = SearchParams(spec.metric_type)
        self._all_rows = MaskInfo(None, ntotal)  # what inspect_mask reports for a mask keeping every row

    @property
    def spec(self) -> IndexSpec:
        return self._spec

    @property
    def dim(self) -> int:
        return self._spec.dim

    @property
    def ntotal(self) -> int:
        return self._ntotal

    @property
    def nlist(self) -> int:
        """Inverted lists actually built (``min(spec.nlist, rows)``); 0 when none were built."""
        return self._nlist

    def _search_params(self, q: npt.NDArray[np.generic], width: int, k: int,
                       params: SearchParams | None) -> SearchParams:
        """``params`` (or the defaults) once ``q`` is (nq, ``width``), ``k >= 1`` and the metric
        is the index's; ValueError for the first two, MilvusError for the metric."""
        if q.ndim != 2 or q.shape[1] != width:
            raise ValueError(f"queries must have shape (nq, {width}), got {q.shape}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        p = self._default_params if params is None else params
        metric = self._spec.metric_type
        if p.metric_type != metric:
            raise metric_mismatch(metric, p.metric_type)
        return p

    def _mask(self, valid: npt.ArrayLike | None) -> MaskInfo:
        """The checked mask; ``valid=None`` (and a mask keeping every row) is ``MaskInfo(None, ntotal)``."""
        return self._all_rows if valid is None else inspect_mask(valid, self._ntotal)

    def _offsets(self, offsets: npt.ArrayLike) -> RowIndexes:
        """``offsets`` as a flat int64 array; IndexError unless all are in ``[0, ntotal)``."""
        ids = np.asarray(offsets, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self._ntotal):
            raise IndexError(f"offsets must be in [0, {self._ntotal}), got {ids.min()}..{ids.max()}")
        return ids


def short_rows(offsets: OffsetMatrix, k: int, kept: int) -> RowIndexes | None:
    """The query rows of a faiss result holding fewer than ``min(k, kept)`` results, or None.

    faiss fills each row best-first and pads at the end, so a row is short exactly when
    its last needed slot is empty.
    """
    last_needed = offsets[:, min(k, kept) - 1]
    if not any_negative(last_needed):
        return None
    return np.flatnonzero(last_needed < 0)


def pad_missing(scores: FloatMatrix, offsets: OffsetMatrix, metric: MetricType) -> tuple[FloatMatrix, OffsetMatrix]:
    """``(scores, offsets)`` with the score of every missing result (offset -1) set to the
    contract's worst score, +-inf; faiss pads with its type's extreme value instead.
    ``scores`` is changed in place."""
    if any_negative(offsets[:, -1]):  # padding is at the end of a row
        scores[offsets < 0] = -np.inf if metric.larger_is_better else np.inf
    return scores, offsets


def any_negative(column: OffsetMatrix) -> bool:
    """``(column < 0).any()``, in Python for the short columns of small searches."""
    if column.size <= 64:
        return bool(column.size) and min(column.tolist()) < 0
    return bool((column < 0).any())
