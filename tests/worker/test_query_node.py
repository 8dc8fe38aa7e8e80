"""Query node: reduce, delegator WAL consumption, tsafe, MVCC, deletes, handoff."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from elanus.cluster.types import QueryResult, SearchHits
from elanus.core.errors import MilvusError
from elanus.core.index import brute_force_search
from elanus.worker.query_node import QueryNodeImpl, merge_hits, merge_query_results
from tests.worker.querypath_fakes import QueryStack
from tests.worker.segdata import (
    delete_msg,
    flush_msg,
    insert_msg,
    make_collection,
    make_columns,
    make_schema,
    query_req,
    search_req,
    write_delta,
    write_segment,
)

SCHEMA = make_schema()
COLLECTION = make_collection(SCHEMA)
CH = "ch0"
FLAT = {"index_type": "FLAT", "metric_type": "L2"}


# --------------------------------------------------------------------------- reduce
def _reference(parts: list[SearchHits], k: int, offset: int, larger: bool) -> list[list[int]]:
    out = []
    for i in range(parts[0].scores.shape[0]):
        cands = [(float(p.scores[i, j]), int(p.pks[i, j])) for p in parts
                 for j in range(p.scores.shape[1]) if p.valid[i, j]]
        cands.sort(key=lambda c: -c[0] if larger else c[0])
        seen: set[int] = set()
        row = []
        for _, pk in cands:
            if pk not in seen:
                seen.add(pk)
                row.append(pk)
        out.append(row[offset:offset + k])
    return out


def _part(rng: np.random.Generator, nq: int, k: int, metric: str) -> SearchHits:
    scores = np.sort(rng.random((nq, k)).astype(np.float32), axis=1)
    if metric != "L2":
        scores = scores[:, ::-1].copy()
    pks = rng.integers(0, 40, (nq, k))  # small pk space: duplicates across parts
    valid = np.arange(k)[None, :] < rng.integers(0, k + 1, (nq, 1))  # invalid slots trail
    fields = {"f": (pks * 10).reshape(-1)}
    return SearchHits(scores=scores, pks=pks, valid=valid, fields=fields, metric=metric)


@pytest.mark.parametrize("metric", ["L2", "IP"])
@pytest.mark.parametrize("offset", [0, 3])
def test_merge_hits_matches_reference(metric: str, offset: int) -> None:
    rng = np.random.default_rng(7)
    for trial in range(20):
        parts = [_part(rng, 3, int(rng.integers(1, 8)), metric) for _ in range(int(rng.integers(1, 5)))]
        k = int(rng.integers(1, 10))
        merged = merge_hits(parts, k, offset)
        want = _reference(parts, k, offset, metric != "L2")
        for i in range(3):
            got = merged.pks[i][merged.valid[i]].tolist()
            assert got == want[i], (trial, i)
            assert merged.valid[i].tolist() == [True] * len(got) + [False] * (k - len(got))
            assert (merged.fields["f"].reshape(3, k)[i][: len(got)] == np.array(got) * 10).all()
        assert merged.scores.shape == (3, k)


def test_merge_hits_single_part_fast_path() -> None:
    part = _part(np.random.default_rng(1), 1, 5, "L2")
    assert merge_hits([part], 5) is part


def test_merge_query_results_dedup_limit_offset() -> None:
    a = QueryResult({"id": np.array([5, 1, 9]), "x": np.array([50, 10, 90])}, 3)
    b = QueryResult({"id": np.array([3, 1]), "x": np.array([30, 11])}, 2)
    r = merge_query_results([a, b], "id", limit=2, offset=1)
    assert r.columns["id"].tolist() == [3, 5] and r.columns["x"].tolist() == [30, 50]
    every = merge_query_results([a, b], "id")
    assert every.columns["id"].tolist() == [5, 1, 9, 3]
    assert merge_query_results([a, b], "id", count_only=True).count == 5


# --------------------------------------------------------------------------- node fixtures
class Env(QueryStack):
    def __init__(self, root: Path) -> None:
        super().__init__(root, (CH,), wait_timeout=2.0, ts=100)

    def put(self, payload: bytes) -> None:
        self.wal.append(CH, payload, durable=False)

    def insert(self, pks: np.ndarray, seg: int, seed: int = 0) -> int:
        ts = self.next_ts()
        self.put(insert_msg(SCHEMA, make_columns(SCHEMA, pks, seed), ts, seg))
        return ts


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path)
    yield e
    e.close()


def watch(env: Env, excluded: list[int] | None = None, seek: int = 0) -> QueryNodeImpl:
    node = env.nodes[0]
    node.watch_channel(COLLECTION, CH, seek, excluded or [], ())
    return node


def count(node: QueryNodeImpl, guarantee: int) -> int:
    return node.query(CH, query_req(0, guarantee_ts=guarantee, count_only=True)).count


# --------------------------------------------------------------------------- delegator
def test_consumes_inserts_deletes_and_waits_for_tsafe(env: Env) -> None:
    env.insert(np.arange(10), seg=1)
    t_del = env.next_ts()
    env.put(delete_msg(np.array([3, 4]), t_del))
    node = watch(env)
    assert count(node, t_del) == 8
    assert node.channel_caught_up(CH)
    # A later guarantee blocks until the WAL reaches it, then answers (no polling).
    target = env.ts + 10
    result: list[int] = []
    th = threading.Thread(target=lambda: result.append(count(node, target)))
    th.start()
    time.sleep(0.05)
    assert not result
    env.insert(np.arange(10, 15), seg=1)
    th.join(2)
    assert result == [13]


def test_tsafe_timeout_is_a_milvus_error(env: Env) -> None:
    node = watch(env)
    node.delegator(CH)._wait_timeout = 0.1  # type: ignore[union-attr]
    with pytest.raises(MilvusError) as err:
        count(node, 10**12)
    assert err.value.code == 505 and "channel tsafe stalled" in err.value.message


def test_unknown_channel(env: Env) -> None:
    with pytest.raises(MilvusError) as err:
        env.nodes[0].search("nope", search_req(np.zeros((1, 8), np.float32), 1, 0))
    assert err.value.code == 500


def test_upsert_through_wal(env: Env) -> None:
    env.insert(np.arange(5), seg=1)
    t = env.next_ts()
    env.put(delete_msg(np.array([2]), t))
    new = make_columns(SCHEMA, np.array([2]), seed=3)
    new["age"] = np.array([777])
    env.put(insert_msg(SCHEMA, new, t, seg=2))
    node = watch(env)
    res = node.query(CH, query_req(0, guarantee_ts=t, output_fields=("age",), limit=10))
    assert res.columns["id"].tolist() == [0, 1, 2, 3, 4]
    assert res.columns["age"].tolist() == [0, 1, 777, 3, 4]


def test_upsert_half_holds_tsafe_until_its_insert(env: Env) -> None:
    """Between an upsert's DELETE and INSERT no read may run at their timestamp."""
    from elanus.core.messages import UPSERT_DELETE

    env.insert(np.arange(5), seg=1)
    node = watch(env)
    t = env.next_ts()
    env.put(delete_msg(np.array([2]), t, seg=UPSERT_DELETE))
    d = node.delegator(CH)
    assert d is not None
    time.sleep(0.3)  # far longer than any batching delay: the hold must not time out
    assert d.tsafe.value < t
    new = make_columns(SCHEMA, np.array([2]), seed=3)
    env.put(insert_msg(SCHEMA, new, t, seg=2))
    res = node.query(CH, query_req(0, guarantee_ts=t, output_fields=("age",), limit=10))
    assert res.columns["id"].tolist() == [0, 1, 2, 3, 4]


