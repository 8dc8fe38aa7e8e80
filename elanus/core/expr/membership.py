"""Set-membership predicates: ``x in [...]`` and the ``*_contains*`` functions.

``in`` on a typed column is ``np.isin`` over values pre-cast to the column's type (so a
Float field matches float32-rounded constants, as segcore casts them); on VarChar it is a
hash-set probe per row at C speed; on JSON values the probe is per type kind, so ``1``
never matches ``true``. A missing JSON key, a JSON null, or a value of a kind the list does
not hold (a string for ``in [1, 2]``) is null, so ``not in`` does not match it either.

``json_contains*`` / ``array_contains*`` test the elements of an array value (an Array
field's row or a JSON array): ``contains`` one value, ``contains_all`` every listed value,
``contains_any`` at least one. A row that is not an array is null.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np

from elanus.core.expr import jsonvalues as jv
from elanus.core.expr import strings
from elanus.core.expr.logic import not_mask
from elanus.core.expr.runtime import (
    EvalContext,
    Mask,
    OperandPredicate,
    Vec,
    and_valid,
    apply_valid,
    bool_array,
    json_codes,
)
from elanus.core.schema import DataType

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def cast_to_element(dtype: DataType, values: list[Any]) -> list[Any]:
    """``values`` as they can equal a ``dtype`` value: non-integral floats dropped for
    integer types, floats rounded through float32 for Float, others unchanged."""
    if dtype.is_integer:
        if all(type(v) is int for v in values):
            return [v for v in values if INT64_MIN <= v <= INT64_MAX]
        out = []
        for v in values:
            if isinstance(v, float):
                if not v.is_integer():
                    continue
                v = int(v)
            if INT64_MIN <= v <= INT64_MAX:
                out.append(v)
        return out
    if dtype == DataType.FLOAT:
        return [float(np.float32(v)) for v in values]
    if dtype == DataType.DOUBLE:
        return [float(v) for v in values]
    return list(values)


def isin_sorted(data: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.isin(data, values)`` for sorted ``values``, picking the method by shape: numpy's
    compare loop for short lists, a lookup table for integers in a narrow span, otherwise
    a binary search (numpy's default re-sorts data and values on every call)."""
    m = len(values)
    if m == 0:
        return np.zeros(len(data), dtype=np.bool_)
    if m <= 16:
        return np.isin(data, values, kind="sort")  # short lists: one comparison pass per value
    integers = values.dtype.kind in "iu" and data.dtype.kind in "iu"
    if integers and int(values[-1]) - int(values[0]) <= 4 * len(data) + 4096:
        return np.isin(data, values, kind="table")
    index = np.searchsorted(values, data)
    np.minimum(index, m - 1, out=index)
    return np.asarray(values[index] == data, dtype=np.bool_)


@dataclass(eq=False)
class Term(OperandPredicate):
    """``operand [not] in values``; ``values`` already type-checked against the operand."""

    values: list[Any]
    negated: bool = False
    _keys: dict[int, frozenset[Any]] = field(default_factory=dict, init=False, repr=False)
    _array: np.ndarray = field(default_factory=lambda: np.empty(0), init=False, repr=False)

    def __post_init__(self) -> None:
        dtype = self.operand.dtype
        if dtype == DataType.JSON:
            # Per kind of JSON value, the keys it can equal (bools apart from numbers).
            kinds: dict[int, list[Any]] = {jv.INT: [], jv.STR: [], jv.BOOL: [], jv.LIST: []}
            for v in self.values:
                t = type(v)
                kind = jv.BOOL if t is bool else jv.STR if t is str else jv.LIST if t is list else jv.INT
                kinds[kind].append(v)
            self._keys = {k: jv.key_set(vs) if k == jv.LIST else frozenset(vs)
                          for k, vs in kinds.items() if vs}
        elif not dtype.is_string:
            self._array = np.unique(np.asarray(cast_to_element(dtype, self.values)))  # sorted

    def eval(self, ctx: EvalContext) -> Mask:
        vec = self.operand.eval(ctx)
        n = ctx.num_rows
        if vec.dtype == DataType.JSON:
            mask = self._json(vec, n)
        elif vec.dtype.is_string:
            values = frozenset(self.values)
            mask = apply_valid(vec, n, lambda data: strings.isin(data, values))
        else:
            array = self._array
            if vec.data.dtype == np.float32:
                array = array.astype(np.float32)  # rounding keeps the order
            hit = isin_sorted(vec.data, array)
            mask = (hit if vec.valid is None else hit & vec.valid), vec.valid
        return not_mask(mask) if self.negated else mask

    def _json(self, vec: Vec, n: int) -> Mask:
        # Only values of a kind the list holds are known (Milvus casts each row to the
        # list's type): `j["a"] not in [2]` is unknown, not true, where a is "x" or [2].
        codes = json_codes(vec)
        out = np.zeros(n, dtype=np.bool_)
        if not self._keys:  # `in []`: false wherever a value exists
            present = (codes != jv.ABSENT) & (codes != jv.NULL)
            return out, and_valid(vec.valid, None if present.all() else present)
        comparable = np.zeros(n, dtype=np.bool_)
        for kind, keys in self._keys.items():
            select = jv.numeric_mask(codes) if kind == jv.INT else codes == kind
            if vec.valid is not None:
                select &= vec.valid
            comparable |= select
            count = int(select.sum())
            if count:
                rows = vec.data[select].tolist()
                if kind == jv.LIST:
                    rows = list(map(jv.strict_key, rows))
                out[select] = bool_array(map(keys.__contains__, rows))
        return out, None if comparable.all() else comparable


CONTAINS, CONTAINS_ALL, CONTAINS_ANY = "Contains", "ContainsAll", "ContainsAny"


@dataclass(eq=False)
class Contains(OperandPredicate):
    """``json_contains`` / ``array_contains`` (``mode`` CONTAINS, one value) and the
    ``_all`` / ``_any`` forms (a list of values)."""

    mode: str
    values: list[Any]

    def eval(self, ctx: EvalContext) -> Mask:
        vec = self.operand.eval(ctx)
        n = ctx.num_rows
        rows = np.asarray(vec.data, dtype=object)
        is_list = json_codes(vec) == jv.LIST
        valid = and_valid(vec.valid, None if is_list.all() else is_list)
        if vec.dtype == DataType.JSON:
            keys = jv.key_set(self.values)
            return apply_valid(Vec(rows, valid, vec.dtype), n,
                               lambda r: self._probe(list(map(jv.row_keys, r.tolist())), keys))
        values = frozenset(cast_to_element(self.operand.element_type, self.values))
        return apply_valid(Vec(rows, valid, vec.dtype), n, lambda r: self._probe(r.tolist(), values))

    def _probe(self, rows: list[Any], keys: frozenset[Any]) -> np.ndarray:
        if self.mode == CONTAINS:
            if not keys:  # the one value can never be an element (e.g. 1.5 in an Int64 array)
                return np.zeros(len(rows), dtype=np.bool_)
            (key,) = keys
            return bool_array(map(operator.contains, rows, repeat(key)))
        if self.mode == CONTAINS_ALL:
            return bool_array(map(keys.issubset, rows))
        return ~bool_array(map(keys.isdisjoint, rows))
