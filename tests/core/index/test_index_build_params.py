"""parse_index_params: Milvus's resolution rules and error texts for CreateIndex on a vector field."""

from __future__ import annotations

import pytest

from elanus.core.errors import INDEX_NOT_SUPPORTED, PARAMETER_INVALID, MilvusError
from elanus.core.index import AUTOINDEX, IndexSpec, IndexType, MetricType, parse_index_params
from elanus.core.schema import DataType, FieldSchema

VEC = FieldSchema(101, "vec", DataType.FLOAT_VECTOR, params={"dim": "32"})


def _error(params: dict[str, str], field: FieldSchema = VEC) -> MilvusError:
    with pytest.raises(MilvusError) as info:
        parse_index_params(field, params)
    return info.value


@pytest.mark.parametrize("params", [{}, {"index_type": ""}, {"index_type": AUTOINDEX}])
def test_autoindex_resolves_to_hnsw_with_milvus_defaults(params: dict[str, str]) -> None:
    spec = parse_index_params(VEC, params)
    assert spec == IndexSpec(IndexType.HNSW, MetricType.COSINE, 32, hnsw_m=18, ef_construction=240,
                             auto_index=True)
    assert spec.to_params() == {"index_type": AUTOINDEX, "metric_type": "COSINE"}


def test_autoindex_takes_the_users_metric() -> None:
    spec = parse_index_params(VEC, {"index_type": AUTOINDEX, "metric_type": "L2"})
    assert (spec.index_type, spec.metric_type, spec.hnsw_m) == (IndexType.HNSW, MetricType.L2, 18)


@pytest.mark.parametrize("params", [
    {"index_type": AUTOINDEX, "M": "16"},
    {"index_type": AUTOINDEX, "metric_type": "L2", "M": "16"},
    {"nlist": "16"},
])
def test_autoindex_accepts_only_a_metric(params: dict[str, str]) -> None:
    err = _error(params)
    assert err.code == PARAMETER_INVALID
    assert err.message == "only metric type can be passed when use AutoIndex: invalid parameter"


def test_defaults_are_knowhere_defaults() -> None:
    hnsw = parse_index_params(VEC, {"index_type": "HNSW", "metric_type": "L2"})
    assert (hnsw.hnsw_m, hnsw.ef_construction, hnsw.auto_index) == (30, 360, False)
    ivf = parse_index_params(VEC, {"index_type": "IVF_SQ8", "metric_type": "IP"})
    assert (ivf.nlist, ivf.pq_m, ivf.hnsw_m) == (128, None, None)
    pq = parse_index_params(VEC, {"index_type": "IVF_PQ", "metric_type": "L2", "m": "8"})
    assert (pq.nlist, pq.pq_m, pq.nbits) == (128, 8, 8)
    flat = parse_index_params(VEC, {"index_type": "FLAT", "metric_type": "COSINE", "nlist": "7"})
    assert flat == IndexSpec(IndexType.FLAT, MetricType.COSINE, 32)


def test_explicit_params_strings_and_legacy_params_json() -> None:
    spec = parse_index_params(VEC, {"index_type": "HNSW", "metric_type": "IP", "M": " 16",
                                    "efConstruction": "+200", "not_defined_param": "x"})
    assert (spec.hnsw_m, spec.ef_construction) == (16, 200)
    legacy = parse_index_params(VEC, {"index_type": "IVF_PQ", "metric_type": "L2",
                                      "params": '{"nlist": 64, "m": 4, "nbits": 6}'})
    assert (legacy.nlist, legacy.pq_m, legacy.nbits) == (64, 4, 6)
    assert legacy.to_params() == {"index_type": "IVF_PQ", "metric_type": "L2", "nlist": "64", "m": "4",
                                  "nbits": "6"}
    assert IndexSpec.from_dict(legacy.to_dict()) == legacy


