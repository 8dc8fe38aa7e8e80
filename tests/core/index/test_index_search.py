"""Built faiss indexes: exactness/recall, score conventions, masks, padding, serialization."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pytest

from elanus.core.errors import PARAMETER_INVALID, MilvusError
from elanus.core.index import (
    FaissIndex,
    IndexSpec,
    IndexType,
    MetricType,
    VectorIndex,
    brute_force_search,
    build,
    load,
    parse_search_params,
)
from elanus.core.index import faiss_index as fi

N, DIM, NQ, K = 2000, 32, 40, 10
# The float-vector index types and metrics (binary ones: test_index_binary.py, sparse ones:
# test_index_sparse.py).
TYPES = [t for t in IndexType if not t.is_binary and not t.is_sparse]
METRICS = [m for m in MetricType if not m.is_binary]
# Good search parameters for 2k rows. (ef=48 keeps HNSW on its graph: with
# ef * 2M >= rows the cost model would pick an exact scan instead.)
GOOD = {"ef": 48, "nprobe": 16, "search_list_size": 48, "refine_k": 4, "reorder_k": 40}
# Minimum recall@10 against brute force with GOOD params (random Gaussian data).
MIN_RECALL = {IndexType.FLAT: 1.0, IndexType.IVF_FLAT: 1.0, IndexType.HNSW: 0.95, IndexType.IVF_SQ8: 0.95,
              IndexType.IVF_PQ: 0.6, IndexType.IVF_RABITQ: 0.4, IndexType.SCANN: 0.85, IndexType.DISKANN: 0.95}
# Types holding the exact vectors; with the refined types (an exact "flat" refine in
# _spec below), the types whose returned scores are exact.
RAW = (IndexType.FLAT, IndexType.IVF_FLAT, IndexType.HNSW, IndexType.DISKANN)
EXACT_SCORES = (*RAW, IndexType.IVF_RABITQ, IndexType.SCANN)


def _spec(index_type: IndexType, metric: MetricType) -> IndexSpec:
    extra = {
        IndexType.FLAT: {},
        IndexType.IVF_FLAT: {"nlist": 16},
        IndexType.IVF_SQ8: {"nlist": 16},
        IndexType.IVF_PQ: {"nlist": 16, "pq_m": 16, "nbits": 6},
        IndexType.HNSW: {"hnsw_m": 16, "ef_construction": 100},
        IndexType.IVF_RABITQ: {"nlist": 16, "refine_type": "flat"},
        IndexType.SCANN: {"nlist": 16, "sub_dim": 2, "refine_type": "flat"},
        IndexType.DISKANN: {"max_degree": 32, "search_list_size": 100},
    }[index_type]
    return IndexSpec(index_type, metric, DIM, **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def data() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((N, DIM)).astype(np.float32)
    q = rng.standard_normal((NQ, DIM)).astype(np.float32)
    return x, q


@pytest.fixture(scope="module")
def indexes(data: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]
            ) -> dict[tuple[IndexType, MetricType], FaissIndex]:
    x, _ = data
    return {(t, m): build(_spec(t, m), x) for t, m in itertools.product(TYPES, METRICS)}


def _recall(got: npt.NDArray[np.int64], want: npt.NDArray[np.int64]) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(got, want, strict=True)]))


def _exact_scores(x: npt.NDArray[np.float32], q: npt.NDArray[np.float32], offsets: npt.NDArray[np.int64],
                  metric: MetricType) -> npt.NDArray[np.float64]:
    """Scores computed independently, in float64, for the given offsets."""
    xs = x[offsets].astype(np.float64)
    qs = q.astype(np.float64)[:, None, :]
    if metric is MetricType.L2:
        return np.asarray(((xs - qs) ** 2).sum(-1))
    dot = (xs * qs).sum(-1)
    if metric is MetricType.IP:
        return np.asarray(dot)
    return np.asarray(dot / np.linalg.norm(xs, axis=-1) / np.linalg.norm(qs, axis=-1))


@pytest.mark.parametrize(("index_type", "metric"), list(itertools.product(TYPES, METRICS)))
def test_recall_scores_and_order(indexes: dict[tuple[IndexType, MetricType], FaissIndex],
                                 data: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
                                 index_type: IndexType, metric: MetricType) -> None:
    x, q = data
    index = indexes[(index_type, metric)]
    assert isinstance(index, VectorIndex)
    assert (index.ntotal, index.dim) == (N, DIM)
    params = parse_search_params(index.spec, None, GOOD, k=K)
    scores, offsets = index.search(q, K, params)
    assert scores.dtype == np.float32 and offsets.dtype == np.int64
    assert scores.shape == offsets.shape == (NQ, K)
    assert (offsets >= 0).all()
    _, want = brute_force_search(x, q, K, metric)
    assert _recall(offsets, want) >= MIN_RECALL[index_type]
    step = np.diff(scores, axis=1)
    assert (step <= 1e-6).all() if metric.larger_is_better else (step >= -1e-6).all()
    if metric is MetricType.COSINE:
        assert (scores >= -1.0).all() and (scores <= 1.0).all()
    if index_type in EXACT_SCORES:
        np.testing.assert_allclose(scores, _exact_scores(x, q, offsets, metric), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("index_type", "metric"),
                         list(itertools.product(TYPES, (MetricType.L2, MetricType.COSINE))))
def test_a_stored_vector_finds_itself_first(indexes: dict[tuple[IndexType, MetricType], FaissIndex],
                                            data: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
                                            index_type: IndexType, metric: MetricType) -> None:
    x, _ = data
    rows = np.arange(0, N, 97)
    index = indexes[(index_type, metric)]
    scores, offsets = index.search(x[rows], K, parse_search_params(index.spec, None, GOOD))
    np.testing.assert_array_equal(offsets[:, 0], rows)
    if metric is MetricType.COSINE and index_type is not IndexType.IVF_PQ:
        lossy = index_type is IndexType.IVF_SQ8
        np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-2 if lossy else 1e-5)


@pytest.mark.parametrize(("index_type", "metric"), list(itertools.product(TYPES, METRICS)))
def test_masked_rows_are_never_returned(indexes: dict[tuple[IndexType, MetricType], FaissIndex],
                                        data: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
                                        index_type: IndexType, metric: MetricType) -> None:
    x, q = data
    index = indexes[(index_type, metric)]
    params = parse_search_params(index.spec, None, GOOD)
    rng = np.random.default_rng(1)
    for keep in (0.9, 0.6, 0.3, 0.02):  # faiss selector path (0.9), then the exact paths
        valid = rng.random(N) < keep
        _, offsets = index.search(q, K, params, valid=valid)
        assert (offsets >= 0).all(), "a mask keeping >= k rows must give full results"
        assert valid[offsets].all()
        _, want = brute_force_search(x, q, K, metric, valid=valid)
        assert _recall(offsets, want) >= MIN_RECALL[index_type] - 0.05


def test_search_paths(indexes: dict[tuple[IndexType, MetricType], FaissIndex],
                      data: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Which strategy runs: graph, graph + selector, exact faiss scan, exact numpy."""
    x, q = data
    index = indexes[(IndexType.HNSW, MetricType.L2)]
    calls: list[str] = []
    approximate, exact = index._approximate, index._exact
    monkeypatch.setattr(index, "_approximate", lambda qq, kk, ef, nprobe, vv, kf: calls.append(
        "graph" if vv is None else f"graph+mask ef={ef}") or approximate(qq, kk, ef, nprobe, vv, kf))
    monkeypatch.setattr(index, "_exact", lambda qq, kk, vv, kf: calls.append("exact") or exact(qq, kk, vv, kf))
    numpy_calls: list[int] = []
    real_bf = fi.brute_force_search
    monkeypatch.setattr(fi, "brute_force_search", lambda *a: numpy_calls.append(1) or real_bf(*a))

    index.search(q[:1], K)
    assert calls == ["graph"]
    calls.clear()
    rng = np.random.default_rng(4)
    index.search(q[:1], K, valid=rng.random(N) < 0.9)
    assert len(calls) == 1 and calls[0].startswith("graph+mask")
    assert int(calls[0].split("=")[1]) > 16  # ef scaled up by n / kept
    calls.clear()
    sparse = rng.random(N) < 0.02
    index.search(q[:1], K, valid=sparse)
    assert calls == ["exact"] and not numpy_calls  # one query: faiss's flat scan
    _, offsets = index.search(q[:8], K, valid=sparse)
    assert numpy_calls  # a batch: numpy gather + matrix product
    np.testing.assert_array_equal(offsets, brute_force_search(x, q[:8], K, "L2", valid=sparse)[1])


