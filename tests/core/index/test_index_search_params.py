"""parse_search_params: metric matching and knowhere's reading of ef / nprobe."""

from __future__ import annotations

from typing import Any

import pytest

from elanus.core.errors import OPERATION_NOT_SUPPORTED, PARAMETER_INVALID, MilvusError
from elanus.core.index import IndexSpec, IndexType, MetricType, SearchParams, parse_search_params

HNSW = IndexSpec(IndexType.HNSW, MetricType.L2, 8, hnsw_m=8, ef_construction=40)
IVF = IndexSpec(IndexType.IVF_FLAT, MetricType.IP, 8, nlist=4)
FLAT = IndexSpec(IndexType.FLAT, MetricType.COSINE, 8)


def _message(spec: IndexSpec | None, metric: str | None, params: dict[str, Any], k: int | None = None) -> str:
    with pytest.raises(MilvusError) as info:
        parse_search_params(spec, metric, params, k=k)
    assert info.value.code == PARAMETER_INVALID
    return info.value.message


def test_metric_defaults_to_the_index_and_must_match_it() -> None:
    assert parse_search_params(HNSW, None, {}).metric_type is MetricType.L2
    assert parse_search_params(HNSW, "", {}).metric_type is MetricType.L2
    assert parse_search_params(HNSW, "L2", {}).metric_type is MetricType.L2
    assert _message(HNSW, "IP", {}) == "metric type not match: invalid parameter[expected=L2][actual=IP]"
    # legacy layout: metric_type inside params
    assert _message(IVF, None, {"metric_type": "L2"}) == \
        "metric type not match: invalid parameter[expected=IP][actual=L2]"


def test_without_an_index_metric_defaults_to_cosine() -> None:
    assert parse_search_params(None, None, {"ef": 1}).metric_type is MetricType.COSINE
    assert parse_search_params(None, "IP", {}).metric_type is MetricType.IP
    assert _message(None, "BM25", {}) == \
        "metric type BM25 not found or not supported, supported: [L2 IP COSINE]: invalid parameter"


def test_hnsw_ef() -> None:
    assert parse_search_params(HNSW, None, {}) == SearchParams(MetricType.L2)
    assert parse_search_params(HNSW, None, {}).ef_for(5) == 16  # knowhere: max(k, 16)
    assert parse_search_params(HNSW, None, {}).ef_for(100) == 100
    assert parse_search_params(HNSW, None, {"ef": 64}, k=10).ef == 64
    assert parse_search_params(HNSW, None, {"params": {"ef": "32"}}).ef == 32  # strings are accepted
    assert _message(HNSW, None, {"ef": 5}, k=10) == "ef(5) should be larger than k(10): invalid parameter"
    with pytest.raises(MilvusError, match=r"ef\(5\) should be larger than k\(10\)"):
        parse_search_params(HNSW, None, {"ef": 5}).ef_for(10)


@pytest.mark.parametrize(("value", "message"), [
    (-1, "Out of range in json: param 'ef' (-1) should be in range [1, 2147483647]"),
    (0, "Out of range in json: param 'ef' (0) should be in range [1, 2147483647]"),
    (32.0, "Type conflict in json: param 'ef' (32.0) should be integer"),
    (True, "Type conflict in json: param 'ef' (true) should be integer"),
    (None, "Type conflict in json: param 'ef' (null) should be integer"),
    ("abc", "invalid integer value, key: 'ef', value: 'abc'"),
    (2**31, "Arithmetic overflow: param 'ef' (2147483648) should not bigger than 2147483647"),
])
def test_bad_ef(value: Any, message: str) -> None:
    assert _message(HNSW, None, {"ef": value}) == f"{message}: invalid parameter"


def test_ivf_nprobe() -> None:
    assert parse_search_params(IVF, None, {}).nprobe == 8
    assert parse_search_params(IVF, None, {"nprobe": 65536, "ef": "ignored"}).nprobe == 65536
    assert _message(IVF, None, {"nprobe": 65537}) == \
        "Out of range in json: param 'nprobe' (65537) should be in range [1, 65536]: invalid parameter"
    assert parse_search_params(FLAT, None, {"nprobe": -5}) == SearchParams(MetricType.COSINE)


def test_range_search_is_not_supported_yet() -> None:
    with pytest.raises(MilvusError) as info:
        parse_search_params(HNSW, None, {"radius": 1.0})
    assert info.value.code == OPERATION_NOT_SUPPORTED
