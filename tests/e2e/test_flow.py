"""The core pymilvus flow against a real server: quick setup, explicit schema, insert, search, query."""

from __future__ import annotations

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient

DIM = 16


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, DIM), dtype=np.float32)


def test_quick_setup_insert_search_query_get(client: MilvusClient, name: str) -> None:
    client.create_collection(name, dimension=DIM)
    assert client.has_collection(name)
    vecs = _vectors(200)
    rows = [{"id": i, "vector": vecs[i].tolist(), "color": f"c{i % 5}"} for i in range(200)]
    res = client.insert(name, rows)
    assert res["insert_count"] == 200
    assert client.get_load_state(name)["state"].name == "Loaded"
    # Strong consistency: every acknowledged row is visible.
    hits = client.search(name, [vecs[7].tolist()], limit=3, output_fields=["color"],
                         consistency_level="Strong")
    assert hits[0][0]["id"] == 7
    assert hits[0][0]["entity"]["color"] == "c2"
    got = client.get(name, ids=[3, 4])
    assert sorted(r["id"] for r in got) == [3, 4]
    assert {r["color"] for r in got} == {"c3", "c4"}
    assert client.query(name, filter='color == "c1"', output_fields=["id"], consistency_level="Strong")
    count = client.query(name, filter="", output_fields=["count(*)"], consistency_level="Strong")
    assert count[0]["count(*)"] == 200


def _explicit_schema(client: MilvusClient) -> object:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("tag", DataType.VARCHAR, max_length=32)
    schema.add_field("score", DataType.DOUBLE)
    schema.add_field("flag", DataType.BOOL)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    return schema


@pytest.mark.parametrize("index_type,params", [
    ("FLAT", {}), ("HNSW", {"M": 8, "efConstruction": 64}), ("IVF_FLAT", {"nlist": 16}),
    ("IVF_SQ8", {"nlist": 16}), ("IVF_PQ", {"nlist": 16, "m": 4}), ("AUTOINDEX", {}),
])
def test_explicit_schema_flush_index_load_search(client: MilvusClient, name: str, index_type: str,
                                                 params: dict) -> None:
    client.create_collection(name, schema=_explicit_schema(client))
    n = 3000
    vecs = _vectors(n, seed=1)
    rows = [{"pk": i, "tag": f"t{i % 10}", "score": i / n, "flag": i % 2 == 0, "vec": vecs[i].tolist()}
            for i in range(n)]
    client.insert(name, rows)
    client.flush(name)
    assert client.get_collection_stats(name)["row_count"] == n
    index_params = client.prepare_index_params()
    index_params.add_index("vec", index_type=index_type, metric_type="L2", params=params)
    client.create_index(name, index_params)
    assert client.list_indexes(name) == ["vec"]
    desc = client.describe_index(name, "vec")
    assert desc["field_name"] == "vec"
    client.load_collection(name)
    assert client.get_load_state(name)["state"].name == "Loaded"
    queries = vecs[:20]
    res = client.search(name, queries.tolist(), limit=5, search_params={"params": {"ef": 64, "nprobe": 16}},
                        output_fields=["tag"])
    exact = np.argsort(((vecs[None, :, :] - queries[:, None, :]) ** 2).sum(-1), axis=1)[:, :5]
    recall = np.mean([len({h["pk"] for h in hits} & set(exact[i].tolist())) / 5 for i, hits in enumerate(res)])
    assert recall >= (0.6 if index_type == "IVF_PQ" else 0.9)
    for _i, hits in enumerate(res):
        for h in hits:
            assert h["entity"]["tag"] == f"t{h['pk'] % 10}"
    # filtered search honours the filter and returns full pages
    res = client.search(name, queries[:5].tolist(), limit=10, filter="flag == true and score < 0.5")
    for hits in res:
        assert len(hits) == 10
        assert all(h["pk"] % 2 == 0 and h["pk"] / n < 0.5 for h in hits)
    # offset pages line up with a bigger limit
    full = client.search(name, queries[:1].tolist(), limit=10, search_params={"params": {"ef": 128}})
    page = client.search(name, queries[:1].tolist(), limit=5, offset=5, search_params={"params": {"ef": 128}})
    assert [h["pk"] for h in page[0]] == [h["pk"] for h in full[0]][5:]
    client.release_collection(name)
    assert client.get_load_state(name)["state"].name == "NotLoad"
    client.drop_index(name, "vec")
    assert client.list_indexes(name) == []
    client.drop_collection(name)
    assert not client.has_collection(name)


def test_query_filters_limit_offset_count(client: MilvusClient, name: str) -> None:
    client.create_collection(name, schema=_explicit_schema(client))
    n = 500
    vecs = _vectors(n, seed=2)
    client.insert(name, [{"pk": i, "tag": f"t{i % 10}", "score": float(i), "flag": i % 3 == 0,
                          "vec": vecs[i].tolist()} for i in range(n)])
    index_params = client.prepare_index_params()
    index_params.add_index("vec", index_type="FLAT", metric_type="IP")
    client.create_index(name, index_params)
    client.load_collection(name)
    rows = client.query(name, filter="score >= 100 and score < 110 or tag in ['t1']",
                        output_fields=["pk", "tag", "score"], consistency_level="Strong")
    expected = {i for i in range(n) if (100 <= i < 110) or i % 10 == 1}
    assert {r["pk"] for r in rows} == expected
    assert client.query(name, filter="tag like 't1%'", output_fields=["count(*)"],
                        consistency_level="Strong")[0]["count(*)"] == 50
    limited = client.query(name, filter="pk >= 0", limit=10, offset=5, output_fields=["pk"],
                           consistency_level="Strong")
    assert len(limited) == 10
    vec_rows = client.query(name, filter="pk in [1, 2]", output_fields=["vec"], consistency_level="Strong")
    got = {r["pk"]: np.asarray(r["vec"], dtype=np.float32) for r in vec_rows}
    np.testing.assert_allclose(got[1], vecs[1], rtol=1e-6)


def test_delete_and_upsert(client: MilvusClient, name: str) -> None:
    client.create_collection(name, dimension=DIM, consistency_level="Strong")
    vecs = _vectors(100, seed=3)
    client.insert(name, [{"id": i, "vector": vecs[i].tolist(), "v": i} for i in range(100)])
    client.delete(name, ids=[0, 1, 2])
    client.delete(name, filter="v >= 90")
    left = client.query(name, filter="id >= 0", output_fields=["count(*)"])[0]["count(*)"]
    assert left == 100 - 3 - 10
    client.upsert(name, [{"id": 5, "vector": vecs[5].tolist(), "v": 5000}])
    assert client.get(name, ids=[5])[0]["v"] == 5000
    assert client.query(name, filter="id == 5", output_fields=["count(*)"])[0]["count(*)"] == 1
    # after a flush the sealed copy must agree (no resurrection, no double count)
    client.flush(name)
    assert client.query(name, filter="id >= 0", output_fields=["count(*)"])[0]["count(*)"] == 87
    assert client.get(name, ids=[5])[0]["v"] == 5000
    hits = client.search(name, [vecs[0].tolist()], limit=100)
    assert 0 not in {h["id"] for h in hits[0]}
