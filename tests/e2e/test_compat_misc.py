"""Milvus behaviours the L0 suite checks: describe shape, not-found texts, query windows,
auto-id upsert, truncate and segment listings, built-in RBAC answers, extra index types."""

from __future__ import annotations

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient
from pymilvus.exceptions import MilvusException

DIM = 8


def _rows(start: int, n: int, seed: int = 0) -> list[dict[str, object]]:
    vecs = np.random.default_rng(seed + start).random((n, DIM), dtype=np.float32)
    return [{"id": start + i, "vector": vecs[i].tolist()} for i in range(n)]


def _count(client: MilvusClient, name: str, expr: str = "") -> int:
    return int(client.query(name, filter=expr, output_fields=["count(*)"])[0]["count(*)"])


def test_describe_reports_every_partition(client: MilvusClient, name: str) -> None:
    client.create_collection(name, dimension=DIM)
    assert client.describe_collection(name)["num_partitions"] == 1
    client.create_partition(name, "p1")
    assert client.describe_collection(name)["num_partitions"] == 2


def test_collection_not_found_texts(client: MilvusClient, name: str) -> None:
    client.create_collection(name, dimension=DIM)
    client.create_partition(name, "p1")
    client.drop_collection(name)
    for call in (lambda: client.load_partitions(name, ["p1"]), lambda: client.release_partitions(name, ["p1"])):
        with pytest.raises(MilvusException) as exc:
            call()
        assert exc.value.code == 100
        assert exc.value.message == f"collection not found[database=default][collection={name}]"
    with pytest.raises(MilvusException) as exc:
        client.describe_collection(name)
    assert exc.value.message == f"can't find collection[database=default][collection={name}]"


def test_query_window_errors(client: MilvusClient, name: str) -> None:
    client.create_collection(name, dimension=DIM, consistency_level="Strong")
    client.insert(name, _rows(0, 5))
    window = "invalid max query result window, "
    suffix = ": invalid parameter: invalid parameter"
    for limit, offset, detail in (
            (16385, 0, "(offset+limit) should be in range [1, 16384], but got 16385"),
            (1, 16384, "(offset+limit) should be in range [1, 16384], but got 16385"),
            (2, -1, "offset [-1] is invalid, should be gte than 0"),
            (0, 0, "limit [0] is invalid, should be greater than 0")):
        with pytest.raises(MilvusException) as exc:
            client.query(name, filter="", limit=limit, offset=offset)
        assert exc.value.code == 1100
        assert exc.value.message == window + detail + suffix
    assert [r["id"] for r in client.query(name, filter="", limit=2, offset=1)] == [1, 2]


def test_upsert_into_auto_id_collection_replaces_rows_under_new_ids(client: MilvusClient, name: str) -> None:
    client.create_collection(name, dimension=DIM, auto_id=True, consistency_level="Strong")
    vecs = np.random.default_rng(1).random((6, DIM), dtype=np.float32)
    inserted = client.insert(name, [{"vector": v.tolist()} for v in vecs[:4]])["ids"]
    res = client.upsert(name, [{"id": inserted[0], "vector": vecs[4].tolist()},
                               {"id": 123456789, "vector": vecs[5].tolist()}])
    new_ids = list(res["ids"])
    assert res["upsert_count"] == 2 and len(new_ids) == 2
    assert min(new_ids) > max(inserted) and new_ids == sorted(new_ids)
    assert _count(client, name) == 5  # the upserted pk was deleted, the unknown one deleted nothing
    assert _count(client, name, f"id in {[inserted[0]]}") == 0
    got = client.query(name, filter=f"id in {new_ids}", output_fields=["vector"])
    assert sorted(r["id"] for r in got) == new_ids
    client.flush(name)
    assert client.get_collection_stats(name)["row_count"] == 6  # flushed rows, deletes not subtracted


def test_truncate_keeps_collection_and_drops_every_row(client: MilvusClient, name: str) -> None:
    client.create_collection(name, dimension=DIM, consistency_level="Strong")
    client.insert(name, _rows(0, 30))
    client.flush(name)
    client.insert(name, _rows(30, 10))  # still growing
    assert _count(client, name) == 40
    (seg,) = client.list_persistent_segments(name)
    assert seg.num_rows == 30 and seg.level == 2
    loaded = client.list_loaded_segments(name)
    assert [s.segment_id for s in loaded] == [seg.segment_id]
    assert loaded[0].index_name == "vector" and loaded[0].num_rows == 30 and loaded[0].node_ids

    client.truncate_collection(name)
    assert _count(client, name) == 0
    assert client.list_persistent_segments(name) == []
    assert client.list_loaded_segments(name) == []
    assert client.search(name, [[0.5] * DIM], limit=3) == [[]]
    assert client.get_load_state(name)["state"].name == "Loaded"
    assert client.list_indexes(name) == ["vector"]

    client.insert(name, _rows(100, 5))
    client.flush(name)
    assert _count(client, name) == 5
    assert [s.num_rows for s in client.list_persistent_segments(name)] == [5]
    client.release_collection(name)
    client.load_collection(name)
    assert sorted(r["id"] for r in client.query(name, filter="id >= 0")) == list(range(100, 105))
    with pytest.raises(MilvusException) as exc:
        client.truncate_collection(name + "_nope")
    assert exc.value.code == 100


def test_builtin_roles_and_user(client: MilvusClient) -> None:
    assert client.list_roles() == ["admin", "public"]
    assert client.describe_user("root") == {"user_name": "root", "roles": (), "description": ""}
    assert client.describe_user("nobody") == {}


@pytest.mark.parametrize(("index_type", "params"), [
    ("IVF_RABITQ", {"nlist": 16, "refine": "true", "refine_type": "SQ8"}),
    ("IVF_RABITQ", {"nlist": 16}),
    ("SCANN", {"nlist": 16}),
    ("DISKANN", {}),
])
def test_milvus_only_index_types_build_and_search(client: MilvusClient, name: str, index_type: str,
                                                  params: dict[str, object]) -> None:
    schema = client.create_schema(enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    client.create_collection(name, schema=schema, consistency_level="Strong")
    rows = _rows(0, 300)
    client.insert(name, rows)
    client.flush(name)
    index_params = client.prepare_index_params()
    index_params.add_index("vector", index_type=index_type, metric_type="L2", params=params)
    client.create_index(name, index_params)
    described = client.describe_index(name, "vector")
    assert described["index_type"] == index_type and described["state"] == "Finished"
    assert {k: described[k] for k in params} == {k: str(v) for k, v in params.items()}
    client.create_index(name, index_params)  # identical again: a no-op
    client.load_collection(name)
    hits = client.search(name, [rows[7]["vector"]], limit=5)[0]
    ids = [h["id"] for h in hits]
    assert len(set(ids)) == 5 and 7 in ids  # 1-bit RaBitQ codes without refine are coarse at dim 8
    got = client.query(name, filter="id in [3, 4]", output_fields=["vector"])
    assert sorted(r["id"] for r in got) == [3, 4]
    for r in got:  # raw vectors, never reconstructed from the quantised codes
        assert np.array_equal(np.asarray(r["vector"], dtype=np.float32),
                              np.asarray(rows[r["id"]]["vector"], dtype=np.float32))
