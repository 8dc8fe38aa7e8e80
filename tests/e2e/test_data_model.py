"""The scalar data model through pymilvus: auto-id int64 and VarChar primary keys,
VarChar ``max_length`` and Array ``max_capacity`` enforced on insert and upsert (Milvus's
texts), nullable fields and default values on every scalar type (flushed and growing rows),
and dynamic-field keys filtered and returned like real fields; results are compared with
what the test inserted."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient, MilvusException

# (field, type, extra kwargs, default value, a non-default value)
SCALARS: list[tuple[str, DataType, dict[str, Any], Any, Any]] = [
    ("b", DataType.BOOL, {}, True, False),
    ("i8", DataType.INT8, {}, np.int8(-7), 5),
    ("i16", DataType.INT16, {}, np.int16(300), -2),
    ("i32", DataType.INT32, {}, np.int32(70000), 9),
    ("i64", DataType.INT64, {}, 2**40, -1),
    ("f", DataType.FLOAT, {}, np.float32(1.5), 0.25),
    ("d", DataType.DOUBLE, {}, 2.75, -0.5),
    ("s", DataType.VARCHAR, {"max_length": 16}, "dflt", "given"),
]


def _index_and_load(client: MilvusClient, name: str) -> None:
    params = client.prepare_index_params()
    params.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_index(name, params)
    client.load_collection(name)


@pytest.mark.parametrize("pk_type", [DataType.INT64, DataType.VARCHAR])
def test_auto_id_primary_keys(client: MilvusClient, name: str, pk_type: DataType) -> None:
    schema = client.create_schema(auto_id=True)
    kwargs = {"max_length": 64} if pk_type == DataType.VARCHAR else {}
    schema.add_field("id", pk_type, is_primary=True, **kwargs)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    client.create_collection(name, schema=schema, consistency_level="Strong")
    ids = client.insert(name, [{"v": [float(i), 0.0]} for i in range(20)])["ids"]
    assert len(set(ids)) == 20
    if pk_type == DataType.VARCHAR:  # Milvus: the allocated int64 ids as decimal strings
        assert all(isinstance(i, str) and i.isdigit() for i in ids)
    else:
        assert all(isinstance(i, int) for i in ids)
    _index_and_load(client, name)
    got = client.query(name, "", limit=100, output_fields=["v"])
    assert sorted(r["id"] for r in got) == sorted(ids)
    by_id = {r["id"]: r["v"][0] for r in got}
    assert [by_id[i] for i in ids] == [float(i) for i in range(20)]


def test_max_length_and_max_capacity(client: MilvusClient, name: str) -> None:
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    schema.add_field("s", DataType.VARCHAR, max_length=5)
    schema.add_field("a", DataType.ARRAY, element_type=DataType.INT64, max_capacity=3)
    schema.add_field("sa", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=2, max_length=3)
    client.create_collection(name, schema=schema, consistency_level="Strong")
    ok = {"id": 1, "v": [0.0, 1.0], "s": "héllo", "a": [1, 2, 3], "sa": ["abc"]}  # 6 bytes > 5
    long_text = "length of varchar field s exceeds max length, row number: 0, length: 6, max length: 5"
    cap_text = r"the length \(4\) of 0th array exceeds max capacity \(3\)"
    for write in (client.insert, client.upsert):
        with pytest.raises(MilvusException, match=long_text):
            write(name, [ok])
        with pytest.raises(MilvusException, match=cap_text):
            write(name, [{**ok, "s": "hello", "a": [1, 2, 3, 4]}])
        with pytest.raises(MilvusException, match='length of Array array field "sa" exceeds max length'):
            write(name, [{**ok, "s": "hello", "sa": ["abcd"]}])
    client.insert(name, [{**ok, "s": "hello"}])
    _index_and_load(client, name)
    assert client.query(name, "id == 1", output_fields=["s", "a", "sa"])[0] == \
        {"id": 1, "s": "hello", "a": [1, 2, 3], "sa": ["abc"]}


def test_nullable_and_default_values_every_scalar(client: MilvusClient, name: str) -> None:
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    for fname, dtype, kw, default, _ in SCALARS:
        schema.add_field(fname, dtype, nullable=True, default_value=default, **kw)
        schema.add_field(fname + "_n", dtype, nullable=True, **kw)  # nullable, no default
    schema.add_field("j", DataType.JSON, nullable=True)
    schema.add_field("arr", DataType.ARRAY, element_type=DataType.INT32, max_capacity=4, nullable=True)
    client.create_collection(name, schema=schema, consistency_level="Strong")
    rows: list[dict[str, Any]] = []
    for i in range(12):
        row: dict[str, Any] = {"id": i, "v": [float(i), 1.0]}
        for fname, _, _, _, given in SCALARS:
            if i % 3 == 0:
                row[fname], row[fname + "_n"] = given, given
            elif i % 3 == 1:
                row[fname], row[fname + "_n"] = None, None  # explicit null
            # i % 3 == 2: fields omitted
        row["j"] = {"i": i} if i % 2 else None
        row["arr"] = [i] if i % 2 else None
        rows.append(row)
    client.insert(name, rows[:6])
    client.flush(name)
    _index_and_load(client, name)
    client.insert(name, rows[6:])  # growing rows too
    got = {r["id"]: r for r in client.query(name, "", limit=100, output_fields=["*"], consistency_level="Strong")}
    assert len(got) == 12
    for i in range(12):
        for fname, dtype, _, default, given in SCALARS:
            want_default = given if i % 3 == 0 else default
            want_null = given if i % 3 == 0 else None
            value = got[i][fname]
            if dtype in (DataType.FLOAT, DataType.DOUBLE):
                assert value == pytest.approx(float(want_default))
            else:
                assert value == want_default, (i, fname)
            assert got[i][fname + "_n"] == (pytest.approx(want_null) if isinstance(want_null, float) else want_null)
        assert got[i]["j"] == ({"i": i} if i % 2 else None)
        assert got[i]["arr"] == ([i] if i % 2 else None)
    # a default counts as a value, null does not
    assert client.query(name, "i32 == 70000", output_fields=["count(*)"])[0]["count(*)"] == 8
    assert client.query(name, "i32_n is null", output_fields=["count(*)"])[0]["count(*)"] == 8
    assert sorted(r["id"] for r in client.query(name, 's == "given"', output_fields=["id"])) == [0, 3, 6, 9]


def test_dynamic_fields_filter_and_output(client: MilvusClient, name: str) -> None:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    client.create_collection(name, schema=schema, consistency_level="Strong")
    rows: list[dict[str, Any]] = [
        {"id": i, "v": [float(i), 0.0], "color": ["red", "blue"][i % 2], "size": i * 10,
         **({"extra": {"n": i}} if i % 4 == 0 else {})} for i in range(20)]
    client.insert(name, rows)
    _index_and_load(client, name)
    got = client.query(name, 'color == "red" and size >= 60', output_fields=["color", "size"])
    want = [r for r in rows if r["color"] == "red" and r["size"] >= 60]
    assert sorted(got, key=lambda r: r["id"]) == [{"id": r["id"], "color": r["color"], "size": r["size"]}
                                                  for r in want]
    got = client.query(name, 'extra["n"] > 4', output_fields=["extra"])
    assert sorted(r["id"] for r in got) == [8, 12, 16]
    assert all(r["extra"] == {"n": r["id"]} for r in got)
    res = client.search(name, [[3.0, 0.0]], limit=3, filter="size < 100 and color == 'blue'",
                        output_fields=["size", "color"])
    blue = sorted((r for r in rows if r["size"] < 100 and r["color"] == "blue"),
                  key=lambda r: (abs(r["id"] - 3), r["id"]))[:3]
    assert [h["id"] for h in res[0]] == [r["id"] for r in blue]
    assert [h["entity"] for h in res[0]] == [{"size": r["size"], "color": r["color"]} for r in blue]
    full = client.query(name, "id == 4", output_fields=["*"])[0]
    assert full["color"] == "red" and full["size"] == 40 and full["extra"] == {"n": 4}