@pytest.mark.parametrize(("params", "message"), [
    ({"index_type": "IVF_FLAT", "metric_type": "L2", "nlist": "0"},
     "Out of range in json: param 'nlist' (0) should be in range [1, 65536]: invalid parameter"),
    ({"index_type": "IVF_SQ8", "metric_type": "L2", "nlist": "65537"},
     "Out of range in json: param 'nlist' (65537) should be in range [1, 65536]: invalid parameter"),
    ({"index_type": "HNSW", "metric_type": "L2", "M": "1"},
     "Out of range in json: param 'M' (1) should be in range [2, 2048]: invalid parameter"),
    ({"index_type": "HNSW", "metric_type": "L2", "M": "2049"},
     "Out of range in json: param 'M' (2049) should be in range [2, 2048]: invalid parameter"),
    ({"index_type": "HNSW", "metric_type": "L2", "efConstruction": "-1"},
     "Out of range in json: param 'efConstruction' (-1) should be in range [1, 2147483647]"
     ": invalid parameter"),
    ({"index_type": "HNSW", "metric_type": "L2", "efConstruction": "2147483648"},
     "integer value out of range, key: 'efConstruction', value: '2147483648': invalid parameter"),
    ({"index_type": "HNSW", "metric_type": "L2", "M": "16.0"},
     "wrong data type in json, key: 'M', value: '16.0': invalid parameter"),
    ({"index_type": "HNSW", "metric_type": "L2", "M": "True"},
     "invalid integer value, key: 'M', value: 'True': invalid parameter"),
    ({"index_type": "IVF_PQ", "metric_type": "L2", "m": "8", "nbits": "25"},
     "Out of range in json: param 'nbits' (25) should be in range [1, 24]: invalid parameter"),
    ({"index_type": "IVF_PQ", "metric_type": "L2"},
     "param 'm' not exist in json: invalid parameter"),
    ({"index_type": "IVF_PQ", "metric_type": "L2", "m": "7"},
     "The dimension of a vector (dim) should be a multiple of the number of subquantizers (m). "
     "Dimension: 32, m: 7: invalid parameter"),
    ({"index_type": "HNSW"},
     "metric type not set for vector index: invalid parameter"
     "[expected=valid index params][actual=invalid index params]"),
    ({"index_type": "HNSW", "metric_type": "HAMMING"},
     "float vector index does not support metric type: HAMMING: invalid parameter"
     "[expected=valid index params][actual=invalid index params]"),
    ({"index_type": "HNSW", "metric_type": "l2"},
     "float vector index does not support metric type: l2: invalid parameter"
     "[expected=valid index params][actual=invalid index params]"),
    ({"index_type": "FOO", "metric_type": "L2"},
     "invalid parameter[expected=valid index][actual=invalid index type: FOO]"),
    ({"index_type": "INVERTED", "metric_type": "L2"},
     "data type FloatVector can't build with this index INVERTED: invalid parameter"),
])
def test_invalid_params_use_milvus_texts(params: dict[str, str], message: str) -> None:
    err = _error(params)
    assert (err.code, err.message) == (PARAMETER_INVALID, message)


def test_milvus_index_types_elanus_lacks_are_not_supported() -> None:
    err = _error({"index_type": "HNSW_SQ", "metric_type": "L2"})
    assert err.code == INDEX_NOT_SUPPORTED
    assert "HNSW_SQ" in err.message and "not supported yet" in err.message


BIN = FieldSchema(104, "bin", DataType.BINARY_VECTOR, params={"dim": "128"})
I8 = FieldSchema(105, "i8", DataType.INT8_VECTOR, params={"dim": "8"})


@pytest.mark.parametrize("dtype", [DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR])
def test_half_float_fields_take_the_float_indexes(dtype: DataType) -> None:
    field = FieldSchema(102, "h", dtype, params={"dim": "8"})
    for kind in ("FLAT", "IVF_FLAT", "IVF_SQ8", "HNSW"):
        spec = parse_index_params(field, {"index_type": kind, "metric_type": "IP"})
        assert (spec.index_type, spec.vector_type) == (IndexType(kind), dtype)
    auto = parse_index_params(field, {"metric_type": "COSINE"})
    assert (auto.index_type, auto.auto_index, auto.vector_type) == (IndexType.HNSW, True, dtype)
    assert _error({"index_type": "BIN_FLAT", "metric_type": "L2"}, field).message == (
        f"data type {dtype.display} can't build with this index BIN_FLAT: invalid parameter")


def test_int8_fields_take_hnsw_only() -> None:
    auto = parse_index_params(I8, {"metric_type": "COSINE"})
    assert auto == IndexSpec(IndexType.HNSW, MetricType.COSINE, 8, hnsw_m=18, ef_construction=240,
                             auto_index=True, vector_type=DataType.INT8_VECTOR)
    err = _error({"index_type": "FLAT", "metric_type": "L2"}, I8)
    assert (err.code, err.message) == (PARAMETER_INVALID,
                                       "data type Int8Vector can't build with this index FLAT: invalid parameter")
    assert _error({"index_type": "HNSW", "metric_type": "HAMMING"}, I8).message == (
        "int vector index does not support metric type: HAMMING: invalid parameter"
        "[expected=valid index params][actual=invalid index params]")
    assert _error({"index_type": "HNSW_SQ", "metric_type": "L2"}, I8).code == INDEX_NOT_SUPPORTED


