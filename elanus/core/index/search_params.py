"""Validating a search request's metric and ``params`` against the index being searched.

:func:`parse_search_params` turns the decoded ``params`` JSON of a
``Search`` request into :class:`SearchParams`, with Milvus's checks and
texts: a metric that differs from the index's is
``metric type not match: invalid parameter[expected=L2][actual=IP]``;
``ef``/``nprobe`` are read as knowhere reads them (strings of digits are
accepted, floats/bools are a "Type conflict", ranges are knowhere's). DISKANN
(an HNSW graph here) takes its list size as ``search_list_size``; IVF_RABITQ
takes ``refine_k`` (a float >= 1) and ``rbq_bits_query`` (checked; queries are
never quantized); SCANN takes ``reorder_k`` (>= k).

Keys that do not apply to the index are ignored, as knowhere ignores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from elanus.core.errors import OPERATION_NOT_SUPPORTED, PARAMETER_INVALID, MilvusError, invalid_parameter
from elanus.core.index.param_values import float_json_param, json_param
from elanus.core.index.sparse_params import drop_ratio_search
from elanus.core.index.spec import (
    DEFAULT_METRIC,
    EF_MIN_DEFAULT,
    EF_RANGE,
    FLOAT_VECTOR_METRICS,
    NPROBE_DEFAULT,
    NPROBE_RANGE,
    IndexSpec,
    IndexType,
    MetricType,
)

_RANGE_SEARCH_KEYS = ("radius", "range_filter")
# knowhere's IvfRaBitQConfig.rbq_bits_query and ScannConfig.reorder_k ranges.
RBQ_BITS_QUERY_RANGE = (0, 8)
REORDER_K_RANGE = (1, 2**31 - 1)


@dataclass(frozen=True)
class SearchParams:
    """How to search one index (or, with no index, a brute-force scan).

    ``ef`` is the user's HNSW ``ef`` (``None``: knowhere's default
    ``max(k, 16)``, see :meth:`ef_for`); ``nprobe`` is the number of IVF lists
    probed. Both are within knowhere's ranges.
    """

    metric_type: MetricType
    ef: int | None = None
    nprobe: int = NPROBE_DEFAULT
    refine_k: float | None = None  # IVF_RABITQ: refine_k * k candidates are re-ranked
    reorder_k: int | None = None  # SCANN: this many candidates are re-ranked (default k)
    ef_key: str = "ef"  # the graph search-list parameter's name (DISKANN: search_list_size)
    drop_ratio_search: float = 0.0  # sparse: share of each query's smallest values ignored

    def ef_for(self, k: int) -> int:
        """The HNSW candidate-list size for a top-``k`` search.

        Raises MilvusError 1100 (knowhere's text) when an explicit ``ef`` is below ``k``.
        """
        if self.ef is None:
            return max(k, EF_MIN_DEFAULT)
        if k > self.ef:
            raise invalid_parameter(f"{self.ef_key}({self.ef}) should be larger than k({k})")
        return self.ef

    def refine_factor(self, k: int) -> float:
        """How many times ``k`` candidates a refined index re-ranks (faiss ``k_factor``)."""
        if self.reorder_k is not None:
            return max(1.0, self.reorder_k / k)
        return 1.0 if self.refine_k is None else self.refine_k


def parse_search_params(spec: IndexSpec | None, metric: str | None, params: Mapping[str, Any], *,
                        k: int | None = None) -> SearchParams:
    """Validate a search's metric and ``params`` for an index built from ``spec``.

    ``spec`` is ``None`` when no index exists (brute-force search over raw
    vectors); ``metric`` is the request's ``metric_type`` (``None`` or ``""``:
    the index's metric, or COSINE without an index). A ``metric_type`` or a
    nested ``params`` object inside ``params`` (legacy client layouts) is
    honoured. When ``k`` is given, an explicit HNSW ``ef < k`` is rejected here
    rather than at search time.

    Raises MilvusError 1100 for invalid parameters and 3000 for range search,
    which Elanus does not implement yet.
    """
    flat = dict(params)
    nested = flat.pop("params", None)
    if isinstance(nested, Mapping):
        flat.update(nested)
    if not metric:
        embedded = flat.get("metric_type")
        metric = embedded if isinstance(embedded, str) and embedded else None
    if any(key in flat for key in _RANGE_SEARCH_KEYS):
        raise MilvusError(OPERATION_NOT_SUPPORTED, "unsupported operation: range search is not supported yet")

    if spec is not None and spec.index_type.is_sparse:
        return SearchParams(_resolve_metric(spec, metric), drop_ratio_search=drop_ratio_search(flat))
    resolved = _resolve_metric(spec, metric)
    if spec is None or spec.index_type is IndexType.FLAT or spec.index_type is IndexType.BIN_FLAT:
        return SearchParams(resolved)
    if spec.index_type.is_graph:
        key = "ef" if spec.index_type is IndexType.HNSW else "search_list_size"
        result = SearchParams(resolved, ef=json_param(flat, key, EF_RANGE), ef_key=key)
        if k is not None:
            result.ef_for(k)
        return result
    nprobe = json_param(flat, "nprobe", NPROBE_RANGE)
    nprobe = NPROBE_DEFAULT if nprobe is None else nprobe
    if spec.index_type is IndexType.IVF_RABITQ:
        json_param(flat, "rbq_bits_query", RBQ_BITS_QUERY_RANGE)  # checked; queries are not quantized
        return SearchParams(resolved, nprobe=nprobe, refine_k=float_json_param(flat, "refine_k", 1.0))
    if spec.index_type is IndexType.SCANN:
        reorder_k = json_param(flat, "reorder_k", REORDER_K_RANGE)
        if reorder_k is not None and k is not None and reorder_k < k:
            raise invalid_parameter(f"reorder_k({reorder_k}) should be larger than k({k})")
        return SearchParams(resolved, nprobe=nprobe, reorder_k=reorder_k)
    return SearchParams(resolved, nprobe=nprobe)


def _resolve_metric(spec: IndexSpec | None, metric: str | None) -> MetricType:
    if spec is not None:
        if metric is not None and metric != spec.metric_type:
            raise metric_mismatch(spec.metric_type, metric)
        return spec.metric_type
    if metric is None:
        return DEFAULT_METRIC
    if metric not in FLOAT_VECTOR_METRICS:
        supported = "[" + " ".join(FLOAT_VECTOR_METRICS) + "]"
        raise invalid_parameter(f"metric type {metric} not found or not supported, supported: {supported}")
    return MetricType(metric)


def metric_mismatch(expected: str, actual: str) -> MilvusError:
    """segcore's ``merr.WrapErrParameterInvalid(expected, actual, "metric type not match")``."""
    return MilvusError(PARAMETER_INVALID,
                       f"metric type not match: invalid parameter[expected={expected}][actual={actual}]")
