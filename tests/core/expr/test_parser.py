"""Parsing: precedence, literal decoding, keyword case, and the parse cache."""

from __future__ import annotations

import pytest

from elanus.core.expr import syntax as s
from elanus.core.expr.errors import ExprError
from elanus.core.expr.literals import decode_raw_string, decode_string, parse_float, parse_int
from elanus.core.expr.parser import parse

PRECEDENCE = [
    ("not a == 1 or b == 2", "(not (a == 1)) or (b == 2)"),
    ("a or b and c", "a or (b and c)"),
    ("a and b or c and d", "(a and b) or (c and d)"),
    ("!a || b && !c", "(not a) or (b and (not c))"),
    ("a + b * c ** 2 > 1", "(a + (b * (c ** 2))) > 1"),
    ("-2 ** 2 == x", "(-(2 ** 2)) == x"),
    ("2 ** -1 == x", "(2 ** (-1)) == x"),
    ("2 ** 3 ** 2 == x", "(2 ** (3 ** 2)) == x"),
    ("a - b - c == 0", "((a - b) - c) == 0"),
    ("a / b % c == 0", "((a / b) % c) == 0"),
    ("a & 4 == 4", "a & (4 == 4)"),
    ("a | b ^ c & d", "a | (b ^ (c & d))"),
    ("a < b == c < d", "(a < b) == (c < d)"),
    ("1 < x <= 2", "1 < x <= 2"),
    ("x in [1, 2] and y not in []", "(x in [1, 2]) and (y not in [])"),
    ("not x in [1]", "not (x in [1])"),
    ("not x like 'a%' or y", '(not (x like "a%")) or y'),
    ("x is null or y is not null", "(x is null) or (y is not null)"),
    ("exists m['a'] and m['b'][0] > 1", '(exists m["a"]) and (m["b"][0] > 1)'),
    ("f(a, [1, 2,], k=3)", "f(a, [1, 2], k=3)"),
    ("{p} <= a", "{p} <= a"),
    ("a and b and (c and d)", "a and b and c and d"),
]


@pytest.mark.parametrize(("text", "rendered"), PRECEDENCE, ids=[p[0] for p in PRECEDENCE])
def test_precedence(text: str, rendered: str) -> None:
    assert s.render(parse(text)) == rendered


@pytest.mark.parametrize("keywords", [
    ("and", "or", "not", "in", "like", "exists", "is", "null", "true"),
    ("AND", "OR", "NOT", "IN", "LIKE", "EXISTS", "IS", "NULL", "TRUE"),
])
def test_keywords_lower_and_upper_case(keywords: tuple[str, ...]) -> None:
    and_, or_, not_, in_, like, exists, is_, null, true = keywords
    text = (f"{not_} a {in_} [1] {and_} b {like} 'x%' {or_} {exists} m['k'] {or_} c {is_} {not_} {null} "
            f"{or_} d == {true}")
    tree = parse(text)
    assert isinstance(tree, s.BoolOp) and tree.op == "or" and len(tree.operands) == 4


@pytest.mark.parametrize("text", ["a And b", "a Or b", "Not a", "a In [1]", "a Like 'x'"])
def test_mixed_case_keywords_are_rejected(text: str) -> None:
    with pytest.raises(ExprError):
        parse(text)


def test_identifiers_may_contain_keywords() -> None:
    tree = parse("notes == 1 and in_stock and order_id > android")
    assert s.render(tree) == "(notes == 1) and in_stock and (order_id > android)"
    assert parse("中文 > 1") == s.Compare((">",), (s.Name("中文"), s.Literal(1, "1")))


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("42", 42), ("0x1F", 31), ("0XfF", 255), ("0b101", 5), ("010", 8), ("00", 0),
    ("9223372036854775808", 2**63),
])
def test_integer_literals(text: str, value: int) -> None:
    assert parse_int(text) == value
    assert parse(f"x == {text}") == s.Compare(("==",), (s.Name("x"), s.Literal(value, text)))


@pytest.mark.parametrize(("text", "value"), [
    ("1.5", 1.5), ("1.", 1.0), (".25", 0.25), ("1e3", 1000.0), ("2.5E-2", 0.025), ("0x1.8p1", 3.0),
    ("0x10p0", 16.0),
])
def test_float_literals(text: str, value: float) -> None:
    assert parse_float(text) == value
    assert parse(f"x == {text}") == s.Compare(("==",), (s.Name("x"), s.Literal(value, text)))


