"""Value plan nodes: constants, column reads (incl. JSON paths and array elements),
arithmetic and ``array_length``.

Arithmetic follows Milvus (C++/Go) semantics rather than Python's: integer operands are
widened to int64 first (segcore computes in a high-precision type), integer ``/`` and
``%`` truncate toward zero, and a zero divisor makes the row null instead of raising.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from elanus.core.expr import jsonvalues as jv
from elanus.core.expr import pathcache
from elanus.core.expr.runtime import EvalContext, ValueExpr, Vec, and_valid, json_codes
from elanus.core.expr.syntax import Key
from elanus.core.schema import DataType, FieldSchema

Scalar = int | float | bool | str


def literal_type(value: Any) -> DataType:
    """Milvus's type of a literal: Bool, Int64, Double, VarChar or Array."""
    if isinstance(value, bool):
        return DataType.BOOL
    if isinstance(value, int):
        return DataType.INT64
    if isinstance(value, float):
        return DataType.DOUBLE
    if isinstance(value, str):
        return DataType.VARCHAR
    return DataType.ARRAY


_LITERAL_TYPES = {bool: DataType.BOOL, int: DataType.INT64, float: DataType.DOUBLE, str: DataType.VARCHAR}


def list_element_type(values: list[Any]) -> DataType:
    """The common literal type of a list's elements, ``NONE`` if mixed or empty."""
    types = set(map(type, values))
    if len(types) != 1:
        return DataType.NONE
    return _LITERAL_TYPES.get(types.pop(), DataType.ARRAY)


@dataclass(eq=False)
class Const(ValueExpr):
    """A constant (folded literal, template value or list)."""

    value: Any
    dtype: DataType = DataType.NONE
    element_type: DataType = DataType.NONE

    def __post_init__(self) -> None:
        if self.dtype == DataType.NONE:
            self.dtype = literal_type(self.value)
            if self.dtype == DataType.ARRAY:
                self.element_type = list_element_type(self.value)

    def eval(self, ctx: EvalContext) -> Vec:
        if isinstance(self.value, list):
            return Vec(jv.to_object_array([self.value] * ctx.num_rows, ctx.num_rows), None, self.dtype)
        # strings stay Python objects, the VarChar representation every kernel expects
        return Vec(np.full(ctx.num_rows, self.value, dtype=object if isinstance(self.value, str) else None),
                   None, self.dtype)


_ELEMENT_NUMPY: dict[DataType, Any] = {
    DataType.BOOL: np.bool_, DataType.INT8: np.int64, DataType.INT16: np.int64, DataType.INT32: np.int64,
    DataType.INT64: np.int64, DataType.FLOAT: np.float32, DataType.DOUBLE: np.float64,
}


@dataclass(eq=False)
class ColumnRef(ValueExpr):
    """A field, a JSON path inside a JSON field (``path`` non-empty), or one element of an
    Array field (``path == (index,)``). ``dtype`` is the type of the produced values: the
    field's type, ``JSON`` for JSON paths, the element type for array elements."""

    field: FieldSchema
    path: tuple[Key, ...] = ()
    dtype: DataType = dc_field(init=False)
    element_type: DataType = dc_field(init=False)

    def __post_init__(self) -> None:
        if self.field.dtype == DataType.ARRAY and self.path:
            self.dtype, self.element_type = self.field.element_type, DataType.NONE
        else:
            self.dtype, self.element_type = self.field.dtype, self.field.element_type

    @property
    def is_element(self) -> bool:
        return self.field.dtype == DataType.ARRAY and bool(self.path)

    def fields(self) -> Iterator[FieldSchema]:
        yield self.field

    def eval(self, ctx: EvalContext) -> Vec:
        return ctx.memo(("column", self.field.name, self.path), lambda: self._load(ctx))

    def _load(self, ctx: EvalContext) -> Vec:
        raw = ctx.column(self.field.name)
        valid = ctx.valid(self.field.name)
        if not self.path:
            if isinstance(raw, pa.Array | pa.ChunkedArray):
                if raw.null_count:
                    valid = and_valid(valid, pc.is_valid(raw).to_numpy(zero_copy_only=False))
                return Vec(raw, valid, self.dtype)
            return Vec(np.asarray(raw), valid, self.dtype)
        # cached per segment column and path; the arrays are shared, never written to
        values, codes = pathcache.extract(np.asarray(raw, dtype=object), self.path)
        if not self.is_element:
            return Vec(values, valid, DataType.JSON, codes)
        present = (codes != jv.ABSENT) & (codes != jv.NULL)
        valid = and_valid(valid, None if present.all() else present)
        np_type = _ELEMENT_NUMPY.get(self.dtype)
        if np_type is None:  # strings: keep objects, blank the absent slots for safety
            values = values.copy()
            values[~present] = ""
            return Vec(values, valid, self.dtype)
        data = np.zeros(len(values), dtype=np_type)
        data[present] = values[present].astype(np_type)
        return Vec(data, valid, self.dtype)


