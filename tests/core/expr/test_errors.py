"""Rejected expressions: syntax errors (with positions), unknown names, type errors,
arity, overflow — all as FilterError / MilvusError code 1100 in Milvus's message shape."""

from __future__ import annotations

import pytest

from elanus.core.errors import PARAMETER_INVALID, MilvusError
from elanus.core.expr import FilterError, compile_filter, validate
from elanus.core.schema import CollectionSchema
from tests.core.expr.conftest import make_schema


def _error(expr: str, schema: CollectionSchema, params: dict[str, object] | None = None) -> FilterError:
    with pytest.raises(FilterError) as info:
        validate(expr, schema, params)
    err = info.value
    assert isinstance(err, MilvusError) and err.code == PARAMETER_INVALID
    assert str(err) == f"cannot parse expression: {expr}, error: {err.detail}: invalid parameter"
    return err


SYNTAX = [
    # expr, line, column (0-based, as ANTLR/Milvus report), fragment of the detail
    ("int64 inn [1, 2]", 1, 6, "invalid expression: int64 inn [1, 2]"),
    ("i8 >", 1, 4, "mismatched input '<EOF>'"),
    ("i8 > 1 and", 1, 10, "mismatched input '<EOF>'"),
    ("i8 # 1", 1, 3, "token recognition error at: '#'"),
    ("(i8 > 1", 1, 7, "mismatched input '<EOF>' expecting"),
    ("i8 > 1)", 1, 6, "extraneous input ')'"),
    ("i8 > > 1", 1, 5, "mismatched input '>'"),
    ('s == "unterminated', 1, 5, "token recognition error"),
    ("i8 in in", 1, 6, "mismatched input 'in'"),
    ("i8 >\n  and i16 > 1", 2, 2, "mismatched input 'and'"),
    ("i8 = 1", 1, 3, "extraneous input '='"),
    ("09 > i8", 1, 0, "invalid integer literal: 09"),
    ("d > 1e400", 1, 4, 'strconv.ParseFloat: parsing "1e400": value out of range'),
    ('s == "\\q"', 1, 5, "unknown escape sequence \\q"),
    ("j[0x1] > 1", 1, 2, "array index must be a decimal integer"),
    ('j[""] > 1', 1, 2, "invalid identifier: empty JSON key"),
    ("i8 > 1 And i16 > 1", 1, 7, "invalid expression"),
]


@pytest.mark.parametrize(("expr", "line", "column", "fragment"), SYNTAX, ids=[s[0] for s in SYNTAX])
def test_syntax_error_reports_position(schema: CollectionSchema, expr: str, line: int, column: int,
                                       fragment: str) -> None:
    err = _error(expr, schema)
    assert (err.line, err.column) == (line, column)
    assert err.detail.startswith(f"line {line}:{column} ")
    assert fragment in err.detail


def test_syntax_errors_are_cached_and_repeatable(schema: CollectionSchema) -> None:
    first = _error("i8 >", schema)
    second = _error("i8 >", schema)
    assert first.detail == second.detail and first is not second