def test_excluded_segments_and_flush(env: Env) -> None:
    env.insert(np.arange(5), seg=1)
    env.insert(np.arange(5, 9), seg=2)
    env.put(flush_msg([2], env.next_ts()))
    node = watch(env, excluded=[1])
    assert count(node, env.ts) == 4
    d = node.delegator(CH)
    assert d is not None and [g.sealed for g in d.distribution.growing] == [True]


def _hits_pks(h: SearchHits) -> list[int]:
    return sorted(h.pks[h.valid].tolist())


def test_growing_plus_sealed_on_two_nodes(env: Env) -> None:
    cols = make_columns(SCHEMA, np.arange(100), seed=1)
    info = write_segment(env.objects, SCHEMA, 50, cols, 90, index=FLAT)
    env.nodes[1].load_segment(COLLECTION, info, [])
    env.insert(np.arange(100, 160), seg=51, seed=2)
    node = watch(env, excluded=[50])
    node.handoff(CH, info, 2)
    q = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    hits = node.search(CH, search_req(q, 10, 0, guarantee_ts=env.ts, output_fields=("age",)))
    allvec = np.concatenate([cols["vec"], make_columns(SCHEMA, np.arange(100, 160), seed=2)["vec"]])
    _, ref = brute_force_search(allvec, q, 10, "L2")
    assert hits.pks.tolist() == ref.tolist()
    assert hits.fields["age"].tolist() == (ref.reshape(-1) % 100).tolist()
    assert count(node, env.ts) == 160
    page = node.query(CH, query_req(0, guarantee_ts=env.ts, limit=3, offset=98))
    assert page.columns["id"].tolist() == list(range(101))  # offset + limit, cut by the proxy


