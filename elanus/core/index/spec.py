"""What a vector index is: its type, metric and build parameters.

An :class:`IndexSpec` is the validated, resolved form of a ``CreateIndex``
request for one vector field. It is produced by
:func:`elanus.core.index.build_params.parse_index_params` and consumed by
``build``; it is also written into every serialized index so a loaded index
knows how it was made.

Invariants of an ``IndexSpec`` (checked in ``__post_init__``):

- ``dim >= 1``;
- the build parameters of its own index type are set and in Milvus's ranges,
  and the parameters of other index types are ``None`` (so two specs that
  build the same index compare equal);
- ``AUTOINDEX`` never appears: it is resolved to a concrete type, and
  ``auto_index`` remembers that the user asked for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

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


class IndexType(StrEnum):
    """Vector index types Elanus can build, spelled as Milvus spells them."""

    FLAT = "FLAT"
    IVF_FLAT = "IVF_FLAT"
    IVF_SQ8 = "IVF_SQ8"
    IVF_PQ = "IVF_PQ"
    HNSW = "HNSW"

    @property
    def is_ivf(self) -> bool:
        return self in (IndexType.IVF_FLAT, IndexType.IVF_SQ8, IndexType.IVF_PQ)


class MetricType(StrEnum):
    """Float-vector metrics. Scores follow Milvus: L2 is the *squared* distance
    (smaller is better); IP and COSINE are similarities (larger is better)."""

    L2 = "L2"
    IP = "IP"
    COSINE = "COSINE"

    @property
    def larger_is_better(self) -> bool:
        return self is not MetricType.L2


# Milvus's FloatVectorMetrics order, used verbatim in error texts.
FLOAT_VECTOR_METRICS: tuple[MetricType, ...] = (MetricType.L2, MetricType.IP, MetricType.COSINE)
# FloatVectorDefaultMetricType: AUTOINDEX and index-less search default to it.
DEFAULT_METRIC = MetricType.COSINE


@dataclass(frozen=True)
class IndexSpec:
    """A resolved vector index definition (see the module docstring for invariants).

    ``nlist`` applies to the IVF types, ``pq_m``/``nbits`` to IVF_PQ, ``hnsw_m``
    and ``ef_construction`` to HNSW. ``nlist`` is the *requested* list count:
    a segment with fewer rows than ``nlist`` is built with one list per row.
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

    def __post_init__(self) -> None:
        # These are programming errors (user input is checked, with Milvus's
        # texts, by parse_index_params), hence ValueError and not MilvusError.
        if self.dim < 1:
            raise ValueError(f"dim must be >= 1, got {self.dim}")
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
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` inverts it exactly."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexSpec:
        fields = dict(data)
        fields["index_type"] = IndexType(fields["index_type"])
        fields["metric_type"] = MetricType(fields["metric_type"])
        return cls(**fields)


_ALL_RANGES: dict[str, tuple[int, int]] = {
    "nlist": NLIST_RANGE,
    "pq_m": PQ_M_RANGE,
    "nbits": NBITS_RANGE,
    "hnsw_m": HNSW_M_RANGE,
    "ef_construction": EF_CONSTRUCTION_RANGE,
}
_PARAMS_OF: dict[IndexType, frozenset[str]] = {
    IndexType.FLAT: frozenset(),
    IndexType.IVF_FLAT: frozenset({"nlist"}),
    IndexType.IVF_SQ8: frozenset({"nlist"}),
    IndexType.IVF_PQ: frozenset({"nlist", "pq_m", "nbits"}),
    IndexType.HNSW: frozenset({"hnsw_m", "ef_construction"}),
}
_MILVUS_NAMES: dict[str, str] = {
    "nlist": "nlist",
    "pq_m": "m",
    "nbits": "nbits",
    "hnsw_m": "M",
    "ef_construction": "efConstruction",
}
