"""Building and loading faiss-backed vector indexes.

:func:`build` turns a segment's vectors into a searchable
:class:`~elanus.core.index.faiss_index.FaissIndex`; :func:`load` restores
one from :meth:`FaissIndex.serialize` output. Row ``i`` of the input is
offset ``i`` in every search result.

Mapping of index types to faiss (with ``metric`` = L2 or inner product; COSINE
is inner product over unit-normalised vectors):

====== ===========================================================
FLAT   ``IndexFlat``
HNSW   ``IndexHNSWFlat(d, M)`` (level 0 has 2*M links, as in hnswlib/knowhere)
IVF_*  ``IndexIVFFlat`` / ``IndexIVFScalarQuantizer(QT_8bit)`` / ``IndexIVFPQ``
       over a flat coarse quantizer
====== ===========================================================

Small segments: IVF types are built with ``min(nlist, n)`` lists, so any
non-empty segment builds (k-means cannot make more centroids than points);
IVF_PQ trains its ``2**nbits``-entry codebooks on the data repeated up to
``2**nbits`` rows when there are fewer, keeping the code layout the spec asks
for. An empty segment builds an empty index whose searches return padding.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from elanus.core.index import serde
from elanus.core.index.brute_force import normalize_rows
from elanus.core.index.faiss_glue import faiss
from elanus.core.index.faiss_index import FaissIndex
from elanus.core.index.spec import IndexSpec, IndexType, MetricType
from elanus.core.index.threads import use_build_threads


def build(spec: IndexSpec, vectors: npt.ArrayLike) -> FaissIndex:
    """Build an index of kind ``spec`` over ``vectors`` (n, spec.dim), n >= 0.

    IVF types are trained on ``vectors`` themselves. Uses the build thread count
    (:func:`~elanus.core.index.threads.set_threads`). Raises ValueError on a shape
    mismatch.
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != spec.dim:
        raise ValueError(f"vectors must have shape (n, {spec.dim}), got {x.shape}")
    if spec.metric_type is MetricType.COSINE:
        x = normalize_rows(x)
    n = x.shape[0]
    use_build_threads()
    index = _new_index(spec, n)
    if n:
        if not index.is_trained:
            _train(index, spec, x)
        index.add(x)
    return FaissIndex(spec, index)


def load(data: bytes | bytearray | memoryview) -> FaissIndex:
    """Restore an index from :meth:`FaissIndex.serialize` output.

    Raises MilvusError (unexpected error) if ``data`` is not a valid index blob.
    """
    spec, index = serde.decode(data)
    return FaissIndex(spec, index)


def _new_index(spec: IndexSpec, n: int) -> Any:
    d = spec.dim
    metric = faiss.METRIC_L2 if spec.metric_type is MetricType.L2 else faiss.METRIC_INNER_PRODUCT
    if spec.index_type is IndexType.FLAT:
        return faiss.IndexFlat(d, metric)
    if spec.index_type is IndexType.HNSW:
        assert spec.hnsw_m is not None and spec.ef_construction is not None
        index = faiss.IndexHNSWFlat(d, spec.hnsw_m, metric)
        index.hnsw.efConstruction = spec.ef_construction
        return index
    assert spec.nlist is not None
    nlist = max(1, min(spec.nlist, n))
    quantizer = faiss.IndexFlat(d, metric)
    if spec.index_type is IndexType.IVF_FLAT:
        index = faiss.IndexIVFFlat(quantizer, d, nlist, metric)
    elif spec.index_type is IndexType.IVF_SQ8:
        index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, metric)
    else:
        assert spec.pq_m is not None and spec.nbits is not None
        index = faiss.IndexIVFPQ(quantizer, d, nlist, spec.pq_m, spec.nbits, metric)
        index.pq.cp.min_points_per_centroid = 1
    # The C++ index must own its quantizer: FaissIndex may outlive this Python
    # wrapper (and its reference to `quantizer`), e.g. behind a downcast.
    index.own_fields = True
    quantizer.this.disown()
    # faiss warns on stderr for every segment with < 39 points per centroid; small
    # segments are expected here, so only warn when there are fewer points than lists
    # (which the nlist clamp above rules out).
    index.cp.min_points_per_centroid = 1
    return index


def _train(index: Any, spec: IndexSpec, x: npt.NDArray[np.float32]) -> None:
    train = x
    if spec.index_type is IndexType.IVF_PQ:
        assert spec.nbits is not None
        codebook = 1 << spec.nbits
        if x.shape[0] < codebook:
            # Cycling the rows gives k-means >= k points; with so few rows every
            # distinct sub-vector can get its own centroid, so codes stay exact-ish.
            train = np.resize(x, (codebook, x.shape[1]))
    index.train(train)
