"""JSON paths, dynamic fields and Array fields, against plain-Python references.

The data (see conftest) mixes kinds under the same JSON key, JSON nulls, missing keys,
null JSON fields, top-level JSON arrays, empty arrays and null array rows.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.expr.conftest import MISSING, Check, f32, jcmp, jget, jin, jkind
from tests.three_valued import not3

Row = dict[str, Any]


def _strict(v: Any) -> Any:
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, list):
        return ("list", tuple(_strict(x) for x in v))
    return v


def _json_array(row: Row, *path: str) -> list[Any] | None:
    v = jget(row["j"], *path) if path else (row["j"] if isinstance(row["j"], list) else MISSING)
    return v if isinstance(v, list) else None


def _contains(arr: list[Any] | None, values: list[Any], mode: str) -> bool | None:
    if arr is None:
        return None
    have = {_strict(x) for x in arr}
    want = [_strict(v) for v in values]
    if mode == "all":
        return all(w in have for w in want)
    return any(w in have for w in want)


def _exists(v: Any) -> bool:
    def empty(x: Any) -> bool:
        return x is None or (isinstance(x, dict) and all(empty(y) for y in x.values()))

    return v is not MISSING and not empty(v)


def when(v: Any, kind: str, fn: Any) -> bool | None:
    """``fn(v)`` if ``v`` is a JSON value of ``kind`` ("num", "str", "list"), else null."""
    ok = isinstance(v, list) if kind == "list" else jkind(v) == kind
    return fn(v) if ok else None


def _meta(row: Row, key: str) -> Any:
    return row["$meta"].get(key, MISSING)


def _elem(arr: list[Any] | None, i: int) -> Any:
    return None if arr is None or i >= len(arr) else arr[i]


def _elem_cmp(arr: list[Any] | None, i: int, op: str, c: Any) -> bool | None:
    from tests.core.expr.conftest import OPS

    v = _elem(arr, i)
    return None if v is None else OPS[op](v, c)


CASES: list[tuple[str, Any]] = [
    # JSON comparisons: only same-kind values compare; the rest is null
    ('j["n"] > 1', lambda r: jcmp(jget(r["j"], "n"), ">", 1)),
    ('j["n"] == 2', lambda r: jcmp(jget(r["j"], "n"), "==", 2)),
    ('j["n"] != 2', lambda r: jcmp(jget(r["j"], "n"), "!=", 2)),
    ('j["n"] <= 0.5', lambda r: jcmp(jget(r["j"], "n"), "<=", 0.5)),
    ('j["n"] == true', lambda r: jcmp(jget(r["j"], "n"), "==", True)),
    ('j["n"] == 1', lambda r: jcmp(jget(r["j"], "n"), "==", 1)),
    ('j["s"] == "apple"', lambda r: jcmp(jget(r["j"], "s"), "==", "apple")),
    ('j["s"] > "b"', lambda r: jcmp(jget(r["j"], "s"), ">", "b")),
    ('not (j["n"] > 1)', lambda r: not3(jcmp(jget(r["j"], "n"), ">", 1))),
    ('j["o"]["k"] >= 2', lambda r: jcmp(jget(r["j"], "o", "k"), ">=", 2)),
    ('j["l"][0] == 1', lambda r: jcmp(jget(r["j"], "l", 0), "==", 1)),
    ("j['l'][1] == 'a'", lambda r: jcmp(jget(r["j"], "l", 1), "==", "a")),
    ("j[0] >= 3", lambda r: jcmp(jget(r["j"], 0), ">=", 3)),
    ('-1 < j["n"] < 3', lambda r: when(jget(r["j"], "n"), "num", lambda v: -1 < v < 3)),
    ('"a" <= j["s"] <= "b"', lambda r: when(jget(r["j"], "s"), "str", lambda v: "a" <= v <= "b")),
    ('j["l"] == [1, 2]', lambda r: when(jget(r["j"], "l"), "list", lambda v: _strict(v) == _strict([1, 2]))),
    ('j["n"] == [1, 2]', lambda r: when(jget(r["j"], "n"), "list", lambda v: v == [1, 2])),
    ('j["l"] != []', lambda r: when(jget(r["j"], "l"), "list", lambda v: v != [])),
    # arithmetic on JSON numbers
    ('j["n"] + 1 > 3', lambda r: when(jget(r["j"], "n"), "num", lambda v: v + 1 > 3)),
    ('j["n"] * 2 <= -4', lambda r: when(jget(r["j"], "n"), "num", lambda v: v * 2 <= -4)),
    ('-j["n"] > 1', lambda r: when(jget(r["j"], "n"), "num", lambda v: -v > 1)),
    ('j["n"] % 2 == 1', lambda r: when(jget(r["j"], "n"), "num",
                                       lambda v: isinstance(v, int) and abs(v) % 2 == 1 and v > 0)),
    # in on JSON values: kind-strict (1 is not true), missing/null -> null
    ('j["n"] in [1, 2, "apple", true]', lambda r: jin(jget(r["j"], "n"), [1, 2, "apple", True])),
    ('j["n"] not in [1, 2]', lambda r: not3(jin(jget(r["j"], "n"), [1, 2]))),
    ('j["s"] in ["band", ""]', lambda r: jin(jget(r["j"], "s"), ["band", ""])),
    ('j["n"] in [false]', lambda r: jin(jget(r["j"], "n"), [False])),
    # like on JSON strings
    ('j["s"] like "ap%"', lambda r: when(jget(r["j"], "s"), "str", lambda v: v.startswith("ap"))),
    ('j["s"] like "%a%"', lambda r: when(jget(r["j"], "s"), "str", lambda v: "a" in v)),
    # exists / is null on JSON keys (null values and all-empty objects do not exist)
    ('exists j["n"]', lambda r: _exists(jget(r["j"], "n"))),
    ('exists j["o"]', lambda r: _exists(jget(r["j"], "o"))),
    ('exists j["e"]', lambda r: False),
    ('EXISTS j["o"]["k"]', lambda r: _exists(jget(r["j"], "o", "k"))),
    ('j["n"] is null', lambda r: not _exists(jget(r["j"], "n"))),
    ('j["s"] is not null', lambda r: _exists(jget(r["j"], "s"))),
    ("j is null", lambda r: r["j"] is None),
    ("j is not null", lambda r: r["j"] is not None),
    # json_contains family (on paths and on a top-level array)
    ('json_contains(j["l"], 2)', lambda r: _contains(_json_array(r, "l"), [2], "any")),
    ('json_contains(j["l"], true)', lambda r: _contains(_json_array(r, "l"), [True], "any")),
    ('json_contains(j["l"], "a")', lambda r: _contains(_json_array(r, "l"), ["a"], "any")),
    ('json_contains(j["l"], [1, 2])', lambda r: _contains(_json_array(r, "l"), [[1, 2]], "any")),
    ('JSON_CONTAINS(j["l"], 1)', lambda r: _contains(_json_array(r, "l"), [1], "any")),
    ('json_contains_all(j["l"], [1, "a"])', lambda r: _contains(_json_array(r, "l"), [1, "a"], "all")),
    ('json_contains_all(j["l"], [])', lambda r: _contains(_json_array(r, "l"), [], "all")),
    ('json_contains_any(j["l"], [3, "b", false])',
     lambda r: _contains(_json_array(r, "l"), [3, "b", False], "any")),
    ('json_contains_any(j["l"], [])', lambda r: _contains(_json_array(r, "l"), [], "any")),
    ("json_contains(j, 3)", lambda r: _contains(_json_array(r), [3], "any")),
    ('not json_contains(j["l"], 2)', lambda r: not3(_contains(_json_array(r, "l"), [2], "any"))),
    ('array_length(j["l"]) == 2', lambda r: when(_json_array(r, "l"), "list", lambda a: len(a) == 2)),
    ("array_length(j) > 0", lambda r: when(_json_array(r), "list", lambda a: len(a) > 0)),
    # dynamic fields (keys of $meta)
    ("age > 30", lambda r: jcmp(_meta(r, "age"), ">", 30)),
    ("age >= 18 and color == 'red'", lambda r: (lambda a, c: (a is True and c is True) or (
        None if None in (a, c) and False not in (a, c) else False))(
        jcmp(_meta(r, "age"), ">=", 18), jcmp(_meta(r, "color"), "==", "red"))),
    ('$meta["age"] < 10', lambda r: jcmp(_meta(r, "age"), "<", 10)),
    ('color in ["red", "blue"]', lambda r: jin(_meta(r, "color"), ["red", "blue"])),
    ('color like "gr%"', lambda r: when(_meta(r, "color"), "str", lambda v: v.startswith("gr"))),
    ("exists age", lambda r: _exists(_meta(r, "age"))),
    ("age is null", lambda r: not _exists(_meta(r, "age"))),
    ("age is not null", lambda r: _exists(_meta(r, "age"))),
    ('json_contains(tags, "b")', lambda r: when(_meta(r, "tags"), "list", lambda t: "b" in t)),
    ("array_length(tags) == 0", lambda r: when(_meta(r, "tags"), "list", lambda t: len(t) == 0)),
    ("nosuchkey == 1", lambda r: None),
    ("not (nosuchkey == 1)", lambda r: None),
    # Array fields: contains family, length, element access
    ("array_contains(ai, 3)", lambda r: None if r["ai"] is None else 3 in r["ai"]),
    ("ARRAY_CONTAINS(ai, 3.0)", lambda r: None if r["ai"] is None else 3 in r["ai"]),
    ("array_contains(ai, 3.5)", lambda r: None if r["ai"] is None else False),
    ("array_contains_all(ai, [1, 2])", lambda r: None if r["ai"] is None else {1, 2} <= set(r["ai"])),
    ("array_contains_any(ai, [5, 6])", lambda r: None if r["ai"] is None else bool({5, 6} & set(r["ai"]))),
    ("array_contains_any(ai, [])", lambda r: None if r["ai"] is None else False),
    ("not array_contains(ai, 0)", lambda r: None if r["ai"] is None else 0 not in r["ai"]),
    ('array_contains(astr, "apple")', lambda r: "apple" in r["astr"]),
    ('array_contains_any(astr, ["band", ""])', lambda r: bool({"band", ""} & set(r["astr"]))),
    ("array_contains(af, 0.1)", lambda r: f32(0.1) in r["af"]),
    ("array_contains(ab, true)", lambda r: True in r["ab"]),
    ("array_contains_all(ab, [true, false])", lambda r: True in r["ab"] and False in r["ab"]),
    ("array_length(ai) == 0", lambda r: None if r["ai"] is None else len(r["ai"]) == 0),
    ("array_length(astr) >= 2", lambda r: len(r["astr"]) >= 2),
    ("array_length(ai) + 1 > 3", lambda r: None if r["ai"] is None else len(r["ai"]) + 1 > 3),
    ("ai[0] == 1", lambda r: _elem_cmp(r["ai"], 0, "==", 1)),
    ("ai[1] > 2", lambda r: _elem_cmp(r["ai"], 1, ">", 2)),
    ("not (ai[0] > 2)", lambda r: not3(_elem_cmp(r["ai"], 0, ">", 2))),
    ("ai[0] in [1, 3, 5]", lambda r: (lambda v: None if v is None else v in (1, 3, 5))(_elem(r["ai"], 0))),
    ("1 < ai[0] <= 4", lambda r: (lambda v: None if v is None else 1 < v <= 4)(_elem(r["ai"], 0))),
    ("ai[0] + 1 == 3", lambda r: _elem_cmp(r["ai"], 0, "==", 2)),
    ('astr[0] == "apple"', lambda r: _elem_cmp(r["astr"], 0, "==", "apple")),
    ('astr[0] like "a%"', lambda r: when(_elem(r["astr"], 0), "str", lambda v: v.startswith("a"))),
    ("af[0] > 1", lambda r: _elem_cmp(r["af"], 0, ">", 1)),
    ("ab[0]", lambda r: _elem(r["ab"], 0)),
    ("ab[0] == false", lambda r: _elem_cmp(r["ab"], 0, "==", False)),
    ("ai == [1, 2]", lambda r: None if r["ai"] is None else r["ai"] == [1, 2]),
    ("ai != []", lambda r: None if r["ai"] is None else r["ai"] != []),
]


@pytest.mark.parametrize(("expr", "ref"), CASES, ids=[c[0] for c in CASES])
def test_json_and_array_ops_match_reference(check: Check, expr: str, ref: Any) -> None:
    check(expr, ref)
