"""The contract every scalar index keeps, and the sorted-key logic they share.

A scalar index covers one *target* of a sealed segment: a scalar field, the elements of an
Array field (``elements``), or the values at one JSON path of a JSON / dynamic field cast to
one kind (``path`` non-empty). Its *keys* are the target's non-null values in one *domain*:

==========  ==========================================================================
domain      keys and the constants they answer for
==========  ==========================================================================
``int``     an integer numpy dtype (the field's); int constants (outside the dtype's range
            they decide every row, as the scan does) and float constants (compared in
            float64, as numpy promotes)
``float32`` Float fields; constants are rounded to float32 first, as the scan does
``float64`` Double fields, Float array elements (exact float32 values) and JSON numbers;
            for JSON, int constants beyond 2**53 are refused (a double cannot hold them)
``bool``    bool constants only
``str``     str constants only; code-point order (Python's, Milvus's UTF-8 byte order)
==========  ==========================================================================

Every answer is a :class:`Selection`: cheap to make (binary searches over the sorted keys)
and counted, so the planner can compare its cost with a scan before paying for
:meth:`Selection.mask` — the rows, as a bool array of ``num_rows``. A selection only ever
names rows whose key satisfies the predicate; null rows never match (``valid`` says which
rows have a key, so the planner can build SQL three-valued masks). A method returns None
when it cannot answer *exactly* as the scan would (a constant of another kind, a JSON
integer too large for a double, float keys holding NaN): the planner then scans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from elanus.core.expr.syntax import Key

STL_SORT, INVERTED, BITMAP, TRIE = "STL_SORT", "INVERTED", "BITMAP", "Trie"
Spans = list[tuple[int, int]]
MAX_EXACT_INT = 2**53
# Result for every key when an int constant lies above (True) / below (False) an int dtype.
_OUT_OF_RANGE = {
    True: {"==": False, "!=": True, "<": True, "<=": True, ">": False, ">=": False},
    False: {"==": False, "!=": True, "<": False, "<=": False, ">": True, ">=": True},
}


class Selection(Protocol):
    """Rows located by an index: ``count`` (an upper bound of the matching rows), ``cost``
    (work to materialise, in the planner's units: roughly row-sized memory touches) and
    :meth:`mask` (the rows, bool, length ``num_rows``; a new array the caller may modify)."""

    count: int
    cost: float

    def mask(self) -> np.ndarray: ...


class ScalarIndex(Protocol):
    """One built scalar index of one segment (see the module docstring).

    ``kind`` is the index type (``STL_SORT``, ``INVERTED``, ``BITMAP``, ``Trie``);
    ``field_name``/``path``/``elements`` name the target; ``domain`` the keys' domain;
    ``exact`` is False when the keys cannot answer as the scan would (then no method is
    used). ``valid`` is the rows that have a key (None = all rows); ``present`` (JSON
    targets) the rows whose value at ``path`` exists and is not null, whatever its kind
    (``in`` on JSON counts other kinds as known-false, not null).
    """

    @property
    def kind(self) -> str: ...

    field_name: str
    path: tuple[Key, ...]
    elements: bool
    domain: str
    exact: bool
    num_rows: int
    valid: np.ndarray | None
    present: np.ndarray | None

    @property
    def distinct(self) -> int:
        """How many distinct keys (an estimate is fine)."""
        ...

    def compare(self, op: str, value: Any) -> Selection | None:
        """Rows whose key ``op value`` (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``)."""
        ...

    def range(self, lower: Any, lower_inclusive: bool, upper: Any, upper_inclusive: bool) -> Selection | None:
        """Rows whose key lies between the bounds."""
        ...

    def isin(self, values: Sequence[Any]) -> Selection | None:
        """Rows whose key equals one of ``values`` (for ``elements``: one of whose elements does)."""
        ...

    def prefix(self, prefix: str) -> Selection | None:
        """Rows whose (str) key starts with ``prefix``."""
        ...

    def match(self, kernel: Callable[[np.ndarray], np.ndarray]) -> Selection | None:
        """Rows whose key passes ``kernel`` (a vectorised test over an array of keys)."""
        ...

    def contains_all(self, values: Sequence[Any]) -> Selection | None:
        """``elements`` only: rows whose elements include every one of ``values``."""
        ...

    def serialize(self) -> bytes:
        """The index as bytes (:func:`elanus.core.scalar_index.load` reads them back)."""
        ...


def successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (None if none)."""
    last = ord(prefix[-1])
    return None if last == 0x10FFFF else prefix[:-1] + chr(last + 1)


def rows_mask(rows: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.bool_)
    out[rows] = True
    return out


class SortedKeys:
    """Binary searches over sorted ``keys`` of one domain (see the module docstring).
    Positions are indexes into ``keys``; a span is a half-open position interval."""

    def __init__(self, keys: np.ndarray, domain: str, json: bool) -> None:
        self.keys = keys
        self.domain = domain
        self.json = json
        self._f64: np.ndarray | None = None

    def _as_f64(self) -> np.ndarray:
        if self._f64 is None:
            self._f64 = self.keys.astype(np.float64)
        return self._f64

    def probe(self, value: Any) -> tuple[np.ndarray, Any] | bool | None:
        """``(array to search, value)``, or True/False when an int constant lies above /
        below an int domain, or None when ``value`` cannot be answered exactly."""
        t = type(value)
        domain = self.domain
        if domain == "str":
            return (self.keys, value) if t is str else None
        if domain == "bool":
            return (self.keys, value) if t is bool else None
        if t is bool or not (t is int or t is float):
            return None
        if domain == "int":
            if t is float:
                return self._as_f64(), value
            info = np.iinfo(self.keys.dtype)
            if not info.min <= value <= info.max:
                return value > info.max
            return self.keys, value
        if domain == "float32":
            return self.keys, np.float32(value)
        if self.json and t is int and abs(value) > MAX_EXACT_INT:
            return None
        return self.keys, value

    def spans(self, op: str, value: Any) -> Spans | None:
        """Positions of the keys satisfying ``key op value``."""
        probe = self.probe(value)
        if probe is None:
            return None
        k = len(self.keys)
        if isinstance(probe, bool):
            return [(0, k)] if _OUT_OF_RANGE[probe][op] else []
        arr, v = probe
        if op == "==":
            return [(int(np.searchsorted(arr, v, "left")), int(np.searchsorted(arr, v, "right")))]
        if op == "!=":
            lo, hi = int(np.searchsorted(arr, v, "left")), int(np.searchsorted(arr, v, "right"))
            return [(0, lo), (hi, k)]
        if op == "<":
            return [(0, int(np.searchsorted(arr, v, "left")))]
        if op == "<=":
            return [(0, int(np.searchsorted(arr, v, "right")))]
        if op == ">":
            return [(int(np.searchsorted(arr, v, "right")), k)]
        if op == ">=":
            return [(int(np.searchsorted(arr, v, "left")), k)]
        return None

    def range_span(self, lower: Any, lower_inclusive: bool, upper: Any, upper_inclusive: bool) -> Spans | None:
        lo = self.spans(">=" if lower_inclusive else ">", lower)
        hi = self.spans("<=" if upper_inclusive else "<", upper)
        if lo is None or hi is None:
            return None
        if not lo or not hi:
            return []
        start, end = max(lo[0][0], hi[0][0]), min(lo[0][1], hi[0][1])
        return [(start, end)] if start < end else []

    def equal_spans(self, values: Sequence[Any]) -> Spans | None:
        """Spans of keys equal to any of ``values`` (None if any value is unanswerable)."""
        out: Spans = []
        for v in values:
            s = self.spans("==", v)
            if s is None:
                return None
            out.extend(s)
        return out

    def prefix_span(self, prefix: str) -> Spans | None:
        if self.domain != "str":
            return None
        if not prefix:
            return [(0, len(self.keys))]
        lo = int(np.searchsorted(self.keys, prefix, "left"))
        upper = successor(prefix)
        if upper is None:  # no successor in code-point order: test the tail directly
            hi = lo
            while hi < len(self.keys) and self.keys[hi].startswith(prefix):
                hi += 1
            return [(lo, hi)]
        return [(lo, int(np.searchsorted(self.keys, upper, "left")))]


def check_exact(keys: np.ndarray, domain: str) -> bool:
    """Whether float keys are free of NaN (a NaN key would not order as the scan compares)."""
    return not (domain.startswith("float") and len(keys) and bool(np.isnan(keys).any()))
