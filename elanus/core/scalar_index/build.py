"""Building a scalar index from a segment column, and which index requests are built.

:func:`build_kind` resolves the index type the way Milvus does (``AUTOINDEX`` / no type:
BITMAP for Bool, else HYBRID; aliases ``Asceneding``, ``TRIE``, ``marisa-trie``); HYBRID
becomes BITMAP when the target has at most ``bitmap_cardinality_limit`` (default 100)
distinct keys, else STL_SORT for numbers and INVERTED otherwise. A BITMAP over more than
:data:`~.bitmap.MAX_BITMAP_KEYS` keys is built as INVERTED postings (same answers).

:func:`build` takes the column in the segment representation (see
:func:`elanus.core.expr.compile_filter`) and its validity.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Any

import numpy as np

from elanus.core.expr.syntax import Key
from elanus.core.scalar_index.base import BITMAP, INVERTED, STL_SORT, TRIE
from elanus.core.scalar_index.bitmap import BitmapIndex
from elanus.core.scalar_index.common import KeyedIndex, Target
from elanus.core.scalar_index.inverted import InvertedIndex
from elanus.core.scalar_index.json_path import CASTS, json_keys
from elanus.core.scalar_index.stl_sort import StlSortIndex
from elanus.core.scalar_index.trie import TrieIndex
from elanus.core.schema import DataType, FieldSchema

HYBRID = "HYBRID"
DEFAULT_BITMAP_LIMIT = 100
_ALIASES = {"Asceneding": STL_SORT, "TRIE": TRIE, "marisa-trie": TRIE, "Trie": TRIE}
_BUILT = frozenset({STL_SORT, INVERTED, BITMAP, TRIE, HYBRID})


def build_kind(field: FieldSchema, params: Mapping[str, str]) -> str | None:
    """The index type to build for a request on ``field``, or None when nothing is built
    (NGRAM, RTREE, the JSON cast ``JSON``, a JSON cast function, and
    fields that are not Bool / numeric / VarChar, or Arrays of those, or JSON)."""
    kind = params.get("index_type", "")
    kind = _ALIASES.get(kind, kind)
    cast = params.get("json_cast_type", "").strip().upper()
    if kind in ("", "AUTOINDEX"):
        kind = BITMAP if field.dtype == DataType.BOOL else HYBRID
    if kind not in _BUILT:
        return None
    if field.dtype == DataType.JSON:
        if cast not in CASTS or params.get("json_cast_function"):
            return None
        return kind
    dtype = field.element_type if field.dtype == DataType.ARRAY else field.dtype
    if dtype == DataType.TEXT or not (dtype == DataType.BOOL or dtype.is_numeric or dtype.is_string):
        return None  # vectors, TIMESTAMPTZ, GEOMETRY, TEXT: not built
    return kind


def _domain(dtype: DataType) -> str:
    if dtype.is_integer:
        return "int"
    return {DataType.FLOAT: "float32", DataType.DOUBLE: "float64", DataType.BOOL: "bool"}.get(dtype, "str")


_ELEMENT_DTYPE: dict[str, Any] = {"int": np.int64, "float32": np.float64, "float64": np.float64,
                                  "bool": np.bool_, "str": object}


def _plain(field: FieldSchema, column: Any, valid: np.ndarray | None
           ) -> tuple[np.ndarray, np.ndarray, str, bool]:
    """(values, rows, domain, elements) of a non-JSON field's non-null rows."""
    n = len(column)
    rows = np.arange(n, dtype=np.int32) if valid is None else np.flatnonzero(valid).astype(np.int32)
    if field.dtype == DataType.ARRAY:
        domain = _domain(field.element_type)
        lists = np.asarray(column, dtype=object)[rows].tolist()
        lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        flat = list(chain.from_iterable(lists))
        dtype = _ELEMENT_DTYPE[domain]
        if dtype is object:  # an object array of str (never a 2-D array of characters)
            values = np.empty(len(flat), dtype=object)
            values[:] = flat
        else:
            values = np.array(flat, dtype=dtype)
        if domain == "float32":
            domain = "float64"  # elements compare as Python floats (exact float32 values)
        return values, np.repeat(rows, lengths), domain, True
    domain = _domain(field.dtype)
    if domain == "str":
        data = column.to_numpy(zero_copy_only=False) if hasattr(column, "to_numpy") else column
        values = np.asarray(data, dtype=object)[rows]
    else:
        values = np.asarray(column)[rows]
    return values, rows, domain, False


def build(kind: str, field: FieldSchema, column: Any, valid: np.ndarray | None, params: Mapping[str, str],
          path: tuple[Key, ...] = ()) -> KeyedIndex:
    """Build index ``kind`` (from :func:`build_kind`) over ``column`` of ``field`` (``valid``:
    False = null row; None = no nulls). For a JSON field ``path`` is the indexed path and
    ``params["json_cast_type"]`` the cast."""
    n = len(column)
    present = None
    exact = True
    if field.dtype == DataType.JSON:
        cast = params.get("json_cast_type", "").strip().upper()
        keys = json_keys(column, valid, path, cast)
        elements = cast.startswith("ARRAY_")
        values, rows, domain = keys.values, keys.rows, keys.domain
        valid, present, exact = keys.typed, keys.present, keys.exact
        target = Target(field.name, tuple(path), cast, elements)
    else:
        values, rows, domain, elements = _plain(field, column, valid)
        target = Target(field.name, elements=elements)
    index = _build(kind, target, values, rows, domain, n, valid, present, params)
    if not exact:
        index.exact = False
    return index


def _build(kind: str, target: Target, values: np.ndarray, rows: np.ndarray, domain: str, n: int,
           valid: np.ndarray | None, present: np.ndarray | None, params: Mapping[str, str]) -> KeyedIndex:
    if kind == HYBRID:
        limit = int(params.get("bitmap_cardinality_limit", DEFAULT_BITMAP_LIMIT))
        distinct = len(np.unique(values)) if len(values) else 0
        ordered = STL_SORT if domain != "str" and not target.elements else INVERTED
        kind = BITMAP if distinct <= limit else ordered
    if kind == BITMAP:
        bitmap = BitmapIndex.build(target, values, rows, domain, n, valid, present)
        if bitmap is not None:
            return bitmap
        kind = INVERTED
    if kind == STL_SORT and not target.elements:
        return StlSortIndex.build(target, values, rows, domain, n, valid, present)
    if kind == TRIE and domain == "str":
        return TrieIndex.build(target, values, rows, domain, n, valid, present)
    return InvertedIndex.build(target, values, rows, domain, n, valid, present)
