"""Binary vectors: exact HAMMING/JACCARD/SUBSTRUCTURE/SUPERSTRUCTURE search, BIN_FLAT and
BIN_IVF_FLAT indexes, and exact search of Float16/BFloat16/Int8 columns."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pytest

from elanus.core import vectors
from elanus.core.errors import MilvusError
from elanus.core.index import (
    BinaryIndex,
    IndexSpec,
    IndexType,
    MetricType,
    SearchParams,
    binary_search,
    brute_force_search,
    build,
    exact_search,
    load,
    parse_search_params,
)
from elanus.core.schema import DataType

DIM, N, NQ, K = 64, 600, 5, 10
BIN = DataType.BINARY_VECTOR


def _codes(n: int, seed: int = 0, width: int = DIM // 8) -> npt.NDArray[np.uint8]:
    return np.random.default_rng(seed).integers(0, 256, (n, width)).astype(np.uint8)


def _reference(codes: np.ndarray, queries: np.ndarray, metric: MetricType) -> np.ndarray:
    """(nq, n) distances from unpacked bits, the textbook way."""
    a = np.unpackbits(queries, axis=1).astype(bool)[:, None, :]
    b = np.unpackbits(codes, axis=1).astype(bool)[None, :, :]
    if metric is MetricType.HAMMING:
        return np.asarray((a ^ b).sum(axis=2), dtype=np.float64)
    inter, union = (a & b).sum(axis=2), (a | b).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union == 0, 1.0, 1.0 - inter / union)


def _spec(index_type: IndexType, metric: MetricType, dim: int = DIM) -> IndexSpec:
    nlist = 16 if index_type is IndexType.BIN_IVF_FLAT else None
    return IndexSpec(index_type, metric, dim, nlist=nlist, vector_type=BIN)


@pytest.mark.parametrize("metric", [MetricType.HAMMING, MetricType.JACCARD])
@pytest.mark.parametrize("width", [8, 5, 16])  # 5 bytes: rows are padded to whole words
def test_exact_ranked_metrics_match_reference(metric: MetricType, width: int) -> None:
    codes, queries = _codes(N, 1, width), _codes(NQ, 2, width)
    scores, offsets = binary_search(codes, queries, K, str(metric))
    ref = _reference(codes, queries, metric)
    for i in range(NQ):
        # the k best distances; among equal distances any rows may be picked
        np.testing.assert_allclose(scores[i], np.sort(ref[i])[:K], rtol=1e-6)
        np.testing.assert_allclose(ref[i][offsets[i]], scores[i], rtol=1e-6)
        assert len(set(offsets[i].tolist())) == K
    assert scores.dtype == np.float32 and offsets.dtype == np.int64


def test_jaccard_of_two_empty_rows_is_one() -> None:
    zero = np.zeros((1, 8), np.uint8)
    scores, offsets = binary_search(np.vstack([zero, np.full((1, 8), 255, np.uint8)]), zero, 2, "JACCARD")
    assert scores.tolist() == [[1.0, 1.0]] and offsets.tolist() == [[0, 1]]


def test_structure_metrics_are_filters_in_row_order() -> None:
    q = np.array([[0b1010_0000]], np.uint8)
    codes = np.array([[0b1111_0000], [0b1000_0000], [0b1010_0000], [0b1110_0001], [0b0000_0000]], np.uint8)
    scores, offsets = binary_search(codes, q, 3, "SUBSTRUCTURE")  # rows holding every query bit
    assert offsets.tolist() == [[0, 2, 3]] and scores.tolist() == [[0.0, 0.0, 0.0]]
    scores, offsets = binary_search(codes, q, 4, "SUPERSTRUCTURE")  # rows inside the query
    assert offsets.tolist() == [[1, 2, 4, -1]] and scores[0, 3] == np.inf
    _, offsets = binary_search(codes, q, 1, "SUBSTRUCTURE", valid=np.array([0, 1, 1, 1, 1], bool))
    assert offsets.tolist() == [[2]]


@pytest.mark.parametrize("metric", ["HAMMING", "JACCARD", "SUBSTRUCTURE", "SUPERSTRUCTURE"])
def test_mask_and_padding(metric: str) -> None:
    codes = _codes(50)
    valid = np.zeros(50, bool)
    valid[[3, 17, 40]] = True
    scores, offsets = binary_search(codes, codes[[3, 17]], 5, metric, valid)
    kept = offsets[offsets >= 0]
    assert set(kept.tolist()) <= {3, 17, 40}
    assert (scores[offsets < 0] == np.inf).all()
    assert offsets[:, 0].tolist() == [3, 17]  # each query is a kept row: best / first match


def test_argument_checks() -> None:
    codes = _codes(4)
    with pytest.raises(ValueError):
        binary_search(codes, _codes(1, width=4), 1, "HAMMING")
    with pytest.raises(ValueError):
        binary_search(codes, codes, 0, "HAMMING")
    with pytest.raises(ValueError):
        binary_search(codes, codes, 1, "L2")
    with pytest.raises(ValueError):
        brute_force_search(np.zeros((2, 4), np.float32), np.zeros((1, 4), np.float32), 1, "HAMMING")


@pytest.mark.parametrize(("index_type", "metric"), [
    *itertools.product([IndexType.BIN_FLAT], list(MetricType)[3:]),
    (IndexType.BIN_IVF_FLAT, MetricType.HAMMING), (IndexType.BIN_IVF_FLAT, MetricType.JACCARD)])
def test_indexes_match_exact_search_and_round_trip(index_type: IndexType, metric: MetricType) -> None:
    codes, queries = _codes(N, 3), _codes(NQ, 4)
    queries[0] = codes[10]
    index = build(_spec(index_type, metric), codes)
    assert isinstance(index, BinaryIndex) and index.ntotal == N and index.has_raw_data
    params = parse_search_params(index.spec, None, {"nprobe": 16}, k=K)
    scores, offsets = index.search(queries, K, params)
    exact_scores, exact_offsets = binary_search(codes, queries, K, str(metric))
    # distances equal exactly; ids may differ only among equal distances
    np.testing.assert_array_equal(scores, exact_scores)
    if metric in (MetricType.HAMMING, MetricType.JACCARD):
        assert offsets[0, 0] == 10 and scores[0, 0] == 0.0
    else:
        assert offsets.tolist() == exact_offsets.tolist()
    again = load(index.serialize())
    assert isinstance(again, BinaryIndex) and again.spec == index.spec
    np.testing.assert_array_equal(again.search(queries, K, params)[0], scores)
    np.testing.assert_array_equal(again.reconstruct([0, 599]), codes[[0, 599]])
    assert again.memory_bytes >= codes.nbytes


@pytest.mark.parametrize("index_type", [IndexType.BIN_FLAT, IndexType.BIN_IVF_FLAT])
def test_hamming_index_honours_the_mask(index_type: IndexType) -> None:
    codes = _codes(N, 5)
    index = build(_spec(index_type, MetricType.HAMMING), codes)
    valid = np.zeros(N, bool)
    valid[::7] = True
    scores, offsets = index.search(codes[:3], K, valid=valid)
    assert (valid[offsets[offsets >= 0]]).all() and (offsets >= 0).all()
    exact_scores, _ = binary_search(codes, codes[:3], K, "HAMMING", valid)
    np.testing.assert_array_equal(scores, exact_scores)
    none = index.search(codes[:1], K, valid=np.zeros(N, bool))
    assert (none[1] == -1).all() and (none[0] == np.inf).all()


def test_bin_ivf_flat_small_segments_and_empty_index() -> None:
    tiny = build(IndexSpec(IndexType.BIN_IVF_FLAT, MetricType.HAMMING, DIM, nlist=1024, vector_type=BIN),
                 _codes(3))
    assert isinstance(tiny, BinaryIndex) and tiny.nlist == 3
    scores, offsets = tiny.search(_codes(3)[:1], 5)
    assert offsets[0, :3].tolist() != [-1, -1, -1] and offsets[0, 3] == -1 and scores[0, 4] == np.inf
    empty = build(_spec(IndexType.BIN_FLAT, MetricType.HAMMING), np.zeros((0, DIM // 8), np.uint8))
    assert empty.ntotal == 0 and (empty.search(_codes(1), 3)[1] == -1).all()
    assert load(empty.serialize()).ntotal == 0


def test_search_argument_and_metric_checks() -> None:
    index = build(_spec(IndexType.BIN_FLAT, MetricType.JACCARD), _codes(20))
    with pytest.raises(ValueError):
        index.search(np.zeros((1, 4), np.uint8), 1)
    with pytest.raises(MilvusError) as info:
        index.search(_codes(1), 1, SearchParams(MetricType.HAMMING))
    assert "metric type not match" in info.value.message
    with pytest.raises(MilvusError):
        load(index.serialize()[:-3])


def test_spec_invariants_tie_binary_types_together() -> None:
    with pytest.raises(ValueError):
        IndexSpec(IndexType.BIN_FLAT, MetricType.L2, DIM, vector_type=BIN)
    with pytest.raises(ValueError):
        IndexSpec(IndexType.FLAT, MetricType.HAMMING, DIM, vector_type=BIN)
    with pytest.raises(ValueError):
        IndexSpec(IndexType.BIN_FLAT, MetricType.HAMMING, DIM)  # a FloatVector spec
    with pytest.raises(ValueError):
        IndexSpec(IndexType.BIN_FLAT, MetricType.HAMMING, 12, vector_type=BIN)
    assert not MetricType.HAMMING.larger_is_better and MetricType.IP.larger_is_better


@pytest.mark.parametrize("dtype", [DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR, DataType.INT8_VECTOR])
def test_other_dense_types_search_as_float32(dtype: DataType) -> None:
    rng = np.random.default_rng(9)
    raw = rng.standard_normal((300, 16)).astype(np.float32) * 20
    column = raw.astype(np.int8) if dtype is DataType.INT8_VECTOR else vectors.from_float32(dtype, raw)
    wide = vectors.to_float32(dtype, column)
    queries = wide[:3]
    for metric in ("L2", "IP", "COSINE"):
        got = exact_search(dtype, column, queries, 5, metric)
        want = brute_force_search(wide, queries, 5, metric)
        np.testing.assert_array_equal(got[1], want[1])
    index = build(IndexSpec(IndexType.HNSW, MetricType.L2, 16, hnsw_m=8, ef_construction=40,
                            vector_type=dtype), column)
    assert not index.has_raw_data  # the segment keeps the exact rows
    assert index.search(queries, 1)[1][:, 0].tolist() == [0, 1, 2]
    assert load(index.serialize()).spec.vector_type is dtype


def test_search_params_per_binary_index_type() -> None:
    flat = _spec(IndexType.BIN_FLAT, MetricType.HAMMING)
    assert parse_search_params(flat, None, {"nprobe": 0}) == SearchParams(MetricType.HAMMING)  # ignored
    ivf = _spec(IndexType.BIN_IVF_FLAT, MetricType.JACCARD)
    assert parse_search_params(ivf, "JACCARD", {"nprobe": 4}).nprobe == 4
    with pytest.raises(MilvusError) as info:
        parse_search_params(ivf, "HAMMING", {})
    assert info.value.message == "metric type not match: invalid parameter[expected=JACCARD][actual=HAMMING]"
