"""JSON path indexes: the values at one path of a JSON (or dynamic) field, cast to one kind.

A JSON index in Milvus names a path (``json_path``, e.g. ``meta["a"][0]``) and a cast type
(``json_cast_type``). The keys are taken with the filter engine's own extraction
(:func:`elanus.core.expr.jsonvalues.extract`), so a path means exactly what it means in a
filter; the rows whose value is of the cast's kind become keys:

================= ============================ ========================================
cast              keys                         domain (see :mod:`.base`)
================= ============================ ========================================
``DOUBLE``        JSON numbers (not booleans)  ``float64``; not exact if an integer key
                                               exceeds 2**53 in magnitude
``VARCHAR``       JSON strings                 ``str``
``BOOL``          JSON booleans                ``bool``
``ARRAY_DOUBLE``  the number elements of JSON  ``float64`` (an *elements* index: answers
                  arrays                       ``json_contains*``; ``valid`` = array rows)
``ARRAY_VARCHAR`` their string elements        ``str``
``ARRAY_BOOL``    their boolean elements       ``bool``
================= ============================ ========================================

The ``JSON`` cast and ``json_cast_function`` stay metadata only: nothing is built, filters
scan. Besides the keys, the index keeps ``present`` — rows whose value exists and is not
null — which is when ``x in []`` is known (false) rather than null.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from elanus.core.expr import jsonvalues as jv
from elanus.core.expr.syntax import Key
from elanus.core.scalar_index.base import MAX_EXACT_INT

CASTS = {"DOUBLE": "float64", "VARCHAR": "str", "BOOL": "bool",
         "ARRAY_DOUBLE": "float64", "ARRAY_VARCHAR": "str", "ARRAY_BOOL": "bool"}
_NUMBER_TYPES = (int, float)


class JsonKeys(NamedTuple):
    values: np.ndarray  # keys of the typed rows, in row order
    rows: np.ndarray  # their row ids
    domain: str
    typed: np.ndarray  # rows with a key (array casts: rows holding an array)
    present: np.ndarray  # rows whose value exists and is not null
    exact: bool


def json_keys(column: np.ndarray, valid: np.ndarray | None, path: tuple[Key, ...], cast: str) -> JsonKeys:
    """The keys of a JSON column at ``path`` cast to ``cast`` (one of :data:`CASTS`)."""
    raw = np.asarray(column, dtype=object)
    if path:
        values, codes = jv.extract(raw, path)
    else:
        values, codes = raw, jv.type_codes(raw)
    row_ok = np.ones(len(raw), dtype=np.bool_) if valid is None else np.asarray(valid, dtype=np.bool_)
    present = (codes != jv.ABSENT) & (codes != jv.NULL) & row_ok
    exact = True
    if cast.startswith("ARRAY_"):
        return _element_keys(values, codes, row_ok, present, cast)
    if cast == "DOUBLE":
        typed = jv.numeric_mask(codes) & row_ok
        picked = values[typed].tolist()
        ints = [v for v in picked if type(v) is int]
        if ints and max(map(abs, ints)) > MAX_EXACT_INT:
            exact = False
        keys = np.array(picked, dtype=np.float64) if picked else np.zeros(0, dtype=np.float64)
    elif cast == "VARCHAR":
        typed = (codes == jv.STR) & row_ok
        keys = values[typed]
    elif cast == "BOOL":
        typed = (codes == jv.BOOL) & row_ok
        keys = np.array(values[typed].tolist(), dtype=np.bool_)
    else:
        raise ValueError(f"JSON cast {cast!r} is not indexed")
    return JsonKeys(keys, np.flatnonzero(typed).astype(np.int32), CASTS[cast], typed, present, exact)


def _element_keys(values: np.ndarray, codes: np.ndarray, row_ok: np.ndarray, present: np.ndarray,
                  cast: str) -> JsonKeys:
    """Keys of an ``ARRAY_*`` cast: the elements of the cast's kind of every array row."""
    lists = (codes == jv.LIST) & row_ok
    kind = cast.removeprefix("ARRAY_")
    wanted: tuple[type, ...] = _NUMBER_TYPES if kind == "DOUBLE" else (str,) if kind == "VARCHAR" else (bool,)
    keys: list[Any] = []
    rows: list[int] = []
    for row, items in zip(np.flatnonzero(lists).tolist(), values[lists].tolist(), strict=True):
        for item in items:
            if type(item) in wanted:
                keys.append(item)
                rows.append(row)
    exact = True
    if kind == "DOUBLE":
        big = [v for v in keys if type(v) is int and abs(v) > MAX_EXACT_INT]
        exact = not big
        arr = np.array(keys, dtype=np.float64) if keys else np.zeros(0, dtype=np.float64)
    elif kind == "BOOL":
        arr = np.array(keys, dtype=np.bool_)
    else:
        arr = np.empty(len(keys), dtype=object)
        arr[:] = keys
    return JsonKeys(arr, np.asarray(rows, dtype=np.int32), CASTS[cast], lists, present, exact)