SEMANTIC = [
    # unknown names and field kinds
    ("nosuch > 1", "field nosuch not exist", False),
    ("$meta['a'] > 1", "field $meta not exist", False),
    ("NULL == 1", "NULL literal is not supported in expressions", True),
    ("i8 in [null]", "NULL literal is not supported", True),
    ("txt == 'a'", "filter on text field (txt) is not supported yet", True),
    ("i8['a'] > 1", "Int8 data type not supported accessed with []", True),
    ('ai["a"] > 1', "can only access array field with integer index", True),
    ("ai[0][1] > 1", "array field supports a single index", True),
    # comparisons between incompatible types (Milvus's text)
    ("s > 5", "comparisons between VarChar and Int64 are not supported", True),
    ("5 < s", "comparisons between Int64 and VarChar are not supported", True),
    ("i8 == 'a'", "comparisons between Int8 and VarChar are not supported", True),
    ("b == 1", "comparisons between Bool and Int64 are not supported", True),
    ("i8 == true", "comparisons between Int8 and Bool are not supported", True),
    ("s == i8", "comparisons between VarChar and Int8 are not supported", True),
    ("v == 1", "comparisons between FloatVector and Int64 are not supported", True),
    ("ai > 1", "can not comparisons array fields directly", True),
    ("ai == 1", "comparisons between Array[Int64] and Int64 are not supported", True),
    ("i8 == [1]", "comparisons between Int8 and Array[Int64] are not supported", True),
    ("ai > ai", "can not comparisons array fields directly", False),
    ("j['a'] > j['b']", "two column comparison with JSON type is not supported", True),
    ("j['a'] < [1]", "comparisons between JSON and Array[Int64] are not supported", True),
    ("1 == 'a'", "comparison operations cannot be applied to two incompatible operands", True),
    ("(i8 > 1) == true", "comparison operands must be values", True),
    # ranges
    ("1 < s < 3", "invalid range operations", True),
    ("0 < b < 1", "invalid range operations on boolean expr", True),
    ("10 < i8 < 5", "invalid range: lowerbound is greater than upperbound", True),
    ("5 < i8 < 5", "invalid range: lowerbound is greater than upperbound", True),
    ("i16 < i8 < 5", "lowerbound cannot be a non-const expression: i16", True),
    ("1 < i8 < i16", "upperbound cannot be a non-const expression: i16", True),
    ("1 < 2 < 3", "range operations are only supported on single fields now", True),
    ("1 < i8 > 0", "is not a range", True),
    ("1 < i8 < 2 < 3", "is not a range", True),
    # in
    ("1 in [1, 2]", "'term' can only be used on non-const expression", True),
    ("i8 + 1 in [1, 2]", "'term' can only be used on single field", True),
    ("i8 in 1", "the right-hand side of 'in' must be a list, but got: 1", True),
    ("i8 in [i16]", "array element type must be generic value, but got: i16", True),
    ("i8 in ['a']", "value '\"a\"' in list cannot be casted to Int8", True),
    ("s in [1]", "value '1' in list cannot be casted to VarChar", True),
    ("ai in [[1]]", "'in' on a Array[Int64] field is not supported", True),
    ("v in []", "'in' on a FloatVector field is not supported", True),
    ("-j['n'] == 'a'", "comparisons between Double and VarChar are not supported", True),
    ("v in [1]", "'in' on a FloatVector field is not supported", True),
    # like
    ("i8 like 'a%'", "like operation on non-string or no-json field is unsupported", True),
    ("s like 1", "like pattern should be a string literal or template variable, got: 1", True),
    ("s like 'a\\\\'", "ends with an unescaped backslash", True),
    ("'a' like 'a'", "the left operand of like is invalid", True),
    # arithmetic
    ("s + 1 > 2", "'add' cannot perform arithmetic between VarChar field and Int64", True),
    ("i8 + 1 == 'a'", "comparisons between Int64 and VarChar are not supported", True),
    ("f % 2 == 1", "modulo can only apply on integer types", True),
    ("(d & 1) == 1", "bitwise operations can only apply on integer types", True),
    ("i8 / 0 == 1", "division or modulus by zero", True),
    ("i8 % 0 == 1", "division or modulus by zero", True),
    ("1 / 0 == i8", "cannot divide by zero", True),
    ("i8 << 1 == 2", "shift is not supported", True),
    ("ai + 1 == 2", "can not comparisons array fields directly", True),
    ("(i8 > 1) + 1 == 2", "invalid arithmetic expression", True),
    ("'a' + 1 == i8", "add cannot apply on string value \"a\"", True),
    ("-s == 'a'", "unary - cannot apply on VarChar", True),
    # logic and the root
    ("i8", "predicate is not a boolean expression: i8, data type: Int8", True),
    ("s", "predicate is not a boolean expression: s, data type: VarChar", True),
    ("age", "predicate is not a boolean expression: age, data type: JSON", True),
    ("1 + 1", "predicate is not a boolean expression: 1 + 1, data type: Int64", True),
    ("i8 > 0 and i16", "'and' can only be used between boolean expressions", True),
    ("i8 or b", "'or' can only be used between boolean expressions", True),
    ("1 and b", "'and' can only be used between boolean expressions", True),
    ("not i8", "not op can only be applied on boolean expression", True),
    ("not 1", "not op can only be applied on boolean expression", True),
    # null tests and exists
    ("v is null", "IsNull/IsNotNull operations are not supported on vector fields", True),
    ("ai[0] is null", "not supported on array element access", True),
    ("(i8 + 1) is null", "IsNull/IsNotNull operations are only supported on single fields now", True),
    ("exists i8", "exists operations are only supportted on json field, got:Int8", True),
    ("exists j", "exists operations are only supportted on json key", True),
    # functions: arity, argument kinds
    ("json_contains(j['l'])", "json_contains expects 2 arguments, got 1", True),
    ("array_contains(ai, 1, 2)", "array_contains expects 2 arguments, got 3", True),
    ("array_length(ai, 1) == 1", "array_length expects 1 argument, got 2", True),
    ("json_contains(i8, 1)", "contains operation are only supported on json or array fields now, got: i8",
     True),
    ("json_contains(ai[0], 1)", "contains operation are only supported on json or array fields now", True),
    ("json_contains(j['l'], i8)",
     "contains operation are only supported explicitly specified element, got: i8", True),
    ("json_contains_all(j['l'], 1)", "ContainsAll operation element must be an array", True),
    ("array_contains_any(ai, 1)", "ContainsAny operation element must be an array", True),
    ("array_contains(ai, 'a')", "Contains operation can't compare between array element type: Int64 and "
     "VarChar", True),
    ("array_contains_all(astr, [1])", "ContainsAll operation can't compare between array element type", True),
    ("array_length(i8) == 1", "array_length operation are only supported on json, array", True),
    ("empty(i8)", "function empty expects a VarChar field", True),
    ("json_contains(j['l'], 1, x=2)", "json_contains does not take keyword arguments", True),
    ("text_match(s, 'a')", "function text_match is not supported yet", True),
    ("no_such_fn(i8)", "function no_such_fn not found", True),
    # literals out of range
    ("i64 == 9223372036854775808", "int64 overflow: 9223372036854775808", True),
    ("i64 > -9223372036854775809", "int64 overflow: 9223372036854775809", True),
    ("i64 in [1, 99999999999999999999]", "int64 overflow", True),
    ("i64 == 0xFFFFFFFFFFFFFFFF", "int64 overflow: 0xFFFFFFFFFFFFFFFF", True),
    ("i64 == 9223372036854775807 + 1", "int64 overflow", True),
    ("i64 == -9223372036854775808 - 1", "int64 overflow", True),
    # template parameters
    ("i8 > {x}", "the value of expression template variable name {x} is not found", True),
]


