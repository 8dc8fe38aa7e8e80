"""Building and loading faiss-backed vector indexes.

:func:`build` turns a segment's vectors into a searchable
:class:`~elanus.core.index.faiss_index.FaissIndex`; :func:`load` restores
one from :meth:`FaissIndex.serialize` output. Row ``i`` of the input is
offset ``i`` in every search result.

Mapping of index types to faiss (with ``metric`` = L2 or inner product; COSINE
is inner product over unit-normalised vectors):

========== =======================================================
FLAT       ``IndexFlat``
HNSW       ``IndexHNSWFlat(d, M)`` (level 0 has 2*M links, as in hnswlib/knowhere)
IVF_*      ``IndexIVFFlat`` / ``IndexIVFScalarQuantizer(QT_8bit)`` / ``IndexIVFPQ``
           over a flat coarse quantizer
IVF_RABITQ ``IndexIVFRaBitQ`` (1-bit RaBitQ codes); with ``refine`` wrapped in an
           ``IndexRefine`` whose second copy is an SQ6/SQ8/FP16/BF16 scalar
           quantizer or the raw vectors (``IndexRefineFlat``)
========== =======================================================

Two Milvus types have no faiss counterpart and are built as the closest one:

- SCANN (Google's anisotropic-quantization IVF) is ``IndexIVFPQFastScan`` with
  4-bit codes over ``dim / sub_dim`` sub-vectors — the same fast-scan layout
  knowhere's SCANN uses — re-ranked on the raw vectors (``IndexRefineFlat``)
  when ``with_raw_data`` is true (the default), as SCANN's reorder step does;
- DISKANN (a Vamana graph searched from SSD) is an in-memory
  ``IndexHNSWFlat`` whose level-0 degree is Milvus's ``max_degree`` (M =
  max_degree / 2) and whose ``efConstruction`` is its ``search_list_size``.

Both keep their Milvus type everywhere a client can see it (DescribeIndex
echoes the request's parameters).

Float16, BFloat16 and Int8 vectors are indexed as their float32 values. The binary
types (BIN_FLAT, BIN_IVF_FLAT) build a
:class:`~elanus.core.index.binary_index.BinaryIndex` over the packed rows instead, and the
sparse types (SPARSE_INVERTED_INDEX, SPARSE_WAND) a
:class:`~elanus.core.index.sparse_index.SparseIndex` over the column's row bytes.

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

from elanus.core import vectors as vector_types
from elanus.core.index import serde
from elanus.core.index.binary_index import BinaryIndex, build_binary, load_binary
from elanus.core.index.brute_force import normalize_rows
from elanus.core.index.faiss_glue import faiss
from elanus.core.index.faiss_index import FaissIndex
from elanus.core.index.protocol import VectorIndex
from elanus.core.index.sparse_index import SparseIndex, build_sparse, load_sparse
from elanus.core.index.spec import IndexSpec, IndexType, MetricType
from elanus.core.index.threads import use_build_threads
from elanus.core.schema import DataType

# SCANN's fast-scan PQ codes: 4 bits per sub-vector (16 centroids), as in knowhere.
SCANN_NBITS = 4
_REFINE_QUANTIZERS = {
    "sq6": faiss.ScalarQuantizer.QT_6bit,
    "sq8": faiss.ScalarQuantizer.QT_8bit,
    "fp16": faiss.ScalarQuantizer.QT_fp16,
    "bf16": faiss.ScalarQuantizer.QT_bf16,
}


def build(spec: IndexSpec, vectors: npt.ArrayLike) -> FaissIndex | BinaryIndex | SparseIndex:
    """Build an index of kind ``spec`` over ``vectors``, the field's column form
    (n, spec.dim) for the float types, (n, spec.dim / 8) packed bits for binary; n >= 0.

    IVF types are trained on ``vectors`` themselves. Uses the build thread count
    (:func:`~elanus.core.index.threads.set_threads`). Raises ValueError on a shape
    mismatch.
    """
    if spec.index_type.is_binary:
        return build_binary(spec, vectors)
    if spec.index_type.is_sparse:
        return build_sparse(spec, np.asarray(vectors, dtype=object))
    if spec.vector_type is not DataType.FLOAT_VECTOR:
        vectors = vector_types.to_float32(spec.vector_type, vectors)
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


def load(data: bytes | bytearray | memoryview) -> VectorIndex:
    """Restore an index from :meth:`FaissIndex.serialize` / :meth:`BinaryIndex.serialize` output.

    Raises MilvusError (unexpected error) if ``data`` is not a valid index blob.
    """
    kind = serde.peek_spec(data).index_type
    if kind.is_binary:
        return load_binary(data)
    if kind.is_sparse:
        return load_sparse(data)
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
    if spec.index_type is IndexType.DISKANN:
        assert spec.max_degree is not None and spec.search_list_size is not None
        index = faiss.IndexHNSWFlat(d, max(2, spec.max_degree // 2), metric)
        index.hnsw.efConstruction = spec.search_list_size
        return index
    assert spec.nlist is not None
    nlist = max(1, min(spec.nlist, n))
    quantizer = faiss.IndexFlat(d, metric)
    if spec.index_type is IndexType.IVF_FLAT:
        index = faiss.IndexIVFFlat(quantizer, d, nlist, metric)
    elif spec.index_type is IndexType.IVF_SQ8:
        index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, metric)
    elif spec.index_type is IndexType.IVF_RABITQ:
        index = faiss.IndexIVFRaBitQ(quantizer, d, nlist, metric)
    elif spec.index_type is IndexType.SCANN:
        assert spec.sub_dim is not None
        index = faiss.IndexIVFPQFastScan(quantizer, d, nlist, d // spec.sub_dim, SCANN_NBITS, metric)
        index.pq.cp.min_points_per_centroid = 1
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
    return index if spec.refine_type is None else _with_refine(index, spec.refine_type, d, metric)


def _with_refine(base: Any, refine_type: str, d: int, metric: int) -> Any:
    """``base`` re-ranked by a second copy of the vectors (faiss IndexRefine), as
    knowhere's refine: exact for fp32/flat, else a scalar-quantized copy."""
    if refine_type in ("fp32", "flat"):
        index = faiss.IndexRefineFlat(base)
    else:
        refine = faiss.IndexScalarQuantizer(d, _REFINE_QUANTIZERS[refine_type], metric)
        index = faiss.IndexRefine(base, refine)
        refine.this.disown()
    index.own_fields = True
    base.this.disown()
    return index


def _train(index: Any, spec: IndexSpec, x: npt.NDArray[np.float32]) -> None:
    train = x
    if spec.index_type in (IndexType.IVF_PQ, IndexType.SCANN):
        codebook = 1 << (SCANN_NBITS if spec.nbits is None else spec.nbits)
        if x.shape[0] < codebook:
            # Cycling the rows gives k-means >= k points; with so few rows every
            # distinct sub-vector can get its own centroid, so codes stay exact-ish.
            train = np.resize(x, (codebook, x.shape[1]))
    index.train(train)
