"""The public Filter API: fields, templates, pk/pinned values, input representations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from elanus.core.errors import MilvusError
from elanus.core.expr import Filter, compile_filter
from elanus.core.schema import CollectionSchema, DataType, FieldSchema
from tests.core.expr.conftest import Check, cmp, jcmp, jget


def test_fields_lists_what_evaluate_reads(schema: CollectionSchema) -> None:
    assert compile_filter("i8 > 1 and (s like 'a%' or j['n'] == 1)", schema).fields == {"i8", "s", "j"}
    assert compile_filter("age > 1 or $meta['x'] == 2", schema).fields == {"$meta"}
    assert compile_filter("array_length(ai) == 0 and i8 + i16 > 0", schema).fields == {"ai", "i8", "i16"}
    assert compile_filter("true or i8 > 1", schema).fields == frozenset()


def test_empty_expression_accepts_everything(schema: CollectionSchema) -> None:
    for text in ("", "   ", "\n"):
        flt = compile_filter(text, schema)
        assert flt.always_true and flt.fields == frozenset()
        assert flt.evaluate({}, 3).tolist() == [True, True, True]
    assert compile_filter("true", schema).always_true
    assert not compile_filter("i8 > 1", schema).always_true


def test_template_parameters(check: Check) -> None:
    check("i8 > {lo} and i8 < {hi}", lambda r: 0 < r["i8"] < 50, {"lo": 0, "hi": 50})
    check("i8 in {vals}", lambda r: r["i8"] in (1, 2, 3), {"vals": [1, 2, 3]})
    check("i8 in {vals}", lambda r: r["i8"] in (1, 2, 3), {"vals": np.array([1, 2, 3])})
    check("s like {p}", lambda r: None if r["s"] is None else r["s"].startswith("ap"), {"p": "ap%"})
    check("{lo} < d <= {hi}", lambda r: None if r["d"] is None else -1 < r["d"] <= 1, {"lo": -1, "hi": 1.0})
    check("json_contains_any(ai, {xs})", lambda r: None if r["ai"] is None else bool({1, 6} & set(r["ai"])),
          {"xs": (1, 6)})
    check("j['n'] == {v}", lambda r: jcmp(jget(r["j"], "n"), "==", 2), {"v": np.int64(2)})
    check("b == {t}", lambda r: cmp(r["b"], "==", True), {"t": np.bool_(True)})


def test_params_do_not_leak_between_compilations(schema: CollectionSchema, columns: dict[str, Any]) -> None:
    a = compile_filter("i8 > {x}", schema, {"x": 100})
    b = compile_filter("i8 > {x}", schema, {"x": -100})
    n = len(columns["i8"])
    assert a.evaluate(columns, n).sum() < b.evaluate(columns, n).sum()


@pytest.mark.parametrize(("expr", "values"), [
    ("id == 5", [5]),
    ("id in [3, 1, 3]", [3, 1]),
    ("id in [1, 2] or id == 7 or id in [2, 9]", [1, 2, 7, 9]),
    ("5 == id", [5]),
    ("id in [1.0, 2.5]", [1]),
    ("id in []", []),
    ("false", []),
    ("id in {ids}", [4, 8]),
    ("id > 5", None),
    ("id != 5", None),
    ("id not in [1]", None),
    ("id in [1] and i8 > 0", None),
    ("id in [1] or i8 > 0", None),
    ("i64 in [1, 2]", None),
    ("true", None),
])
def test_pk_values(schema: CollectionSchema, expr: str, values: list[Any] | None) -> None:
    assert compile_filter(expr, schema, {"ids": [4, 8, 4]}).pk_values() == values


def test_pinned_values(schema: CollectionSchema) -> None:
    flt = compile_filter("s in ['a', 'b'] and i8 > 0", schema)
    assert flt.pinned_values("s") is None
    assert flt.pinned_values("s", exact=False) == ["a", "b"]
    assert flt.pinned_values("i8", exact=False) is None
    both = compile_filter("s in ['a', 'b'] and s == 'b'", schema)
    assert both.pinned_values("s", exact=False) == ["b"]
    assert compile_filter("s == 'x' or s == 'y'", schema).pinned_values("s") == ["x", "y"]
    assert compile_filter("i16 == 3.0", schema).pinned_values("i16") == [3]
    assert compile_filter("age == 3", schema).pinned_values("age") is None


def test_varchar_pk_values() -> None:
    schema = CollectionSchema("c", (FieldSchema(100, "pk", DataType.VARCHAR, is_primary=True),))
    assert compile_filter('pk in ["a", "b"]', schema).pk_values() == ["a", "b"]


def test_pyarrow_varchar_columns_give_the_same_answers(schema: CollectionSchema,
                                                       columns: dict[str, Any]) -> None:
    n = len(columns["s"])
    valid = columns["s$valid"]
    arrow = pa.array([v if ok else None for v, ok in zip(columns["s"], valid, strict=True)], pa.string())
    for expr in ['s == "apple"', 's > "b"', 's in ["apple", "band"]', 's not in ["apple"]', 's like "ap%"',
                 's like "%an%"', 's like "%y"', 's like "b_n%"', "s like 'a\\\\%b'", "s == s", "s is null",
                 'starts_with(s, "ba")', "not (s like 'a%')"]:
        flt = compile_filter(expr, schema)
        want = flt.evaluate({"s": columns["s"], "s$valid": valid}, n)
        assert (flt.evaluate({"s": arrow}, n) == want).all(), expr
        chunked = pa.chunked_array([arrow.slice(0, 100), arrow.slice(100)])
        assert (flt.evaluate({"s": chunked}, n) == want).all(), expr


def test_evaluate_does_not_alias_or_modify_columns(schema: CollectionSchema, columns: dict[str, Any]) -> None:
    n = len(columns["b"])
    before = {k: v.copy() for k, v in columns.items() if isinstance(v, np.ndarray) and v.dtype != object}
    mask = compile_filter("b", schema).evaluate(columns, n)
    mask[:] = False
    for k, v in before.items():
        assert (columns[k] == v).all(), k


def test_missing_column_is_reported(schema: CollectionSchema) -> None:
    with pytest.raises(MilvusError, match="needs column i8"):
        compile_filter("i8 > 1", schema).evaluate({}, 3)


def test_all_valid_mask_and_empty_batches(schema: CollectionSchema) -> None:
    flt = compile_filter("i32 > 0 or s like 'a%' or j['n'] > 1 or array_contains(ai, 1)", schema)
    empty = {"i32": np.zeros(0, np.int32), "s": np.zeros(0, object), "j": np.zeros(0, object),
             "ai": np.zeros(0, object)}
    assert flt.evaluate(empty, 0).shape == (0,)
    cols = {"i32": np.array([1, -1], np.int32), "i32$valid": np.array([True, True]),
            "s": np.array(["x", "y"], object), "j": np.array([{}, {"n": 2}], object),
            "ai": np.array([[], [2]], object)}
    assert flt.evaluate(cols, 2).tolist() == [True, True]


def test_filter_is_reusable_and_repr(schema: CollectionSchema, columns: dict[str, Any]) -> None:
    flt = compile_filter("i8 > 0", schema)
    assert isinstance(flt, Filter) and repr(flt) == "Filter('i8 > 0')"
    n = len(columns["i8"])
    assert (flt.evaluate(columns, n) == flt.evaluate(columns, n)).all()


def test_concurrent_compile_and_evaluate(schema: CollectionSchema, columns: dict[str, Any]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    n = len(columns["i8"])
    exprs = [f"i8 > {k} and (s like 'a%' or j['n'] > {k % 3}) or array_contains(ai, {k % 5})" for k in range(40)]
    expected = [compile_filter(e, schema).evaluate(columns, n) for e in exprs]
    shared = [compile_filter(e, schema) for e in exprs]

    def run(i: int) -> bool:
        fresh = compile_filter(exprs[i], schema).evaluate(columns, n)
        again = shared[i].evaluate(columns, n)
        return bool((fresh == expected[i]).all() and (again == expected[i]).all())

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(run, list(range(40)) * 3))
