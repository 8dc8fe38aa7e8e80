"""Index vs scan: every index kind answers random predicates exactly as the scan does.

Random rows (nulls, out-of-range constants, JSON values of every kind, empty arrays) and
random predicates per indexed target; each predicate also under ``not`` and combined with
another by ``and`` / ``or``. The planned filter (leaves answered from the index) must give
the same mask as the plain filter, with the cost rule forced to always pick the index and
with the default cost rule, and after a serialise / load round trip of the index.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import elanus.core.scalar_index as si
from elanus.core.expr import compile_filter
from elanus.core.expr.errors import FilterError
from elanus.core.scalar_index import planner
from elanus.core.schema import CollectionSchema, DataType, FieldSchema
from tests.core.expr.conftest import make_columns

N = 400
WORDS = ["apple", "apricot", "app", "banana", "band", "", "a%b", "Ünïcode", "zeta", "z\U0010ffff", "x\\y"]

SCHEMA = CollectionSchema("c", (
    FieldSchema(100, "id", DataType.INT64, is_primary=True),
    FieldSchema(101, "i8", DataType.INT8, nullable=True),
    FieldSchema(102, "i32", DataType.INT32),
    FieldSchema(103, "i64", DataType.INT64, nullable=True),
    FieldSchema(104, "f", DataType.FLOAT),
    FieldSchema(105, "d", DataType.DOUBLE, nullable=True),
    FieldSchema(106, "b", DataType.BOOL, nullable=True),
    FieldSchema(107, "s", DataType.VARCHAR, nullable=True, params={"max_length": "64"}),
    FieldSchema(108, "ai", DataType.ARRAY, element_type=DataType.INT64, nullable=True),
    FieldSchema(109, "astr", DataType.ARRAY, element_type=DataType.VARCHAR),
    FieldSchema(110, "af", DataType.ARRAY, element_type=DataType.FLOAT),
    FieldSchema(111, "ab", DataType.ARRAY, element_type=DataType.BOOL),
    FieldSchema(112, "j", DataType.JSON, nullable=True),
    FieldSchema(113, "v", DataType.FLOAT_VECTOR, params={"dim": "2"}),
    FieldSchema(114, "$meta", DataType.JSON, is_dynamic=True),
), enable_dynamic_field=True)

def _json(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.08:
        return None
    if roll < 0.12:
        return rng.randint(-3, 3)
    doc: dict[str, Any] = {}
    kind = rng.randrange(8)
    if kind < 7:
        doc["n"] = [rng.randint(-5, 5), rng.uniform(-5, 5), rng.choice(WORDS), rng.random() < 0.5, None, [1, 2],
                    float(rng.randint(-5, 5))][kind]
    if rng.random() < 0.8:
        doc["a"] = {"b": rng.choice([rng.randint(0, 9), rng.choice(WORDS), rng.random() < 0.5])}
    if rng.random() < 0.6:
        items = [0, 1, 2, 3, 1.0, 2.5, "a", "b", True, False, [1], None]
        doc["l"] = [rng.choice(items) for _ in range(rng.randint(0, 4))] if rng.random() < 0.9 else "a"
    return doc


def make_rows(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    few = [rng.randint(-100, 100) for _ in range(6)]
    out = []
    for i in range(N):
        null = lambda v: None if rng.random() < 0.15 else v  # noqa: E731 - tiny local helper
        out.append({
            "id": i, "i8": null(rng.choice(few)), "i32": rng.randint(-1000, 1000),
            "i64": null(rng.choice([rng.randint(-10, 10), rng.randint(-(2**62), 2**62)])),
            "f": float(np.float32(rng.choice([0.1, 0.5, 1.5, -2.25, rng.uniform(-3, 3)]))),
            "d": null(round(rng.uniform(-3, 3), 1)), "b": null(rng.random() < 0.5), "s": null(rng.choice(WORDS)),
            "ai": null([rng.randint(0, 6) for _ in range(rng.randint(0, 4))]),
            "astr": [rng.choice(WORDS) for _ in range(rng.randint(0, 3))],
            "af": [float(np.float32(rng.choice([0.1, 0.5, 1.5]))) for _ in range(rng.randint(0, 3))],
            "ab": [rng.random() < 0.5 for _ in range(rng.randint(0, 2))],
            "j": _json(rng),
            "$meta": {k: v for k, v in (("age", rng.choice([rng.randint(0, 90), "x", None])),
                                         ("color", rng.choice(["red", "green", "blue", 3])))
                      if rng.random() < 0.8},
        })
    return out


def _num(rng: random.Random) -> Any:
    return rng.choice([rng.randint(-6, 6), rng.uniform(-6, 6), 0, 1, 0.5, -2.25, 1.5, 2**40, -(2**62), 2**63 - 1,
                       1000, -129, 2**53 + 1])


def _str(rng: random.Random) -> str:
    return rng.choice([*WORDS, "ap", "b", "zz", "Ü"])


def _lit(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)


def _list(values: list[Any]) -> str:
    return "[" + ", ".join(map(_lit, values)) + "]"


def predicates(rng: random.Random, ref: str, kind: str) -> Iterator[str]:
    """Random leaf predicates on ``ref`` (a field or JSON path) of value kind ``kind``."""
    ops = ["==", "!=", "<", "<=", ">", ">="]
    const = {"num": _num, "str": _str, "bool": lambda r: r.random() < 0.5}[kind] if kind != "array" else None
    for _ in range(12):
        if kind == "array":
            break
        assert const is not None
        yield f"{ref} {rng.choice(ops)} {_lit(const(rng))}"
        if kind != "bool":
            lo, hi = sorted([const(rng), const(rng)], key=lambda v: (str(type(v)), v))
            if type(lo) is type(hi) or kind == "num":
                yield f"{_lit(lo)} {rng.choice(['<', '<='])} {ref} {rng.choice(['<', '<='])} {_lit(hi)}"
        yield f"{ref} {rng.choice(['in', 'not in'])} {_list([const(rng) for _ in range(rng.randint(0, 4))])}"
        if kind == "str":
            w = _str(rng).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = rng.choice([f"{w}%", f"%{w}", f"%{w}%", w, f"{w}_%", f"{w[:1]}%{w[1:]}"])
            yield f'{ref} like "{pattern}"'
    if kind == "bool":
        yield ref


def targets() -> list[tuple[str, str, str, str, dict[str, str]]]:
    """(expression ref, field, value kind, index kind, params) per index to test."""
    out: list[tuple[str, str, str, str, dict[str, str]]] = []
    for name in ("i8", "i32", "i64", "f", "d"):
        for kind in ("STL_SORT", "INVERTED", "BITMAP", "HYBRID"):
            if kind == "BITMAP" and name in ("f", "d"):
                continue
            out.append((name, name, "num", kind, {}))
    out += [("b", "b", "bool", k, {}) for k in ("INVERTED", "BITMAP", "STL_SORT")]
    out += [("s", "s", "str", k, {}) for k in ("STL_SORT", "INVERTED", "BITMAP", "Trie", "HYBRID")]
    for name in ("ai", "astr", "af", "ab"):
        out += [(name, name, "array", k, {}) for k in ("INVERTED", "BITMAP")]
    for path, keys in (("j['n']", "n"), ("j['a']['b']", "a/b"), ("j", "")):
        for cast, kind in (("DOUBLE", "num"), ("VARCHAR", "str"), ("BOOL", "bool")):
            for index in ("INVERTED", "STL_SORT", "BITMAP"):
                out.append((path, "j", kind, index, {"json_cast_type": cast, "json_path": path, "_keys": keys}))
    for cast in ("ARRAY_DOUBLE", "ARRAY_VARCHAR", "ARRAY_BOOL"):
        out.append(("j['l']", "j", "json-array", "INVERTED", {"json_cast_type": cast, "json_path": "j['l']",
                                                               "_keys": "l"}))
    for key, cast, kind in (("age", "DOUBLE", "num"), ("color", "VARCHAR", "str")):
        out.append((key, "$meta", kind, "INVERTED", {"json_cast_type": cast, "_keys": key}))
    return out


def array_predicates(rng: random.Random, ref: str, elem: DataType) -> Iterator[str]:
    pick = {DataType.INT64: lambda: rng.choice([0, 3, 6, 9, 1.5, 2.0]), DataType.VARCHAR: lambda: _str(rng),
            DataType.FLOAT: lambda: rng.choice([0.1, 0.5, 1.5, 2]), DataType.BOOL: lambda: rng.random() < 0.5,
            DataType.JSON: lambda: rng.choice([0, 1, 2, 1.0, 2.5, 7, "a", "b", "z", True, False])}[elem]
    fn = "json_contains" if elem == DataType.JSON else "array_contains"
    for _ in range(8):
        yield f"{fn}({ref}, {_lit(pick())})"
        yield f"{fn}_any({ref}, {_list([pick() for _ in range(rng.randint(0, 3))])})"
        yield f"{fn}_all({ref}, {_list([pick() for _ in range(rng.randint(0, 3))])})"
    if elem != DataType.JSON:
        yield f"{ref} is null"
        yield f"{ref} is not null"


def build_index(rows_cols: dict[str, Any], field_name: str, kind: str, params: dict[str, str]) -> si.KeyedIndex:
    field = SCHEMA.get(field_name)
    assert field is not None
    path: tuple[Any, ...] = ()
    if field.dtype == DataType.JSON:
        text = params.get("json_path")
        path = tuple(params["_keys"].split("/")) if params["_keys"] else ()
        if text and "[" in text:
            from elanus.core.expr import resolve_identifier
            path = resolve_identifier(text, SCHEMA)[1]
    assert si.build_kind(field, {"index_type": kind, **params}) is not None
    return si.build(si.build_kind(field, {"index_type": kind, **params}) or kind, field, rows_cols[field_name],
                    rows_cols.get(field_name + "$valid"), params, path)


def run_checks(cols: dict[str, Any], index: si.KeyedIndex, exprs: list[str]) -> int:
    used = 0
    for expr in exprs:
        try:
            flt = compile_filter(expr, SCHEMA)
        except FilterError:
            continue
        want = flt.evaluate(cols, N)
        planned = planner.plan(flt, SCHEMA, [index], N)
        used += planned is not flt
        needed = {k: v for k, v in cols.items() if k.removesuffix("$valid") in planned.fields}
        got = planned.evaluate(needed, N)
        assert np.array_equal(got, want), f"{index!r}: {expr}: {np.flatnonzero(got != want)[:10]}"
    return used


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow)])
@pytest.mark.parametrize("target", targets(), ids=lambda t: f"{t[0]}-{t[3]}-{t[4].get('json_cast_type', '')}")
def test_index_matches_scan(seed: int, target: tuple[str, str, str, str, dict[str, str]],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    ref, field_name, kind, index_kind, params = target
    rng = random.Random(seed * 1000 + zlib.crc32((ref + index_kind).encode()) % 1000)
    cols = make_columns(make_rows(seed), SCHEMA)
    index = build_index(cols, field_name, index_kind, params)
    if kind == "json-array":
        cast = params["json_cast_type"]
        leaves = [e for e in array_predicates(rng, ref, DataType.JSON)
                  if cast != "ARRAY_DOUBLE" or not any(w in e for w in ('"', "true", "false"))]
        leaves += [f"json_contains({ref}, 1)", 'json_contains_any(j["l"], ["a", "b"])', "json_contains_all(j['l'], [])",
                   "json_contains_all(j['l'], [true, false])", "json_contains_all(j['l'], [1, 2.5])"]
    elif kind == "array":
        field = SCHEMA.get(field_name)
        assert field is not None
        leaves = list(array_predicates(rng, ref, field.element_type))
    else:
        leaves = list(predicates(rng, ref, kind))
        if SCHEMA.get(field_name).dtype != DataType.JSON:  # type: ignore[union-attr]
            leaves += [f"{ref} is null", f"{ref} is not null"]
    other = ["i32 > 0", "s == \"apple\"", "not (i64 < 3)", "j['n'] > 1"]
    exprs = [*leaves, *(f"not ({e})" for e in leaves)]
    exprs += [f"({a}) {rng.choice(['and', 'or'])} ({rng.choice(leaves + other)})" for a in leaves]
    monkeypatch.setattr(planner, "SCAN_NS", dict.fromkeys(planner.SCAN_NS, float("inf")))
    used = run_checks(cols, index, exprs)
    assert used > 0, "the index never answered"
    again = si.load(index.serialize())
    assert type(again) is type(index) and again.exact == index.exact
    assert run_checks(cols, again, exprs) == used  # the loaded index answers the same leaves
    monkeypatch.undo()
    run_checks(cols, again, exprs)


def test_blob_round_trip_and_kinds() -> None:
    cols = make_columns(make_rows(3), SCHEMA)
    s = SCHEMA.get("s")
    assert s is not None
    for kind, cls in (("Trie", si.TrieIndex), ("BITMAP", si.BitmapIndex), ("STL_SORT", si.StlSortIndex),
                      ("INVERTED", si.InvertedIndex)):
        index = si.build(kind, s, cols["s"], cols["s$valid"], {})
        assert isinstance(index, cls)
        data = index.serialize()
        assert si.is_scalar_index(data) and b"pickle" not in data
        loaded = si.load(memoryview(data))
        assert np.array_equal(loaded.sorted.keys, index.sorted.keys)
        assert loaded.valid is not None and np.array_equal(loaded.valid, cols["s$valid"])


def test_build_kind_rules() -> None:
    j, b, s = SCHEMA.get("j"), SCHEMA.get("b"), SCHEMA.get("s")
    assert j is not None and b is not None and s is not None
    assert si.build_kind(b, {}) == "BITMAP"
    assert si.build_kind(s, {"index_type": "AUTOINDEX"}) == "HYBRID"
    assert si.build_kind(s, {"index_type": "marisa-trie"}) == "Trie"
    assert si.build_kind(s, {"index_type": "NGRAM"}) is None
    assert si.build_kind(j, {"index_type": "INVERTED", "json_cast_type": "JSON"}) is None
    assert si.build_kind(j, {"index_type": "INVERTED", "json_cast_type": "double",
                             "json_cast_function": "STRING_TO_DOUBLE"}) is None
    assert si.build_kind(j, {"index_type": "INVERTED", "json_cast_type": "varchar"}) == "INVERTED"


def test_json_big_ints_are_not_exact() -> None:
    j = SCHEMA.get("j")
    assert j is not None
    col = np.empty(3, dtype=object)
    col[:] = [{"n": 2**60}, {"n": 1}, None]
    index = si.build("INVERTED", j, col, np.array([True, True, False]), {"json_cast_type": "DOUBLE"}, ("n",))
    assert not index.exact
    flt = compile_filter("j['n'] > 0", SCHEMA)
    assert planner.plan(flt, SCHEMA, [index], 3) is flt


def test_high_cardinality_bitmap_falls_back_to_postings() -> None:
    i32 = SCHEMA.get("i32")
    assert i32 is not None
    col = np.arange(5000, dtype=np.int32)
    assert isinstance(si.build("BITMAP", i32, col, None, {}), si.InvertedIndex)
    assert isinstance(si.build("HYBRID", i32, col, None, {}), si.StlSortIndex)
    assert isinstance(si.build("HYBRID", i32, col % 7, None, {}), si.BitmapIndex)


def test_cost_rule_scans_cheap_wide_predicates_and_uses_the_index_otherwise() -> None:
    i32, s = SCHEMA.get("i32"), SCHEMA.get("s")
    assert i32 is not None and s is not None
    n = 10_000
    ints = si.build("STL_SORT", i32, np.arange(n, dtype=np.int32), None, {})
    words = np.empty(n, dtype=object)
    words[:] = [f"w{i % 100:03d}" for i in range(n)]
    strs = si.build("INVERTED", s, words, None, {})
    narrow, wide = compile_filter("i32 < 50", SCHEMA), compile_filter("i32 >= 50", SCHEMA)
    assert planner.plan(narrow, SCHEMA, [ints], n) is not narrow  # 0.5 %: the index
    assert planner.plan(wide, SCHEMA, [ints], n) is wide  # 99.5 % of a number column: a scan is cheaper
    wide_str = compile_filter('s != "w000"', SCHEMA)
    planned = planner.plan(wide_str, SCHEMA, [strs], n)
    assert planned is not wide_str and planned.fields == frozenset()  # strings: the index, no column read
    cols = {"s": words}
    assert np.array_equal(planned.evaluate({}, n), wide_str.evaluate(cols, n))


def test_sampled_filters_use_the_index_under_the_sample() -> None:
    i32 = SCHEMA.get("i32")
    assert i32 is not None
    n = 10_000
    ints = si.build("STL_SORT", i32, np.arange(n, dtype=np.int32), None, {})
    flt = compile_filter("i32 < 50 and random_sample(0.5)", SCHEMA)
    planned = planner.plan(flt, SCHEMA, [ints], n)
    assert planned is not flt and planned.fields == frozenset()  # no column read
    got = planned.evaluate({}, n)
    assert int(got.sum()) == 25 and not got[50:].any()