@pytest.mark.parametrize(("token", "value"), [
    ('"abc"', "abc"), ("'abc'", "abc"), ('""', ""), ('"it\'s"', "it's"), ("'say \"hi\"'", 'say "hi"'),
    ("'it\\'s'", "it's"), ('"a\\"b"', 'a"b'), ('"tab\\tnl\\n"', "tab\tnl\n"),
    ('"back\\\\slash"', "back\\slash"),
    ('"\\x41\\101\\u00e9\\U0001F600"', "AAé😀"), ('u8"x"', "x"), ("L'x'", "x"), ('"a\\%b"', None),
])
def test_string_literals(token: str, value: str | None) -> None:
    if value is None:
        with pytest.raises(ExprError, match="unknown escape sequence"):
            decode_string(token)
    else:
        assert decode_string(token) == value
        assert parse(f"x == {token}") == s.Compare(("==",), (s.Name("x"), s.Literal(value, token)))


def test_raw_strings_keep_backslashes() -> None:
    assert decode_raw_string('r"a\\d+"') == "a\\d+"
    assert decode_raw_string("R'x\\'y'") == "x\\'y"
    assert parse('x like r"a\\%"') == s.Like(s.Name("x"), s.Literal("a\\%", 'r"a\\%"'))


def test_json_paths_and_templates() -> None:
    assert parse('$meta["a b"][0]["c"] > 1').operands[0] == s.Index(  # type: ignore[attr-defined]
        s.Index(s.Index(s.Name("$meta"), "a b"), 0), "c")
    assert parse("x in {vals}") == s.In(s.Name("x"), s.Template("vals"), negated=False)


def test_parse_is_cached_by_text_unless_long() -> None:
    assert parse("x > 1 and y < 2") is parse("x > 1 and y < 2")
    long = "id in [" + ", ".join(map(str, range(2000))) + "]"
    assert parse(long) is not parse(long) and parse(long) == parse(long)


def test_render_round_trips() -> None:
    for text, _ in PRECEDENCE:
        tree = parse(text)
        assert parse(s.render(tree)) == tree


FAST = [
    "id in [1, 2, 3]", "id in []", "id in [ ]", "id not in [1]", "id NOT IN [1,2,]",
    "id IN [0x1F, 010, 0b11]", "id in [-1, - 2, 3]", 'pk in ["a", \'b\', "c\\"d", "\\u00e9", r"x\\y", u8"z"]',
    "x in [1.5, .5, 1e3, 0x1p3]",
    "$meta in [1]", "中文 in [1]", "  id  in[1]  ", "id in [1,\n 2,\t3]", "id\tnot\nin [1]",
]
NOT_FAST = [
    "id in [1 2]", "id in [1,,2]", "id in [,]", "id in [09]", 'id in ["\\q"]', "id in [1] and x",
    "id in [+1]",
    "id in [--1]", "id in [1 + 1]", "id in [x]", "id in {p}", "id notin [1]", "true in [1]", "and in [1]",
    "id in [1]]", "(id in [1])", "id in [1", "id in [true]", "id[0] in [1]", "id in [1]\v",
]


@pytest.mark.parametrize("text", FAST)
def test_fast_path_builds_the_grammar_tree(text: str) -> None:
    from elanus.core.expr.fastpath import parse_term_list
    from elanus.core.expr.parser import _parser

    fast = parse_term_list(text)
    assert fast is not None
    # repr shows literal types and source spellings too (1 vs 1.0, "a" vs 'a')
    assert repr(fast) == repr(_parser().parse(text))


@pytest.mark.parametrize("text", NOT_FAST)
def test_fast_path_defers_everything_else(text: str) -> None:
    from elanus.core.expr.fastpath import parse_term_list

    assert parse_term_list(text) is None


def test_large_id_lists_parse_quickly() -> None:
    import time

    text = "id in [" + ", ".join(str(i * 7919) for i in range(50_000)) + "]"
    t0 = time.perf_counter()
    tree = parse(text)
    assert time.perf_counter() - t0 < 1.0
    assert isinstance(tree, s.In) and len(tree.values.items) == 50_000  # type: ignore[attr-defined]
