"""Function calls in filters: ``json_contains*``, ``array_contains*``, ``array_length`` and
Milvus's generic filter functions ``empty`` and ``starts_with``.

Names are matched case-insensitively (Milvus lowercases generic calls; its keyword
functions accept lower and UPPER case). Each binder checks arity and argument kinds and
raises Milvus's messages; functions Milvus has but Elanus does not implement yet are
rejected by name, so a filter never silently means something else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from elanus.core.expr import syntax as s
from elanus.core.expr.compare import CompareConst
from elanus.core.expr.errors import ExprError
from elanus.core.expr.membership import CONTAINS, CONTAINS_ALL, CONTAINS_ANY, Contains
from elanus.core.expr.pattern import Like, LikeMatcher
from elanus.core.expr.typerules import comparable
from elanus.core.expr.values import ArrayLength, ColumnRef, Const, literal_type
from elanus.core.schema import DataType

if TYPE_CHECKING:
    from elanus.core.expr.binder import Binder, Bound

_NOT_YET = frozenset({
    "text_match", "text_match_fuzzy", "phrase_match", "element_filter", "match_all",
    "match_any", "match_least", "match_most", "match_exact", "st_equals", "st_touches", "st_overlaps",
    "st_crosses", "st_contains", "st_intersects", "st_within", "st_dwithin", "st_isvalid",
})


def _arity(node: s.Call, count: int) -> None:
    if node.kwargs:
        raise ExprError(f"{node.name} does not take keyword arguments: {s.render(node)}")
    if len(node.args) != count:
        raise ExprError(f"{node.name} expects {count} argument{'s' if count > 1 else ''}, "
                        f"got {len(node.args)}: {s.render(node)}")


def _container(binder: Binder, node: s.Call, op_text: str) -> ColumnRef:
    """The JSON value or whole Array field a contains/length function reads."""
    arg = node.args[0]
    column = binder.column(arg) if isinstance(arg, s.Name | s.Index) else None
    whole_array = column is not None and column.dtype == DataType.ARRAY and not column.path
    if column is None or not (column.dtype == DataType.JSON or whole_array):
        raise ExprError(f"{op_text}, got: {s.render(arg)}")
    return column


def _contains(mode: str, binder: Binder, node: s.Call) -> Bound:
    _arity(node, 2)
    short = {CONTAINS: "contains", CONTAINS_ALL: "contains_all", CONTAINS_ANY: "contains_any"}[mode]
    column = _container(binder, node, f"{short} operation are only supported on json or array fields now")
    element = binder.bind(node.args[1])
    if not isinstance(element, Const):
        raise ExprError(f"{short} operation are only supported explicitly specified element, "
                        f"got: {s.render(node.args[1])}")
    if mode == CONTAINS:
        values = [element.value]
    elif isinstance(element.value, list):
        values = list(element.value)
    else:
        raise ExprError(f"{mode} operation element must be an array")
    if column.dtype == DataType.ARRAY:
        for v in values:
            if not comparable(column.element_type, literal_type(v)):
                raise ExprError(f"{mode} operation can't compare between array element type: "
                                f"{column.element_type.display} and {literal_type(v).display}")
    return Contains(column, mode, values)


def _array_length(binder: Binder, node: s.Call) -> Bound:
    _arity(node, 1)
    column = _container(binder, node, "array_length operation are only supported on json, array or "
                                      "array-of-vector fields now")
    return ArrayLength(column)


def _string_arg(binder: Binder, node: s.Call) -> ColumnRef:
    column = binder.bind(node.args[0])
    if not isinstance(column, ColumnRef) or not column.dtype.is_string:
        raise ExprError(f"function {node.name.lower()} expects a VarChar field, "
                        f"got: {s.render(node.args[0])}")
    return column


def _empty(binder: Binder, node: s.Call) -> Bound:
    _arity(node, 1)
    return CompareConst(_string_arg(binder, node), "==", "")


def _starts_with(binder: Binder, node: s.Call) -> Bound:
    _arity(node, 2)
    column = _string_arg(binder, node)
    prefix = binder.bind(node.args[1])
    if not isinstance(prefix, Const) or not isinstance(prefix.value, str):
        raise ExprError(f"function starts_with expects a string prefix, got: {s.render(node.args[1])}")
    return Like(column, LikeMatcher("prefix", prefix.value, ""))


_FUNCTIONS: dict[str, Callable[[Binder, s.Call], Bound]] = {
    "json_contains": lambda b, n: _contains(CONTAINS, b, n),
    "array_contains": lambda b, n: _contains(CONTAINS, b, n),
    "json_contains_all": lambda b, n: _contains(CONTAINS_ALL, b, n),
    "array_contains_all": lambda b, n: _contains(CONTAINS_ALL, b, n),
    "json_contains_any": lambda b, n: _contains(CONTAINS_ANY, b, n),
    "array_contains_any": lambda b, n: _contains(CONTAINS_ANY, b, n),
    "array_length": _array_length,
    "empty": _empty,
    "starts_with": _starts_with,
}


def bind_call(binder: Binder, node: s.Call) -> Bound:
    """The plan of a function call (``random_sample`` only where :meth:`Binder.predicate`
    takes it: the whole filter, or the last operand of the top-level ``and``)."""
    name = node.name.lower()
    if name == "random_sample":
        raise ExprError("random sample expression can only be the whole filter or the last operand "
                        "of its top-level 'and'")
    bind = _FUNCTIONS.get(name)
    if bind is not None:
        return bind(binder, node)
    if name in _NOT_YET:
        raise ExprError(f"function {name} is not supported yet")
    raise ExprError(f"function {name} not found: {s.render(node)}")

