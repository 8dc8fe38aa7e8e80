"""Scalar indexes built and used, through pymilvus: every index kind on its field types
(nulls, arrays, JSON paths, a dynamic key), built for the flushed segment, loaded with it,
answering query and search filters exactly as the reference computed here from the rows
(also with unflushed rows in a growing segment, and after the indexes are dropped)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from pymilvus import DataType, MilvusClient

from elanus.cluster.standalone import Standalone
from elanus.core.expr import compile_filter
from elanus.core.scalar_index.planner import plan

N, MORE, DIM = 600, 60, 4
WORDS = ["apple", "apricot", "banana", "band", "zeta", "Ünï"]
Row = dict[str, Any]


def make_row(i: int, vectors: np.ndarray) -> Row:
    meta: Any = None if i % 17 == 0 else {"n": [i % 20, str(i % 20), i % 2 == 0, float(i % 20) / 2][i % 4],
                                          "s": WORDS[i % 6], "l": [i % 5, WORDS[i % 6], i % 2 == 0][: i % 4]}
    row: Row = {
        "id": i, "vector": vectors[i].tolist(), "i32": None if i % 7 == 0 else (i * 37) % 200 - 100,
        "cat": i % 5, "d": (i % 50) / 4, "s": None if i % 11 == 0 else WORDS[i % 6] + str(i % 3),
        "flag": None if i % 13 == 0 else i % 3 == 0, "tags": [WORDS[(i + k) % 6] for k in range(i % 4)],
        "nums": None if i % 9 == 0 else [i % 7, (i * 3) % 11][: i % 3], "meta": meta,
    }
    if i % 4:
        row["color"] = ["red", "green", "blue"][i % 3]
    return row


def num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def jn(r: Row) -> Any:
    return (r["meta"] or {}).get("n")


def js(r: Row) -> Any:
    return (r["meta"] or {}).get("s")


def jl_has(r: Row, values: tuple[Any, ...]) -> bool:
    items = (r["meta"] or {}).get("l", [])
    return any(num(e) and e == v for e in items for v in values)


# filter -> reference (True = the row matches; None / null never matches)
CASES: dict[str, Callable[[Row], bool]] = {
    "i32 > 50": lambda r: r["i32"] is not None and r["i32"] > 50,
    "-10 < i32 <= 10": lambda r: r["i32"] is not None and -10 < r["i32"] <= 10,
    "i32 in [3, 5, -97, 1000]": lambda r: r["i32"] in (3, 5, -97),
    "i32 is null": lambda r: r["i32"] is None,
    "not (i32 >= 0)": lambda r: r["i32"] is not None and r["i32"] < 0,
    "cat == 3": lambda r: r["cat"] == 3,
    "cat not in [1, 4]": lambda r: r["cat"] not in (1, 4),
    "d >= 10.0": lambda r: r["d"] >= 10.0,
    "d == 2.5": lambda r: r["d"] == 2.5,
    's like "ap%"': lambda r: r["s"] is not None and r["s"].startswith("ap"),
    's like "%a1"': lambda r: r["s"] is not None and r["s"].endswith("a1"),
    's == "banana2"': lambda r: r["s"] == "banana2",
    's in ["band0", "zeta1", "nope"]': lambda r: r["s"] in ("band0", "zeta1"),
    "s is not null": lambda r: r["s"] is not None,
    "s > \"b\"": lambda r: r["s"] is not None and r["s"] > "b",
    "flag == true": lambda r: r["flag"] is True,
    "not flag": lambda r: r["flag"] is False,
    'array_contains(tags, "apple")': lambda r: "apple" in r["tags"],
    'array_contains_any(tags, ["band", "zeta"])': lambda r: bool({"band", "zeta"} & set(r["tags"])),
    'array_contains_all(tags, ["apple", "apricot"])': lambda r: {"apple", "apricot"} <= set(r["tags"]),
    "array_contains(nums, 3)": lambda r: r["nums"] is not None and 3 in r["nums"],
    "array_contains_any(nums, [1, 2])": lambda r: r["nums"] is not None and bool({1, 2} & set(r["nums"])),
    "nums is null": lambda r: r["nums"] is None,
    'meta["n"] > 8': lambda r: num(jn(r)) and jn(r) > 8,
    'meta["n"] in [1, 2, 3]': lambda r: num(jn(r)) and jn(r) in (1, 2, 3),
    'meta["s"] like "b%"': lambda r: isinstance(js(r), str) and js(r).startswith("b"),
    'meta["s"] == "apple"': lambda r: js(r) == "apple",
    'json_contains(meta["l"], 3)': lambda r: jl_has(r, (3,)),
    'json_contains_any(meta["l"], [1, 2])': lambda r: jl_has(r, (1, 2)),
    'color == "red"': lambda r: r.get("color") == "red",
    'color in ["red", "blue"]': lambda r: r.get("color") in ("red", "blue"),
    'cat == 3 and s like "ap%"': lambda r: r["cat"] == 3 and r["s"] is not None and r["s"].startswith("ap"),
    "i32 > 90 or flag": lambda r: (r["i32"] is not None and r["i32"] > 90) or r["flag"] is True,
    'not (cat in [1, 2]) and color == "green"': lambda r: r["cat"] not in (1, 2) and r.get("color") == "green",
}

INDEXES: list[tuple[str, str, dict[str, str]]] = [
    ("i32", "STL_SORT", {}), ("cat", "BITMAP", {}), ("d", "INVERTED", {}), ("s", "Trie", {}),
    ("flag", "BITMAP", {}), ("tags", "INVERTED", {}), ("nums", "BITMAP", {}),
    ("meta", "INVERTED", {"json_cast_type": "DOUBLE", "json_path": 'meta["n"]'}),
    ("meta", "STL_SORT", {"json_cast_type": "VARCHAR", "json_path": 'meta["s"]'}),
    ("meta", "INVERTED", {"json_cast_type": "ARRAY_DOUBLE", "json_path": 'meta["l"]'}),
    ("color", "INVERTED", {"json_cast_type": "VARCHAR"}),
]


def index_name(field: str, kind: str, params: dict[str, str]) -> str:
    return f"ix_{field}_{kind}_{params.get('json_cast_type', '')}"


def make_collection(client: MilvusClient, name: str) -> np.ndarray:
    schema = client.create_schema(enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    schema.add_field("i32", DataType.INT32, nullable=True)
    schema.add_field("cat", DataType.INT64)
    schema.add_field("d", DataType.DOUBLE)
    schema.add_field("s", DataType.VARCHAR, max_length=32, nullable=True)
    schema.add_field("flag", DataType.BOOL, nullable=True)
    schema.add_field("tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=8, max_length=16)
    schema.add_field("nums", DataType.ARRAY, element_type=DataType.INT64, max_capacity=8, nullable=True)
    schema.add_field("meta", DataType.JSON, nullable=True)
    index_params = client.prepare_index_params()
    index_params.add_index("vector", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index_params, consistency_level="Strong")
    return np.random.default_rng(3).random((N + MORE, DIM), dtype=np.float32)


def check_all(client: MilvusClient, name: str, rows: list[Row], vectors: np.ndarray) -> None:
    for expr, ref in CASES.items():
        want = {r["id"] for r in rows if ref(r)}
        got = {r["id"] for r in client.query(name, filter=expr, output_fields=["id"], limit=N + MORE)}
        assert got == want, f"query {expr}: extra {sorted(got - want)[:5]}, missing {sorted(want - got)[:5]}"
        hits = client.search(name, [vectors[0].tolist()], filter=expr, limit=N + MORE, output_fields=["id"])[0]
        assert {h["id"] for h in hits} == want, f"search {expr}"
        assert client.query(name, filter=expr, output_fields=["count(*)"])[0]["count(*)"] == len(want)


def test_scalar_indexes_are_built_loaded_and_used(client: MilvusClient, name: str, server: Standalone) -> None:
    vectors = make_collection(client, name)
    rows = [make_row(i, vectors) for i in range(N)]
    client.insert(name, rows)
    client.flush(name)
    index_params = client.prepare_index_params()
    for field, kind, params in INDEXES:
        index_params.add_index(field, index_type=kind, index_name=index_name(field, kind, params), params=params)
    client.create_index(name, index_params)
    for field, kind, params in INDEXES:
        desc = client.describe_index(name, index_name(field, kind, params))
        assert (desc["state"], desc["indexed_rows"], desc["total_rows"]) == ("Finished", N, N)
    client.release_collection(name)
    client.load_collection(name)

    qn = server.query_node
    loaded = [qn.segment(sid) for sid in qn.segment_ids() if qn.segment(sid).collection_id == _coll_id(server, name)]
    assert loaded and all(len(seg.scalar_indexes) == len(INDEXES) for seg in loaded)
    kinds = sorted(ix.kind for ix in loaded[0].scalar_indexes)
    assert kinds == sorted(kind for _, kind, _ in INDEXES)
    seg = loaded[0]
    for expr in ['s like "ap%"', 'meta["n"] > 8', 'array_contains(tags, "apple")', 'color == "red"', "nums is null",
                 'json_contains(meta["l"], 3)', "cat == 3 and flag"]:  # answered without reading a column
        flt = compile_filter(expr, seg.schema)
        assert plan(flt, seg.schema, seg.scalar_indexes, seg.num_rows).fields == frozenset(), expr
    check_all(client, name, rows, vectors)

    more = [make_row(i, vectors) for i in range(N, N + MORE)]  # a growing segment: scanned
    client.insert(name, more)
    check_all(client, name, rows + more, vectors)

    for field, kind, params in INDEXES:  # scalar indexes may be dropped while loaded
        client.drop_index(name, index_name(field, kind, params))
    check_all(client, name, rows + more, vectors)
    client.release_collection(name)
    client.load_collection(name)
    loaded = [qn.segment(sid) for sid in qn.segment_ids() if qn.segment(sid).collection_id == _coll_id(server, name)]
    assert loaded and all(not seg.scalar_indexes for seg in loaded)
    check_all(client, name, rows + more, vectors)
    client.drop_collection(name)


def test_index_on_a_loaded_collection_reaches_new_segments(client: MilvusClient, name: str,
                                                          server: Standalone) -> None:
    vectors = make_collection(client, name)
    index_params = client.prepare_index_params()
    index_params.add_index("s", index_type="INVERTED")
    index_params.add_index("meta", index_type="AUTOINDEX", params={"json_cast_type": "double",
                                                                     "json_path": 'meta["n"]'})
    client.create_index(name, index_params)
    rows = [make_row(i, vectors) for i in range(N)]
    client.insert(name, rows)
    client.flush(name)  # built for the new segment, then handed to the loaded collection
    coll = _coll_id(server, name)
    qn = server.query_node
    deadline = time.monotonic() + 30
    while True:  # the handoff of the indexed segment follows the flush shortly
        segs = [qn.segment(s) for s in qn.segment_ids() if qn.segment(s).collection_id == coll]
        if (segs and all(len(seg.scalar_indexes) == 2 for seg in segs)) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert segs and all(len(seg.scalar_indexes) == 2 for seg in segs)
    assert {ix.kind for ix in segs[0].scalar_indexes} == {"INVERTED", "BITMAP"}  # HYBRID, few distinct: BITMAP
    check_all(client, name, rows, vectors)
    client.drop_collection(name)


def _coll_id(server: Standalone, name: str) -> int:
    return server.root.describe_collection("default", name).id
