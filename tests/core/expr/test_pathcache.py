"""The per-segment JSON-path extraction cache: same answers as a fresh extraction, reused
for the same prefix view, extended for a grown prefix, bypassed for gathered rows."""

from __future__ import annotations

import gc

import numpy as np

from elanus.core.expr import jsonvalues as jv
from elanus.core.expr import pathcache


def column(n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[:] = [{"a": {"b": i}} if i % 3 else {"x": i} for i in range(n)]
    return out


def same(got: tuple[np.ndarray, np.ndarray], want: tuple[np.ndarray, np.ndarray]) -> bool:
    return got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()


def test_prefix_views_are_cached_and_extended() -> None:
    owner = column(100)
    first = pathcache.extract(owner[:60], ("a", "b"))
    assert same(first, jv.extract(owner[:60], ("a", "b")))
    again = pathcache.extract(owner[:60], ("a", "b"))
    assert again[0] is first[0] and again[1] is first[1]  # served from the cache
    grown = pathcache.extract(owner[:100], ("a", "b"))  # a growing segment appended rows
    assert same(grown, jv.extract(owner, ("a", "b")))
    older = pathcache.extract(owner[:30], ("a", "b"))  # an older snapshot of the same column
    assert same(older, jv.extract(owner[:30], ("a", "b")))


def test_gathered_rows_and_offset_views_are_not_cached() -> None:
    owner = column(50)
    rows = owner[[1, 4, 7]]
    assert same(pathcache.extract(rows, ("a",)), jv.extract(rows, ("a",)))
    shifted = owner[10:]
    assert same(pathcache.extract(shifted, ("a",)), jv.extract(shifted, ("a",)))
    assert pathcache.extract(shifted, ("a",))[0] is not pathcache.extract(shifted, ("a",))[0]


def test_entries_die_with_their_column_and_paths_are_bounded() -> None:
    owner = column(20)
    for k in range(pathcache.PATHS_PER_COLUMN + 3):
        pathcache.extract(owner[:20], (f"k{k}",))
    key = id(owner)
    assert len(pathcache._entries[key].paths) == pathcache.PATHS_PER_COLUMN
    del owner
    gc.collect()
    assert key not in pathcache._entries
