"""What a vector index is: its type, metric and build parameters.

An :class:`IndexSpec` is the validated, resolved form of a ``CreateIndex``
request for one vector field. It is produced by
:func:`elanus.core.index.build_params.parse_index_params` and consumed by
``build``; it is also written into every serialized index so a loaded index
knows how it was made.

Invariants of an ``IndexSpec`` (checked in ``__post_init__``):

- ``dim >= 1``, except for sparse vectors, which have no dimension (``dim == 0``);
- the build parameters of its own index type are set and in Milvus's ranges,
  and the parameters of other index types are ``None`` (so two specs that
  build the same index compare equal);
- ``AUTOINDEX`` never appears: it is resolved to a concrete type, and
  ``auto_index`` remembers that the user asked for it;
- ``vector_type`` is the field's Milvus vector type: the binary index types
  (BIN_FLAT, BIN_IVF_FLAT) go with BinaryVector and the binary metrics, the
  others with Float/Float16/BFloat16/Int8 vectors (indexed as float32) and
  L2/IP/COSINE; ``dim`` counts bits for binary vectors (a multiple of 8); the sparse
  types (SPARSE_INVERTED_INDEX, SPARSE_WAND) go with SparseFloatVector and IP only, with
  ``drop_ratio_build`` in ``[0, 1)`` and ``inverted_index_algo`` one of
  :data:`SPARSE_ALGOS` (both None for every other type).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from elanus.core.schema import DataType

AUTOINDEX = "AUTOINDEX"

# Ranges and defaults are knowhere's (src/index/ivf/ivf_config.h,
# src/index/hnsw/base_hnsw_config.h): knowhere, not the Go proxy, is what
# enforces them in Milvus, and its error texts are what clients see.
INT32_MAX = 2**31 - 1
NLIST_RANGE = (1, 65536)
NLIST_DEFAULT = 128
NPROBE_RANGE = (1, 65536)
NPROBE_DEFAULT = 8
PQ_M_RANGE = (1, 65536)
NBITS_RANGE = (1, 24)
NBITS_DEFAULT = 8
HNSW_M_RANGE = (2, 2048)
HNSW_M_DEFAULT = 30
EF_CONSTRUCTION_RANGE = (1, INT32_MAX)
EF_CONSTRUCTION_DEFAULT = 360
EF_RANGE = (1, INT32_MAX)
# knowhere's kEfMinValue: without an explicit ef, HNSW searches with max(k, 16).
EF_MIN_DEFAULT = 16

# Milvus's autoIndex.params.build for dense float vectors as of 2.4/2.5
# (pkg/util/paramtable/autoindex_param.go; the int8 entry there still reads
# exactly this). Newer Milvus resolves to HNSW_SQ with a refine step, which
# Elanus does not implement; the graph parameters are the same.
AUTOINDEX_HNSW_M = 18
AUTOINDEX_EF_CONSTRUCTION = 240
# autoIndex.params.binary.build: {"nlist": 1024, "index_type": "BIN_IVF_FLAT", "metric_type": "HAMMING"}.
AUTOINDEX_BINARY_NLIST = 1024
# knowhere's ScannConfig (sub_dim), DiskANNConfig (ranges) and the refine types its
# configs accept (lower case; "flat" is the same as "fp32"). DISKANN builds with
# Milvus's common.DiskIndex.MaxDegree / SearchListSize: the proxy's
# FillDiskIndexParams writes them over whatever the user sent.
SUB_DIM_RANGE = (1, 65536)
SUB_DIM_DEFAULT = 2
MAX_DEGREE_RANGE = (1, 2048)
MAX_DEGREE_MILVUS = 56
SEARCH_LIST_RANGE = (1, INT32_MAX)
SEARCH_LIST_MILVUS = 100
REFINE_TYPES = ("sq6", "sq8", "fp16", "bf16", "fp32", "flat")
# Milvus's SparseInvertedIndexAlgos (indexparamcheck/constraints.go); every one is served
# by the same exact inverted-index scoring here (see elanus.core.index.sparse_index).
SPARSE_ALGOS = ("TAAT_NAIVE", "DAAT_WAND", "DAAT_MAXSCORE", "BLOCK_MAX_MAXSCORE", "BLOCK_MAX_WAND", "SINDI")
SPARSE_ALGO_DEFAULT = "DAAT_MAXSCORE"


class IndexType(StrEnum):
    """Vector index types Elanus can build, spelled as Milvus spells them."""

    FLAT = "FLAT"
    IVF_FLAT = "IVF_FLAT"
    IVF_SQ8 = "IVF_SQ8"
    IVF_PQ = "IVF_PQ"
    HNSW = "HNSW"
    BIN_FLAT = "BIN_FLAT"
    BIN_IVF_FLAT = "BIN_IVF_FLAT"
    # Milvus types built as their closest faiss equivalent (see elanus.core.index.builder):
    IVF_RABITQ = "IVF_RABITQ"  # faiss IndexIVFRaBitQ, refined by an SQ/FP16/BF16/flat copy if asked
    SCANN = "SCANN"  # IVF + 4-bit PQ fast scan (m = dim / sub_dim), refined on raw vectors
    DISKANN = "DISKANN"  # an in-memory HNSW graph of degree max_degree (M = max_degree / 2)
    # Sparse vectors: an exact inverted index (postings per dimension), both types.
    SPARSE_INVERTED_INDEX = "SPARSE_INVERTED_INDEX"
    SPARSE_WAND = "SPARSE_WAND"

    @property
    def is_ivf(self) -> bool:
        """The float IVF types (faiss IndexIVF*); BIN_IVF_FLAT is binary, not this."""
        return self in (IndexType.IVF_FLAT, IndexType.IVF_SQ8, IndexType.IVF_PQ, IndexType.IVF_RABITQ,
                        IndexType.SCANN)

    @property
    def is_graph(self) -> bool:
        """Built as a faiss HNSW graph (HNSW, and DISKANN in memory)."""
        return self in (IndexType.HNSW, IndexType.DISKANN)

    @property
    def is_binary(self) -> bool:
        return self in (IndexType.BIN_FLAT, IndexType.BIN_IVF_FLAT)

    @property
    def is_sparse(self) -> bool:
        return self in (IndexType.SPARSE_INVERTED_INDEX, IndexType.SPARSE_WAND)


class MetricType(StrEnum):
    """Vector metrics. Scores follow Milvus: L2 is the *squared* distance
    (smaller is better); IP and COSINE are similarities (larger is better). The
    binary metrics are distances (smaller is better): HAMMING counts differing
    bits, JACCARD is ``1 - |a&b| / |a|b|``; SUBSTRUCTURE/SUPERSTRUCTURE are
    filters (rows containing / contained in the query) scoring 0."""

    L2 = "L2"
    IP = "IP"
    COSINE = "COSINE"
    HAMMING = "HAMMING"
    JACCARD = "JACCARD"
    SUBSTRUCTURE = "SUBSTRUCTURE"
    SUPERSTRUCTURE = "SUPERSTRUCTURE"

    @property
    def larger_is_better(self) -> bool:
        return self is MetricType.IP or self is MetricType.COSINE

    @property
    def is_binary(self) -> bool:
        return self in BINARY_VECTOR_METRICS


# Milvus's FloatVectorMetrics order, used verbatim in error texts.
FLOAT_VECTOR_METRICS: tuple[MetricType, ...] = (MetricType.L2, MetricType.IP, MetricType.COSINE)
# FloatVectorDefaultMetricType: AUTOINDEX and index-less search default to it.
DEFAULT_METRIC = MetricType.COSINE
# Milvus's BinaryVectorMetrics (less MHJACCARD, which needs MINHASH_LSH) and the
# subset knowhere's BIN_IVF_FLAT accepts; HAMMING is BinaryVectorDefaultMetricType.
BINARY_VECTOR_METRICS: tuple[MetricType, ...] = (
    MetricType.HAMMING, MetricType.JACCARD, MetricType.SUBSTRUCTURE, MetricType.SUPERSTRUCTURE)
BIN_IVF_METRICS: tuple[MetricType, ...] = (MetricType.HAMMING, MetricType.JACCARD)
DEFAULT_BINARY_METRIC = MetricType.HAMMING


@dataclass(frozen=True)
class IndexSpec:
    """A resolved vector index definition (see the module docstring for invariants).

    ``nlist`` applies to the IVF types, ``pq_m``/``nbits`` to IVF_PQ, ``hnsw_m``
    and ``ef_construction`` to HNSW, ``sub_dim`` to SCANN, ``max_degree`` and
    ``search_list_size`` to DISKANN. ``refine_type`` (one of :data:`REFINE_TYPES`,
    None for no refine step) to IVF_RABITQ and SCANN (``"flat"`` when SCANN keeps
    raw data). ``nlist`` is the *requested* list count: a segment with fewer rows
    than ``nlist`` is built with one list per row.
    """

    index_type: IndexType
    metric_type: MetricType
    dim: int
    nlist: int | None = None
    pq_m: int | None = None
    nbits: int | None = None
    hnsw_m: int | None = None
    ef_construction: int | None = None
    auto_index: bool = False
    vector_type: DataType = DataType.FLOAT_VECTOR
    sub_dim: int | None = None
    max_degree: int | None = None
    search_list_size: int | None = None
    refine_type: str | None = None
    drop_ratio_build: float | None = None
    inverted_index_algo: str | None = None

    def __post_init__(self) -> None:
        # These are programming errors (user input is checked, with Milvus's
        # texts, by parse_index_params), hence ValueError and not MilvusError.
        sparse = self.vector_type is DataType.SPARSE_FLOAT_VECTOR
        if sparse != self.index_type.is_sparse or (sparse and self.metric_type is not MetricType.IP):
            raise ValueError(f"{self.index_type}/{self.metric_type} cannot index a {self.vector_type.display}")
        if sparse:
            if self.dim != 0 or self.drop_ratio_build is None or not 0 <= self.drop_ratio_build < 1 \
                    or self.inverted_index_algo not in SPARSE_ALGOS:
                raise ValueError(f"invalid sparse index spec {self}")
        elif self.drop_ratio_build is not None or self.inverted_index_algo is not None:
            raise ValueError(f"sparse parameters do not apply to {self.index_type}")
        if self.dim < 1 and not sparse:
            raise ValueError(f"dim must be >= 1, got {self.dim}")
        binary = self.vector_type is DataType.BINARY_VECTOR
        if self.index_type.is_binary != binary or self.metric_type.is_binary != binary:
            raise ValueError(f"{self.index_type}/{self.metric_type} cannot index a {self.vector_type.display}")
        if binary and self.dim % 8:
            raise ValueError(f"binary dim must be a multiple of 8, got {self.dim}")
        wanted = _PARAMS_OF[self.index_type]
        for name, (lo, hi) in _ALL_RANGES.items():
            value = getattr(self, name)
            if name in wanted:
                if value is None or not lo <= value <= hi:
                    raise ValueError(f"{self.index_type} needs {name} in [{lo}, {hi}], got {value}")
            elif value is not None:
                raise ValueError(f"{name} does not apply to {self.index_type}")
        if self.pq_m is not None and self.dim % self.pq_m:
            raise ValueError(f"dim {self.dim} is not a multiple of m {self.pq_m}")
        if self.sub_dim is not None and self.dim % self.sub_dim:
            raise ValueError(f"dim {self.dim} is not a multiple of sub_dim {self.sub_dim}")
        if self.refine_type is not None and (self.index_type not in _REFINED
                                             or self.refine_type not in REFINE_TYPES):
            raise ValueError(f"refine type {self.refine_type!r} does not apply to {self.index_type}")

    def to_params(self) -> dict[str, str]:
        """The build parameters under Milvus's names, as ``DescribeIndex`` shows them
        (``index_type``, ``metric_type``, ``nlist``, ``m``, ``nbits``, ``M``,
        ``efConstruction``); ``AUTOINDEX`` is reported as the user wrote it."""
        out = {
            "index_type": AUTOINDEX if self.auto_index else str(self.index_type),
            "metric_type": str(self.metric_type),
        }
        if self.auto_index:
            return out
        for name, milvus_name in _MILVUS_NAMES.items():
            value = getattr(self, name)
            if value is not None:
                out[milvus_name] = str(value)
        if self.index_type is IndexType.IVF_RABITQ and self.refine_type is not None:
            out.update(refine="true", refine_type=self.refine_type)
        if self.index_type is IndexType.SCANN:
            out["with_raw_data"] = "true" if self.refine_type is not None else "false"
        if self.index_type.is_sparse:
            out.update(drop_ratio_build=f"{self.drop_ratio_build:g}",
                       inverted_index_algo=str(self.inverted_index_algo))
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` inverts it exactly."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexSpec:
        fields = dict(data)
        fields["index_type"] = IndexType(fields["index_type"])
        fields["metric_type"] = MetricType(fields["metric_type"])
        fields["vector_type"] = DataType(fields.get("vector_type", DataType.FLOAT_VECTOR))
        return cls(**fields)


_ALL_RANGES: dict[str, tuple[int, int]] = {
    "nlist": NLIST_RANGE,
    "pq_m": PQ_M_RANGE,
    "nbits": NBITS_RANGE,
    "hnsw_m": HNSW_M_RANGE,
    "ef_construction": EF_CONSTRUCTION_RANGE,
    "sub_dim": SUB_DIM_RANGE,
    "max_degree": MAX_DEGREE_RANGE,
    "search_list_size": SEARCH_LIST_RANGE,
}
_PARAMS_OF: dict[IndexType, frozenset[str]] = {
    IndexType.FLAT: frozenset(),
    IndexType.IVF_FLAT: frozenset({"nlist"}),
    IndexType.IVF_SQ8: frozenset({"nlist"}),
    IndexType.IVF_PQ: frozenset({"nlist", "pq_m", "nbits"}),
    IndexType.HNSW: frozenset({"hnsw_m", "ef_construction"}),
    IndexType.BIN_FLAT: frozenset(),
    IndexType.BIN_IVF_FLAT: frozenset({"nlist"}),
    IndexType.IVF_RABITQ: frozenset({"nlist"}),
    IndexType.SCANN: frozenset({"nlist", "sub_dim"}),
    IndexType.DISKANN: frozenset({"max_degree", "search_list_size"}),
    IndexType.SPARSE_INVERTED_INDEX: frozenset(),
    IndexType.SPARSE_WAND: frozenset(),
}
# Index types that may carry a refine step (a second, more exact copy that re-ranks).
_REFINED = (IndexType.IVF_RABITQ, IndexType.SCANN)
_MILVUS_NAMES: dict[str, str] = {
    "nlist": "nlist",
    "pq_m": "m",
    "nbits": "nbits",
    "hnsw_m": "M",
    "ef_construction": "efConstruction",
    "sub_dim": "sub_dim",
    "max_degree": "max_degree",
    "search_list_size": "search_list_size",
}