@pytest.mark.parametrize(("index_type", "metric"), list(itertools.product(TYPES, METRICS)))
def test_mask_keeping_five_rows_returns_exactly_them_in_order(
        indexes: dict[tuple[IndexType, MetricType], FaissIndex],
        data: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
        index_type: IndexType, metric: MetricType) -> None:
    x, q = data
    index = indexes[(index_type, metric)]
    kept = np.array([3, 500, 777, 1200, 1999])
    valid = np.zeros(N, dtype=bool)
    valid[kept] = True
    scores, offsets = index.search(q, K, parse_search_params(index.spec, None, {}), valid=valid)
    assert (offsets[:, 5:] == -1).all()
    worst = -np.inf if metric.larger_is_better else np.inf
    assert (scores[:, 5:] == worst).all()
    want_scores, want = brute_force_search(x, q, 5, metric, valid=valid)
    for got_row, want_row in zip(offsets[:, :5], want, strict=True):
        assert set(got_row) == set(kept)
        if index_type in EXACT_SCORES:
            np.testing.assert_array_equal(got_row, want_row)
    if index_type in EXACT_SCORES:
        np.testing.assert_allclose(scores[:, :5], want_scores, rtol=1e-5, atol=1e-5)
    empty_scores, empty = index.search(q, K, valid=np.zeros(N, dtype=bool))
    assert (empty == -1).all() and (empty_scores == worst).all()


