"""``=~`` / ``!~``: RE2 substring matching on VarChar, JSON strings and array elements,
three-valued with nulls, patterns taken undecoded, and Milvus's error texts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from elanus.core.expr import FilterError, compile_filter
from tests.core.expr.conftest import make_columns, make_schema

ROWS: list[dict[str, Any]] = [
    {"s": "ERROR E1001: timeout", "j": {"v": "v1.2"}, "astr": ["release-v1", "prod"]},
    {"s": "warn\nline", "j": {"v": 12}, "astr": []},
    {"s": None, "j": {"v": "abc"}, "astr": ["x"]},
    {"s": "c.d and cxd", "j": None, "astr": ["release-v22"]},
    {"s": "", "j": {}, "astr": [""]},
]


def run(expr: str, params: dict[str, Any] | None = None) -> list[int]:
    schema = make_schema()
    rows = []
    for i, r in enumerate(ROWS):
        row = {f.name: None for f in schema.fields if not f.dtype.is_vector}
        row.update({"id": i, "i8": 0, "i16": 0, "i64": 0, "f": 0.0, "ai": [], "af": [], "ab": [], "txt": "",
                    "$meta": {"k": r["s"]} if r["s"] is not None else {}})
        row.update(r)
        rows.append(row)
    mask = compile_filter(expr, schema, params).evaluate(make_columns(rows, schema), len(rows))
    return np.flatnonzero(mask).tolist()


@pytest.mark.parametrize(("expr", "ids"), [
    ('s =~ "E[0-9]{4}:"', [0]),
    ('s =~ "timeout"', [0]),  # substring, not whole-string
    ('s =~ "^ERROR"', [0]),
    ('s =~ "^$"', [4]),
    ('s =~ ""', [0, 1, 3, 4]),  # every non-null string
    ('s =~ "n.l"', [1]),  # `.` matches a newline (RE2 dot_nl, as segcore sets it)
    ('s =~ "(?-s)n.l"', []),
    ('s =~ "(?i)error"', [0]),
    ('s !~ "ERROR"', [1, 3, 4]),  # the null row is unknown for !~ too
    ('not (s =~ "ERROR")', [1, 3, 4]),
    ('s !~ "ERROR" or s is null', [1, 2, 3, 4]),
    ('s =~ "c\\.d"', [3]),  # "\\." in the text reaches RE2 as \. (not decoded as an escape)
    ('s =~ r"c\\.d"', [3]),
    ('s =~ "\\d+"', [0]),
    ('j["v"] =~ "^v[0-9]+\\.[0-9]+$"', [0]),  # JSON: strings only; 12, missing, null are unknown
    ('j["v"] !~ "^v"', [2]),
    ("j =~ \"v\"", []),  # whole JSON objects are not strings
    ('astr[0] =~ "^release-v[0-9]+$"', [0, 3]),
    ('astr[0] !~ "release"', [2, 4]),  # out-of-range element (row 1) is unknown
    ('k =~ "ERR"', [0]),  # dynamic key
    ("s =~ {p}", [0]),
    ('s =~ "x" or s =~ "ERROR" and i64 == 0', [0, 3]),
])
def test_regex_matches(expr: str, ids: list[int]) -> None:
    assert run(expr, {"p": "^E"}) == ids


@pytest.mark.parametrize(("expr", "fragment"), [
    ('s =~ "(unclosed"', "invalid regex pattern: error parsing regexp: missing closing )"),
    ('s =~ "(a)\\\\1"', "invalid regex pattern"),  # backreferences are not RE2
    ('s =~ "x(?=y)"', "invalid or unsupported Perl syntax"),
    ('i64 =~ "1"', "regex match on non-string or non-json field is unsupported"),
    ('ai =~ "1"', "can not comparisons array fields directly"),
    ("s =~ 123", "regex pattern should be a string literal or template variable, got: 123"),
    ("s =~ i64", "regex pattern should be a string literal or template variable"),
    ("s =~ true", "string literal or template variable"),
    ('"a" =~ "a"', "the left operand of =~ is invalid"),
    ('(s + 1) =~ "a"', "cannot perform arithmetic"),
    ('j["a"] + 1 =~ "a"', "the left operand of =~ is invalid"),  # =~ binds tighter than +
])
def test_regex_errors(expr: str, fragment: str) -> None:
    schema = make_schema()
    with pytest.raises(FilterError) as info:
        compile_filter(expr, schema, {})
    assert info.value.code == 1100
    assert fragment in info.value.detail


def test_undecodable_strings_still_fail_outside_regex() -> None:
    with pytest.raises(FilterError, match="unknown escape sequence"):
        compile_filter('s == "\\d"', make_schema())