def numeric(vec: Vec) -> tuple[np.ndarray, np.ndarray | None]:
    """Numbers of a numeric or JSON vector (ints widened to int64) and their validity."""
    if vec.dtype == DataType.JSON:
        data, ok = jv.numbers(vec.data, json_codes(vec))
        return data, and_valid(vec.valid, ok)
    data = vec.data
    if data.dtype.kind in "iu" and data.dtype != np.int64:
        data = data.astype(np.int64)
    return data, vec.valid


def _operand(expr: ValueExpr, ctx: EvalContext) -> tuple[Any, np.ndarray | None]:
    if isinstance(expr, Const):
        return expr.value, None
    return numeric(expr.eval(ctx))


def _is_int(x: Any) -> bool:
    return isinstance(x, int) or (isinstance(x, np.ndarray) and x.dtype.kind in "iu")


def _as_int(x: Any) -> Any:
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(np.int64)
    return x


def _zero_divisor(b: Any) -> np.ndarray | None:
    if isinstance(b, np.ndarray):
        zero = b == 0
        return zero if zero.any() else None
    return None


_PLAIN_OPS: dict[str, np.ufunc] = {"+": np.add, "-": np.subtract, "*": np.multiply}
_BIT_OPS: dict[str, np.ufunc] = {"&": np.bitwise_and, "|": np.bitwise_or, "^": np.bitwise_xor}


def arith(op: str, a: Any, b: Any) -> tuple[Any, np.ndarray | None]:
    """``a op b`` element-wise; returns the result and the rows made null (zero divisors)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if op in _PLAIN_OPS:
            return _PLAIN_OPS[op](a, b), None
        if op == "**":
            return np.power(np.asarray(a, dtype=np.float64), b), None
        if op in _BIT_OPS:
            # JSON numbers may arrive as floats; Milvus casts them to int64 for bit operations
            return _BIT_OPS[op](_as_int(a), _as_int(b)), None
        zero = _zero_divisor(b)
        if op == "%":
            return np.fmod(a, b), zero  # C's %: the sign follows the dividend
        if op == "/":
            if _is_int(a) and _is_int(b):
                safe_b = np.where(zero, 1, b) if zero is not None else b
                q = np.floor_divide(a, safe_b)
                # floor → truncation toward zero, as C and Go divide integers
                q = q + ((np.remainder(a, safe_b) != 0) & ((np.asarray(a) < 0) != (np.asarray(safe_b) < 0)))
                return q, zero
            return np.true_divide(a, b), zero
    raise ValueError(f"unknown arithmetic operator {op}")


@dataclass(eq=False)
class Arith(ValueExpr):
    """``left op right`` over numbers (either side may be a Const, not both)."""

    op: str
    left: ValueExpr
    right: ValueExpr
    dtype: DataType = DataType.DOUBLE

    def fields(self) -> Iterator[FieldSchema]:
        yield from self.left.fields()
        yield from self.right.fields()

    def eval(self, ctx: EvalContext) -> Vec:
        a, va = _operand(self.left, ctx)
        b, vb = _operand(self.right, ctx)
        result, nulls = arith(self.op, a, b)
        valid = and_valid(va, vb)
        if nulls is not None:
            valid = and_valid(valid, ~nulls)
        result = np.broadcast_to(result, (ctx.num_rows,)) if np.ndim(result) == 0 else result
        return Vec(result, valid, DataType.INT64 if result.dtype.kind in "iu" else DataType.DOUBLE)


@dataclass(eq=False)
class Negate(ValueExpr):
    """``-x`` or ``~x`` over numbers."""

    op: str
    operand: ValueExpr
    dtype: DataType = DataType.DOUBLE

    def fields(self) -> Iterator[FieldSchema]:
        yield from self.operand.fields()

    def eval(self, ctx: EvalContext) -> Vec:
        data, valid = numeric(self.operand.eval(ctx))
        out = np.negative(data) if self.op == "-" else np.invert(data)
        return Vec(out, valid, DataType.INT64 if out.dtype.kind in "iu" else DataType.DOUBLE)


@dataclass(eq=False)
class ArrayLength(ValueExpr):
    """``array_length(x)`` of an Array field or a JSON value; null where not an array."""

    operand: ColumnRef
    dtype: DataType = DataType.INT64

    def fields(self) -> Iterator[FieldSchema]:
        yield from self.operand.fields()

    def eval(self, ctx: EvalContext) -> Vec:
        vec = self.operand.eval(ctx)
        rows = np.asarray(vec.data, dtype=object)
        is_list = json_codes(vec) == jv.LIST
        out = np.zeros(len(rows), dtype=np.int64)
        out[is_list] = np.fromiter(map(len, rows[is_list].tolist()), dtype=np.int64, count=int(is_list.sum()))
        return Vec(out, and_valid(vec.valid, None if is_list.all() else is_list), DataType.INT64)
