"""Compiled filters for segment reads, cached so a request never parses twice.

A search or query carries its filter as text plus template parameters. Every
segment of every shard evaluates the same filter, so compiling it once per
(schema, text, parameters) — not once per segment or per request — keeps the
parse (a Lark grammar run) off the hot path. The cache is a small LRU; it holds
the schema object it was keyed on, so the ``id()`` in the key cannot be reused
by another schema while the entry lives.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from elanus.core.schema import CollectionSchema

_MAX_ENTRIES = 512


class FilterLike(Protocol):
    """What segments need of ``elanus.core.expr.Filter``."""

    @property
    def fields(self) -> Any: ...  # names of the columns the filter reads

    def evaluate(self, columns: dict[str, np.ndarray], num_rows: int) -> np.ndarray: ...

    def pk_values(self) -> Any: ...  # pks when the filter pins the primary key, else None


_lock = threading.Lock()
_cache: OrderedDict[tuple[int, str, str], tuple[CollectionSchema, FilterLike | None]] = OrderedDict()


def _params_key(params: Mapping[str, Any]) -> str:
    return repr(sorted(params.items())) if params else ""


def compiled_filter(schema: CollectionSchema, expr: str, params: Mapping[str, Any]) -> FilterLike | None:
    """The compiled form of ``expr`` (None for an empty filter). Raises what
    ``compile_filter`` raises for invalid expressions (a MilvusError)."""
    if not expr or not expr.strip():
        return None
    key = (id(schema), expr, _params_key(params))
    with _lock:
        hit = _cache.get(key)
        if hit is not None:  # a cached None means "accepts every row"
            _cache.move_to_end(key)
            return hit[1]
    from elanus.core.expr import compile_filter  # the filter engine is loaded on first use

    flt: FilterLike | None = compile_filter(expr, schema, dict(params))
    if getattr(flt, "always_true", False):
        flt = None  # e.g. "true": no mask at all keeps the index on its fast path
    with _lock:
        _cache[key] = (schema, flt)
        while len(_cache) > _MAX_ENTRIES:
            _cache.popitem(last=False)
    return flt


def pk_values_of(flt: FilterLike) -> Any:
    """``flt.pk_values()`` or None; tolerant of filters without the method."""
    fn = getattr(flt, "pk_values", None)
    return None if fn is None else fn()
