"""Several vector fields in one collection (each with its own index and metric), search on
each ``anns_field``, and ``hybrid_search`` with RRFRanker / WeightedRanker: every result is
compared with a reference computed in the test from the same data (exact FLAT/BIN_FLAT
indexes, numpy distances, the rankers' formulas)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pymilvus import (
    AnnSearchRequest,
    DataType,
    Function,
    FunctionType,
    MilvusClient,
    MilvusException,
    RRFRanker,
    WeightedRanker,
)

N = 240
D1, D2 = 8, 4


@pytest.fixture()
def loaded(client: MilvusClient, name: str) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    v1 = rng.standard_normal((N, D1)).astype(np.float32)
    v2 = rng.standard_normal((N, D2)).astype(np.float32)
    tags = np.arange(N) % 4
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("tag", DataType.INT64)
    schema.add_field("v1", DataType.FLOAT_VECTOR, dim=D1)
    schema.add_field("v2", DataType.FLOAT_VECTOR, dim=D2)
    client.create_collection(name, schema=schema, consistency_level="Strong")
    rows = [{"id": i, "tag": int(tags[i]), "v1": v1[i].tolist(), "v2": v2[i].tolist()} for i in range(N)]
    client.insert(name, rows[: N // 2])
    client.flush(name)
    params = client.prepare_index_params()
    params.add_index("v1", index_type="FLAT", metric_type="L2")
    params.add_index("v2", index_type="FLAT", metric_type="IP")
    client.create_index(name, params)
    client.load_collection(name)
    client.insert(name, rows[N // 2:])  # growing part
    return name, v1, v2, tags


def _topk(scores: np.ndarray, k: int, larger: bool, keep: np.ndarray | None = None) -> list[tuple[int, float]]:
    ids = np.arange(len(scores)) if keep is None else np.flatnonzero(keep)
    order = sorted(ids.tolist(), key=lambda i: (-scores[i] if larger else scores[i], i))[:k]
    return [(i, float(scores[i])) for i in order]


def _l2(v: np.ndarray, q: np.ndarray) -> np.ndarray:
    return ((v.astype(np.float64) - q) ** 2).sum(axis=1)


def _ip(v: np.ndarray, q: np.ndarray) -> np.ndarray:
    return v.astype(np.float64) @ q


def test_search_each_vector_field(client: MilvusClient, loaded: Any) -> None:
    name, v1, v2, _ = loaded
    q1, q2 = v1[3] + 0.01, v2[10]
    res1 = client.search(name, [q1.tolist()], anns_field="v1", limit=5)
    exp1 = _topk(_l2(v1, q1), 5, larger=False)
    assert [h["id"] for h in res1[0]] == [i for i, _ in exp1]
    np.testing.assert_allclose([h["distance"] for h in res1[0]], [s for _, s in exp1], rtol=1e-4)
    res2 = client.search(name, [q2.tolist()], anns_field="v2", limit=5, output_fields=["v1"])
    exp2 = _topk(_ip(v2, q2), 5, larger=True)
    assert [h["id"] for h in res2[0]] == [i for i, _ in exp2]
    for h in res2[0]:
        np.testing.assert_allclose(h["entity"]["v1"], v1[h["id"]], rtol=1e-6)
    with pytest.raises(MilvusException, match="multiple anns_fields exist"):
        client.search(name, [q1.tolist()], limit=5)


def _rrf(lists: list[list[tuple[int, float]]], k: float, limit: int) -> list[tuple[int, float]]:
    per: dict[int, float] = {}
    for lst in lists:
        for rank, (pk, _) in enumerate(lst, start=1):
            per[pk] = per.get(pk, 0.0) + 1.0 / (k + rank)
    return sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def test_hybrid_rrf(client: MilvusClient, loaded: Any) -> None:
    name, v1, v2, tags = loaded
    q1, q2 = v1[20], v2[21]
    reqs = [AnnSearchRequest([q1.tolist()], "v1", {"metric_type": "L2"}, limit=15, expr="tag != 1"),
            AnnSearchRequest([q2.tolist()], "v2", {"metric_type": "IP"}, limit=10)]
    res = client.hybrid_search(name, reqs, RRFRanker(30), limit=8, output_fields=["tag"])
    exp = _rrf([_topk(_l2(v1, q1), 15, False, tags != 1), _topk(_ip(v2, q2), 10, True)], 30.0, 8)
    assert [h["id"] for h in res[0]] == [pk for pk, _ in exp]
    np.testing.assert_allclose([h["distance"] for h in res[0]], [s for _, s in exp], rtol=1e-5)
    assert all(h["entity"]["tag"] == tags[h["id"]] for h in res[0])


def test_hybrid_weighted_two_queries(client: MilvusClient, loaded: Any) -> None:
    name, v1, v2, _ = loaded
    qs1, qs2 = v1[[1, 2]], v2[[5, 6]]
    reqs = [AnnSearchRequest(qs1.tolist(), "v1", {"metric_type": "L2"}, limit=6),
            AnnSearchRequest(qs2.tolist(), "v2", {"metric_type": "IP"}, limit=6)]
    res = client.hybrid_search(name, reqs, WeightedRanker(0.8, 0.2), limit=5)
    for i in range(2):
        per: dict[int, float] = {}
        for pk, d in _topk(_l2(v1, qs1[i]), 6, False):
            per[pk] = per.get(pk, 0.0) + 0.8 * (1 - 2 * math.atan(d) / math.pi)
        for pk, s in _topk(_ip(v2, qs2[i]), 6, True):
            per[pk] = per.get(pk, 0.0) + 0.2 * (0.5 + math.atan(s) / math.pi)
        exp = sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        assert [h["id"] for h in res[i]] == [pk for pk, _ in exp]
        np.testing.assert_allclose([h["distance"] for h in res[i]], [s for _, s in exp], rtol=1e-5)


def test_hybrid_errors(client: MilvusClient, loaded: Any) -> None:
    name, v1, v2, _ = loaded
    reqs = [AnnSearchRequest([v1[0].tolist()], "v1", {"metric_type": "L2"}, limit=3),
            AnnSearchRequest([v2[0].tolist()], "v2", {"metric_type": "IP"}, limit=3)]
    with pytest.raises(MilvusException, match="the length of weights param mismatch with ann search requests"):
        client.hybrid_search(name, reqs, WeightedRanker(0.5), limit=3)
    with pytest.raises(MilvusException, match="metric type not match"):
        bad = [AnnSearchRequest([v2[0].tolist()], "v2", {"metric_type": "L2"}, limit=3)]
        client.hybrid_search(name, bad, RRFRanker(), limit=3)


def test_hybrid_with_function_rankers(client: MilvusClient, loaded: Any) -> None:
    name, v1, v2, _ = loaded
    q1, q2 = v1[30], v2[31]
    reqs = [AnnSearchRequest([q1.tolist()], "v1", {"metric_type": "L2"}, limit=10),
            AnnSearchRequest([q2.tolist()], "v2", {"metric_type": "IP"}, limit=10)]
    rrf = Function(name="rrf", input_field_names=[], function_type=FunctionType.RERANK,
                   params={"reranker": "rrf", "k": 20})
    res = client.hybrid_search(name, reqs, rrf, limit=6)
    exp = _rrf([_topk(_l2(v1, q1), 10, False), _topk(_ip(v2, q2), 10, True)], 20.0, 6)
    assert [h["id"] for h in res[0]] == [pk for pk, _ in exp]
    weighted = Function(name="w", input_field_names=[], function_type=FunctionType.RERANK,
                        params={"reranker": "weighted", "weights": [1.0, 0.0], "norm_score": False})
    res = client.hybrid_search(name, reqs, weighted, limit=4)
    # weight 0 on v2: the order is v1's, as "larger is better" scores (L2 turned around by atan)
    per: dict[int, float] = {pk: 1 - 2 * math.atan(d) / math.pi for pk, d in _topk(_l2(v1, q1), 10, False)}
    for pk, _ in _topk(_ip(v2, q2), 10, True):
        per.setdefault(pk, 0.0)
    exp = sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
    assert [h["id"] for h in res[0]] == [pk for pk, _ in exp]
    np.testing.assert_allclose([h["distance"] for h in res[0]], [s for _, s in exp], rtol=1e-5)


def test_hybrid_checks_partitions_and_fields_first(client: MilvusClient, loaded: Any) -> None:
    name, v1, _, _ = loaded
    good = AnnSearchRequest([v1[0].tolist()], "v1", {"metric_type": "L2"}, limit=3)
    with pytest.raises(MilvusException, match="partition name nope not found"):
        client.hybrid_search(name, [good], RRFRanker(), limit=3, partition_names=["nope"])
    bad = AnnSearchRequest([[0.0] * 3], "missing", {"metric_type": "L2"}, limit=3)
    with pytest.raises(MilvusException, match=r"failed to create query plan: failed to get field schema by "
                                              r"name: fieldName\(missing\) not found"):
        client.hybrid_search(name, [good, bad], RRFRanker(), limit=3)
