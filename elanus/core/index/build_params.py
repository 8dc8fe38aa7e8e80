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
from elanus.core.index.param_values import string_param
from elanus.core.index.spec import (
    AUTOINDEX,
    AUTOINDEX_EF_CONSTRUCTION,
    AUTOINDEX_HNSW_M,
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

# Vector index types Milvus (knowhere) knows but Elanus does not build yet: asking
# for one is "not supported", not "invalid", because the request is valid Milvus.
_MILVUS_ONLY_VECTOR_TYPES = frozenset({
    "IVF_FLAT_CC", "IVF_SQ_CC", "IVF_RABITQ", "SCANN", "HNSW_SQ", "HNSW_PQ", "HNSW_PRQ",
    "DISKANN", "AISAQ", "BIN_FLAT", "BIN_IVF_FLAT", "SPARSE_INVERTED_INDEX", "SPARSE_WAND",
    "MINHASH_LSH", "GPU_CAGRA", "GPU_IVF_FLAT", "GPU_IVF_PQ", "GPU_BRUTE_FORCE",
})
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

    - A missing/empty ``index_type`` or ``AUTOINDEX`` resolves to HNSW with
      Milvus's AUTOINDEX parameters; only ``metric_type`` may accompany it.
    - The metric defaults to COSINE only for AUTOINDEX; an explicit index type
      without ``metric_type`` is rejected, as in Milvus.
    - Build parameters absent from ``params`` take knowhere's defaults; keys
      that do not apply to the index type are ignored (knowhere ignores them).

    Raises ``MilvusError`` 1100 for invalid requests and 701 for valid Milvus
    requests Elanus cannot serve yet (non-FloatVector fields, other index types).
    """
    flat = expand_params(params)
    requested = flat.get(INDEX_TYPE_KEY, "")
    if not field.dtype.is_vector:
        raise invalid_parameter(f"index {requested or AUTOINDEX} only supports vector data type")
    if field.dtype is not DataType.FLOAT_VECTOR:
        raise MilvusError(
            INDEX_NOT_SUPPORTED,
            f"index type not supported: indexes on {field.dtype.display} fields are not supported "
            f"yet (field {field.name}); only FloatVector fields can be indexed")
    if field.dim < 1:
        raise invalid_parameter(
            "failed to check vector dimension, should be larger than 0 and smaller than math.MaxInt")
    if requested in ("", AUTOINDEX):
        return _auto_index(field, flat)
    index_type = _index_type(requested, field)
    metric = _metric(flat.get(METRIC_TYPE_KEY))
    return _with_build_params(index_type, metric, field.dim, flat)


def _auto_index(field: FieldSchema, flat: dict[str, str]) -> IndexSpec:
    # Besides index_type itself, Milvus lets AUTOINDEX carry metric_type and nothing else.
    if set(flat) - {INDEX_TYPE_KEY, METRIC_TYPE_KEY}:
        raise invalid_parameter("only metric type can be passed when use AutoIndex")
    metric = _metric(flat.get(METRIC_TYPE_KEY, str(DEFAULT_METRIC)))
    return IndexSpec(IndexType.HNSW, metric, field.dim, hnsw_m=AUTOINDEX_HNSW_M,
                     ef_construction=AUTOINDEX_EF_CONSTRUCTION, auto_index=True)


def _index_type(requested: str, field: FieldSchema) -> IndexType:
    try:
        return IndexType(requested)
    except ValueError:
        pass
    if requested in _MILVUS_ONLY_VECTOR_TYPES:
        raise MilvusError(INDEX_NOT_SUPPORTED,
                          f"index type not supported[index_type={requested}]: not supported yet by Elanus, "
                          f"supported: {_go_list(list(IndexType))}")
    if requested in _SCALAR_INDEX_TYPES:
        raise invalid_parameter(f"data type {field.dtype.display} can't build with this index {requested}")
    # merr.WrapErrParameterInvalid("valid index", "invalid index type: X")
    raise MilvusError(PARAMETER_INVALID,
                      f"invalid parameter[expected=valid index][actual=invalid index type: {requested}]")


def _metric(raw: str | None) -> MetricType:
    if raw is None:
        raise _invalid_index_params("metric type not set for vector index")
    if raw not in FLOAT_VECTOR_METRICS:
        raise _invalid_index_params(f"float vector index does not support metric type: {raw}")
    return MetricType(raw)


def _with_build_params(index_type: IndexType, metric: MetricType, dim: int,
                       flat: dict[str, str]) -> IndexSpec:
    if index_type is IndexType.FLAT:
        return IndexSpec(index_type, metric, dim)
    if index_type is IndexType.HNSW:
        return IndexSpec(index_type, metric, dim,
                         hnsw_m=string_param(flat, "M", HNSW_M_RANGE, HNSW_M_DEFAULT),
                         ef_construction=string_param(flat, "efConstruction", EF_CONSTRUCTION_RANGE,
                                                      EF_CONSTRUCTION_DEFAULT))
    nlist = string_param(flat, "nlist", NLIST_RANGE, NLIST_DEFAULT)
    if index_type is not IndexType.IVF_PQ:
        return IndexSpec(index_type, metric, dim, nlist=nlist)
    # knowhere's IvfPqConfig: m has no default; nbits defaults to 8.
    pq_m = string_param(flat, "m", PQ_M_RANGE, None)
    nbits = string_param(flat, "nbits", NBITS_RANGE, NBITS_DEFAULT)
    if dim % pq_m:
        raise invalid_parameter(
            "The dimension of a vector (dim) should be a multiple of the number of subquantizers (m). "
            f"Dimension: {dim}, m: {pq_m}")
    return IndexSpec(index_type, metric, dim, nlist=nlist, pq_m=pq_m, nbits=nbits)


def _invalid_index_params(detail: str) -> MilvusError:
    # merr.WrapErrParameterInvalid("valid index params", "invalid index params", detail)
    fields = "[expected=valid index params][actual=invalid index params]"
    return MilvusError(PARAMETER_INVALID, f"{detail}: invalid parameter{fields}")


def _go_list(items: list[IndexType]) -> str:
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
