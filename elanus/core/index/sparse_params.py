"""Build and search parameters of the sparse-vector indexes (SPARSE_INVERTED_INDEX,
SPARSE_WAND), checked in Milvus's order with its texts:

- build: ``metric_type`` must be set (``metric type not set for vector index``) and be IP
  (Milvus's proxy: ``only IP&BM25 is the supported metric type for sparse index``; BM25
  needs a BM25 function, which Elanus does not have); the index type must be a sparse one;
  ``inverted_index_algo`` one of :data:`~elanus.core.index.spec.SPARSE_ALGOS`
  (indexparamcheck's text); ``drop_ratio_build`` a float in ``[0, 1)`` (knowhere's range
  text). AUTOINDEX resolves to SPARSE_INVERTED_INDEX / IP, as Milvus's sparse autoindex.
- search: ``drop_ratio_search`` in ``[0, 1)`` and ``dim_max_score_ratio`` in
  ``[0.5, 1.3]`` (knowhere's ranges). The scoring here is exact, so
  ``dim_max_score_ratio`` (an approximation knob of the WAND/MAXSCORE algorithms) is
  only checked.

The posting-storage keys (``quant_type``, ``inverted_index_codec``,
``sindi_window_size``, ``block_max_block_size``) are range-checked as knowhere checks them,
then ignored: the exact index has no use for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elanus.core.errors import PARAMETER_INVALID, MilvusError, invalid_parameter
from elanus.core.index.param_values import check_range, int_from_string
from elanus.core.index.spec import (
    AUTOINDEX,
    SPARSE_ALGO_DEFAULT,
    SPARSE_ALGOS,
    IndexSpec,
    IndexType,
    MetricType,
)
from elanus.core.schema import DataType, FieldSchema

SPARSE_INDEX_TYPES = ("SPARSE_INVERTED_INDEX", "SPARSE_WAND")
DROP_RATIO_RANGE = (0.0, 1.0)  # [lo, hi)
DIM_MAX_SCORE_RATIO_RANGE = (0.5, 1.3)  # [lo, hi]
IP_QUANT_TYPES = ("fp32", "fp16")
CODECS = ("block_streamvbyte", "block_maskedvbyte")
SINDI_WINDOW_RANGE = (1024, 65535)
BLOCK_SIZE_RANGE = (1, 2**31 - 1)


def _invalid_index_params(detail: str) -> MilvusError:
    fields = "[expected=valid index params][actual=invalid index params]"
    return MilvusError(PARAMETER_INVALID, f"{detail}: invalid parameter{fields}")


def sparse_spec(field: FieldSchema, flat: Mapping[str, str]) -> IndexSpec:
    """The spec of an index on sparse field ``field`` (``flat``: the expanded request
    params). Raises MilvusError 1100 with Milvus's texts."""
    requested = flat.get("index_type", "")
    auto = requested in ("", AUTOINDEX)
    metric = flat.get("metric_type", "IP" if auto else None)
    if metric is None:
        raise _invalid_index_params("metric type not set for vector index")
    if metric != "IP":
        if metric == "BM25":
            raise _invalid_index_params("only BM25 Function output field support BM25 metric type")
        raise _invalid_index_params("only IP&BM25 is the supported metric type for sparse index")
    index_type = IndexType.SPARSE_INVERTED_INDEX if auto else requested
    if index_type not in SPARSE_INDEX_TYPES:
        raise invalid_parameter(f"data type {field.dtype.display} can't build with this index {requested}")
    algo = flat.get("inverted_index_algo", SPARSE_ALGO_DEFAULT)
    if algo not in SPARSE_ALGOS:
        raise invalid_parameter(f"sparse inverted index algo {algo} not found or not supported, "
                                f"supported: [{' '.join(SPARSE_ALGOS)}]")
    _check_storage_params(flat)
    drop = _float_param(flat, "drop_ratio_build", DROP_RATIO_RANGE, upper_open=True)
    return IndexSpec(IndexType(index_type), MetricType.IP, 0, auto_index=auto,
                     vector_type=DataType.SPARSE_FLOAT_VECTOR,
                     drop_ratio_build=0.0 if drop is None else drop, inverted_index_algo=algo)


def _check_storage_params(flat: Mapping[str, str]) -> None:
    """Posting-storage knobs knowhere checks (they change nothing in the exact index here)."""
    quant = flat.get("quant_type")
    if quant is not None and quant not in IP_QUANT_TYPES:
        raise invalid_parameter(f"quant_type {quant} not found or not supported for IP, "
                                f"supported: [{' '.join(IP_QUANT_TYPES)}]")
    codec = flat.get("inverted_index_codec")
    if codec is not None and codec not in CODECS:
        raise invalid_parameter(f"inverted_index_codec {codec} not found or not supported, "
                                f"supported: [{' '.join(CODECS)}]")
    for key, bounds in (("sindi_window_size", SINDI_WINDOW_RANGE),
                        ("block_max_block_size", BLOCK_SIZE_RANGE)):
        if key in flat:
            check_range(key, int_from_string(key, flat[key]), bounds)


def drop_ratio_search(params: Mapping[str, Any]) -> float:
    """The search's ``drop_ratio_search`` (0 when absent), after checking the sparse
    search keys' ranges."""
    _float_param(params, "dim_max_score_ratio", DIM_MAX_SCORE_RATIO_RANGE, upper_open=False)
    value = _float_param(params, "drop_ratio_search", DROP_RATIO_RANGE, upper_open=True)
    return 0.0 if value is None else value


def _float_param(params: Mapping[str, Any], key: str, bounds: tuple[float, float],
                 upper_open: bool) -> float | None:
    """A float parameter (JSON number or numeric string) in ``bounds``, knowhere's texts."""
    if key not in params:
        return None
    raw = params[key]
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise invalid_parameter(f"Type conflict in json: param '{key}' ({raw}) should be a number")
    try:
        value = float(raw)
    except ValueError:
        raise invalid_parameter(f"invalid float value, key: '{key}', value: '{raw}'") from None
    lo, hi = bounds
    inside = lo <= value < hi if upper_open else lo <= value <= hi
    if not inside:
        close = ")" if upper_open else "]"
        raise invalid_parameter(f"Out of range in json: param '{key}' ({raw}) should be in range "
                                f"[{lo:.6f}, {hi:.6f}{close}")
    return value
