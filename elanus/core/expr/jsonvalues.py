"""Row-wise helpers for JSON values (JSON fields, the dynamic ``$meta`` field, array rows).

These columns hold arbitrary parsed Python values, so they cannot be fully vectorised.
Every helper here keeps the per-row work inside C-level iteration (``map`` over builtins,
``bytearray``/``np.fromiter``) wherever possible; Python-level code runs per row only for the rare
shapes (non-dict rows, nested empty-object checks, strict keys of nested lists).

Typing follows Milvus's JSON semantics: numbers compare with numbers (int and float
alike), strings with strings, booleans only with booleans (``True`` is *not* ``1``), and a
missing key or a value of another type makes a comparison *unknown* (null).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import repeat
from typing import Any

import numpy as np

from elanus.core.expr.syntax import Key


class _Missing:
    """Marks a JSON path that does not exist in a row."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

# Type codes of JSON values (type(v) lookups are C-level; isinstance chains are not).
OTHER, INT, FLOAT, STR, BOOL, LIST, DICT, NULL, ABSENT = range(9)
_CODES: defaultdict[type, int] = defaultdict(int, {
    int: INT, float: FLOAT, str: STR, bool: BOOL, list: LIST, dict: DICT, type(None): NULL, _Missing: ABSENT,
})


def type_codes(values: np.ndarray | list[Any]) -> np.ndarray:
    """int8 type code of every value (see the ``INT``... constants)."""
    items = values.tolist() if isinstance(values, np.ndarray) else values
    return np.frombuffer(bytearray(map(_CODES.__getitem__, map(type, items))), dtype=np.int8)


def numeric_mask(codes: np.ndarray) -> np.ndarray:
    return (codes == INT) | (codes == FLOAT)


def to_object_array(values: Iterable[Any], n: int) -> np.ndarray:
    """An object array of ``values`` that never turns nested lists into extra dimensions."""
    return np.fromiter(values, dtype=object, count=n)


def _step(values: list[Any], key: Key) -> list[Any]:
    if isinstance(key, str):
        try:
            # Fast path: every row is a dict (always true for $meta).
            return list(map(dict.get, values, repeat(key), repeat(MISSING)))
        except TypeError:
            return [v.get(key, MISSING) if type(v) is dict else MISSING for v in values]
    skey = str(key)  # a numeric step also addresses an object key "0", as a JSON pointer does
    return [(v[key] if key < len(v) else MISSING) if type(v) is list
            else (v.get(skey, MISSING) if type(v) is dict else MISSING) for v in values]


def extract(column: np.ndarray, path: tuple[Key, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The value at ``path`` in every row (``MISSING`` where absent), as an object array,
    and the values' type codes (every JSON kernel needs them; computing them here, from
    the Python list already at hand, saves a pass)."""
    values: list[Any] = column.tolist() if isinstance(column, np.ndarray) else list(column)
    for key in path:
        values = _step(values, key)
    return to_object_array(values, len(values)), type_codes(values)


def _is_empty(value: Any) -> bool:
    # Milvus's isObjectEmpty: null, or an object all of whose members are empty.
    if value is None:
        return True
    if type(value) is dict:
        return all(_is_empty(v) for v in value.values())
    return False


def exists_mask(values: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
    """Milvus ``exists``: the path is present and its value is neither null nor an object
    made only of empty members. ``codes``: the values' type codes, if already known."""
    codes = type_codes(values) if codes is None else codes
    present = (codes != ABSENT) & (codes != NULL)
    dicts = np.flatnonzero(codes == DICT)
    if len(dicts):
        present[dicts] = [not _is_empty(v) for v in values[dicts].tolist()]
    return present


def numbers(values: np.ndarray, codes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(data, valid)``: the numeric rows as int64 (when all are ints that fit) or float64."""
    codes = type_codes(values) if codes is None else codes
    valid = numeric_mask(codes)
    sub = values[valid]
    dtype: type = np.float64
    if not (codes == FLOAT).any():
        dtype = np.int64
    out: np.ndarray = np.zeros(len(values), dtype=dtype)
    try:
        out[valid] = sub.astype(dtype)
    except OverflowError:  # ints beyond int64: fall back to float
        out = np.zeros(len(values), dtype=np.float64)
        out[valid] = sub.astype(np.float64)
    return out, valid


def strict_key(value: Any) -> Any:
    """A hashable key under which two JSON values are equal iff Milvus finds them equal:
    numbers by value, booleans apart from numbers, lists element-wise, objects member-wise."""
    t = type(value)
    if t is bool:
        return (BOOL, value)
    if t is list:
        return (LIST, tuple(map(strict_key, value)))
    if t is dict:
        return (DICT, frozenset((k, strict_key(v)) for k, v in value.items()))
    return value


def key_set(values: Iterable[Any]) -> frozenset[Any]:
    return frozenset(map(strict_key, values))


def row_keys(row: list[Any]) -> set[Any] | frozenset[Any]:
    """Strict keys of one JSON array's elements (plain set of the row when no element needs
    wrapping, which is the common case)."""
    for v in row:
        t = type(v)
        if t is bool or t is list or t is dict:
            return set(map(strict_key, row))
    try:
        return set(row)
    except TypeError:  # pragma: no cover - unhashable element types are handled above
        return set(map(strict_key, row))
