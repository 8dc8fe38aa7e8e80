"""Type compatibility and constant folding (Milvus ``utils.go`` / ``operators.go`` rules).

Types are Milvus :class:`DataType` values: literals are Bool, Int64, Double, VarChar or
Array; a JSON path is JSON (its type is only known per row). Differences from Milvus, all
accepting more than it does: an integer field may be compared with (and do arithmetic
with) a float constant, and arithmetic may mix any numeric operands.

Folding uses Go's integer semantics (``/`` and ``%`` truncate toward zero) and rejects
results outside int64 instead of wrapping silently.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from elanus.core.expr.errors import ExprError
from elanus.core.expr.syntax import render_value
from elanus.core.schema import DataType

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ARITH_NAMES = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "%": "modulo",
               "**": "power", "&": "bitand", "|": "bitor", "^": "bitxor"}
_PY_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
           ">": operator.gt, ">=": operator.ge}


def type_name(dtype: DataType, element: DataType = DataType.NONE) -> str:
    """Milvus's display of a type, ``Array[Int64]`` for arrays."""
    if dtype == DataType.ARRAY:
        return f"Array[{element.display}]"
    return dtype.display


def comparable(left: DataType, right: DataType) -> bool:
    """Milvus ``canBeComparedDataType`` (JSON compares with everything)."""
    if left == DataType.JSON or right == DataType.JSON:
        return left in _COMPARABLE_WITH_JSON and right in _COMPARABLE_WITH_JSON
    if left == DataType.BOOL:
        return right == DataType.BOOL
    if left.is_numeric:
        return right.is_numeric
    if left.is_string:
        return right.is_string
    return False


_COMPARABLE_WITH_JSON = frozenset({
    DataType.BOOL, DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.FLOAT,
    DataType.DOUBLE, DataType.VARCHAR, DataType.STRING, DataType.JSON, DataType.ARRAY, DataType.NONE,
})


def check_int64(value: int, text: str | None = None) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        shown = text if text is not None else str(value)
        raise ExprError(f"int64 overflow: {shown} is out of range [{INT64_MIN}, {INT64_MAX}]")
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array"


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _trunc_mod(a: int, b: int) -> int:
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def fold_arith(op: str, a: Any, b: Any) -> Any:
    """``a op b`` for two constants, as Milvus folds them."""
    name = ARITH_NAMES.get(op, op)
    if _kind(a) != "number" or _kind(b) != "number":
        bad = a if _kind(a) != "number" else b
        raise ExprError(f"{name} cannot apply on {_kind(bad)} value {render_value(bad)}")
    both_int = isinstance(a, int) and isinstance(b, int)
    if op in ("%", "&", "|", "^") and not both_int:
        what = "modulo" if op == "%" else name
        raise ExprError(f"{what} can only apply on integer")
    if op in ("/", "%") and b == 0:
        raise ExprError("cannot divide by zero" if op == "/" else "cannot modulo by zero")
    result: Any
    if op == "+":
        result = a + b
    elif op == "-":
        result = a - b
    elif op == "*":
        result = a * b
    elif op == "/":
        result = _trunc_div(a, b) if both_int else a / b
    elif op == "%":
        result = _trunc_mod(a, b)
    elif op == "**":
        try:
            result = math.pow(a, b)
        except (OverflowError, ValueError):
            raise ExprError(f"invalid power: {render_value(a)} ** {render_value(b)}") from None
        if both_int and b >= 0 and result <= INT64_MAX:
            result = a**b  # exact, as Milvus keeps int ** non-negative int an integer
    elif op == "&":
        result = a & b
    elif op == "|":
        result = a | b
    elif op == "^":
        result = a ^ b
    else:
        raise ExprError(f"unexpected op: {op}")
    if isinstance(result, int):
        check_int64(result)
    return result


def fold_unary(op: str, value: Any) -> Any:
    if _kind(value) != "number" or (op == "~" and not isinstance(value, int)):
        raise ExprError(f"unary {op} cannot apply on {_kind(value)} value {render_value(value)}")
    result = value if op == "+" else -value if op == "-" else ~value
    return check_int64(result) if isinstance(result, int) else result


def fold_compare(op: str, a: Any, b: Any, text: str) -> bool:
    """``a op b`` for two constants of the same kind (arrays: ``==``/``!=`` only)."""
    ka, kb = _kind(a), _kind(b)
    if ka != kb or (ka == "array" and op not in ("==", "!=")):
        raise ExprError(f"comparison operations cannot be applied to two incompatible operands: {text}")
    return bool(_PY_CMP[op](a, b))


_NUMBER_TYPES = frozenset({int, float})


def literal_checker(dtype: DataType) -> Callable[[Any], bool]:
    """:func:`literal_fits` for one ``dtype``, as a fast predicate for long value lists
    (constants are plain bool/int/float/str/list: template values are normalised)."""
    if dtype == DataType.JSON:
        return lambda v: True
    if dtype == DataType.BOOL:
        return lambda v: type(v) is bool
    if dtype.is_numeric:
        return lambda v: type(v) in _NUMBER_TYPES
    if dtype.is_string:
        return lambda v: type(v) is str
    return lambda v: False


def literal_fits(dtype: DataType, value: Any) -> bool:
    """Whether a constant may be compared with / cast to a value of ``dtype`` (Milvus
    ``castValue``, plus integer fields accepting floats)."""
    if dtype == DataType.JSON:
        return True
    if dtype == DataType.BOOL:
        return isinstance(value, bool)
    if dtype.is_numeric:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if dtype.is_string:
        return isinstance(value, str)
    return False
