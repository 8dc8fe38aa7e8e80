"""IVF_RABITQ, SCANN and DISKANN: knowhere's parameter checks, and the faiss builds standing in for them."""

from __future__ import annotations

import numpy as np
import pytest

from elanus.core.errors import PARAMETER_INVALID, MilvusError
from elanus.core.index import IndexSpec, IndexType, MetricType, build, load, parse_index_params, parse_search_params
from elanus.core.index.faiss_glue import faiss
from elanus.core.schema import DataType, FieldSchema

DIM = 16
VEC = FieldSchema(101, "vec", DataType.FLOAT_VECTOR, params={"dim": str(DIM)})
F16 = FieldSchema(101, "vec", DataType.FLOAT16_VECTOR, params={"dim": str(DIM)})


def _spec(params: dict[str, str], field: FieldSchema = VEC) -> IndexSpec:
    return parse_index_params(field, params)


def _error(params: dict[str, str]) -> str:
    with pytest.raises(MilvusError) as info:
        parse_index_params(VEC, params)
    assert info.value.code == PARAMETER_INVALID
    return info.value.message


def test_ivf_rabitq_params() -> None:
    base = {"index_type": "IVF_RABITQ", "metric_type": "L2"}
    assert _spec(base) == IndexSpec(IndexType.IVF_RABITQ, MetricType.L2, DIM, nlist=128)
    refined = _spec({**base, "nlist": "64", "refine": "True", "refine_type": "SQ8"})
    assert (refined.nlist, refined.refine_type) == (64, "sq8")
    assert refined.to_params()["refine_type"] == "sq8"
    assert _spec({**base, "refine": "TRUE"}).refine_type == "flat"  # refine without a type: exact copy
    assert _spec({**base, "refine": "false", "refine_type": "fp16"}).refine_type is None
    assert _spec({**base, "refine": "true", "refine_type": "SQ8"}, F16).vector_type is DataType.FLOAT16_VECTOR
    assert _error({**base, "refine": "true", "refine_type": "INVALID"}) == (
        "invalid refine type : INVALID, optional types are [sq6, sq8, fp16, bf16, fp32, flat]: invalid parameter")
    assert _error({**base, "refine_type": " SQ8 "}).startswith("invalid refine type :  SQ8 , optional")
    assert _error({**base, "refine": "1"}) == (
        "Type conflict in json: param 'refine' (\"1\") should be a boolean: invalid parameter")
    assert "param 'nlist' (0) should be in range [1, 65536]" in _error({**base, "nlist": "0"})


def test_scann_params() -> None:
    base = {"index_type": "SCANN", "metric_type": "IP"}
    spec = _spec({**base, "nlist": "32"})
    assert (spec.nlist, spec.sub_dim, spec.refine_type) == (32, 2, "flat")
    assert spec.to_params()["with_raw_data"] == "true"
    assert _spec({**base, "with_raw_data": "false"}).refine_type is None
    assert _spec({**base, "sub_dim": "4"}).sub_dim == 4
    assert _error({**base, "sub_dim": "3"}) == (
        "The dimension of a vector (dim) should be a multiple of sub_dim. Dimension:16, sub_dim:3: invalid parameter")
    assert "metric type not set" in _error({"index_type": "SCANN"})


def test_diskann_builds_with_milvus_configured_graph() -> None:
    spec = _spec({"index_type": "DISKANN", "metric_type": "COSINE", "max_degree": "99999"})
    assert (spec.max_degree, spec.search_list_size, spec.nlist) == (56, 100, None)
    assert spec == _spec({"index_type": "DISKANN", "metric_type": "COSINE"})


def test_specs_reject_foreign_parameters() -> None:
    with pytest.raises(ValueError):
        IndexSpec(IndexType.HNSW, MetricType.L2, DIM, hnsw_m=8, ef_construction=40, refine_type="sq8")
    with pytest.raises(ValueError):
        IndexSpec(IndexType.SCANN, MetricType.L2, DIM, nlist=8, sub_dim=3)
    with pytest.raises(ValueError):
        IndexSpec(IndexType.DISKANN, MetricType.L2, DIM, nlist=8)
    spec = _spec({"index_type": "IVF_RABITQ", "metric_type": "L2", "refine": "true"})
    assert IndexSpec.from_dict(spec.to_dict()) == spec


