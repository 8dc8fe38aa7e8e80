"""Comparison predicates: ``x op const``, ``x op y``, ranges, and bare boolean values.

Kernels dispatch on the operand's Milvus type:

- numbers: numpy comparisons. An integer constant outside the column's integer type
  (``int8_field < 1000``) decides the result without touching the data, where NumPy would
  raise; a Float field compares in float32 after the constant is rounded to float32, as
  segcore casts the constant to the field's type.
- strings: :mod:`strings` kernels;
- JSON values: only values of the constant's kind take part (numbers with numbers, strings
  with strings, bools with bools, arrays for ``==``/``!=``); other rows are null;
- whole Array fields: ``==`` / ``!=`` against a list constant, element by element.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from elanus.core.expr import jsonvalues as jv
from elanus.core.expr import strings
from elanus.core.expr.runtime import (
    EvalContext,
    Mask,
    OperandPredicate,
    Predicate,
    ValueExpr,
    Vec,
    and_valid,
    apply_valid,
    bool_array,
    json_codes,
    masked,
)
from elanus.core.schema import DataType, FieldSchema

CMP: dict[str, Callable[[Any, Any], Any]] = strings.CMP
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
# Result for every row when an integer constant lies above (True) or below (False) the
# whole range of the column's integer type.
_OUT_OF_RANGE = {
    True: {"==": False, "!=": True, "<": True, "<=": True, ">": False, ">=": False},
    False: {"==": False, "!=": True, "<": False, "<=": False, ">": True, ">=": True},
}


def _numbers(data: np.ndarray, op: str, value: Any) -> np.ndarray:
    if isinstance(value, int) and not isinstance(value, bool) and data.dtype.kind in "iu":
        info = np.iinfo(data.dtype)
        if not info.min <= value <= info.max:
            return np.full(len(data), _OUT_OF_RANGE[value > info.max][op], dtype=np.bool_)
    elif data.dtype == np.float32 and isinstance(value, int | float):
        value = np.float32(value)
    return np.asarray(CMP[op](data, value), dtype=np.bool_)


def _json(vec: Vec, op: str, value: Any, n: int) -> Mask:
    codes = json_codes(vec)
    if isinstance(value, bool):
        select = codes == jv.BOOL
    elif isinstance(value, int | float):
        select = jv.numeric_mask(codes)
    elif isinstance(value, str):
        select = codes == jv.STR
    else:
        select = codes == jv.LIST
    valid = and_valid(vec.valid, select)
    out = np.zeros(n, dtype=np.bool_)
    rows = vec.data[valid] if valid is not None else vec.data
    if isinstance(value, list):
        out[valid if valid is not None else slice(None)] = _list_equal(rows, value, op)
    else:
        out[valid if valid is not None else slice(None)] = CMP[op](rows, value)
    return out, valid


def _list_equal(rows: np.ndarray, value: list[Any], op: str) -> np.ndarray:
    key = jv.strict_key(value)
    eq = bool_array(map(key.__eq__, map(jv.strict_key, rows.tolist())))
    return eq if op == "==" else ~eq


def compare_const(vec: Vec, op: str, value: Any, n: int) -> Mask:
    """``vec op value`` as a Mask (``value`` a Python constant already type-checked)."""
    dtype = vec.dtype
    if dtype == DataType.JSON:
        return _json(vec, op, value, n)
    if dtype == DataType.ARRAY:
        return apply_valid(vec, n, lambda rows: _list_equal(np.asarray(rows, dtype=object), value, op))
    if dtype.is_string:
        return apply_valid(vec, n, lambda data: strings.compare(data, op, value))
    return masked(vec.valid, _numbers(vec.data, op, value))


def compare_vecs(left: Vec, op: str, right: Vec) -> Mask:
    """``left op right`` row by row, for two non-JSON operands of comparable types."""
    a, b = left.data, right.data
    if strings.is_arrow(a) or strings.is_arrow(b):
        a, b = strings.to_objects(a), strings.to_objects(b)
    valid = and_valid(left.valid, right.valid)
    if a.dtype == object and valid is not None:
        out = np.zeros(len(a), dtype=np.bool_)
        out[valid] = CMP[op](a[valid], b[valid])
        return out, valid
    return masked(valid, np.asarray(CMP[op](a, b), dtype=np.bool_))


@dataclass(eq=False)
class CompareConst(OperandPredicate):
    """``operand op value``."""

    op: str
    value: Any

    def eval(self, ctx: EvalContext) -> Mask:
        return compare_const(self.operand.eval(ctx), self.op, self.value, ctx.num_rows)


@dataclass(eq=False)
class CompareExprs(Predicate):
    """``left op right`` between two per-row values."""

    left: ValueExpr
    op: str
    right: ValueExpr

    def fields(self) -> Iterator[FieldSchema]:
        yield from self.left.fields()
        yield from self.right.fields()

    def eval(self, ctx: EvalContext) -> Mask:
        return compare_vecs(self.left.eval(ctx), self.op, self.right.eval(ctx))


@dataclass(eq=False)
class Range(OperandPredicate):
    """``lower <(=) operand <(=) upper`` with constant bounds."""

    lower: Any
    lower_inclusive: bool
    upper: Any
    upper_inclusive: bool

    def eval(self, ctx: EvalContext) -> Mask:
        vec = self.operand.eval(ctx)
        lo, lo_valid = compare_const(vec, ">=" if self.lower_inclusive else ">", self.lower, ctx.num_rows)
        hi, hi_valid = compare_const(vec, "<=" if self.upper_inclusive else "<", self.upper, ctx.num_rows)
        return lo & hi, and_valid(lo_valid, hi_valid)


@dataclass(eq=False)
class BoolValue(OperandPredicate):
    """A boolean value used as a predicate (a bare Bool field, ``flags[0]``)."""

    def eval(self, ctx: EvalContext) -> Mask:
        vec = self.operand.eval(ctx)
        # copy: the result is handed to the caller and must not alias its column
        return masked(vec.valid, np.array(vec.data, dtype=np.bool_))