@pytest.mark.parametrize(("expr", "fragment", "dynamic"), SEMANTIC, ids=[s[0] for s in SEMANTIC])
def test_semantic_error(expr: str, fragment: str, dynamic: bool) -> None:
    err = _error(expr, make_schema(dynamic=dynamic))
    assert fragment in err.detail, err.detail
    assert err.line is None and err.column is None


def test_dynamic_schema_resolves_unknown_names_instead_of_failing() -> None:
    validate("nosuch > 1", make_schema(dynamic=True))
    validate('$meta["a"] > 1 and exists $meta["b"]', make_schema(dynamic=True))


@pytest.mark.parametrize(("params", "fragment"), [
    ({"x": None}, "the value of expression template variable {x} is nil"),
    ({"x": {"a": 1}}, "has unsupported type dict"),
    ({"x": 2**63}, "int64 overflow"),
    ({"x": "a"}, "comparisons between Int8 and VarChar are not supported"),
])
def test_bad_template_values(schema: CollectionSchema, params: dict[str, object], fragment: str) -> None:
    assert fragment in _error("i8 > {x}", schema, params).detail


def test_in_template_must_be_a_list(schema: CollectionSchema) -> None:
    err = _error("i8 in {xs}", schema, {"xs": 3})
    assert "the right-hand side of 'in' must be a list, but got: {xs}" in err.detail


def test_compile_error_is_the_same_as_validate_error(schema: CollectionSchema) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter("s > 5", schema)
    assert info.value.message == (
        "cannot parse expression: s > 5, error: comparisons between VarChar and Int64 are not supported: "
        "invalid parameter")


def test_min_int64_literal_is_accepted(schema: CollectionSchema) -> None:
    validate("i64 >= -9223372036854775808", schema)
    validate("i64 in [-9223372036854775808, 9223372036854775807]", schema)


def test_deep_nesting_is_rejected_not_crashing(schema: CollectionSchema) -> None:
    assert "nested too deeply" in _error("not " * 3000 + "i8 > 1", schema).detail
    assert "nested too deeply" in _error("i8 + " * 500 + "1 > 0", schema).detail
    validate("(" * 2000 + "i8 > 1" + ")" * 2000, schema)  # parentheses add no nesting
    validate(" or ".join(f"i8 == {i}" for i in range(2000)), schema)  # nor do flat chains
    validate("not " * 150 + "i8 > 1", schema)
