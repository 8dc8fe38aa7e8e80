"""The faiss-backed :class:`~elanus.core.index.protocol.VectorIndex`.

A :class:`FaissIndex` wraps one immutable faiss index over the rows of one
sealed segment; faiss ids are the row offsets ``0..ntotal-1``. COSINE
indexes store unit-normalised vectors under inner product, so their raw
vectors are not recoverable (``has_raw_data`` is False); neither are the
Float16/BFloat16/Int8 rows an index holds as float32 (the segment keeps them).

Search strategy (see :mod:`elanus.core.index.mask`):

1. an empty index or a mask keeping nothing: all padding, faiss untouched;
2. few kept rows (:func:`~elanus.core.index.mask.prefer_exact`): an exact
   scan of the kept rows. FLAT/HNSW/DISKANN: faiss's flat scan of the stored vectors
   with the selector for small query counts, numpy (gather + one matrix
   product, :func:`brute_force_search`) for batches. IVF: every list probed
   with the selector (exact over the stored codes, then re-ranked by the refine
   copy for IVF_RABITQ/SCANN with refine);
3. otherwise the index's own search with the mask as a faiss selector (HNSW
   with ``ef`` scaled by ``n / kept``, see :func:`~elanus.core.index.mask.filtered_ef`), then
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
from elanus.core.index.base import IndexBase, pad_missing, short_rows
from elanus.core.index.brute_force import brute_force_search, normalize_rows, padding
from elanus.core.index.faiss_glue import faiss
from elanus.core.index.mask import filtered_ef, prefer_exact
from elanus.core.index.search_params import SearchParams
from elanus.core.index.spec import IndexSpec, IndexType, MetricType
from elanus.core.index.threads import use_search_threads
from elanus.core.schema import DataType

FloatMatrix = npt.NDArray[np.float32]
OffsetMatrix = npt.NDArray[np.int64]
_RAW_DATA_TYPES = (IndexType.FLAT, IndexType.IVF_FLAT, IndexType.HNSW, IndexType.DISKANN)
_PARAMS_CACHE_SIZE = 64
# Exact scans of fewer queries than this use faiss's flat scan with the selector:
# one pass over the kept rows, no gather. From this many queries on, gathering the
# kept rows once and scoring them with one matrix product (brute_force_search)
# amortises better. Measured, 100k x 128 with 10% kept: nq=1 faiss 1.8 ms vs numpy
# 4.7 ms; nq=4 faiss 15 ms vs numpy 6.5 ms (busy 2-core box).
_FAISS_SCAN_MAX_NQ = 4


class FaissIndex(IndexBase):
    """One built faiss index and the :class:`IndexSpec` it was built from.

    Construct through ``build`` or ``load``; the constructor only wraps an
    already populated faiss index and derives cached views from it.
    """

    def __init__(self, spec: IndexSpec, index: Any) -> None:
        if index.d != spec.dim:
            raise ValueError(f"faiss index dim {index.d} != spec dim {spec.dim}")
        super().__init__(spec, int(index.ntotal))
        # Keep the caller's (owning) wrapper: a faiss.downcast_index() proxy does not
        # own the C++ object, which would be freed with the original wrapper.
        self._index = index
        # Scores of IP indexes are exactly what faiss computes; COSINE also runs
        # as IP (over normalised vectors), L2 as faiss's squared L2.
        self._faiss_metric = MetricType.L2 if spec.metric_type is MetricType.L2 else MetricType.IP
        self._has_raw = (spec.index_type in _RAW_DATA_TYPES and spec.metric_type is not MetricType.COSINE
                         and spec.vector_type is DataType.FLOAT_VECTOR)
        # FLAT/HNSW keep every vector in an IndexFlat: exact scans read it directly.
        self._storage: Any = None
        self._vectors: FloatMatrix | None = None
        if spec.index_type is IndexType.FLAT:
            self._storage = self._index
        elif spec.index_type.is_graph:
            self._storage = faiss.downcast_index(self._index.storage)  # owned by the HNSW index
        if self._storage is not None:
            self._vectors = faiss_glue.flat_vectors(self._storage)
        elif self._has_raw and self._index.direct_map.type == faiss.DirectMap.NoMap:
            # IVF_FLAT reconstructs through the direct map (8 bytes a row). Built
            # here, once, because building it lazily would mutate a shared index.
            self._index.make_direct_map()
        # IVF_RABITQ/SCANN with a refine step: an IndexRefine around the IVF index.
        self._refined = spec.refine_type is not None
        ivf = faiss.downcast_index(self._index.base_index) if self._refined else self._index
        self._nlist = int(ivf.nlist) if spec.index_type.is_ivf else 0
        self._memory = faiss_glue.memory_estimate(self._index)
        self._is_hnsw = spec.index_type.is_graph
        # Distances computed per expanded node at level 0 (2*M links), for the cost model.
        graph_m = spec.hnsw_m or (max(2, spec.max_degree // 2) if spec.max_degree else 0)
        self._links = 2 * graph_m
        self._is_ivf = spec.index_type.is_ivf
        self._params_cache: dict[tuple[int, float], Any] = {}

    # ---- properties (spec, dim, ntotal, nlist: IndexBase) ---------------------

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
        # This is the nq=1 hot path: every step here is O(1) Python or one numpy
        # call, and tiny-array reductions use Python (a numpy reduce costs ~2 us).
        q = np.ascontiguousarray(queries, dtype=np.float32)
        p = self._search_params(q, self._spec.dim, k, params)
        metric = self._spec.metric_type
        ef = p.ef_for(k) if self._is_hnsw else 0
        mask = self._mask(valid)
        kept = mask.kept
        nq = q.shape[0]
        if kept == 0 or nq == 0:
            return padding(nq, k, metric)
        if metric is MetricType.COSINE:
            q = normalize_rows(q)
        use_search_threads(nq)
        graph_work = None
        if self._is_hnsw:
            if mask.valid is not None:
                ef = filtered_ef(ef, kept, self._ntotal)
            graph_work = ef * self._links
        kf = p.refine_factor(k) if self._refined else 1.0
        if prefer_exact(kept, self._ntotal, k, graph_work):
            scores, offsets = self._exact(q, k, mask.valid, kf)
        else:
            scores, offsets = self._approximate(q, k, ef, p.nprobe, mask.valid, kf)
            short = short_rows(offsets, k, kept)
            if short is not None:
                scores[short], offsets[short] = self._exact(q[short], k, mask.valid, kf)
        if metric is MetricType.COSINE:
            # Unit vectors can still score 1.0000001 after rounding. (Before the
            # padding below, which must stay -inf.)
            np.clip(scores, -1.0, 1.0, out=scores)
        return pad_missing(scores, offsets, metric)

    def _approximate(self, q: FloatMatrix, k: int, ef: int, nprobe: int,
                     valid: npt.NDArray[np.bool_] | None, kf: float = 1.0) -> tuple[FloatMatrix, OffsetMatrix]:
        if valid is None:
            return faiss_glue.search(self._index, q, k, self._unfiltered_params(ef, nprobe, kf))
        selector = faiss_glue.Selector(valid)
        params = self._new_params(ef, nprobe, selector, kf)
        return faiss_glue.search(self._index, q, k, params, keepalive=selector)

    def _new_params(self, ef: int, nprobe: int, selector: faiss_glue.Selector | None, kf: float) -> Any:
        if self._is_hnsw:
            return faiss_glue.hnsw_params(ef, selector)
        if self._is_ivf:
            params = faiss_glue.ivf_params(nprobe, selector)
            return faiss_glue.refine_params(params, kf) if self._refined else params
        return faiss_glue.flat_params(selector)

    def _unfiltered_params(self, ef: int, nprobe: int, kf: float) -> Any:
        # Parameter objects without a selector are immutable once made and faiss
        # only reads them, so they are shared across searches and threads.
        key = (ef if self._is_hnsw else nprobe, kf)
        params = self._params_cache.get(key)
        if params is None:
            if len(self._params_cache) >= _PARAMS_CACHE_SIZE:
                self._params_cache.clear()
            params = self._params_cache[key] = self._new_params(ef, nprobe, None, kf)
        return params

    def _exact(self, q: FloatMatrix, k: int, valid: npt.NDArray[np.bool_] | None,
               kf: float = 1.0) -> tuple[FloatMatrix, OffsetMatrix]:
        if self._storage is not None and q.shape[0] < _FAISS_SCAN_MAX_NQ:
            selector = None if valid is None else faiss_glue.Selector(valid)
            params = faiss_glue.flat_params(selector)
            return faiss_glue.search(self._storage, q, k, params, keepalive=selector)
        if self._vectors is not None:
            return brute_force_search(self._vectors, q, k, self._faiss_metric, valid)
        # IVF: probing every list scans every stored code; the selector is checked
        # before any distance is computed, so the cost is ~ kept rows, not n.
        return self._approximate(q, k, 0, self._nlist, valid, kf)

    # ---- vectors -----------------------------------------------------------

    def reconstruct(self, offsets: npt.ArrayLike) -> FloatMatrix:
        if not self._has_raw:
            spec = self._spec
            raise ValueError(f"a {spec.index_type}/{spec.metric_type} index does not hold raw vectors")
        ids = self._offsets(offsets)
        if self._vectors is not None:
            return self._vectors[ids]
        out: FloatMatrix = self._index.reconstruct_batch(ids)
        return out

    def serialize(self) -> bytes:
        return serde.encode(self._spec, self._index)
