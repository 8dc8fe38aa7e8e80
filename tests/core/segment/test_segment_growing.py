"""GrowingSegment: append, MVCC prefix visibility, deletes/upserts, search and query."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from elanus.core.index import brute_force_search
from elanus.core.segment import GrowingSegment
from tests.worker.segdata import COLL, PART, make_columns, make_schema, query_req, search_req

SCHEMA = make_schema()


def grown(batches: list[tuple[np.ndarray, int]], capacity: int = 4) -> GrowingSegment:
    seg = GrowingSegment(1, COLL, PART, SCHEMA, capacity=capacity)
    for i, (pks, ts) in enumerate(batches):
        seg.append(make_columns(SCHEMA, pks, seed=i), ts)
    return seg


def test_append_grows_and_keeps_rows() -> None:
    seg = grown([(np.arange(0, 3), 10), (np.arange(3, 20), 20), (np.arange(20, 21), 30)])
    assert seg.num_rows == 21
    assert seg.column("id")[:21].tolist() == list(range(21))
    assert seg.column("name")[5] == "n5"
    assert seg.column("score$valid")[:8].tolist() == [p % 7 != 0 for p in range(8)]
    assert seg.memory_bytes > 0


def test_mvcc_prefix_and_no_mask_without_deletes() -> None:
    seg = grown([(np.arange(0, 5), 10), (np.arange(5, 10), 20)])
    assert seg.rows_at(9) == 0
    assert seg.rows_at(10) == 5
    assert seg.rows_at(15) == 5
    assert seg.rows_at(20) == 10
    assert seg.visible_mask(20) is None  # fast path: nothing allocated
    assert seg.query(query_req(15, count_only=True)).count == 5
    assert seg.query(query_req(25, count_only=True)).count == 10


def test_search_matches_brute_force_and_takes_outputs() -> None:
    seg = grown([(np.arange(0, 50), 10), (np.arange(50, 120), 20)])
    q = np.random.default_rng(5).standard_normal((3, 8)).astype(np.float32)
    hits = seg.search(search_req(q, 10, 20, output_fields=("age", "score")), None)
    ref_s, ref_o = brute_force_search(seg.column("vec")[:120], q, 10, "L2")
    assert hits.pks.tolist() == ref_o.tolist()  # pk == row here
    np.testing.assert_allclose(hits.scores, ref_s, rtol=1e-5)
    assert hits.valid.all()
    assert hits.fields["age"].tolist() == (ref_o.reshape(-1) % 100).tolist()
    assert "score$valid" in hits.fields
    # At t=10 only the first batch exists.
    early = seg.search(search_req(q, 10, 10), None)
    assert (early.pks < 50).all()


def test_search_pads_when_fewer_rows_than_k() -> None:
    seg = grown([(np.arange(3), 10)])
    hits = seg.search(search_req(np.zeros((1, 8), np.float32), 5, 10), None)
    assert hits.valid.tolist() == [[True, True, True, False, False]]
    assert np.isinf(hits.scores[0, 3:]).all()
    blank = GrowingSegment(2, COLL, PART, SCHEMA)
    empty = blank.search(search_req(np.zeros((2, 8), np.float32), 4, 10), None)
    assert not empty.valid.any() and empty.pks.shape == (2, 4)


def test_delete_visibility_by_timestamp() -> None:
    seg = grown([(np.arange(10), 10)])
    assert seg.apply_delete(np.array([2, 3, 99]), 30) == 2
    assert seg.visible_mask(29) is None
    mask = seg.visible_mask(30)
    assert mask is not None and np.flatnonzero(~mask).tolist() == [2, 3]
    assert seg.query(query_req(30, count_only=True)).count == 8
    assert seg.query(query_req(29, count_only=True)).count == 10
    # Idempotent, and an earlier delete wins.
    seg.apply_delete(np.array([2]), 30)
    seg.apply_delete(np.array([3]), 25)
    assert seg.query(query_req(27, count_only=True)).count == 9
    q = seg.column("vec")[2:3].copy()
    hits = seg.search(search_req(q, 3, 40), seg.visible_mask(40))
    assert 2 not in hits.pks[hits.valid].tolist() and 3 not in hits.pks[hits.valid].tolist()


def test_upsert_same_ts_keeps_new_row() -> None:
    seg = grown([(np.arange(5), 10)])
    # Upsert pk 1 at ts 20: delete first, then insert at the same ts.
    seg.apply_delete(np.array([1]), 20)
    new = make_columns(SCHEMA, np.array([1]), seed=9)
    new["age"] = np.array([555])
    seg.append(new, 20)
    seg.apply_delete(np.array([1]), 20)  # replayed delete: still must not hide the new row
    res = seg.query(query_req(20, output_fields=("age",), limit=10))
    assert res.columns["id"].tolist() == [0, 1, 2, 3, 4]
    assert res.columns["age"].tolist() == [0, 555, 2, 3, 4]
    old = seg.query(query_req(15, output_fields=("age",), limit=10))
    assert old.columns["age"].tolist() == [0, 1, 2, 3, 4]


def test_query_limit_orders_by_pk_and_point_lookup() -> None:
    seg = grown([(np.array([9, 3, 7]), 10), (np.array([1, 5]), 20)])
    res = seg.query(query_req(20, limit=2, offset=1))
    assert res.columns["id"].tolist() == [1, 3, 5]  # offset+limit smallest pks
    everything = seg.query(query_req(20))
    assert everything.columns["id"].tolist() == [9, 3, 7, 1, 5]


def test_varchar_pk_deletes() -> None:
    schema = make_schema(varchar_pk=True)
    seg = GrowingSegment(3, COLL, PART, schema)
    seg.append(make_columns(schema, np.arange(6)), 10)
    assert seg.apply_delete(np.array(["k1", "k4", "zz"], dtype=object), 11) == 2
    res = seg.query(query_req(12, limit=10))
    assert res.columns["id"].tolist() == ["k0", "k2", "k3", "k5"]


def test_rejects_decreasing_ts() -> None:
    seg = grown([(np.arange(2), 10)])
    with pytest.raises(ValueError):
        seg.append(make_columns(SCHEMA, np.arange(2, 4)), 5)


def test_readers_survive_concurrent_growth() -> None:
    seg = GrowingSegment(4, COLL, PART, SCHEMA, capacity=2)
    stop = threading.Event()
    errors: list[BaseException] = []
    q = np.ones((1, 8), np.float32)

    def reader() -> None:
        try:
            while not stop.is_set():
                t = 10_000
                hits = seg.search(search_req(q, 5, t, output_fields=("name",)), seg.visible_mask(t))
                n = seg.num_rows
                assert (hits.pks[hits.valid] < max(n, 1) + 10_000).all()
                seg.query(query_req(t, count_only=True))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    th = threading.Thread(target=reader)
    th.start()
    for i in range(200):
        seg.append(make_columns(SCHEMA, np.arange(i * 5, i * 5 + 5), seed=i), 10 + i)
    stop.set()
    th.join()
    assert not errors
    assert seg.num_rows == 1000
    assert seg.query(query_req(10_000, count_only=True)).count == 1000