def test_search_params() -> None:
    disk = _spec({"index_type": "DISKANN", "metric_type": "L2"})
    assert parse_search_params(disk, None, {"search_list_size": 40}, k=10).ef == 40
    with pytest.raises(MilvusError) as err:
        parse_search_params(disk, None, {"search_list_size": 5}, k=10)
    assert err.value.message == "search_list_size(5) should be larger than k(10): invalid parameter"

    rbq = _spec({"index_type": "IVF_RABITQ", "metric_type": "L2", "refine": "true"})
    p = parse_search_params(rbq, None, {"nprobe": 4, "refine_k": 2.5, "rbq_bits_query": 6}, k=10)
    assert (p.nprobe, p.refine_factor(10)) == (4, 2.5)
    for bad, text in (({"refine_k": 0.5}, "Out of range in json: param 'refine_k' (0.5) should be in range "
                                          "[1.000000, 340282346638528859811704183484516925440.000000]"),
                      ({"refine_k": True}, "Type conflict in json: param 'refine_k' (true) should be a number"),
                      ({"rbq_bits_query": 9}, "Out of range in json: param 'rbq_bits_query' (9) should be in "
                                              "range [0, 8]")):
        with pytest.raises(MilvusError) as err:
            parse_search_params(rbq, None, bad, k=10)
        assert err.value.message == text + ": invalid parameter"

    scann = _spec({"index_type": "SCANN", "metric_type": "L2"})
    assert parse_search_params(scann, None, {"reorder_k": 40}, k=10).refine_factor(10) == 4.0
    assert parse_search_params(scann, None, {}, k=10).refine_factor(10) == 1.0
    with pytest.raises(MilvusError) as err:
        parse_search_params(scann, None, {"reorder_k": 5}, k=10)
    assert err.value.message == "reorder_k(5) should be larger than k(10): invalid parameter"


@pytest.mark.parametrize(("params", "faiss_type", "recall"), [
    ({"index_type": "IVF_RABITQ", "refine": "true", "refine_type": "fp16"}, "IndexRefine", 0.8),
    ({"index_type": "IVF_RABITQ", "refine": "true"}, "IndexRefineFlat", 0.8),
    ({"index_type": "SCANN"}, "IndexRefineFlat", 0.8),
    ({"index_type": "SCANN", "with_raw_data": "false"}, "IndexIVFPQFastScan", 0.3),
    ({"index_type": "DISKANN"}, "IndexHNSWFlat", 0.95),
])
@pytest.mark.parametrize("metric", ["L2", "IP", "COSINE"])
def test_builds_search_filter_and_round_trip(params: dict[str, str], faiss_type: str, recall: float,
                                             metric: str) -> None:
    rng = np.random.default_rng(3)
    x = rng.random((600, DIM), dtype=np.float32)
    spec = _spec({**params, "metric_type": metric, "nlist": "8"})
    index = load(build(spec, x).serialize())
    assert type(index.faiss_index).__name__ == faiss_type  # type: ignore[attr-defined]
    assert index.ntotal == 600 and index.has_raw_data == (spec.index_type is IndexType.DISKANN
                                                          and metric != "COSINE")
    queries = x[:20]
    # Refined indexes re-rank 4k candidates (Milvus's default re-ranks k: recall is then the codes').
    wide = {"nprobe": 8, "refine_k": 4, "reorder_k": 40, "search_list_size": 64}
    _, offsets = index.search(queries, 10, parse_search_params(spec, None, wide, k=10))
    exact = _exact_top(x, queries, 10, metric)
    hit = np.mean([len(set(offsets[i]) & set(exact[i])) / 10 for i in range(20)])
    assert hit >= recall
    keep = np.arange(600) % 3 == 0
    _, filtered = index.search(queries, 10, None, valid=keep)
    assert (filtered >= 0).all() and keep[filtered].all()
    assert build(spec, x[:3]).search(x[:1], 5)[1][0].tolist()[3:] == [-1, -1]  # tiny segment builds


def _exact_top(x: np.ndarray, q: np.ndarray, k: int, metric: str) -> np.ndarray:
    if metric == "COSINE":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
    scores = -((q[:, None, :] - x[None, :, :]) ** 2).sum(-1) if metric == "L2" else q @ x.T
    return np.argsort(-scores, axis=1)[:, :k]


def test_faiss_has_what_the_builds_need() -> None:
    assert all(hasattr(faiss, name) for name in ("IndexIVFRaBitQ", "IndexIVFPQFastScan", "IndexRefine",
                                                 "IndexRefineFlat", "IndexRefineSearchParameters"))
