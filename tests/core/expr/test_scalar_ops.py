"""Operators on typed scalar fields, each checked against a plain-Python reference."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.core.expr.conftest import Check, cmp, f32
from tests.three_valued import and3, like_regex, not3, or3

Row = dict[str, Any]


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _trunc_mod(a: int, b: int) -> int:
    r = abs(a) % abs(b)
    return -r if a < 0 else r


CASES: list[tuple[str, Any]] = [
    # comparisons on every numeric type
    ("i8 > 10", lambda r: r["i8"] > 10),
    ("i8 <= -100", lambda r: r["i8"] <= -100),
    ("i16 != 0", lambda r: r["i16"] != 0),
    ("i16 == 7", lambda r: r["i16"] == 7),
    ("i32 >= 0", lambda r: cmp(r["i32"], ">=", 0)),
    ("i32 != 5", lambda r: cmp(r["i32"], "!=", 5)),
    ("i64 < 0", lambda r: r["i64"] < 0),
    ("i64 == 3", lambda r: r["i64"] == 3),
    ("f > 0.5", lambda r: r["f"] > f32(0.5)),
    ("f <= 0.1", lambda r: r["f"] <= f32(0.1)),
    ("d < 0.5", lambda r: cmp(r["d"], "<", 0.5)),
    ("d == 1.5", lambda r: cmp(r["d"], "==", 1.5)),
    # constant on the left, float constant against an integer field, out-of-range constants
    ("10 < i8", lambda r: r["i8"] > 10),
    ("i16 > 2.5", lambda r: r["i16"] > 2.5),
    ("i8 == 5.0", lambda r: r["i8"] == 5),
    ("i8 < 1000", lambda r: True),
    ("i8 > 1000", lambda r: False),
    ("i8 != -1000", lambda r: True),
    ("i16 >= -70000", lambda r: True),
    ("i64 < 9223372036854775807", lambda r: r["i64"] < 2**63 - 1),
    ("i64 > -9223372036854775808", lambda r: r["i64"] > -(2**63)),
    # bools
    ("b", lambda r: r["b"]),
    ("b == true", lambda r: cmp(r["b"], "==", True)),
    ("b != True", lambda r: cmp(r["b"], "!=", True)),
    ("b == FALSE", lambda r: cmp(r["b"], "==", False)),
    ("not b", lambda r: not3(r["b"])),
    ("!b", lambda r: not3(r["b"])),
    # strings
    ('s == "apple"', lambda r: cmp(r["s"], "==", "apple")),
    ("s != 'apple'", lambda r: cmp(r["s"], "!=", "apple")),
    ('s > "b"', lambda r: cmp(r["s"], ">", "b")),
    ('s <= "apricot"', lambda r: cmp(r["s"], "<=", "apricot")),
    ('s == ""', lambda r: cmp(r["s"], "==", "")),
    ('s == "x\\\\y"', lambda r: cmp(r["s"], "==", "x\\y")),
    ('s == "\\u00dcn\\u00efcode"', lambda r: cmp(r["s"], "==", "Ünïcode")),
    # field vs field
    ("i8 > i16", lambda r: r["i8"] > r["i16"]),
    ("i32 == i16", lambda r: cmp(r["i32"], "==", r["i16"])),
    ("f < d", lambda r: None if r["d"] is None else r["f"] < r["d"]),
    ("s == s", lambda r: cmp(r["s"], "==", r["s"])),
    # ranges, both directions and inclusivities
    ("-10 < i8 <= 20", lambda r: -10 < r["i8"] <= 20),
    ("0 <= i16 < 100", lambda r: 0 <= r["i16"] < 100),
    ("50 > i8 >= 0", lambda r: 0 <= r["i8"] < 50),
    ("1 >= d > -1", lambda r: None if r["d"] is None else -1 < r["d"] <= 1),
    ('"a" <= s < "b"', lambda r: None if r["s"] is None else "a" <= r["s"] < "b"),
    ("-0.5 < f < 0.5", lambda r: f32(-0.5) < r["f"] < f32(0.5)),
    ("1 <= i32 <= 1", lambda r: cmp(r["i32"], "==", 1)),
    # in / not in
    ("i8 in [1, 2, 3, -128]", lambda r: r["i8"] in (1, 2, 3, -128)),
    ("i8 not in [1, 2, 3]", lambda r: r["i8"] not in (1, 2, 3)),
    ("i32 in [0, 1, 2.0, 2.5]", lambda r: None if r["i32"] is None else r["i32"] in (0, 1, 2)),
    ("i32 not in [0, 1]", lambda r: None if r["i32"] is None else r["i32"] not in (0, 1)),
    ("i8 in []", lambda r: False),
    ("i8 not in []", lambda r: True),
    ("i8 in [1000]", lambda r: False),
    ('s in ["apple", "band", ""]', lambda r: None if r["s"] is None else r["s"] in ("apple", "band", "")),
    ('s not in ["apple"]', lambda r: None if r["s"] is None else r["s"] != "apple"),
    ('s in ["apple"]', lambda r: cmp(r["s"], "==", "apple")),
    ("f in [0.5, 1]", lambda r: r["f"] in (f32(0.5), 1.0)),
    ("b in [true]", lambda r: cmp(r["b"], "==", True)),
    ("id in [1, 4, 7, 1000]", lambda r: r["id"] in (1, 4, 7, 1000)),
    # like: fast paths and general patterns, escapes
    ('s like "ap%"', lambda r: None if r["s"] is None else r["s"].startswith("ap")),
    ('s like "%an%"', lambda r: None if r["s"] is None else "an" in r["s"]),
    ('s like "%y"', lambda r: None if r["s"] is None else r["s"].endswith("y")),
    ('s like "apple"', lambda r: cmp(r["s"], "==", "apple")),
    ('s like "%"', lambda r: None if r["s"] is None else True),
    ('s like ""', lambda r: cmp(r["s"], "==", "")),
    ('s like "b_n%"', lambda r: None if r["s"] is None else bool(like_regex("b_n%").fullmatch(r["s"]))),
    ('s like "a%e"', lambda r: None if r["s"] is None else bool(like_regex("a%e").fullmatch(r["s"]))),
    ('s like "a\\\\%b"', lambda r: cmp(r["s"], "==", "a%b")),
    ('s like "a\\\\_%"', lambda r: None if r["s"] is None else r["s"].startswith("a_")),
    ('s like "%\\\\\\\\%"', lambda r: None if r["s"] is None else "\\" in r["s"]),
    ('s LIKE "_____"', lambda r: None if r["s"] is None else len(r["s"]) == 5),
    ('not s like "a%"', lambda r: None if r["s"] is None else not r["s"].startswith("a")),
    # arithmetic (Go semantics: truncating / and %)
    ("i8 + 1 > 100", lambda r: r["i8"] + 1 > 100),
    ("i8 - 200 < -250", lambda r: r["i8"] - 200 < -250),
    ("i8 * 3 == 30", lambda r: r["i8"] * 3 == 30),
    ("i16 / 7 == -3", lambda r: _trunc_div(r["i16"], 7) == -3),
    ("i16 % 5 == -2", lambda r: _trunc_mod(r["i16"], 5) == -2),
    ("i16 % 5 == 0", lambda r: r["i16"] % 5 == 0),
    ("2 * i8 + 1 > 50", lambda r: 2 * r["i8"] + 1 > 50),
    ("100 - i8 < 0", lambda r: 100 - r["i8"] < 0),
    ("i8 / 2.0 > 10.25", lambda r: r["i8"] / 2 > 10.25),
    ("i8 ** 2 > 900", lambda r: r["i8"] ** 2 > 900),
    ("d * 2 >= 1", lambda r: None if r["d"] is None else r["d"] * 2 >= 1),
    ("i32 + i16 > 0", lambda r: None if r["i32"] is None else r["i32"] + r["i16"] > 0),
    ("i8 - i16 == i8", lambda r: r["i16"] == 0),
    ("-i8 > 100", lambda r: -r["i8"] > 100),
    ("(i8 & 3) == 1", lambda r: (r["i8"] & 3) == 1),
    ("(i16 | 1) == 3", lambda r: (r["i16"] | 1) == 3),
    ("(i16 ^ 5) > 100", lambda r: (r["i16"] ^ 5) > 100),
    ("~i8 == 0", lambda r: ~r["i8"] == 0),
    ("i16 + 2 ** 3 == 10", lambda r: r["i16"] + 8 == 10),
    ("i16 / 1 == i16", lambda r: True),
    # logic, precedence, three-valued nulls
    ("i8 > 0 and i16 > 0", lambda r: r["i8"] > 0 and r["i16"] > 0),
    ("i8 > 0 && i16 > 0 && i64 > 0", lambda r: r["i8"] > 0 and r["i16"] > 0 and r["i64"] > 0),
    ("i8 > 100 or i16 < -250", lambda r: r["i8"] > 100 or r["i16"] < -250),
    ("i8 > 100 || i16 < -250 || i64 == 0", lambda r: r["i8"] > 100 or r["i16"] < -250 or r["i64"] == 0),
    ("not i8 == 1 or i16 == 2", lambda r: (r["i8"] != 1) or r["i16"] == 2),
    ("not (i8 == 1 or i16 == 2)", lambda r: not (r["i8"] == 1 or r["i16"] == 2)),
    ("i8 > 0 or i16 > 0 and i64 > 0", lambda r: r["i8"] > 0 or (r["i16"] > 0 and r["i64"] > 0)),
    ("(i8 > 0 or i16 > 0) and i64 > 0", lambda r: (r["i8"] > 0 or r["i16"] > 0) and r["i64"] > 0),
    ("NOT i8 > 0 AND NOT i16 > 0", lambda r: r["i8"] <= 0 and r["i16"] <= 0),
    ("not not i8 > 0", lambda r: r["i8"] > 0),
    ("i32 > 0 or b", lambda r: or3(cmp(r["i32"], ">", 0), r["b"])),
    ("i32 > 0 and b", lambda r: and3(cmp(r["i32"], ">", 0), r["b"])),
    ("not (i32 > 0 and d > 0)", lambda r: not3(and3(cmp(r["i32"], ">", 0), cmp(r["d"], ">", 0)))),
    ("not (i32 > 0 or d > 0)", lambda r: not3(or3(cmp(r["i32"], ">", 0), cmp(r["d"], ">", 0)))),
    ("not (i32 > 0)", lambda r: not3(cmp(r["i32"], ">", 0))),
    ("i32 < 0 or not (i32 < 0)", lambda r: None if r["i32"] is None else True),
    # is null / is not null
    ("i32 is null", lambda r: r["i32"] is None),
    ("i32 is not null", lambda r: r["i32"] is not None),
    ("s IS NULL", lambda r: r["s"] is None),
    ("s IS NOT NULL and s like 'a%'", lambda r: r["s"] is not None and r["s"].startswith("a")),
    ("i8 is null", lambda r: False),
    ("i8 is not null", lambda r: True),
    ("ai is null", lambda r: r["ai"] is None),
    ("not (d is null)", lambda r: r["d"] is not None),
    # constants and folding
    ("true", lambda r: True),
    ("False", lambda r: False),
    ("1 == 1", lambda r: True),
    ("1 + 1 == 3", lambda r: False),
    ("true or i8 > 0", lambda r: True),
    ("false and i8 > 0", lambda r: False),
    ("true and i8 > 0", lambda r: r["i8"] > 0),
    ("not false and i8 > 0", lambda r: r["i8"] > 0),
    ("i8 > 2 * 10 - 30 / 4", lambda r: r["i8"] > 13),
    ("i8 > -7 % 3", lambda r: r["i8"] > -1),
    ("i16 < 2 ** 8", lambda r: r["i16"] < 256),
    ("i16 > 0x10 + 010 + 0b11", lambda r: r["i16"] > 27),
    ("d > 1.5e-1", lambda r: cmp(r["d"], ">", 0.15)),
    ("d > 0x1.8p-1", lambda r: cmp(r["d"], ">", 0.75)),
    ("d < .5", lambda r: cmp(r["d"], "<", 0.5)),
    # functions on VarChar
    ("empty(s)", lambda r: cmp(r["s"], "==", "")),
    ('starts_with(s, "ba")', lambda r: None if r["s"] is None else r["s"].startswith("ba")),
]


@pytest.mark.parametrize(("expr", "ref"), CASES, ids=[c[0] for c in CASES])
def test_operator_matches_reference(check: Check, expr: str, ref: Any) -> None:
    check(expr, ref)


def test_power_of_constants_and_float_folding(check: Check) -> None:
    check("d < 2 ** -1", lambda r: cmp(r["d"], "<", 0.5))
    check("d > -2 ** 2", lambda r: cmp(r["d"], ">", -4))
    check("i8 > 2 ** 3 ** 2 - 600", lambda r: r["i8"] > 2 ** 9 - 600)
    check("d < 4.0 ** 0.5 - 1.5", lambda r: cmp(r["d"], "<", math.sqrt(4) - 1.5))


@pytest.mark.parametrize("count", [0, 1, 5, 17, 300, 5000])
@pytest.mark.parametrize("spread", [10, 2**40])
def test_in_lists_of_every_size(check: Check, count: int, spread: int) -> None:
    import random

    rng = random.Random(count * 31 + spread)
    values = [rng.randint(-spread, spread) for _ in range(count)] + [3, -7][: min(count, 2)]
    wanted = set(values)
    text = "[" + ", ".join(map(str, values)) + "]"
    check(f"i16 in {text}", lambda r: r["i16"] in wanted)
    check(f"i64 not in {text}", lambda r: r["i64"] not in wanted)
    check(f"i32 in {text}", lambda r: None if r["i32"] is None else r["i32"] in wanted)
    floats = [v / 4 for v in values]
    float_set, f32_set = set(floats), {f32(v) for v in floats}
    check(f"d in {floats}", lambda r: None if r["d"] is None else r["d"] in float_set)
    check(f"f in {floats}", lambda r: r["f"] in f32_set)
