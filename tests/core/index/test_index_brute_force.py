"""brute_force_search against a float64 reference, plus thread settings."""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt
import pytest

from elanus.core.index import (
    IndexSpec,
    IndexType,
    MetricType,
    brute_force_search,
    build,
    set_threads,
    thread_settings,
)
from elanus.core.index import brute_force as bf
from elanus.core.index.faiss_glue import faiss


def _reference(x: npt.NDArray[np.float32], q: npt.NDArray[np.float32], metric: MetricType
               ) -> npt.NDArray[np.float64]:
    xd, qd = x.astype(np.float64), q.astype(np.float64)
    if metric is MetricType.L2:
        return np.asarray(((qd[:, None, :] - xd[None, :, :]) ** 2).sum(-1))
    dot = qd @ xd.T
    if metric is MetricType.IP:
        return np.asarray(dot)
    xn, qn = np.linalg.norm(xd, axis=1), np.linalg.norm(qd, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = dot / qn[:, None] / xn[None, :]
    return np.asarray(np.nan_to_num(cos, nan=0.0))


FLOAT_METRICS = [m for m in MetricType if not m.is_binary]


@pytest.mark.parametrize("metric", FLOAT_METRICS)
def test_matches_reference(metric: MetricType) -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((300, 16)).astype(np.float32)
    x[5] = 0.0  # a zero vector: cosine 0 with everything
    q = rng.standard_normal((7, 16)).astype(np.float32)
    scores, offsets = brute_force_search(x, q, 20, metric)
    ref = _reference(x, q, metric)
    order = np.argsort(-ref if metric.larger_is_better else ref, axis=1, kind="stable")[:, :20]
    np.testing.assert_array_equal(offsets, order)
    np.testing.assert_allclose(scores, np.take_along_axis(ref, order, axis=1), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("metric", FLOAT_METRICS)
def test_mask_and_padding(metric: MetricType) -> None:
    rng = np.random.default_rng(12)
    x = rng.standard_normal((50, 8)).astype(np.float32)
    q = rng.standard_normal((3, 8)).astype(np.float32)
    valid = np.zeros(50, dtype=bool)
    valid[[4, 9, 30]] = True
    scores, offsets = brute_force_search(x, q, 5, metric, valid=valid)
    assert (np.sort(offsets[:, :3], axis=1) == [4, 9, 30]).all()
    assert (offsets[:, 3:] == -1).all()
    assert (scores[:, 3:] == (-np.inf if metric.larger_is_better else np.inf)).all()
    _, none = brute_force_search(x, q, 5, metric, valid=np.zeros(50, dtype=bool))
    assert (none == -1).all()
    _, empty = brute_force_search(np.empty((0, 8), np.float32), q, 2, metric)
    assert (empty == -1).all()


def test_query_blocks_give_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(13)
    x = rng.standard_normal((200, 8)).astype(np.float32)
    q = rng.standard_normal((33, 8)).astype(np.float32)
    whole = brute_force_search(x, q, 10, "L2")
    monkeypatch.setattr(bf, "_SCORE_BLOCK", 200 * 4)  # 4 queries per block
    blocked = brute_force_search(x, q, 10, "L2")
    np.testing.assert_array_equal(whole[1], blocked[1])
    np.testing.assert_allclose(whole[0], blocked[0], rtol=1e-5)  # BLAS rounding varies with shape


def test_ties_break_by_smaller_offset() -> None:
    x = np.ones((6, 4), dtype=np.float32)
    _, offsets = brute_force_search(x, np.ones((1, 4), np.float32), 4, "IP")
    assert offsets.tolist() == [[0, 1, 2, 3]]


def test_argument_checks() -> None:
    x = np.zeros((5, 4), np.float32)
    with pytest.raises(ValueError):
        brute_force_search(x, np.zeros((1, 3), np.float32), 1, "L2")
    with pytest.raises(ValueError):
        brute_force_search(x, np.zeros((1, 4), np.float32), 0, "L2")
    with pytest.raises(ValueError):
        brute_force_search(x, np.zeros((1, 4), np.float32), 1, "L2", valid=np.ones(4, bool))
    with pytest.raises(ValueError):
        brute_force_search(x, np.zeros((1, 4), np.float32), 1, "HAMMING")


def test_thread_settings_apply_in_the_searching_thread() -> None:
    before = thread_settings()
    index = build(IndexSpec(IndexType.HNSW, MetricType.L2, 8, hnsw_m=8, ef_construction=40),
                  np.random.default_rng(0).standard_normal((2000, 8)).astype(np.float32))
    seen: dict[str, int] = {}

    def search(nq: int, key: str) -> None:
        index.search(np.zeros((nq, 8), np.float32), 3)
        seen[key] = faiss.omp_get_max_threads()

    try:
        set_threads(1, batch=2, batch_min_nq=32)
        for nq, key in ((1, "single"), (40, "batch")):
            # OpenMP's thread count is per OS thread: check it in a fresh one.
            worker = threading.Thread(target=search, args=(nq, key))
            worker.start()
            worker.join()
        assert seen == {"single": 1, "batch": 2}
        with pytest.raises(ValueError):
            set_threads(0)
    finally:
        set_threads(before.search, batch=before.batch, batch_min_nq=before.batch_min_nq, build=before.build)
