"""The faiss-backed :class:`~elanus.core.index.protocol.VectorIndex`.

A :class:`FaissIndex` wraps one immutable faiss index over the rows of one
sealed segment; faiss ids are the row offsets ``0..ntotal-1``. COSINE
indexes store unit-normalised vectors under inner product, so their raw
vectors are not recoverable (``has_raw_data`` is False).

Search strategy (see :mod:`elanus.core.index.mask`):

1. an empty index or a mask keeping nothing: all padding, faiss untouched;
2. few kept rows (:func:`~elanus.core.index.mask.prefer_exact`): an exact
   scan of the kept rows — numpy over the stored vectors for FLAT/HNSW,
   every IVF list with the selector for IVF types (exact over the codes);
3. otherwise the index's own search with the mask as a faiss selector, then
   any query row that came back short of ``min(k, kept)`` results (graph
   walks and few-probe IVF searches can) is re-run through step 2.

So a search never returns fewer than ``min(k, kept)`` results.

Thread safety: after construction nothing is mutated, and faiss searches are
const, so any number of threads may search concurrently.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from elanus.core.index import faiss_glue, serde
from elanus.core.index.brute_force import brute_force_search, normalize_rows, padding
from elanus.core.index.faiss_glue import faiss
from elanus.core.index.mask import inspect_mask, prefer_exact
from elanus.core.index.search_params import SearchParams, metric_mismatch
from elanus.core.index.spec import IndexSpec, IndexType, MetricType
from elanus.core.index.threads import use_search_threads

FloatMatrix = npt.NDArray[np.float32]
OffsetMatrix = npt.NDArray[np.int64]
_RAW_DATA_TYPES = (IndexType.FLAT, IndexType.IVF_FLAT, IndexType.HNSW)


class FaissIndex:
    """One built faiss index and the :class:`IndexSpec` it was built from.

    Construct through ``build`` or ``load``; the constructor only wraps an
    already populated faiss index and derives cached views from it.
    """

    def __init__(self, spec: IndexSpec, index: Any) -> None:
        if index.d != spec.dim:
            raise ValueError(f"faiss index dim {index.d} != spec dim {spec.dim}")
        self._spec = spec
        # Keep the caller's (owning) wrapper: a faiss.downcast_index() proxy does not
        # own the C++ object, which would be freed with the original wrapper.
        self._index = index
        self._ntotal = int(self._index.ntotal)
        # Scores of IP indexes are exactly what faiss computes; COSINE also runs
        # as IP (over normalised vectors), L2 as faiss's squared L2.
        self._faiss_metric = MetricType.L2 if spec.metric_type is MetricType.L2 else MetricType.IP
        self._has_raw = spec.index_type in _RAW_DATA_TYPES and spec.metric_type is not MetricType.COSINE
        self._vectors: FloatMatrix | None = None  # stored vectors, FLAT/HNSW only
        if spec.index_type is IndexType.FLAT:
            self._vectors = faiss_glue.flat_vectors(self._index)
        elif spec.index_type is IndexType.HNSW:
            self._vectors = faiss_glue.flat_vectors(self._index.storage)
        elif self._has_raw and self._index.direct_map.type == faiss.DirectMap.NoMap:
            # IVF_FLAT reconstructs through the direct map (8 bytes a row). Built
            # here, once, because building it lazily would mutate a shared index.
            self._index.make_direct_map()
        self._nlist = int(self._index.nlist) if spec.index_type.is_ivf else 0
        self._memory = faiss_glue.memory_estimate(self._index)
        self._default_params = SearchParams(spec.metric_type)

    # ---- properties --------------------------------------------------------

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
        """Inverted lists actually built (``min(spec.nlist, rows)``); 0 for non-IVF."""
        return self._nlist

    @property
    def memory_bytes(self) -> int:
        return self._memory

    @property
    def has_raw_data(self) -> bool:
        return self._has_raw

    @property
    def faiss_index(self) -> Any:
        """The underlying faiss index (read-only use: serialisation, diagnostics)."""
        return self._index

    # ---- search ------------------------------------------------------------

    def search(self, queries: npt.ArrayLike, k: int, params: SearchParams | None = None,
               valid: npt.ArrayLike | None = None) -> tuple[FloatMatrix, OffsetMatrix]:
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if q.ndim != 2 or q.shape[1] != self._spec.dim:
            raise ValueError(f"queries must have shape (nq, {self._spec.dim}), got {q.shape}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        p = self._default_params if params is None else params
        metric = self._spec.metric_type
        if p.metric_type != metric:
            raise metric_mismatch(metric, p.metric_type)
        ef = p.ef_for(k) if self._spec.index_type is IndexType.HNSW else 0
        mask = inspect_mask(valid, self._ntotal)
        nq = q.shape[0]
        if mask.kept == 0 or nq == 0:
            return padding(nq, k, metric)
        if metric is MetricType.COSINE:
            q = normalize_rows(q)
        use_search_threads(nq)
        if prefer_exact(mask.kept, self._ntotal, k):
            scores, offsets = self._exact(q, k, mask.valid)
        else:
            scores, offsets = self._approximate(q, k, ef, p.nprobe, mask.valid)
            need = min(k, mask.kept)
            # faiss fills each row best-first and pads at the end, so a row is
            # short exactly when its last needed slot is empty.
            short = offsets[:, need - 1] < 0
            if short.any():
                rows = np.flatnonzero(short)
                scores[rows], offsets[rows] = self._exact(q[rows], k, mask.valid)
        return self._finish(scores, offsets)

    def _approximate(self, q: FloatMatrix, k: int, ef: int, nprobe: int,
                     valid: npt.NDArray[np.bool_] | None) -> tuple[FloatMatrix, OffsetMatrix]:
        selector = None if valid is None else faiss_glue.Selector(valid)
        index_type = self._spec.index_type
        if index_type is IndexType.HNSW:
            params = faiss_glue.hnsw_params(ef, selector)
        elif index_type.is_ivf:
            params = faiss_glue.ivf_params(nprobe, selector)
        else:
            params = faiss_glue.flat_params(selector)
        return faiss_glue.search(self._index, q, k, params, keepalive=selector)

    def _exact(self, q: FloatMatrix, k: int,
               valid: npt.NDArray[np.bool_] | None) -> tuple[FloatMatrix, OffsetMatrix]:
        if self._vectors is not None:
            return brute_force_search(self._vectors, q, k, self._faiss_metric, valid)
        # IVF: probing every list scans every stored code; the selector is checked
        # before any distance is computed, so the cost is ~ kept rows, not n.
        return self._approximate(q, k, 0, self._nlist, valid)

    def _finish(self, scores: FloatMatrix, offsets: OffsetMatrix) -> tuple[FloatMatrix, OffsetMatrix]:
        metric = self._spec.metric_type
        if offsets[:, -1].min() < 0:
            # faiss pads with +-FLT_MAX; the contract says +-inf.
            scores[offsets < 0] = -np.inf if metric.larger_is_better else np.inf
        if metric is MetricType.COSINE:
            # Unit vectors can still score 1.0000001 after rounding.
            np.clip(scores, -1.0, 1.0, out=scores)
        return scores, offsets

    # ---- vectors -----------------------------------------------------------

    def reconstruct(self, offsets: npt.ArrayLike) -> FloatMatrix:
        if not self._has_raw:
            spec = self._spec
            raise ValueError(f"a {spec.index_type}/{spec.metric_type} index does not hold raw vectors")
        ids = np.asarray(offsets, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self._ntotal):
            raise IndexError(f"offsets must be in [0, {self._ntotal}), got {ids.min()}..{ids.max()}")
        if self._vectors is not None:
            return self._vectors[ids]
        out: FloatMatrix = self._index.reconstruct_batch(ids)
        return out

    def serialize(self) -> bytes:
        return serde.encode(self._spec, self._index)