@pytest.mark.parametrize("metric", ["HAMMING", "JACCARD", "SUBSTRUCTURE", "SUPERSTRUCTURE"])
def test_bin_flat_takes_every_binary_metric_and_ignores_nlist(metric: str) -> None:
    spec = parse_index_params(BIN, {"index_type": "BIN_FLAT", "metric_type": metric, "nlist": "128"})
    assert spec == IndexSpec(IndexType.BIN_FLAT, MetricType(metric), 128, vector_type=DataType.BINARY_VECTOR)
    assert spec.to_params() == {"index_type": "BIN_FLAT", "metric_type": metric}


@pytest.mark.parametrize("metric", ["SUBSTRUCTURE", "SUPERSTRUCTURE"])
def test_bin_ivf_flat_takes_hamming_and_jaccard_only(metric: str) -> None:
    err = _error({"index_type": "BIN_IVF_FLAT", "metric_type": metric, "nlist": "128"}, BIN)
    assert (err.code, err.message) == (
        PARAMETER_INVALID,
        f"metric type {metric} not found or not supported, supported: [HAMMING JACCARD]: invalid parameter")
    for ok in ("HAMMING", "JACCARD"):
        spec = parse_index_params(BIN, {"index_type": "BIN_IVF_FLAT", "metric_type": ok})
        assert (spec.nlist, spec.metric_type) == (128, MetricType(ok))


def test_binary_autoindex_is_bin_ivf_flat_hamming() -> None:
    spec = parse_index_params(BIN, {})
    assert spec == IndexSpec(IndexType.BIN_IVF_FLAT, MetricType.HAMMING, 128, nlist=1024, auto_index=True,
                             vector_type=DataType.BINARY_VECTOR)
    assert spec.to_params() == {"index_type": AUTOINDEX, "metric_type": "HAMMING"}
    assert parse_index_params(BIN, {"metric_type": "JACCARD"}).metric_type is MetricType.JACCARD
    assert IndexSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize(("params", "message"), [
    ({"index_type": "BIN_FLAT", "metric_type": "L2"},
     "binary vector index does not support metric type: L2: invalid parameter"
     "[expected=valid index params][actual=invalid index params]"),
    ({"index_type": "HNSW_SQ", "metric_type": "HAMMING"},
     "data type BinaryVector can't build with this index HNSW_SQ: invalid parameter"),
    ({"index_type": "FLAT", "metric_type": "HAMMING"},
     "data type BinaryVector can't build with this index FLAT: invalid parameter"),
    ({"index_type": "BIN_IVF_FLAT", "metric_type": "HAMMING", "nlist": "0"},
     "Out of range in json: param 'nlist' (0) should be in range [1, 65536]: invalid parameter"),
])
def test_binary_field_errors(params: dict[str, str], message: str) -> None:
    assert _error(params, BIN).message == message
    assert _error({"index_type": "HNSW", "metric_type": "HAMMING"}, BIN).code == INDEX_NOT_SUPPORTED


def test_float_fields_cannot_take_binary_indexes() -> None:
    assert _error({"index_type": "BIN_IVF_FLAT", "metric_type": "L2"}).message == (
        "data type FloatVector can't build with this index BIN_IVF_FLAT: invalid parameter")


def test_sparse_and_scalar_fields() -> None:
    sparse = FieldSchema(102, "sp", DataType.SPARSE_FLOAT_VECTOR)
    spec = parse_index_params(sparse, {"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "IP"})
    assert spec.index_type is IndexType.SPARSE_INVERTED_INDEX  # more in test_index_sparse.py
    err = _error({"index_type": "IVF_FLAT", "metric_type": "IP"}, sparse)
    assert "data type SparseFloatVector can't build with this index IVF_FLAT" in err.message
    scalar = FieldSchema(103, "n", DataType.INT64)
    err = _error({"index_type": "HNSW", "metric_type": "L2"}, scalar)
    assert err.message == "index HNSW only supports vector data type: invalid parameter"


def test_spec_invariants_reject_inconsistent_specs() -> None:
    with pytest.raises(ValueError):
        IndexSpec(IndexType.HNSW, MetricType.L2, 8)  # M and efConstruction missing
    with pytest.raises(ValueError):
        IndexSpec(IndexType.FLAT, MetricType.L2, 8, nlist=4)
    with pytest.raises(ValueError):
        IndexSpec(IndexType.IVF_PQ, MetricType.L2, 8, nlist=4, pq_m=3, nbits=8)
