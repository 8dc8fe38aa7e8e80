"""SparseFloatVector end to end through pymilvus: create, insert (growing, then flushed and
indexed with SPARSE_INVERTED_INDEX / SPARSE_WAND), search with IP (results compared with a
dense numpy reference from the same rows), filters, query returning dict rows, deletes,
and Milvus's errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pymilvus import AnnSearchRequest, DataType, MilvusClient, MilvusException, RRFRanker

DIMS = 400
N = 300


def _rows(n: int, seed: int, start: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        idx = rng.choice(DIMS, size=int(rng.integers(1, 10)), replace=False)
        vec = {int(d): float(np.float32(v)) for d, v in zip(idx, rng.random(len(idx)), strict=True)}
        out.append({"id": start + i, "tag": (start + i) % 5, "sp": vec})
    return out


def _dense(vecs: list[dict[int, float]]) -> np.ndarray:
    m = np.zeros((len(vecs), DIMS + 100), dtype=np.float64)
    for i, v in enumerate(vecs):
        for d, x in v.items():
            m[i, d] = x
    return m


def _reference(rows: list[dict[str, Any]], queries: list[dict[int, float]], k: int,
               keep: Any = None) -> list[list[tuple[int, float]]]:
    kept = [r for r in rows if keep is None or keep(r)]
    scores = _dense(queries) @ _dense([r["sp"] for r in kept]).T
    out = []
    for s in scores:
        pairs = [(kept[j]["id"], float(s[j])) for j in np.flatnonzero(s > 0)]
        out.append(sorted(pairs, key=lambda p: (-p[1], p[0]))[:k])
    return out


def _check(res: Any, expected: list[list[tuple[int, float]]]) -> None:
    assert len(res) == len(expected)
    for hits, exp in zip(res, expected, strict=True):
        assert [h["id"] for h in hits] == [pk for pk, _ in exp]
        np.testing.assert_allclose([h["distance"] for h in hits], [s for _, s in exp], rtol=1e-5)


def _create(client: MilvusClient, name: str) -> None:
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("tag", DataType.INT64)
    schema.add_field("sp", DataType.SPARSE_FLOAT_VECTOR)
    client.create_collection(name, schema=schema, consistency_level="Strong")


@pytest.mark.parametrize("index_type", ["SPARSE_INVERTED_INDEX", "SPARSE_WAND"])
def test_sparse_insert_index_search_query(client: MilvusClient, name: str, index_type: str) -> None:
    _create(client, name)
    sealed = _rows(N, seed=1)
    client.insert(name, sealed)
    client.flush(name)
    growing = _rows(100, seed=2, start=N)
    rows = sealed + growing
    params = client.prepare_index_params()
    params.add_index("sp", index_type=index_type, metric_type="IP",
                     params={"inverted_index_algo": "DAAT_MAXSCORE"})
    client.create_index(name, params)
    client.load_collection(name)
    client.insert(name, growing)
    queries = [rows[0]["sp"], rows[N + 5]["sp"], _rows(1, seed=3)[0]["sp"], {DIMS + 50: 1.0}]
    k = 10
    res = client.search(name, queries, anns_field="sp", limit=k, search_params={"metric_type": "IP"})
    _check(res, _reference(rows, queries, k))
    assert res[3] == [] or len(res[3]) == 0  # no overlap, no hit

    res = client.search(name, queries[:2], anns_field="sp", limit=k, filter="tag == 2",
                        output_fields=["sp", "tag"])
    _check(res, _reference(rows, queries[:2], k, keep=lambda r: r["tag"] == 2))
    by_id = {r["id"]: r for r in rows}
    for hit in res[0]:
        assert hit["entity"]["tag"] == 2
        assert hit["entity"]["sp"] == pytest.approx(by_id[hit["id"]]["sp"])

    got = client.query(name, "id in [0, 7, 305]", output_fields=["sp"])
    assert {g["id"]: g["sp"] for g in got} == {i: pytest.approx(by_id[i]["sp"]) for i in (0, 7, 305)}

    client.delete(name, ids=[res[0][0]["id"]])
    after = client.search(name, queries[:1], anns_field="sp", limit=k, filter="tag == 2")
    deleted = res[0][0]["id"]
    _check(after, _reference([r for r in rows if r["id"] != deleted], queries[:1], k,
                             keep=lambda r: r["tag"] == 2))


def test_sparse_unindexed_search_and_empty_rows(client: MilvusClient, name: str) -> None:
    _create(client, name)
    rows = _rows(50, seed=4)
    rows[3]["sp"] = {}
    client.insert(name, rows)
    client.create_index(name, _flat_free_params(client))
    client.load_collection(name)
    queries = [rows[1]["sp"], {}]
    res = client.search(name, queries, anns_field="sp", limit=5, search_params={"params": {"drop_ratio_search": 0}})
    _check(res, _reference(rows, queries, 5))
    assert client.query(name, "id == 3", output_fields=["sp"])[0]["sp"] == {}


def _flat_free_params(client: MilvusClient) -> Any:
    params = client.prepare_index_params()
    params.add_index("sp", index_type="AUTOINDEX", metric_type="IP")
    return params


def test_sparse_errors(client: MilvusClient, name: str) -> None:
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("sp", DataType.SPARSE_FLOAT_VECTOR, dim=8)
    with pytest.raises(MilvusException, match="dim should not be specified for sparse vector field sp"):
        client.create_collection(name, schema=schema, consistency_level="Strong")
    _create(client, name)
    with pytest.raises(MilvusException, match="negative value in sparse float vector"):
        client.insert(name, [{"id": 1, "tag": 0, "sp": {1: -1.0}}])
    params = client.prepare_index_params()
    params.add_index("sp", index_type="SPARSE_INVERTED_INDEX", metric_type="L2")
    with pytest.raises(MilvusException, match="only IP&BM25 is the supported metric type for sparse index"):
        client.create_index(name, params)
    params = client.prepare_index_params()
    params.add_index("sp", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    client.create_index(name, params)
    client.insert(name, _rows(10, seed=5))
    client.load_collection(name)
    with pytest.raises(MilvusException, match=r"metric type not match: invalid parameter\[expected=IP\]\[actual=L2\]"):
        client.search(name, [{1: 1.0}], anns_field="sp", limit=3, search_params={"metric_type": "L2"})
    with pytest.raises(MilvusException, match="drop_ratio_search"):
        client.search(name, [{1: 1.0}], anns_field="sp", limit=3,
                      search_params={"metric_type": "IP", "params": {"drop_ratio_search": 1.5}})


def test_nullable_sparse_and_hybrid_with_dense(client: MilvusClient, name: str) -> None:
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("sp", DataType.SPARSE_FLOAT_VECTOR, nullable=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    client.create_collection(name, schema=schema, consistency_level="Strong")
    rows = [{"id": i, "sp": ({i % 7: 1.0 + i / 100, 10: 0.5} if i % 3 else None), "v": [float(i), 1.0]}
            for i in range(30)]
    client.insert(name, rows)
    params = client.prepare_index_params()
    params.add_index("sp", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    params.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_index(name, params)
    client.load_collection(name)
    # null vectors are never results
    res = client.search(name, [{10: 1.0}], anns_field="sp", limit=30)
    assert sorted(h["id"] for h in res[0]) == [i for i in range(30) if i % 3]
    got = {r["id"]: r["sp"] for r in client.query(name, "id < 6", output_fields=["sp"])}
    assert got == {i: (None if rows[i]["sp"] is None else pytest.approx(rows[i]["sp"])) for i in range(6)}
    # hybrid: sparse + dense, fused by RRF (reference from the two exact rankings)
    q_sp, q_v = {1: 1.0}, [4.2, 1.0]
    reqs = [AnnSearchRequest([q_sp], "sp", {"metric_type": "IP"}, limit=5),
            AnnSearchRequest([q_v], "v", {"metric_type": "L2"}, limit=5)]
    out = client.hybrid_search(name, reqs, RRFRanker(60), limit=4)
    sp_rank = [pk for pk, _ in _reference([r for r in rows if r["sp"] is not None], [q_sp], 5)[0]]
    v_rank = sorted(range(30), key=lambda i: ((i - 4.2) ** 2, i))[:5]
    fused: dict[int, float] = {}
    for ranking in (sp_rank, v_rank):
        for rank, pk in enumerate(ranking, start=1):
            fused[pk] = fused.get(pk, 0.0) + 1.0 / (60 + rank)
    want = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
    assert [h["id"] for h in out[0]] == [pk for pk, _ in want]
    np.testing.assert_allclose([h["distance"] for h in out[0]], [s for _, s in want], rtol=1e-5)


def test_sparse_survives_restart(tmp_path: Any) -> None:
    """Sparse rows come back after a restart from both the segment files (flushed part) and
    the WAL (rows never flushed), and an index built before the restart still serves."""
    from elanus.cluster.standalone import Standalone, StandaloneConfig
    from tests.e2e.conftest import free_port

    data_dir = str(tmp_path / "data")
    rows = _rows(60, seed=11)
    srv = Standalone(StandaloneConfig(data_dir=data_dir, port=free_port()))
    srv.start()
    try:
        c = MilvusClient(uri=f"http://{srv.proxy.address}", timeout=60)
        _create(c, "sp_restart")
        c.insert("sp_restart", rows[:40])
        c.flush("sp_restart")
        params = c.prepare_index_params()
        params.add_index("sp", index_type="SPARSE_WAND", metric_type="IP")
        c.create_index("sp_restart", params)
        c.insert("sp_restart", rows[40:])
        c.close()
    finally:
        srv.stop()
    srv = Standalone(StandaloneConfig(data_dir=data_dir, port=free_port()))
    srv.start()
    try:
        c = MilvusClient(uri=f"http://{srv.proxy.address}", timeout=60)
        c.load_collection("sp_restart")
        got = {r["id"]: r["sp"] for r in c.query("sp_restart", "", limit=100, output_fields=["sp"],
                                                   consistency_level="Strong")}
        assert got == {r["id"]: pytest.approx(r["sp"]) for r in rows}
        queries = [rows[3]["sp"], rows[45]["sp"]]
        res = c.search("sp_restart", queries, anns_field="sp", limit=5, consistency_level="Strong")
        _check(res, _reference(rows, queries, 5))
        c.close()
    finally:
        srv.stop()
