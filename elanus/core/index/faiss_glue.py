"""The thin layer between Elanus and faiss's SWIG objects.

Everything that depends on how faiss's Python bindings are shaped lives
here: building per-search parameter objects and ID selectors, calling
``search`` without the convenience wrapper, viewing flat storage as numpy
and estimating an index's resident size.

Why not faiss's Python conveniences on the hot path: constructing
``SearchParametersHNSW(sel=..., efSearch=...)`` through the wrapper costs
~15 µs (Python-level ``__init__``/``__setattr__`` hooks), more than the rest
of a wrapped ``nq=1`` search. The SWIG-generated ``new_*``/``*_set``
functions do the same in ~2 µs. They return owning handles, which free
the C++ object when collected; they do *not* keep referenced objects
alive, so :func:`search` takes a ``keepalive`` tuple that the caller holds
for the duration of the call. If a faiss build lacks these functions the
public constructors are used instead.
"""

from __future__ import annotations

import os
from typing import Any

# OpenMP's default ("active") wait policy makes idle workers spin. On a shared or
# oversubscribed box that turned a 2-thread faiss build 3-10x *slower* than one
# thread (measured: HNSW 2k x 32 took 244 ms with 2 spinning threads, 81 ms passive
# or single-threaded). The policy is read once, when libgomp loads with faiss, so
# it is set (unless the operator chose one) before the first faiss import; if faiss
# was imported earlier in the process this has no effect.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import faiss as _faiss_module
import numpy as np
import numpy.typing as npt

# faiss's bundled type stubs cover a fraction of the SWIG surface (no DirectMap,
# get_xb, SearchParametersHNSW, ...), so Elanus treats the module as untyped; the
# other index modules import `faiss` from here.
faiss: Any = _faiss_module
_swig: Any = getattr(_faiss_module, "_swigfaiss", None)
_RAW = _swig is not None and all(hasattr(_swig, name) for name in (
    "new_IDSelectorBitmap", "new_SearchParameters", "new_SearchParametersHNSW",
    "new_SearchParametersIVF", "SearchParameters_sel_set", "SearchParametersHNSW_efSearch_set",
    "SearchParametersIVF_nprobe_set"))

# faiss.swig_ptr is a Python wrapper around this builtin.
_swig_ptr: Any = _swig.swig_ptr if _RAW and hasattr(_swig, "swig_ptr") else faiss.swig_ptr

__all__ = ["Selector", "faiss", "flat_params", "flat_vectors", "hnsw_params", "ivf_params",
           "memory_estimate", "refine_params", "search", "search_binary"]


class Selector:
    """A faiss ``IDSelectorBitmap`` over a bool row mask, plus the bitmap it reads.

    faiss tests row ``i`` as ``bitmap[i >> 3] >> (i & 7) & 1``: little-endian bit
    order within each byte, which is ``np.packbits(..., bitorder="little")``.
    """

    __slots__ = ("bitmap", "handle")

    def __init__(self, valid: npt.NDArray[np.bool_]) -> None:
        self.bitmap = np.packbits(valid, bitorder="little")
        if _RAW:
            self.handle: Any = _swig.new_IDSelectorBitmap(self.bitmap.size, faiss.swig_ptr(self.bitmap))
        else:
            self.handle = faiss.IDSelectorBitmap(self.bitmap)


def hnsw_params(ef: int, selector: Selector | None) -> Any:
    if _RAW:
        params = _swig.new_SearchParametersHNSW()
        _swig.SearchParametersHNSW_efSearch_set(params, ef)
        if selector is not None:
            _swig.SearchParameters_sel_set(params, selector.handle)
        return params
    if selector is None:
        return faiss.SearchParametersHNSW(efSearch=ef)
    return faiss.SearchParametersHNSW(efSearch=ef, sel=selector.handle)


