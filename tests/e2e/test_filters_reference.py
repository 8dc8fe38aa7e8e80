"""Every filter operator and function through pymilvus, against a reference computed here.

One collection holds every scalar type (Bool, Int8/16/32/64, Float, Double, VarChar, JSON,
Arrays of Int64/Double/Bool/VarChar) with nulls, empty arrays, JSON rows with missing keys,
nested objects and lists, and dynamic-field keys; half its rows are flushed (sealed), half
stay growing. For each filter of :data:`CASES` the ids ``query`` returns must equal the rows
for which the plain-Python reference below is *true* — SQL three-valued logic: a comparison
with a null, a missing JSON key or a JSON value of another kind is unknown (None), ``not``
of unknown is unknown, and only true rows are returned. The reference is written here,
independently of the engine. Filtered search must return only passing rows, all of them
when fewer than ``limit`` pass, with recall@10 against brute force over the passing rows.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient
from pymilvus.exceptions import MilvusException

from tests.three_valued import and3, like_regex, not3, or3

DIM = 8
N = 240
ABSENT = object()  # a JSON path that does not exist in the row
Row = dict[str, Any]
Ref = Callable[[Row], bool | None]
WORDS = ["apple", "apricot", "banana", "band", "cherry", "", "a%b", "a_b", "axb", "Ünï", "line\nbreak"]


# -- data -------------------------------------------------------------------------------

def _json_doc(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.08:
        return None  # null JSON field
    if roll < 0.13:
        return [rng.randint(0, 4) for _ in range(rng.randint(0, 3))]  # a top-level list
    doc: dict[str, Any] = {}
    kind = rng.randrange(6)
    if kind < 5:  # "n": mostly a number, sometimes another kind; kind 5: missing
        doc["n"] = [rng.randint(-5, 5), rng.randint(-20, 20) / 4, rng.choice(WORDS), rng.random() < 0.5,
                    None][kind]
    if rng.random() < 0.8:
        doc["s"] = rng.choice(WORDS)
    if rng.random() < 0.7:
        doc["l"] = [rng.choice([1, 2, 3, "a", "b", True]) for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.6:
        doc["o"] = {"k": rng.randint(0, 3), "deep": {"x": rng.randint(0, 2)}} if rng.random() < 0.8 else {}
    return doc


def make_rows(seed: int = 11) -> list[Row]:
    rng = random.Random(seed)
    vectors = np.random.default_rng(seed).random((N, DIM), dtype=np.float32)
    rows: list[Row] = []

    def maybe(value: Any, p: float = 0.15) -> Any:
        return None if rng.random() < p else value

    for i in range(N):
        row: Row = {
            "id": i, "vec": vectors[i].tolist(),
            "b": maybe(rng.random() < 0.5),
            "i8": rng.randint(-128, 127), "i16": rng.randint(-300, 300), "i32": maybe(rng.randint(0, 10)),
            "i64": rng.randint(-50, 400), "f": rng.randint(-12, 12) / 4, "d": maybe(rng.uniform(-2, 2)),
            "s": maybe(rng.choice(WORDS)), "j": _json_doc(rng),
            "ai": maybe([rng.randint(0, 5) for _ in range(rng.randint(0, 4))]),
            "ad": [rng.randint(-8, 8) / 4 for _ in range(rng.randint(0, 3))],
            "ab": [rng.random() < 0.5 for _ in range(rng.randint(0, 3))],
            "astr": [rng.choice(WORDS[:5]) for _ in range(rng.randint(0, 3))],
        }
        if rng.random() < 0.7:
            row["dyn"] = rng.randint(0, 10)
        if rng.random() < 0.5:
            row["dtag"] = rng.choice(["x", "y", 3])
        rows.append(row)
    return rows


ROWS = make_rows()


# -- reference semantics -----------------------------------------------------------------

def kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "num"
    return "str" if isinstance(v, str) else type(v).__name__


def path(row: Row, field: str, *keys: Any) -> Any:
    v: Any = row.get(field, ABSENT)
    for k in keys:
        if isinstance(k, int) and isinstance(v, list):
            v = v[k] if k < len(v) else ABSENT
        elif isinstance(k, str) and isinstance(v, dict):
            v = v.get(k, ABSENT)
        else:
            return ABSENT
    return v


def cmp(v: Any, op: str, c: Any) -> bool | None:
    """``v op c``; unknown when v is null/absent or of another kind than c."""
    if v is None or v is ABSENT or kind(v) != kind(c):
        return None
    return {"==": v == c, "!=": v != c, "<": v < c, "<=": v <= c, ">": v > c, ">=": v >= c}[op]


def in3(v: Any, values: list[Any]) -> bool | None:
    if v is None or v is ABSENT or all(kind(v) != kind(c) for c in values):
        return None
    return any(kind(v) == kind(c) and v == c for c in values)


def like(v: Any, pattern: str) -> bool | None:
    if not isinstance(v, str):
        return None
    return like_regex(pattern).fullmatch(v) is not None


def regex(v: Any, pattern: str) -> bool | None:
    return None if not isinstance(v, str) else re.search(pattern, v, re.DOTALL) is not None


def num(v: Any) -> float | None:
    return v if kind(v) == "num" else None


def arith(v: Any, fn: Callable[[Any], Any], op: str, c: Any) -> bool | None:
    return None if num(v) is None else cmp(fn(v), op, c)


def contains(v: Any, values: list[Any], mode: str) -> bool | None:
    if not isinstance(v, list):
        return None
    hit = [any(kind(e) == kind(x) and e == x for e in v) for x in values]
    return all(hit) if mode == "all" else any(hit)


def length(v: Any) -> int | None:
    return len(v) if isinstance(v, list) else None


def exists(v: Any) -> bool:
    return v is not ABSENT and v is not None and v != {}


def trunc_div(a: int, b: int) -> int:
    return int(a / b) if abs(a) < 2**52 else -(-a // b)


CASES: list[tuple[str, Ref]] = [
    # comparisons, every scalar type (nullable ones: unknown on null)
    ("i64 > 200", lambda r: cmp(r["i64"], ">", 200)),
    ("i8 <= -3", lambda r: cmp(r["i8"], "<=", -3)),
    ("i16 != 7", lambda r: cmp(r["i16"], "!=", 7)),
    ("i32 == 5", lambda r: cmp(r["i32"], "==", 5)),
    ("f >= 1.5", lambda r: cmp(r["f"], ">=", 1.5)),
    ("d < 0", lambda r: cmp(r["d"], "<", 0)),
    ("b == true", lambda r: cmp(r["b"], "==", True)),
    ("b", lambda r: r["b"]),
    ("s == 'apple'", lambda r: cmp(r["s"], "==", "apple")),
    ('s >= "b"', lambda r: cmp(r["s"], ">=", "b")),
    ("i8 < 1000", lambda r: cmp(r["i8"], "<", 1000)),
    ("100 < i64", lambda r: cmp(r["i64"], ">", 100)),
    # chained ranges, both directions
    ("10 < i64 <= 200", lambda r: and3(cmp(r["i64"], ">", 10), cmp(r["i64"], "<=", 200))),
    ("200 >= i64 > 10", lambda r: and3(cmp(r["i64"], ">", 10), cmp(r["i64"], "<=", 200))),
    ("-1.5 <= f < 2.25", lambda r: and3(cmp(r["f"], ">=", -1.5), cmp(r["f"], "<", 2.25))),
    ("1 <= i32 <= 3", lambda r: and3(cmp(r["i32"], ">=", 1), cmp(r["i32"], "<=", 3))),
    ('"b" <= s < "c"', lambda r: and3(cmp(r["s"], ">=", "b"), cmp(r["s"], "<", "c"))),
    ('0 < j["n"] < 3', lambda r: and3(cmp(path(r, "j", "n"), ">", 0), cmp(path(r, "j", "n"), "<", 3))),
    # and / or / not, symbol and keyword forms, three-valued
    ("i64 > 100 and i32 < 5", lambda r: and3(cmp(r["i64"], ">", 100), cmp(r["i32"], "<", 5))),
    ("i64 > 100 && i32 < 5", lambda r: and3(cmp(r["i64"], ">", 100), cmp(r["i32"], "<", 5))),
    ("i64 < 10 OR i32 > 8", lambda r: or3(cmp(r["i64"], "<", 10), cmp(r["i32"], ">", 8))),
    ("i64 < 10 || i32 > 8", lambda r: or3(cmp(r["i64"], "<", 10), cmp(r["i32"], ">", 8))),
    ("not (i32 > 5)", lambda r: not3(cmp(r["i32"], ">", 5))),
    ("!(i32 > 5)", lambda r: not3(cmp(r["i32"], ">", 5))),
    ("NOT (d > 0) AND i64 > 3", lambda r: and3(not3(cmp(r["d"], ">", 0)), cmp(r["i64"], ">", 3))),
    ("not (i32 > 5 or d < 0)", lambda r: not3(or3(cmp(r["i32"], ">", 5), cmp(r["d"], "<", 0)))),
    ("not b", lambda r: not3(r["b"])),
    # in / not in
    ("i64 in [1, 2, 3, 250, 399]", lambda r: in3(r["i64"], [1, 2, 3, 250, 399])),
    ("i32 not in [1, 2]", lambda r: not3(in3(r["i32"], [1, 2]))),
    ('s in ["apple", "band"]', lambda r: in3(r["s"], ["apple", "band"])),
    ('s not in ["apple"]', lambda r: not3(in3(r["s"], ["apple"]))),
    ("f in [0.5, 1.25]", lambda r: in3(r["f"], [0.5, 1.25])),
    ("i64 in []", lambda r: False),
    # like: prefix, suffix, infix, single-character and escaped wildcards
    ('s like "ap%"', lambda r: like(r["s"], "ap%")),
    ('s like "%an%"', lambda r: like(r["s"], "%an%")),
    ('s like "%y"', lambda r: like(r["s"], "%y")),
    ('s like "a_b"', lambda r: like(r["s"], "a_b")),
    ('s like "a\\\\%b"', lambda r: like(r["s"], "a\\%b")),
    ('s like r"a\\_b%"', lambda r: like(r["s"], "a\\_b%")),
    ('s LIKE "%"', lambda r: like(r["s"], "%")),
    ('j["s"] like "b%"', lambda r: like(path(r, "j", "s"), "b%")),
    # regular expressions (substring match, RE2)
    ('s =~ "^ap"', lambda r: regex(r["s"], "^ap")),
    ('s !~ "an"', lambda r: not3(regex(r["s"], "an"))),
    ('s =~ "e.b"', lambda r: regex(r["s"], "e.b")),
    ('j["s"] =~ "[0-9_%]"', lambda r: regex(path(r, "j", "s"), "[0-9_%]")),
    # arithmetic on the field side
    ("i64 * 2 > 300", lambda r: cmp(r["i64"] * 2, ">", 300)),
    ("i64 % 3 == 0", lambda r: cmp(math.fmod(r["i64"], 3), "==", 0)),
    ("i64 + 5 < 20", lambda r: cmp(r["i64"] + 5, "<", 20)),
    ("i64 - 10 >= 100", lambda r: cmp(r["i64"] - 10, ">=", 100)),
    ("i64 / 7 == 3", lambda r: cmp(trunc_div(r["i64"], 7), "==", 3)),
    ("f * 2 > 3", lambda r: cmp(r["f"] * 2, ">", 3)),
    ("i32 + 1 != 3", lambda r: arith(r["i32"], lambda v: v + 1, "!=", 3)),
    ('j["n"] * 2 == 4', lambda r: arith(path(r, "j", "n"), lambda v: v * 2, "==", 4)),
    ("i64 > 2 * 100 + 1", lambda r: cmp(r["i64"], ">", 201)),
    # JSON paths: nested keys, list indexes, kinds, missing keys
    ('j["n"] > 2', lambda r: cmp(path(r, "j", "n"), ">", 2)),
    ('j["n"] == 1.25', lambda r: cmp(path(r, "j", "n"), "==", 1.25)),
    ('j["n"] != 2', lambda r: cmp(path(r, "j", "n"), "!=", 2)),
    ('j["n"] == true', lambda r: cmp(path(r, "j", "n"), "==", True)),
    ('j["o"]["k"] == 1', lambda r: cmp(path(r, "j", "o", "k"), "==", 1)),
    ('j["o"]["deep"]["x"] >= 1', lambda r: cmp(path(r, "j", "o", "deep", "x"), ">=", 1)),
    ('j["l"][0] == 1', lambda r: cmp(path(r, "j", "l", 0), "==", 1)),
    ("j[0] >= 2", lambda r: cmp(path(r, "j", 0), ">=", 2)),
    ('j["n"] in [1, 2, "apple"]', lambda r: in3(path(r, "j", "n"), [1, 2, "apple"])),
    ('j["n"] not in [1, 2]', lambda r: not3(in3(path(r, "j", "n"), [1, 2]))),
    ('not (j["n"] > 0)', lambda r: not3(cmp(path(r, "j", "n"), ">", 0))),
    ('json_contains(j["l"], 2)', lambda r: contains(path(r, "j", "l"), [2], "any")),
    ('json_contains(j["l"], "a")', lambda r: contains(path(r, "j", "l"), ["a"], "any")),
    ('JSON_CONTAINS_ALL(j["l"], [1, 2])', lambda r: contains(path(r, "j", "l"), [1, 2], "all")),
    ('json_contains_any(j["l"], [3, "b"])', lambda r: contains(path(r, "j", "l"), [3, "b"], "any")),
    ("json_contains(j, 4)", lambda r: contains(r["j"], [4], "any")),
    ('array_length(j["l"]) == 2', lambda r: cmp(length(path(r, "j", "l")), "==", 2)),
    ('exists j["o"]', lambda r: exists(path(r, "j", "o"))),
    ('exists j["o"]["k"]', lambda r: exists(path(r, "j", "o", "k"))),
    ('j["n"] is null', lambda r: not exists(path(r, "j", "n"))),
    ('j["n"] is not null', lambda r: exists(path(r, "j", "n"))),
    ("j is null", lambda r: r["j"] is None),
    # arrays
    ("array_contains(ai, 3)", lambda r: contains(r["ai"], [3], "any")),
    ("ARRAY_CONTAINS_ALL(ai, [1, 2])", lambda r: contains(r["ai"], [1, 2], "all")),
    ('array_contains_any(astr, ["band", "cherry"])', lambda r: contains(r["astr"], ["band", "cherry"], "any")),
    ("array_contains(ab, true)", lambda r: contains(r["ab"], [True], "any")),
    ("array_contains(ad, 0.5)", lambda r: contains(r["ad"], [0.5], "any")),
    ("array_length(ai) == 0", lambda r: cmp(length(r["ai"]), "==", 0)),
    ("array_length(astr) >= 2", lambda r: cmp(length(r["astr"]), ">=", 2)),
    ("ai[0] == 1", lambda r: cmp(path(r, "ai", 0), "==", 1)),
    ("ai[1] > 2", lambda r: cmp(path(r, "ai", 1), ">", 2)),
    ("not (ai[1] > 2)", lambda r: not3(cmp(path(r, "ai", 1), ">", 2))),
    ("ad[0] < 0", lambda r: cmp(path(r, "ad", 0), "<", 0)),
    ('astr[0] like "ap%"', lambda r: like(path(r, "astr", 0), "ap%")),
    ("ab[0] == false", lambda r: cmp(path(r, "ab", 0), "==", False)),
    ("ai == [1, 2]", lambda r: None if r["ai"] is None else r["ai"] == [1, 2]),
    ("ai is null", lambda r: r["ai"] is None),
    ("ai IS NOT NULL", lambda r: r["ai"] is not None),
    # nulls of scalar fields
    ("i32 is null", lambda r: r["i32"] is None),
    ("i32 is not null", lambda r: r["i32"] is not None),
    ("s is null or s == 'band'", lambda r: or3(r["s"] is None, cmp(r["s"], "==", "band"))),
    ("d is not null and not (d > 0)", lambda r: and3(r["d"] is not None, not3(cmp(r["d"], ">", 0)))),
    # dynamic fields: bare undeclared names and $meta paths
    ("dyn > 5", lambda r: cmp(path(r, "dyn"), ">", 5)),
    ('$meta["dyn"] > 5', lambda r: cmp(path(r, "dyn"), ">", 5)),
    ('dtag == "x"', lambda r: cmp(path(r, "dtag"), "==", "x")),
    ("dyn in [1, 2]", lambda r: in3(path(r, "dyn"), [1, 2])),
    ("not (dyn > 5)", lambda r: not3(cmp(path(r, "dyn"), ">", 5))),
    ('exists $meta["dtag"]', lambda r: exists(path(r, "dtag"))),
    ("dtag is null", lambda r: not exists(path(r, "dtag"))),
    # literal forms
    ("i64 == 0x1F or i64 == 0b11 or i64 == 010", lambda r: r["i64"] in (31, 3, 8)),
    ("d > -1.5e0", lambda r: cmp(r["d"], ">", -1.5)),
    ("i64 > -9223372036854775808", lambda r: True),
    ('s == "line\\nbreak"', lambda r: cmp(r["s"], "==", "line\nbreak")),
    ("true", lambda r: True),
    ("false or i64 == 5", lambda r: r["i64"] == 5),
]

TEMPLATES: list[tuple[str, dict[str, Any], Ref]] = [
    ("i64 in {ids}", {"ids": [1, 5, 250]}, lambda r: in3(r["i64"], [1, 5, 250])),
    ("s == {word} or i32 == {n}", {"word": "band", "n": 4},
     lambda r: or3(cmp(r["s"], "==", "band"), cmp(r["i32"], "==", 4))),
    ("{lo} < i64 <= {hi}", {"lo": 10, "hi": 50}, lambda r: and3(cmp(r["i64"], ">", 10), cmp(r["i64"], "<=", 50))),
    ('json_contains_any(j["l"], {vals})', {"vals": [1, 3]}, lambda r: contains(path(r, "j", "l"), [1, 3], "any")),
    ("s =~ {rx}", {"rx": "^b"}, lambda r: regex(r["s"], "^b")),
]

ERRORS: list[tuple[str, str]] = [
    ("i64 == 9223372036854775808", "int64 overflow"),
    ("i64 >> 1 == 0", "shift is not supported"),
    ("i64 > 1 and", "mismatched input '<EOF>'"),
    ('s =~ "(unclosed"', "missing closing"),
    ("ai > 1", "can not comparisons array fields directly"),
    ('s like "a\\%"', "unknown escape sequence"),
    ("b == 1", "comparisons between Bool and Int64 are not supported"),
    ("10 < i64 > 5", "is not a range"),
    ("i64 in {missing}", "template variable name {missing} is not found"),
]


def expected(ref: Ref) -> list[int]:
    return [r["id"] for r in ROWS if ref(r) is True]


# -- collection --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def coll(uri: str) -> Any:
    client = MilvusClient(uri=uri, timeout=60)
    name = "filters_reference"
    if client.has_collection(name):
        client.drop_collection(name)
    schema = client.create_schema(enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    schema.add_field("b", DataType.BOOL, nullable=True)
    schema.add_field("i8", DataType.INT8)
    schema.add_field("i16", DataType.INT16)
    schema.add_field("i32", DataType.INT32, nullable=True)
    schema.add_field("i64", DataType.INT64)
    schema.add_field("f", DataType.FLOAT)
    schema.add_field("d", DataType.DOUBLE, nullable=True)
    schema.add_field("s", DataType.VARCHAR, max_length=32, nullable=True)
    schema.add_field("j", DataType.JSON, nullable=True)
    schema.add_field("ai", DataType.ARRAY, element_type=DataType.INT64, max_capacity=8, nullable=True)
    schema.add_field("ad", DataType.ARRAY, element_type=DataType.DOUBLE, max_capacity=8)
    schema.add_field("ab", DataType.ARRAY, element_type=DataType.BOOL, max_capacity=8)
    schema.add_field("astr", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=8, max_length=16)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="HNSW", metric_type="L2", params={"M": 8, "efConstruction": 64})
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
    half = N // 2
    client.insert(name, ROWS[:half])
    client.flush(name)  # the first half sealed, the rest growing
    client.insert(name, ROWS[half:])
    yield client, name
    client.drop_collection(name)
    client.close()


def query_ids(client: MilvusClient, name: str, expr: str, params: dict[str, Any] | None = None) -> list[int]:
    kwargs: dict[str, Any] = {"filter_params": params} if params else {}
    res = client.query(name, filter=expr, output_fields=["id"], limit=N + 10, **kwargs)
    return sorted(int(r["id"]) for r in res)


def test_reference_rows_cover_the_interesting_shapes() -> None:
    """The data really has what the cases are about (so a case cannot pass vacuously)."""
    assert any(r["i32"] is None for r in ROWS) and any(r["ai"] == [] for r in ROWS)
    assert any(r["j"] is None for r in ROWS) and any(isinstance(r["j"], list) for r in ROWS)
    assert any(isinstance(r["j"], dict) and "n" not in r["j"] for r in ROWS)
    assert any("dyn" not in r for r in ROWS) and any(isinstance(r.get("dtag"), int) for r in ROWS)
    nonempty = sum(bool(expected(ref)) for _, ref in CASES)
    assert nonempty >= len(CASES) - 8


@pytest.mark.parametrize(("expr", "ref"), CASES, ids=[c[0] for c in CASES])
def test_query_matches_reference(coll: Any, expr: str, ref: Ref) -> None:
    client, name = coll
    assert query_ids(client, name, expr) == expected(ref)


@pytest.mark.parametrize(("expr", "params", "ref"), TEMPLATES, ids=[t[0] for t in TEMPLATES])
def test_filter_params_match_reference(coll: Any, expr: str, params: dict[str, Any], ref: Ref) -> None:
    client, name = coll
    assert query_ids(client, name, expr, params) == expected(ref)


@pytest.mark.parametrize(("expr", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_filters_are_rejected_with_code_1100(coll: Any, expr: str, message: str) -> None:
    client, name = coll
    with pytest.raises(MilvusException) as err:
        client.query(name, filter=expr, output_fields=["id"], limit=10)
    assert err.value.code == 1100
    assert message in err.value.message


SEARCH_CASES = ["i64 > 200", "i32 is null", 'j["n"] > 2', "array_contains(ai, 3)", "i64 in [1, 2, 3, 250, 399]",
                "dyn > 5", 's like "%an%"', "not (i32 > 5)", "i64 == -1000"]


@pytest.mark.parametrize("expr", SEARCH_CASES)
def test_filtered_search_returns_passing_rows_with_full_recall(coll: Any, expr: str) -> None:
    client, name = coll
    ref = dict(CASES).get(expr, lambda r: False)
    passing = expected(ref)
    vectors = np.array([r["vec"] for r in ROWS], dtype=np.float32)
    queries = np.random.default_rng(5).random((8, DIM), dtype=np.float32)
    res = client.search(name, queries.tolist(), filter=expr, limit=10, output_fields=["id"],
                        search_params={"params": {"ef": 32}})
    hits = 0
    for q, found in zip(queries, res, strict=True):
        ids = [int(h["id"]) for h in found]
        assert set(ids) <= set(passing)
        assert len(ids) == min(10, len(passing))  # never short while enough rows pass
        dist = ((vectors[passing] - q) ** 2).sum(axis=1)
        truth = {passing[k] for k in np.argsort(dist, kind="stable")[:10]}
        hits += len(truth & set(ids))
    total = len(queries) * min(10, len(passing))
    assert total == 0 or hits / total >= 0.99


def test_json_path_filters_follow_a_growing_segment(client: MilvusClient, name: str) -> None:
    """A JSON-path filter repeated while rows arrive sees every new row (the per-segment
    path cache extends, never serves a stale prefix), and a flush changes nothing."""
    schema = client.create_schema(enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    schema.add_field("j", DataType.JSON, nullable=True)
    index = client.prepare_index_params()
    index.add_index("vec", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
    rows = [{"id": r["id"], "vec": r["vec"], "j": r["j"], **({"dyn": r["dyn"]} if "dyn" in r else {})}
            for r in ROWS]
    ref = dict(CASES)
    prev = 0
    for stop in (40, 41, 120, N):
        client.insert(name, rows[prev:stop])
        prev = stop
        for expr in ('j["n"] > 2', 'j["o"]["k"] == 1', "dyn > 5", 'j["l"][0] == 1'):
            want = [r["id"] for r in ROWS[:stop] if ref[expr](r) is True]
            assert query_ids(client, name, expr) == want, (expr, stop)
    client.flush(name)
    assert query_ids(client, name, 'j["n"] > 2') == expected(ref['j["n"] > 2'])


@pytest.mark.parametrize("factor", [0.7, 0.5, 0.01])
def test_random_sample_keeps_a_share_of_the_passing_rows(coll: Any, factor: float) -> None:
    """``random_sample`` as the last operand of the top-level ``and``: a subset of the rows the
    rest keeps, max(1, int(n * factor)) of them per segment (two segments here)."""
    client, name = coll
    passing = set(expected(lambda r: cmp(r["i64"], ">", 0)))
    got = query_ids(client, name, f"i64 > 0 && random_sample({factor})")
    assert set(got) <= passing
    half = N // 2
    per_segment = [sum(1 for i in passing if (i < half) == first) for first in (True, False)]
    assert len(got) == sum(max(1, int(n * factor)) for n in per_segment if n)