def test_handoff_no_gap_no_double_count(env: Env) -> None:
    """A reader searching continuously sees every row exactly once across the handoff, and a
    delete consumed while the sealed copy was loading still reaches it (delete buffer)."""
    n = 300
    env.insert(np.arange(n), seg=7, seed=4)
    node = watch(env)
    assert count(node, env.ts) == n
    cols = make_columns(SCHEMA, np.arange(n), seed=4)
    info = write_segment(env.objects, SCHEMA, 7, cols, env.ts, index=FLAT)
    env.nodes[1].load_segment(COLLECTION, info, [])  # loaded before the delete below
    t_del = env.next_ts()
    env.put(delete_msg(np.array([0, 1, 2]), t_del))
    assert count(node, t_del) == n - 3

    stop = threading.Event()
    seen: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    q = np.zeros((1, 8), np.float32)

    def reader() -> None:
        try:
            while not stop.is_set():
                c = count(node, t_del)
                h = node.search(CH, search_req(q, n, 0, guarantee_ts=t_del))
                pks = h.pks[h.valid]
                seen.append((c, len(set(pks.tolist())) if len(pks) == len(set(pks.tolist())) else -1))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    th = threading.Thread(target=reader)
    th.start()
    time.sleep(0.05)
    node.handoff(CH, info, 2)
    time.sleep(0.05)
    stop.set()
    th.join()
    assert not errors
    assert seen and all(s == (n - 3, n - 3) for s in seen), set(seen)
    d = node.delegator(CH)
    assert d is not None and not d.distribution.growing and len(d.distribution.sealed) == 1
    # Deletes after the handoff go to the sealed copy on node 2; later inserts of the
    # handed-off id are ignored (excluded).
    env.put(delete_msg(np.array([10]), env.next_ts()))
    env.insert(np.array([5000]), seg=7)
    assert count(node, env.ts) == n - 4


def test_load_segment_with_deltas_and_reload_keeps_deletes(env: Env) -> None:
    cols = make_columns(SCHEMA, np.arange(50))
    info = write_segment(env.objects, SCHEMA, 9, cols, 90)
    d = write_delta(env.objects, 1, np.array([1, 2]), 95)
    worker = env.nodes[1]
    worker.load_segment(COLLECTION, info, [d])
    worker.apply_deletes([9], np.array([3]), np.array([96], dtype=np.uint64))
    indexed = write_segment(env.objects, SCHEMA, 9, cols, 90, index=FLAT)
    worker.load_segment(COLLECTION, indexed, [d])
    res = worker.query_segments([9], query_req(100, count_only=True))
    assert res.count == 47
    assert worker.segment(9).indexed_fields == ("vec",)
    worker.release_segment(9)
    assert worker.segment_ids() == []
    assert worker.query_segments([9], query_req(100, count_only=True)).count == 47  # grace period


def test_filtered_search_never_returns_masked_rows(env: Env) -> None:
    pytest.importorskip("elanus.core.expr")
    from elanus.core import expr

    if not hasattr(expr, "compile_filter"):
        pytest.skip("filter engine not available yet")
    cols = make_columns(SCHEMA, np.arange(400), seed=8)
    info = write_segment(env.objects, SCHEMA, 60, cols, 90, index={"index_type": "HNSW", "metric_type": "L2",
                                                                     "M": "8", "efConstruction": "40"})
    env.nodes[0].load_segment(COLLECTION, info, [])
    env.insert(np.arange(400, 600), seg=61, seed=9)
    env.put(delete_msg(np.arange(0, 400, 3), env.next_ts()))
    node = watch(env, excluded=[60])
    node.handoff(CH, info, 1)
    q = np.random.default_rng(3).standard_normal((4, 8)).astype(np.float32)
    for expr_text, params in (("age < 20", {}), ("id in {ids}", {"ids": [5, 6, 7, 450]}),
                              ("name like \"n1%\"", {})):
        hits = node.search(CH, search_req(q, 50, 0, guarantee_ts=env.ts, filter=expr_text,
                                          filter_params=params, output_fields=("age", "name")))
        pks = hits.pks[hits.valid]
        assert len(pks), expr_text
        assert not any(p < 400 and p % 3 == 0 for p in pks.tolist())
        ages = hits.fields["age"].reshape(hits.pks.shape)[hits.valid]
        names = hits.fields["name"].reshape(hits.pks.shape)[hits.valid]
        if expr_text == "age < 20":
            assert (ages < 20).all()
        elif expr_text.startswith("id"):
            assert set(pks.tolist()) <= {5, 7, 450}
        else:
            assert all(s.startswith("n1") for s in names)
        q_res = node.query(CH, query_req(0, guarantee_ts=env.ts, filter=expr_text, filter_params=params,
                                         count_only=True))
        assert q_res.count >= len(set(pks.tolist())) // 4