def ivf_params(nprobe: int, selector: Selector | None) -> Any:
    if _RAW:
        params = _swig.new_SearchParametersIVF()
        _swig.SearchParametersIVF_nprobe_set(params, nprobe)
        if selector is not None:
            _swig.SearchParameters_sel_set(params, selector.handle)
        return params
    if selector is None:
        return faiss.SearchParametersIVF(nprobe=nprobe)
    return faiss.SearchParametersIVF(nprobe=nprobe, sel=selector.handle)


def refine_params(base: Any, k_factor: float) -> Any:
    """``IndexRefineSearchParameters`` searching the base index with ``base`` and re-ranking
    ``k_factor * k`` candidates; holds a reference to ``base`` for its lifetime."""
    params = faiss.IndexRefineSearchParameters()
    params.k_factor = k_factor
    params.base_index_params = base
    params.referenced_objects = [base]
    return params


def flat_params(selector: Selector | None) -> Any:
    if selector is None:
        return None
    if _RAW:
        params = _swig.new_SearchParameters()
        _swig.SearchParameters_sel_set(params, selector.handle)
        return params
    return faiss.SearchParameters(sel=selector.handle)


def search(index: Any, queries: npt.NDArray[np.float32], k: int, params: Any,
           keepalive: Selector | None = None) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """faiss ``search`` on C-contiguous float32 ``queries``; returns (distances, labels).

    ``keepalive`` is held until faiss returns: ``params`` may point into it.
    """
    distances = np.empty((queries.shape[0], k), dtype=np.float32)
    return distances, _search_into(index, queries, distances, params)


def search_binary(index: Any, queries: npt.NDArray[np.uint8], k: int, params: Any,
                  keepalive: Selector | None = None) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """:func:`search` for a faiss binary index: C-contiguous packed uint8 ``queries``, int32 distances."""
    distances = np.empty((queries.shape[0], k), dtype=np.int32)
    return distances, _search_into(index, queries, distances, params)


def _search_into(index: Any, queries: npt.NDArray[Any], distances: npt.NDArray[Any],
                 params: Any) -> npt.NDArray[np.int64]:
    """Run ``index.search_c``, writing ``distances`` (nq, k); returns the labels."""
    nq, k = distances.shape
    labels = np.empty((nq, k), dtype=np.int64)
    index.search_c(nq, _swig_ptr(queries), k, _swig_ptr(distances), _swig_ptr(labels), params)
    return labels


def flat_vectors(flat_index: Any) -> npt.NDArray[np.float32]:
    """A read-only (ntotal, d) view of an ``IndexFlat``'s vectors; valid while the index lives."""
    index = faiss.downcast_index(flat_index)
    n, d = index.ntotal, index.d
    if n == 0:
        return np.empty((0, d), dtype=np.float32)
    view: npt.NDArray[np.float32] = faiss.rev_swig_ptr(index.get_xb(), n * d).reshape(n, d)
    view.flags.writeable = False
    return view


def memory_estimate(index: Any) -> int:
    """Approximate resident bytes of a faiss index built by Elanus (within a few %)."""
    index = faiss.downcast_index(index)
    d, n = index.d, index.ntotal
    if isinstance(index, faiss.IndexRefine):
        return memory_estimate(index.base_index) + memory_estimate(index.refine_index)
    if isinstance(index, faiss.IndexScalarQuantizer):
        return int(n * index.code_size)
    if isinstance(index, faiss.IndexHNSW):
        hnsw = index.hnsw
        links = hnsw.neighbors.size() * 4 + hnsw.levels.size() * 4 + hnsw.offsets.size() * 8
        return int(memory_estimate(index.storage) + links)
    if isinstance(index, faiss.IndexIVF):
        total = n * (index.code_size + 8)  # codes + int64 ids in the inverted lists
        total += memory_estimate(index.quantizer)
        if index.direct_map.type != faiss.DirectMap.NoMap:
            total += n * 8
        if isinstance(index, faiss.IndexIVFPQ):
            total += index.pq.centroids.size() * 4 + index.precomputed_table.size() * 4
        if isinstance(index, faiss.IndexIVFScalarQuantizer):
            total += index.sq.trained.size() * 4
        return int(total)
    return int(n * d * 4)
