"""Per-segment cache of JSON-path (and array-element) extractions.

Extracting ``j["a"]["b"]`` walks every row's parsed JSON value in Python-level C loops (see
:func:`jsonvalues.extract`): cheap once, but a filter repeated on the same sealed segment
would redo it on every request. Segments hand :meth:`Filter.evaluate` their columns as
prefix views ``col[:n]`` of arrays they keep for their lifetime, and rows below ``n`` never
change (growing segments only append), so the extraction of a path over a prefix can be
kept, keyed by the owning array, and reused — or extended by just the new rows when a
growing segment's prefix has grown.

Only views that start at their owner's first element are cached (anything else, e.g. the
gathered rows of a pk-pinned filter, is extracted afresh). Entries die with the owning
array; each owner keeps its :data:`PATHS_PER_COLUMN` most recently used paths. Cached
arrays are shared: callers must not write into them.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from elanus.core.expr import jsonvalues as jv
from elanus.core.expr.syntax import Key

PATHS_PER_COLUMN = 8


@dataclass
class _Entry:
    owner: weakref.ref[np.ndarray]
    paths: OrderedDict[tuple[Key, ...], tuple[int, np.ndarray, np.ndarray]] = field(default_factory=OrderedDict)


_lock = threading.RLock()  # re-entrant: a weakref callback may fire inside a locked block (GC)
_entries: dict[int, _Entry] = {}


def _owner(column: np.ndarray) -> np.ndarray | None:
    """The array ``column`` is a prefix view of, or None when it is not one."""
    base = column.base
    if not isinstance(base, np.ndarray) or base.dtype != object or base.ndim != 1 or column.ndim != 1:
        return None
    if column.strides != base.strides or column.ctypes.data != base.ctypes.data:
        return None
    return base


def _forget(key: int) -> None:
    with _lock:
        _entries.pop(key, None)


def extract(column: np.ndarray, path: tuple[Key, ...]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`jsonvalues.extract` of ``column``, served from (and kept in) the cache when
    ``column`` is a prefix view of a longer-lived array."""
    owner = _owner(column) if isinstance(column, np.ndarray) else None
    if owner is None:
        return jv.extract(column, path)
    n, key = len(column), id(owner)
    with _lock:
        entry = _entries.get(key)
        if entry is None or entry.owner() is not owner:
            entry = _entries[key] = _Entry(weakref.ref(owner, lambda _, k=key: _forget(k)))  # type: ignore[misc]
        hit = entry.paths.get(path)
        if hit is not None:
            entry.paths.move_to_end(path)
    if hit is not None and hit[0] == n:
        return hit[1], hit[2]
    if hit is not None and hit[0] < n:  # a growing segment appended rows: extract just those
        more_values, more_codes = jv.extract(column[hit[0]:], path)
        values = np.concatenate([hit[1], more_values])
        codes = np.concatenate([hit[2], more_codes])
    elif hit is not None:  # a shorter prefix than cached (an older snapshot): slice it
        return hit[1][:n], hit[2][:n]
    else:
        values, codes = jv.extract(column, path)
    with _lock:
        entry.paths[path] = (n, values, codes)
        entry.paths.move_to_end(path)
        while len(entry.paths) > PATHS_PER_COLUMN:
            entry.paths.popitem(last=False)
    return values, codes
