"""Which literal values of a field a plan pins down (for point lookups and pruning).

``pinned(plan, field, exact=True)`` answers "is this whole filter just ``field in [...]``
/ ``field == v``, ORed?" and returns the values, so a delete-by-id or get-by-id can go
straight to the rows. With ``exact=False`` it answers the weaker "every matching row has
one of these values" (ANDed conjuncts may filter further), which is what partition-key
pruning needs.

Values come back as the field stores them: integral floats become ints for integer
fields and non-integral ones are dropped (they can match no row), duplicates removed in
first-seen order. ``false`` pins the empty list.
"""

from __future__ import annotations

from typing import Any

from elanus.core.expr.compare import CompareConst
from elanus.core.expr.logic import And, ConstPred, Or
from elanus.core.expr.membership import Term, cast_to_element
from elanus.core.expr.runtime import Predicate
from elanus.core.expr.values import ColumnRef


def _field_values(pred: Predicate, field: str) -> list[Any] | None:
    if isinstance(pred, Term) and not pred.negated:
        column, values = pred.operand, pred.values
    elif isinstance(pred, CompareConst) and pred.op == "==":
        column, values = pred.operand, [pred.value]
    else:
        return None
    if not isinstance(column, ColumnRef) or column.path or column.field.name != field:
        return None
    if column.field.dtype.is_integer:
        return cast_to_element(column.field.dtype, values)
    return list(values)


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def pinned(pred: Predicate, field: str, exact: bool = True) -> list[Any] | None:
    """The values of ``field`` that ``pred`` restricts matching rows to, or None."""
    if isinstance(pred, ConstPred):
        return None if pred.value else []
    direct = _field_values(pred, field)
    if direct is not None:
        return _unique(direct)
    if isinstance(pred, Or):
        union: list[Any] = []
        for child in pred.children:
            values = pinned(child, field, exact)
            if values is None:
                return None
            union += values
        return _unique(union)
    if isinstance(pred, And) and not exact:
        result: list[Any] | None = None
        for child in pred.children:
            values = pinned(child, field, exact)
            if values is not None:
                allowed = set(values)
                result = values if result is None else [v for v in result if v in allowed]
        return result
    return None
