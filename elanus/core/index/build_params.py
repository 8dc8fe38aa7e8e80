"""Validating a ``CreateIndex`` request for a vector field into an :class:`IndexSpec`.

:func:`parse_index_params` is the one gate between user-supplied index
parameters and the index builder. It follows Milvus's order of checks
(proxy ``createIndexTask.parseIndexParams`` then knowhere's config check)
and its error texts, so a client sees the same failure for the same
request. Every rejection is a :class:`MilvusError`; everything it returns
satisfies the :class:`IndexSpec` invariants.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np

from elanus.core.errors import INDEX_NOT_SUPPORTED, PARAMETER_INVALID, MilvusError, invalid_parameter
from elanus.core.index.extra_params import EXTRA_TYPES, extra_spec
from elanus.core.index.param_values import string_param
from elanus.core.index.sparse_params import sparse_spec
from elanus.core.index.spec import (
    AUTOINDEX,
    AUTOINDEX_BINARY_NLIST,
    AUTOINDEX_EF_CONSTRUCTION,
    AUTOINDEX_HNSW_M,
    BIN_IVF_METRICS,
    BINARY_VECTOR_METRICS,
    DEFAULT_BINARY_METRIC,
    DEFAULT_METRIC,
    EF_CONSTRUCTION_DEFAULT,
    EF_CONSTRUCTION_RANGE,
    FLOAT_VECTOR_METRICS,
    HNSW_M_DEFAULT,
    HNSW_M_RANGE,
    NBITS_DEFAULT,
    NBITS_RANGE,
    NLIST_DEFAULT,
    NLIST_RANGE,
    PQ_M_RANGE,
    IndexSpec,
    IndexType,
    MetricType,
)
from elanus.core.schema import DataType, FieldSchema

INDEX_TYPE_KEY = "index_type"
METRIC_TYPE_KEY = "metric_type"
PARAMS_KEY = "params"

# Vector index types Milvus (knowhere) builds for each vector type. Asking for one
# Elanus does not build is "not supported" (the request is valid Milvus); asking for
# one the field's type cannot have is Milvus's "can't build with this index".
_FLOAT_INDEXES = frozenset({
    "FLAT", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW", "IVF_FLAT_CC", "IVF_SQ_CC", "IVF_RABITQ", "SCANN",
    "HNSW_SQ", "HNSW_PQ", "HNSW_PRQ", "DISKANN", "AISAQ", "GPU_CAGRA", "GPU_IVF_FLAT", "GPU_IVF_PQ",
    "GPU_BRUTE_FORCE",
})
_MILVUS_INDEXES: dict[DataType, frozenset[str]] = {
    DataType.FLOAT_VECTOR: _FLOAT_INDEXES,
    DataType.FLOAT16_VECTOR: _FLOAT_INDEXES,
    DataType.BFLOAT16_VECTOR: _FLOAT_INDEXES,
    DataType.INT8_VECTOR: frozenset({"HNSW", "HNSW_SQ", "HNSW_PQ", "HNSW_PRQ"}),
    DataType.BINARY_VECTOR: frozenset({"BIN_FLAT", "BIN_IVF_FLAT", "HNSW", "MINHASH_LSH"}),
}
_MILVUS_VECTOR_TYPES = frozenset().union(*_MILVUS_INDEXES.values(),
                                         {"SPARSE_INVERTED_INDEX", "SPARSE_WAND"})
_FLOAT_BUILT = (IndexType.FLAT, IndexType.IVF_FLAT, IndexType.IVF_SQ8, IndexType.IVF_PQ, IndexType.HNSW,
                *EXTRA_TYPES)
# What Elanus builds per vector type (Float16/BFloat16/Int8 are indexed as float32).
_BUILT: dict[DataType, tuple[IndexType, ...]] = {
    DataType.FLOAT_VECTOR: _FLOAT_BUILT,
    DataType.FLOAT16_VECTOR: _FLOAT_BUILT,
    DataType.BFLOAT16_VECTOR: _FLOAT_BUILT,
    DataType.INT8_VECTOR: (IndexType.HNSW,),
    DataType.BINARY_VECTOR: (IndexType.BIN_FLAT, IndexType.BIN_IVF_FLAT),
}
_SCALAR_INDEX_TYPES = frozenset({
    "STL_SORT", "TRIE", "Trie", "BITMAP", "HYBRID", "INVERTED", "NGRAM", "RTREE",
})


def expand_params(params: Mapping[str, str]) -> dict[str, str]:
    """Flatten the legacy ``params`` JSON entry into the map, as Milvus's
    ``ExpandIndexParams`` does (values rendered like Go's ``%v``)."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if key != PARAMS_KEY:
            out[key] = value
            continue
        try:
            nested = json.loads(value)
        except ValueError as exc:
            raise invalid_parameter(f"unmarshal params failed: {exc}") from None
        if not isinstance(nested, dict):
            raise invalid_parameter("unmarshal params failed: params is not a JSON object")
        out.update({str(k): _go_text(v) for k, v in nested.items()})
    return out


def parse_index_params(field: FieldSchema, params: Mapping[str, str]) -> IndexSpec:
    """Validate ``params`` (the request's ``extra_params``) for an index on ``field``.

    - A missing/empty ``index_type`` or ``AUTOINDEX`` resolves to Milvus's
      AUTOINDEX build: HNSW for Float/Float16/BFloat16/Int8 vectors,
      BIN_IVF_FLAT (nlist 1024) for binary ones; only ``metric_type`` may
      accompany it.
    - The metric defaults (COSINE, HAMMING for binary vectors) only for AUTOINDEX;
      an explicit index type without ``metric_type`` is rejected, as in Milvus.
    - Build parameters absent from ``params`` take knowhere's defaults; keys
      that do not apply to the index type are ignored (knowhere ignores them).

    Sparse fields are checked by :func:`~elanus.core.index.sparse_params.sparse_spec`.

    Raises ``MilvusError`` 1100 for invalid requests and 701 for valid Milvus
    requests Elanus cannot serve yet (other index types).
    """
    flat = expand_params(params)
    requested = flat.get(INDEX_TYPE_KEY, "")
    dtype = field.dtype
    if not dtype.is_vector:
        raise invalid_parameter(f"index {requested or AUTOINDEX} only supports vector data type")
    if dtype is DataType.SPARSE_FLOAT_VECTOR:
        if requested not in ("", AUTOINDEX):
            _check_known_type(requested, field)
        return sparse_spec(field, flat)
    if dtype not in _BUILT:
        raise MilvusError(
            INDEX_NOT_SUPPORTED,
            f"index type not supported: indexes on {dtype.display} fields are not supported "
            f"yet by Elanus (field {field.name})")
    if field.dim < 1:
        raise invalid_parameter(
            "failed to check vector dimension, should be larger than 0 and smaller than math.MaxInt")
    if requested in ("", AUTOINDEX):
        return _auto_index(field, flat)
    _check_known_type(requested, field)
    metric = _metric(flat.get(METRIC_TYPE_KEY), dtype)
    index_type = _index_type(requested, field)
    _check_index_metric(index_type, metric)
    return _with_build_params(index_type, metric, field, flat)


def _auto_index(field: FieldSchema, flat: dict[str, str]) -> IndexSpec:
    # Besides index_type itself, Milvus lets AUTOINDEX carry metric_type and nothing else.
    if set(flat) - {INDEX_TYPE_KEY, METRIC_TYPE_KEY}:
        raise invalid_parameter("only metric type can be passed when use AutoIndex")
    binary = field.dtype is DataType.BINARY_VECTOR
    default = DEFAULT_BINARY_METRIC if binary else DEFAULT_METRIC
    metric = _metric(flat.get(METRIC_TYPE_KEY, str(default)), field.dtype)
    if binary:
        _check_index_metric(IndexType.BIN_IVF_FLAT, metric)
        return IndexSpec(IndexType.BIN_IVF_FLAT, metric, field.dim, nlist=AUTOINDEX_BINARY_NLIST,
                         auto_index=True, vector_type=field.dtype)
    return IndexSpec(IndexType.HNSW, metric, field.dim, hnsw_m=AUTOINDEX_HNSW_M,
                     ef_construction=AUTOINDEX_EF_CONSTRUCTION, auto_index=True, vector_type=field.dtype)


def _check_known_type(requested: str, field: FieldSchema) -> None:
    """Reject index types Milvus has no vector index of (its checker lookup)."""
    if requested in _MILVUS_VECTOR_TYPES:
        return
    if requested in _SCALAR_INDEX_TYPES:
        raise invalid_parameter(f"data type {field.dtype.display} can't build with this index {requested}")
    # merr.WrapErrParameterInvalid("valid index", "invalid index type: X")
    raise MilvusError(PARAMETER_INVALID,
                      f"invalid parameter[expected=valid index][actual=invalid index type: {requested}]")


def _index_type(requested: str, field: FieldSchema) -> IndexType:
    """The index type for a vector type Milvus builds it for, if Elanus builds it too."""
    if requested not in _MILVUS_INDEXES[field.dtype]:
        raise invalid_parameter(f"data type {field.dtype.display} can't build with this index {requested}")
    built = _BUILT[field.dtype]
    if requested not in built:
        raise MilvusError(INDEX_NOT_SUPPORTED,
                          f"index type not supported[index_type={requested}]: not supported yet by Elanus, "
                          f"supported: {_go_list(list(built))}")
    return IndexType(requested)


def _metric(raw: str | None, dtype: DataType) -> MetricType:
    """The metric, checked against the vector type's metrics (createIndexTask's texts)."""
    if raw is None:
        raise _invalid_index_params("metric type not set for vector index")
    if dtype is DataType.BINARY_VECTOR:
        if raw == "MHJACCARD":
            raise MilvusError(INDEX_NOT_SUPPORTED, "metric type MHJACCARD is not supported yet by Elanus")
        if raw not in BINARY_VECTOR_METRICS:
            raise _invalid_index_params(f"binary vector index does not support metric type: {raw}")
    elif raw not in FLOAT_VECTOR_METRICS:
        kind = "int" if dtype is DataType.INT8_VECTOR else "float"
        raise _invalid_index_params(f"{kind} vector index does not support metric type: {raw}")
    return MetricType(raw)


def _check_index_metric(index_type: IndexType, metric: MetricType) -> None:
    """knowhere's per-index metric list: BIN_IVF_FLAT takes only HAMMING and JACCARD."""
    if index_type is IndexType.BIN_IVF_FLAT and metric not in BIN_IVF_METRICS:
        raise invalid_parameter(f"metric type {metric} not found or not supported, "
                                f"supported: {_go_list(list(BIN_IVF_METRICS))}")


def _with_build_params(index_type: IndexType, metric: MetricType, field: FieldSchema,
                       flat: dict[str, str]) -> IndexSpec:
    dim, vtype = field.dim, field.dtype
    if index_type in EXTRA_TYPES:
        return extra_spec(index_type, metric, field, flat)
    if index_type in (IndexType.FLAT, IndexType.BIN_FLAT):
        return IndexSpec(index_type, metric, dim, vector_type=vtype)
    if index_type is IndexType.HNSW:
        return IndexSpec(index_type, metric, dim,
                         hnsw_m=string_param(flat, "M", HNSW_M_RANGE, HNSW_M_DEFAULT),
                         ef_construction=string_param(flat, "efConstruction", EF_CONSTRUCTION_RANGE,
                                                      EF_CONSTRUCTION_DEFAULT), vector_type=vtype)
    nlist = string_param(flat, "nlist", NLIST_RANGE, NLIST_DEFAULT)
    if index_type is not IndexType.IVF_PQ:
        return IndexSpec(index_type, metric, dim, nlist=nlist, vector_type=vtype)
    # knowhere's IvfPqConfig: m has no default; nbits defaults to 8.
    pq_m = string_param(flat, "m", PQ_M_RANGE, None)
    nbits = string_param(flat, "nbits", NBITS_RANGE, NBITS_DEFAULT)
    if dim % pq_m:
        raise invalid_parameter(
            "The dimension of a vector (dim) should be a multiple of the number of subquantizers (m). "
            f"Dimension: {dim}, m: {pq_m}")
    return IndexSpec(index_type, metric, dim, nlist=nlist, pq_m=pq_m, nbits=nbits, vector_type=vtype)


def _invalid_index_params(detail: str) -> MilvusError:
    # merr.WrapErrParameterInvalid("valid index params", "invalid index params", detail)
    fields = "[expected=valid index params][actual=invalid index params]"
    return MilvusError(PARAMETER_INVALID, f"{detail}: invalid parameter{fields}")


def _go_list(items: list[IndexType] | list[MetricType]) -> str:
    return "[" + " ".join(str(i) for i in items) + "]"


def _go_text(value: object) -> str:
    # fmt.Sprintf("%v") of a json.Unmarshal'ed value: JSON numbers decode to
    # float64 in Go and print as %g with shortest digits (128 -> "128",
    # 1000000 -> "1e+06"), bools lower-case, null as <nil>.
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            return str(value)
        scientific = np.format_float_scientific(number, unique=True, trim="-", exp_digits=2)
        exponent = int(scientific.rsplit("e", 1)[1])
        if exponent < -4 or exponent >= 6:
            return scientific
        return np.format_float_positional(number, unique=True, trim="-")
    return str(value)
