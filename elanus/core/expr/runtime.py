"""Evaluation model shared by all plan nodes.

A compiled filter is a tree of plan nodes of two kinds:

- :class:`ValueExpr` nodes produce a :class:`Vec` — one value per row plus a validity mask;
- :class:`Predicate` nodes produce a :data:`Mask` — ``(value, valid)`` boolean arrays.

Nulls follow SQL's three-valued logic: a comparison with a null (a null field, a missing
JSON key, a JSON value of another type) is *unknown*, ``not unknown`` is unknown, and only
rows whose final value is *true* pass. Invariant of every :data:`Mask`: ``value`` is False
wherever ``valid`` is False, so the final row mask is just ``value``. ``valid is None``
means "all valid" and keeps the common non-null path to a single array operation.

Columns arrive in the representation documented on :func:`elanus.core.expr.compile_filter`;
:class:`EvalContext` looks them up and memoises derived arrays (e.g. a JSON path extracted
once for two predicates).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from elanus.core.errors import UNEXPECTED, MilvusError
from elanus.core.expr import jsonvalues as jv
from elanus.core.schema import DataType, FieldSchema

Mask = tuple[np.ndarray, np.ndarray | None]
VALID_SUFFIX = "$valid"
T = TypeVar("T")


@dataclass(slots=True)
class Vec:
    """Per-row values of one expression.

    ``data`` is a numpy array (bool, int*, float32/64, or object for strings, JSON values
    and array rows) or, for VarChar columns, possibly a pyarrow string array. ``dtype`` is
    the Milvus type of the values (``JSON`` for JSON values, which may be :data:`MISSING`).
    Where ``valid`` is False the ``data`` entry is unspecified and must not be used.
    """

    data: Any
    valid: np.ndarray | None
    dtype: DataType
    codes: np.ndarray | None = None  # JSON type codes of ``data``, see :func:`json_codes`


class EvalContext:
    """The columns of one batch, and a memo for arrays derived from them."""

    __slots__ = ("_columns", "_memo", "num_rows")

    def __init__(self, columns: Mapping[str, Any], num_rows: int) -> None:
        self._columns = columns
        self.num_rows = num_rows
        self._memo: dict[Any, Any] = {}

    def column(self, name: str) -> Any:
        try:
            return self._columns[name]
        except KeyError:
            raise MilvusError(UNEXPECTED, f"filter evaluation needs column {name}, "
                                          "which was not provided") from None

    def valid(self, name: str) -> np.ndarray | None:
        """The validity mask of a nullable column, or None when every row is valid."""
        valid = self._columns.get(name + VALID_SUFFIX)
        if valid is None or valid.all():
            return None
        return np.asarray(valid, dtype=np.bool_)

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()``, run at most once per key and batch."""
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._memo[key] = compute()
            return value

    def zeros(self) -> np.ndarray:
        return np.zeros(self.num_rows, dtype=np.bool_)

    def ones(self) -> np.ndarray:
        return np.ones(self.num_rows, dtype=np.bool_)


class ValueExpr(ABC):
    """A per-row value. ``dtype`` is its Milvus type; ``element_type`` the element type of
    an Array-typed value (``NONE`` otherwise)."""

    dtype: DataType
    element_type: DataType = DataType.NONE

    @abstractmethod
    def eval(self, ctx: EvalContext) -> Vec: ...

    def fields(self) -> Iterator[FieldSchema]:
        """The schema fields this value reads."""
        return iter(())


class Predicate(ABC):
    """A per-row truth value (three-valued; see the module docstring)."""

    @abstractmethod
    def eval(self, ctx: EvalContext) -> Mask: ...

    def fields(self) -> Iterator[FieldSchema]:
        return iter(())


@dataclass(eq=False)
class OperandPredicate(Predicate):
    """A predicate on one per-row value, ``operand``; it reads the fields ``operand`` reads."""

    operand: ValueExpr

    def fields(self) -> Iterator[FieldSchema]:
        return self.operand.fields()


def json_codes(vec: Vec) -> np.ndarray:
    """Type codes of a JSON / object vector's values, computed once per vector (a JSON
    path read by several predicates is memoised as one Vec)."""
    if vec.codes is None:
        vec.codes = jv.type_codes(vec.data)
    return vec.codes


def json_strings_only(vec: Vec) -> Vec:
    """``vec`` with, for a JSON vector, every value that is not a string made unknown
    (string predicates — ``like``, ``=~`` — only take JSON strings); other vectors as they are."""
    if vec.dtype != DataType.JSON:
        return vec
    return Vec(vec.data, and_valid(vec.valid, json_codes(vec) == jv.STR), vec.dtype)


def bool_array(flags: Iterable[Any]) -> np.ndarray:
    """A writable bool array from an iterable of bools (or 0/1 ints).

    Collecting through ``bytearray`` runs the whole loop in C and is measurably faster than
    ``np.fromiter`` for the per-row ``map(...)`` pipelines of the string and JSON kernels.
    """
    return np.frombuffer(bytearray(flags), dtype=np.bool_)


def and_valid(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """Rows valid in both (None = all)."""
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def masked(valid: np.ndarray | None, value: np.ndarray) -> Mask:
    """A Mask from a raw comparison result, clearing it where invalid (the invariant)."""
    if valid is None:
        return value, None
    return value & valid, valid


def scatter(select: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """A length-``n`` bool array holding ``values`` at the rows ``select``, False elsewhere."""
    out = np.zeros(n, dtype=np.bool_)
    out[select] = values
    return out


def apply_valid(vec: Vec, n: int, kernel: Callable[[Any], np.ndarray]) -> Mask:
    """Run ``kernel`` on the valid rows of ``vec`` only (null rows may hold None or junk
    that a string or Python-level kernel must not see) and return the Mask."""
    if vec.valid is None:
        return np.asarray(kernel(vec.data), dtype=np.bool_), None
    if not isinstance(vec.data, np.ndarray):  # pyarrow kernels see nulls themselves
        return np.asarray(kernel(vec.data), dtype=np.bool_) & vec.valid, vec.valid
    return scatter(vec.valid, kernel(vec.data[vec.valid]), n), vec.valid
