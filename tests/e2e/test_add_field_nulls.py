"""Schema evolution and nulls through pymilvus: ``add_collection_field`` on loaded and unloaded
collections (rows written before the field read as null or its default, the field is at once
insertable, readable and filterable, also after flush, reload and restart), nullable and
default-valued scalar fields on insert, and ``is null`` / ``is not null`` filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient, MilvusException
from pymilvus.grpc_gen import milvus_pb2, schema_pb2

from elanus.cluster.standalone import Standalone, StandaloneConfig
from tests.e2e.conftest import free_port

DIM = 8
STRONG = "Strong"


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, DIM), dtype=np.float32)


def _rows(start: int, n: int, **extra: Any) -> list[dict[str, Any]]:
    vecs = _vectors(start + n)
    return [{"id": i, "vector": vecs[i].tolist(), **extra} for i in range(start, start + n)]


def _query(c: MilvusClient, name: str, flt: str, fields: list[str]) -> dict[int, dict[str, Any]]:
    return {r["id"]: r for r in c.query(name, filter=flt, output_fields=fields, consistency_level=STRONG)}


def _count(c: MilvusClient, name: str, flt: str) -> int:
    return int(c.query(name, filter=flt, output_fields=["count(*)"], consistency_level=STRONG)[0]["count(*)"])


def _setup(c: MilvusClient, name: str, flushed: int = 100, growing: int = 50) -> None:
    """A quick-setup (loaded) collection with ``flushed`` sealed rows and ``growing`` in memory."""
    c.create_collection(name, dimension=DIM, consistency_level=STRONG)
    c.insert(name, _rows(0, flushed))
    c.flush(name)
    if growing:
        c.insert(name, _rows(flushed, growing))


NEW_FIELDS = [
    (DataType.INT8, {}, 7), (DataType.INT16, {}, -300), (DataType.INT32, {}, 1 << 20),
    (DataType.INT64, {}, 1 << 40), (DataType.FLOAT, {}, 1.5), (DataType.DOUBLE, {}, 2.25),
    (DataType.BOOL, {}, True), (DataType.VARCHAR, {"max_length": 16}, "abc"),
    (DataType.ARRAY, {"element_type": DataType.INT64, "max_capacity": 4}, [1, 2]),
    (DataType.JSON, {}, {"k": [1, "x"]}),
]


def test_added_fields_read_null_then_take_values(client: MilvusClient, name: str) -> None:
    """One added field per scalar type, on a loaded collection with sealed and growing rows."""
    _setup(client, name)
    names = [f"f_{dtype.name.lower()}" for dtype, _, _ in NEW_FIELDS]
    for field, (dtype, params, _) in zip(names, NEW_FIELDS, strict=True):
        client.add_collection_field(name, field, dtype, nullable=True, **params)
    fields = {f["name"]: f for f in client.describe_collection(name)["fields"]}
    assert all(fields[f]["nullable"] is True for f in names)
    assert [fields[f]["field_id"] for f in names] == list(range(fields[names[0]]["field_id"],
                                                                 fields[names[0]]["field_id"] + len(names)))
    # Old rows (sealed and growing) read as null, immediately, and filter as null.
    rows = _query(client, name, "id >= 0", names)
    assert len(rows) == 150 and all(r[f] is None for r in rows.values() for f in names)
    for f in names:
        assert _count(client, name, f"{f} is null") == 150
        assert _count(client, name, f"{f} IS NOT NULL") == 0
    hits = client.search(name, [_vectors(1, 9)[0].tolist()], limit=5, filter=f"{names[0]} is not null",
                         consistency_level=STRONG)
    assert len(hits) == 1 and len(hits[0]) == 0
    # The fields are insertable at once (values, explicit nulls, absent) ...
    values = {f: v for f, (_, _, v) in zip(names, NEW_FIELDS, strict=True)}
    client.insert(name, _rows(150, 10, **values))
    client.insert(name, _rows(160, 5, **dict.fromkeys(names)))
    client.insert(name, _rows(165, 5))

    def check() -> None:
        got = _query(client, name, f"{names[3]} is not null", names)
        assert sorted(got) == list(range(150, 160))
        for f, v in values.items():
            assert got[155][f] == (pytest.approx(v) if isinstance(v, float) else v), f
            assert _count(client, name, f"{f} is null") == 160, f
        # ... readable in search output.
        hits = client.search(name, [_vectors(200)[152].tolist()], limit=3, output_fields=names,
                             filter="id >= 150 and id < 160", consistency_level=STRONG)
        assert hits[0][0]["id"] == 152 and hits[0][0]["entity"][names[-1]] == values[names[-1]]
        hits = client.search(name, [_vectors(1, 3)[0].tolist()], limit=20, output_fields=names,
                             consistency_level=STRONG)
        for hit in hits[0]:
            assert (hit["entity"][names[0]] is None) == (not 150 <= hit["id"] < 160), hit

    check()
    # The same after a flush and a reload from the segment files.
    client.flush(name)
    client.release_collection(name)
    client.load_collection(name)
    check()


def test_added_field_with_default_reads_default(client: MilvusClient, name: str) -> None:
    _setup(client, name)
    # A Python int is sent as an Int64 default (Milvus rejects it for Int32); numpy's is not.
    client.add_collection_field(name, "level", DataType.INT32, nullable=True, default_value=np.int32(5))
    assert _count(client, name, "level == 5") == 150
    assert _count(client, name, "level is null") == 0
    client.insert(name, _rows(150, 4, level=9))
    client.insert(name, _rows(154, 3, level=None))  # null on insert becomes the default
    client.insert(name, _rows(157, 3))
    rows = _query(client, name, "id >= 150", ["level"])
    assert {i: r["level"] for i, r in rows.items()} == {**dict.fromkeys(range(150, 154), 9),
                                                        **dict.fromkeys(range(154, 160), 5)}
    client.flush(name)
    client.release_collection(name)
    client.load_collection(name)
    assert _count(client, name, "level == 5") == 156


def test_add_fields_to_unloaded_collection_then_load(client: MilvusClient, name: str) -> None:
    _setup(client, name)
    client.release_collection(name)
    client.add_collection_field(name, "a", DataType.VARCHAR, nullable=True, max_length=8)
    client.insert(name, _rows(150, 10, a="x"))
    client.add_collection_field(name, "b", DataType.DOUBLE, nullable=True)
    client.insert(name, _rows(160, 10, a="y", b=0.5))
    client.load_collection(name)
    rows = _query(client, name, "id >= 0", ["a", "b"])
    assert len(rows) == 170
    assert [rows[i]["a"] for i in (0, 149, 150, 165)] == [None, None, "x", "y"]
    assert [rows[i]["b"] for i in (0, 155, 165)] == [None, None, 0.5]
    assert _count(client, name, 'a == "x" or b > 0.1') == 20
    ids = {f["name"]: f["field_id"] for f in client.describe_collection(name)["fields"]}
    assert ids["b"] == ids["a"] + 1


def test_add_field_rejections(client: MilvusClient, name: str) -> None:
    client.create_collection(name, dimension=DIM)
    cases = [
        ({"field_name": "x", "data_type": DataType.INT64}, "added field must be nullable, please check it, "
                                                           "field name = x: invalid parameter"),
        ({"field_name": "vector", "data_type": DataType.INT64, "nullable": True},
         "duplicated field name vector: invalid parameter"),
        ({"field_name": "v2", "data_type": DataType.FLOAT_VECTOR, "dim": 4, "nullable": True},
         "adding a vector field to an existing collection is not supported yet"),
        ({"field_name": "s", "data_type": DataType.VARCHAR, "nullable": True},
         "type param(max_length) should be specified for the field(s)"),
        ({"field_name": "s2", "data_type": DataType.VARCHAR, "max_length": 2, "nullable": True,
          "default_value": "abcdef"}, "the length (6) of string exceeds max length (2)"),
        ({"field_name": "i8", "data_type": DataType.INT8, "nullable": True, "default_value": np.int8(1),
          "is_partition_key": True}, "not support to add partition key field, field name  = i8"),
    ]
    for kwargs, text in cases:
        with pytest.raises(MilvusException) as err:
            client.add_collection_field(name, **kwargs)
        assert text in err.value.message, (kwargs, err.value.message)
    with pytest.raises(MilvusException, match="collection not found"):
        client.add_collection_field(name + "_missing", "x", DataType.INT64, nullable=True)
    assert [f["name"] for f in client.describe_collection(name)["fields"]] == ["id", "vector"]


def test_legacy_add_collection_field_rpc(client: MilvusClient, name: str) -> None:
    """pymilvus falls back to AddCollectionField when AlterCollectionSchema is unimplemented."""
    _setup(client, name, flushed=20, growing=0)
    stub = client._get_connection()._stub
    field = schema_pb2.FieldSchema(name="old_style", data_type=DataType.INT64, nullable=True)
    status = stub.AddCollectionField(milvus_pb2.AddCollectionFieldRequest(
        collection_name=name, schema=field.SerializeToString()))
    assert status.code == 0, status.reason
    bad = schema_pb2.FieldSchema(name="pk2", data_type=DataType.INT64, is_primary_key=True, nullable=True)
    status = stub.AddCollectionField(milvus_pb2.AddCollectionFieldRequest(
        collection_name=name, schema=bad.SerializeToString()))
    assert status.code == 1100 and status.reason == "not support to add pk field, field name = pk2: invalid parameter"
    assert _count(client, name, "old_style is null") == 20


def test_nullable_and_default_fields_on_insert(client: MilvusClient, name: str) -> None:
    schema = client.create_schema(enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=16)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    schema.add_field("n", DataType.INT64, nullable=True)
    schema.add_field("d", DataType.VARCHAR, max_length=8, default_value="dflt")
    schema.add_field("nd", DataType.FLOAT, nullable=True, default_value=0.5)
    schema.add_field("arr", DataType.ARRAY, element_type=DataType.INT64, max_capacity=4, nullable=True)
    index = client.prepare_index_params()
    index.add_index("vector", metric_type="COSINE")
    client.create_collection(name, schema=schema, index_params=index, consistency_level=STRONG)
    vecs = _vectors(6)
    client.insert(name, [
        {"id": "a", "vector": vecs[0].tolist(), "n": 1, "d": "x", "nd": 2.0, "arr": [1]},
        {"id": "b", "vector": vecs[1].tolist(), "n": None, "d": None, "nd": None, "arr": None},
        {"id": "c", "vector": vecs[2].tolist()},
    ])
    rows = {r["id"]: r for r in client.query(name, filter='id != ""', output_fields=["n", "d", "nd", "arr"])}
    assert (rows["a"]["n"], rows["a"]["d"], rows["a"]["nd"], rows["a"]["arr"]) == (1, "x", 2.0, [1])
    for key in ("b", "c"):
        assert (rows[key]["n"], rows[key]["d"], rows[key]["nd"], rows[key]["arr"]) == (None, "dflt", 0.5, None)
    for op, want in (("is null", {"b", "c"}), ("IS NULL", {"b", "c"}), ("is not null", {"a"}),
                     ("IS NOT NULL", {"a"})):
        hits = client.search(name, [vecs[0].tolist()], limit=5, filter=f"n {op}")
        assert {h["id"] for h in hits[0]} == want, op
    assert _count(client, name, "nd is null") == 0  # a default makes every row valid
    assert _count(client, name, "arr is null") == 2
    assert _count(client, name, "n > 0 or n is null") == 3


def test_added_field_survives_restart(tmp_path: Path) -> None:
    cfg = StandaloneConfig(data_dir=str(tmp_path / "data"), port=free_port())
    srv = Standalone(cfg)
    srv.start()
    try:
        c = MilvusClient(uri=f"http://{srv.proxy.address}", timeout=60)
        _setup(c, "evolve", flushed=30, growing=10)
        c.add_collection_field("evolve", "tag", DataType.VARCHAR, nullable=True, max_length=8)
        c.insert("evolve", _rows(40, 5, tag="t"))
        c.close()
    finally:
        srv.stop()
    srv = Standalone(cfg)
    srv.start()
    try:
        c = MilvusClient(uri=f"http://{srv.proxy.address}", timeout=60)
        c.load_collection("evolve")
        assert _count(c, "evolve", "tag is null") == 40
        assert sorted(_query(c, "evolve", 'tag == "t"', ["tag"])) == list(range(40, 45))
        assert next(f for f in c.describe_collection("evolve")["fields"] if f["name"] == "tag")["nullable"]
        c.close()
    finally:
        srv.stop()
