"""String kernels over VarChar data: numpy object arrays of ``str`` (the segment's
representation) or pyarrow string arrays (accepted too; pyarrow.compute is then used).

Object arrays never take a per-row Python frame: comparisons are numpy's object ufuncs
(C loops over ``PyObject_RichCompare``) and the rest are ``map`` over unbound ``str``
methods collected by :func:`bool_array`. Callers pass only valid rows (no None).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from elanus.core.expr.runtime import bool_array

CMP: dict[str, Callable[[Any, Any], Any]] = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal,
}
_PC_CMP = {"==": "equal", "!=": "not_equal", "<": "less", "<=": "less_equal",
           ">": "greater", ">=": "greater_equal"}


def is_arrow(data: Any) -> bool:
    return isinstance(data, pa.Array | pa.ChunkedArray)


def arrow_mask(result: Any) -> np.ndarray:
    """A pyarrow boolean result as a numpy bool array, nulls as False."""
    return np.asarray(pc.fill_null(result, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def to_objects(data: Any) -> np.ndarray:
    """Object-array view of string data (converting a pyarrow array; nulls become None)."""
    if is_arrow(data):
        return np.asarray(data.to_numpy(zero_copy_only=False), dtype=object)
    return np.asarray(data, dtype=object)


def compare(data: Any, op: str, value: str) -> np.ndarray:
    """``data op value`` in code-point order, as Milvus (bytewise UTF-8) orders strings."""
    if is_arrow(data):
        return arrow_mask(pc.call_function(_PC_CMP[op], [data, pa.scalar(value, pa.string())]))
    return np.asarray(CMP[op](data, value), dtype=np.bool_)


def isin(data: Any, values: frozenset[str]) -> np.ndarray:
    if is_arrow(data):
        return arrow_mask(pc.is_in(data, value_set=pa.array(sorted(values), pa.string())))
    if len(values) == 1:
        return compare(data, "==", next(iter(values)))
    return bool_array(map(values.__contains__, data.tolist()))


def _successor(prefix: str) -> str | None:
    last = ord(prefix[-1])
    return None if last == 0x10FFFF else prefix[:-1] + chr(last + 1)


def startswith(data: Any, prefix: str) -> np.ndarray:
    if is_arrow(data):
        return arrow_mask(pc.starts_with(data, prefix))
    if not prefix:
        return np.ones(len(data), dtype=np.bool_)
    upper = _successor(prefix)
    if upper is not None:
        # s starts with p  <=>  p <= s < succ(p) in code-point order; two C-level object
        # comparisons beat a startswith call per row by ~3x.
        return np.asarray((data >= prefix) & (data < upper), dtype=np.bool_)
    return bool_array(map(str.startswith, data.tolist(), repeat(prefix)))


def endswith(data: Any, suffix: str) -> np.ndarray:
    if is_arrow(data):
        return arrow_mask(pc.ends_with(data, suffix))
    return bool_array(map(str.endswith, data.tolist(), repeat(suffix)))


def contains(data: Any, infix: str) -> np.ndarray:
    if is_arrow(data):
        return arrow_mask(pc.match_substring(data, infix))
    return bool_array(map(operator.contains, data.tolist(), repeat(infix)))


def fullmatch(data: Any, regex: Any, like_pattern: str | None = None) -> np.ndarray:
    """Rows matching compiled ``regex`` entirely; pyarrow data uses ``like_pattern`` (SQL
    LIKE with backslash escapes, the same dialect Milvus uses) when given."""
    if is_arrow(data):
        if like_pattern is not None:
            return arrow_mask(pc.match_like(data, like_pattern))
        return arrow_mask(pc.match_substring_regex(data, f"^(?:{regex.pattern})$"))
    return bool_array(map(bool, map(regex.fullmatch, data.tolist())))
