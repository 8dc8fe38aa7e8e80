"""SealedSegment: loading from object storage, indexes, deltas, MVCC and deletes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from elanus.core.index import brute_force_search
from elanus.core.segment import PkIndex, SealedSegment
from elanus.storage import open_objects
from elanus.storage.objects.base import ObjectStore
from tests.worker.segdata import make_columns, make_schema, query_req, search_req, write_delta, write_segment

SCHEMA = make_schema()


@pytest.fixture
def objects(tmp_path: Path) -> ObjectStore:
    return open_objects(str(tmp_path / "objects"))


def load(objects: ObjectStore, n: int = 200, index: dict[str, str] | None = None,
         ts: np.ndarray | int = 10, deltas: list | None = None, seed: int = 0) -> SealedSegment:
    cols = make_columns(SCHEMA, np.arange(n) * 2, seed=seed)  # even pks: odd ones miss
    info = write_segment(objects, SCHEMA, 11, cols, ts, index=index)
    return SealedSegment.load(objects, SCHEMA, info, deltas)


def test_flat_index_matches_brute_force_and_drops_raw(objects: ObjectStore) -> None:
    seg = load(objects, index={"index_type": "FLAT", "metric_type": "L2"})
    assert seg.indexed_fields == ("vec",)
    assert seg.column("vec") is None  # FLAT/L2 reconstructs exactly: one copy only
    raw = make_columns(SCHEMA, np.arange(200) * 2)["vec"]
    q = np.random.default_rng(1).standard_normal((4, 8)).astype(np.float32)
    hits = seg.search(search_req(q, 7, 100, output_fields=("vec", "name")), seg.visible_mask(100))
    ref_s, ref_o = brute_force_search(raw, q, 7, "L2")
    assert hits.pks.tolist() == (ref_o * 2).tolist()
    np.testing.assert_allclose(hits.scores, ref_s, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(hits.fields["vec"], raw[ref_o.reshape(-1)])
    assert hits.fields["name"][0] == f"n{ref_o[0, 0] * 2}"
    assert hits.metric == "L2"


def test_cosine_hnsw_keeps_raw_vectors(objects: ObjectStore) -> None:
    seg = load(objects, index={"index_type": "HNSW", "metric_type": "COSINE", "M": "8",
                               "efConstruction": "64"})
    raw = make_columns(SCHEMA, np.arange(200) * 2)["vec"]
    assert seg.column("vec") is not None
    q = raw[:2].copy()
    hits = seg.search(search_req(q, 3, 100, metric="COSINE", params={"ef": 32}, output_fields=("vec",)),
                      None)
    assert hits.pks[:, 0].tolist() == [0, 2]
    np.testing.assert_array_equal(hits.fields["vec"][0], raw[0])


def test_no_index_uses_brute_force(objects: ObjectStore) -> None:
    seg = load(objects)
    raw = make_columns(SCHEMA, np.arange(200) * 2)["vec"]
    hits = seg.search(search_req(raw[5:6].copy(), 2, 100), None)
    assert hits.pks[0, 0] == 10


def test_insert_ts_hides_rows_newer_than_mvcc(objects: ObjectStore) -> None:
    ts = np.where(np.arange(200) < 100, 10, 50).astype(np.uint64)
    seg = load(objects, ts=ts)
    assert seg.visible_mask(60) is None
    mask = seg.visible_mask(20)
    assert mask is not None and int(mask.sum()) == 100
    assert seg.query(query_req(20, count_only=True)).count == 100
    hits = seg.search(search_req(np.ones((1, 8), np.float32), 200, 20), mask)
    assert int(hits.valid.sum()) == 100 and (hits.pks[hits.valid] < 200).all()


def test_deltas_and_deletes(objects: ObjectStore) -> None:
    d = write_delta(objects, 1, np.array([0, 2, 3]), 20)  # 3 is not in the segment
    seg = load(objects, deltas=[d])
    assert seg.num_deleted == 2
    assert seg.query(query_req(19, count_only=True)).count == 200
    assert seg.query(query_req(20, count_only=True)).count == 198
    # min/max pruning and per-pk timestamps
    assert seg.apply_delete(np.array([-5, 10_000]), 30) == 0
    assert seg.apply_delete(np.array([4, 6]), np.array([40, 35], dtype=np.uint64)) == 2
    assert seg.query(query_req(36, count_only=True)).count == 197
    assert seg.query(query_req(40, count_only=True)).count == 196
    # A delete older than the rows' insert ts does nothing.
    assert seg.apply_delete(np.array([8]), 5) == 0


def test_cached_mask_reused_until_next_delete(objects: ObjectStore) -> None:
    seg = load(objects)
    seg.apply_delete(np.array([0]), 20)
    m1 = seg.visible_mask(100)
    m2 = seg.visible_mask(100)
    assert m1 is not None and m2 is not None and np.shares_memory(m1, m2)
    seg.apply_delete(np.array([2]), 30)
    m3 = seg.visible_mask(100)
    assert m3 is not None and not m3[1] and not m3[0]
    m_mid = seg.visible_mask(25)
    assert m_mid is not None and m_mid[1] and not m_mid[0]


def test_point_lookup_and_pk_ordered_limit(objects: ObjectStore) -> None:
    seg = load(objects)
    res = seg.query(query_req(100, limit=3, offset=2, output_fields=("age",)))
    assert res.columns["id"].tolist() == [0, 2, 4, 6, 8]
    assert res.columns["age"].tolist() == [0, 2, 4, 6, 8]
    rows = seg._pk_rows(np.array([8, 2, 3]), seg.num_rows)
    assert seg.column("id")[rows].tolist() == [2, 8]


def test_adopt_deletes_from_older_copy(objects: ObjectStore) -> None:
    old = load(objects)
    old.apply_delete(np.array([0, 4]), 20)
    new = load(objects, index={"index_type": "FLAT", "metric_type": "L2"})
    new.adopt_deletes(old)
    assert new.query(query_req(30, count_only=True)).count == 198


def test_pk_index_pairs_with_duplicates() -> None:
    idx = PkIndex(np.array([5, 1, 5, 3]))
    rows, j = idx.pairs(np.array([5, 2, 3]))
    assert sorted(zip(rows.tolist(), j.tolist(), strict=True)) == [(0, 0), (2, 0), (3, 2)]
    assert idx.rows_of(np.array([3, 5, 5])).tolist() == [3, 0, 2]