def test_short_ivf_rows_are_completed_exactly(data: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    x, q = data
    index = build(IndexSpec(IndexType.IVF_FLAT, MetricType.L2, DIM, nlist=64), x)
    valid = np.random.default_rng(3).random(N) < 0.6
    params = parse_search_params(index.spec, None, {"nprobe": 1})
    k = 60  # one probed list (~31 rows, ~19 valid) cannot fill 60 slots
    calls: list[int] = []
    exact = index._exact
    monkeypatch.setattr(index, "_exact", lambda qq, kk, vv, kf: calls.append(len(qq)) or exact(qq, kk, vv, kf))
    _, offsets = index.search(q, k, params, valid=valid)
    assert calls and calls[0] == NQ  # every query came back short and was re-run exactly
    assert (offsets >= 0).all() and valid[offsets].all()
    _, want = brute_force_search(x, q, k, MetricType.L2, valid=valid)
    np.testing.assert_array_equal(offsets, want)


@pytest.mark.parametrize("index_type", TYPES)
def test_padding_when_fewer_rows_than_k(index_type: IndexType) -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, DIM)).astype(np.float32)
    for metric in METRICS:
        index = build(_spec(index_type, metric), x)
        scores, offsets = index.search(x[:2], K)
        assert sorted(offsets[0, :4].tolist()) == [0, 1, 2, 3]
        assert (offsets[:, 4:] == -1).all()
        assert np.isinf(scores[:, 4:]).all() and np.isfinite(scores[:, :4]).all()
        if metric is not MetricType.IP:
            assert offsets[0, 0] == 0 and offsets[1, 0] == 1


@pytest.mark.parametrize("index_type", TYPES)
def test_empty_index(index_type: IndexType) -> None:
    index = build(_spec(index_type, MetricType.L2), np.empty((0, DIM), dtype=np.float32))
    scores, offsets = index.search(np.ones((2, DIM), dtype=np.float32), 3)
    assert (offsets == -1).all() and (scores == np.inf).all()
    assert load(index.serialize()).ntotal == 0


@pytest.mark.parametrize(("index_type", "metric"), list(itertools.product(TYPES, METRICS)))
def test_serialize_round_trip_is_identical(indexes: dict[tuple[IndexType, MetricType], FaissIndex],
                                           data: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
                                           index_type: IndexType, metric: MetricType) -> None:
    _, q = data
    index = indexes[(index_type, metric)]
    blob = index.serialize()
    again = load(blob)
    assert again.spec == index.spec and again.ntotal == index.ntotal and again.nlist == index.nlist
    params = parse_search_params(index.spec, None, {"ef": 32, "nprobe": 4})
    valid = np.random.default_rng(2).random(N) < 0.5
    for mask in (None, valid):
        s1, o1 = index.search(q, K, params, valid=mask)
        s2, o2 = again.search(q, K, params, valid=mask)
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(s1, s2)
    if index_type is not IndexType.IVF_PQ:  # IVF_PQ also holds precomputed tables in memory
        assert 0.9 < index.memory_bytes / len(blob) < 1.1


def test_load_rejects_corrupt_blobs(indexes: dict[tuple[IndexType, MetricType], FaissIndex]) -> None:
    blob = indexes[(IndexType.HNSW, MetricType.L2)].serialize()
    for bad in (b"", b"nope" + blob[4:], blob[:100], blob[:-1000]):
        with pytest.raises(MilvusError):
            load(bad)


def test_reconstruct(indexes: dict[tuple[IndexType, MetricType], FaissIndex],
                     data: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]) -> None:
    x, _ = data
    offsets = np.array([0, 17, 1999, 17])
    for (index_type, metric), index in indexes.items():
        exact_storage = index_type in RAW
        raw = exact_storage and metric is not MetricType.COSINE
        assert index.has_raw_data == raw
        if raw:
            np.testing.assert_array_equal(index.reconstruct(offsets), x[offsets])
            with pytest.raises(IndexError):
                index.reconstruct([N])
        else:
            with pytest.raises(ValueError):
                index.reconstruct(offsets)


def test_search_argument_checks(indexes: dict[tuple[IndexType, MetricType], FaissIndex]) -> None:
    index = indexes[(IndexType.HNSW, MetricType.L2)]
    q = np.zeros((1, DIM), dtype=np.float32)
    with pytest.raises(MilvusError) as info:
        index.search(q, K, parse_search_params(index.spec, None, {"ef": 5}))
    assert info.value.code == PARAMETER_INVALID and "ef(5) should be larger than k(10)" in info.value.message
    with pytest.raises(MilvusError, match=r"metric type not match"):
        index.search(q, K, parse_search_params(None, "IP", {}))
    with pytest.raises(ValueError):
        index.search(np.zeros((1, DIM + 1), dtype=np.float32), K)
    with pytest.raises(ValueError):
        index.search(q, K, valid=np.ones(N - 1, dtype=bool))
    with pytest.raises(ValueError):
        index.search(q, 0)
    with pytest.raises(ValueError):
        build(index.spec, np.zeros((3, DIM + 1), dtype=np.float32))
    assert index.search(q.astype(np.float64), 1)[1].shape == (1, 1)  # queries are converted
