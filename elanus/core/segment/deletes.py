"""Delete bookkeeping of one segment: per-row delete timestamps and the pk matching behind them.

Semantics (Milvus segcore's ``DeletedRecord``): a delete ``(pk, del_ts)`` hides the
rows whose primary key is ``pk`` **and** whose insert timestamp is ``< del_ts``. A row
stores the smallest such ``del_ts`` (``delete_ts``, ``MAX_TS`` while alive), so applying
the same delete twice, or deletes out of order, gives the same state (idempotent,
commutative). A read at MVCC timestamp ``t`` sees a row iff ``delete_ts > t``.

An upsert is a delete and an insert at one timestamp ``t``: the old row (inserted
before ``t``) gets ``delete_ts = t``; the new row (inserted at ``t``) is untouched.

Concurrency: one writer at a time (a lock serialises writers); readers never lock.
Writers update the array, then ``min_ts``/``max_ts``, then bump ``version``. Readers
at ``t`` only race with deletes whose timestamp is above ``t`` (the delegator applies a
delete before its tsafe passes it), which is why the cached "all deletes applied" mask
can be computed without a lock: see :meth:`DeleteState.mask`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

MAX_TS = np.uint64(np.iinfo(np.uint64).max)


class PkIndex:
    """The rows of a pk column sorted by pk: point lookups and delete matching in O(log n).

    Invariant: ``keys == pks[order]`` is sorted; ties keep row order (stable sort).
    """

    def __init__(self, pks: np.ndarray) -> None:
        self.order = np.argsort(pks, kind="stable")
        self.keys = pks[self.order]
        self.min = self.keys[0] if len(self.keys) else None
        self.max = self.keys[-1] if len(self.keys) else None

    def pairs(self, probe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (row, j) with ``pks[row] == probe[j]``, as two aligned int64 arrays."""
        if not len(self.keys) or not len(probe):
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        lo = np.searchsorted(self.keys, probe, side="left")
        hi = np.searchsorted(self.keys, probe, side="right")
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        probe_idx = np.repeat(np.arange(len(probe), dtype=np.int64), counts)
        # Position inside each run of equal keys: global index minus the run's start.
        run_start = np.repeat(np.cumsum(counts) - counts, counts)
        within = np.arange(total, dtype=np.int64) - run_start
        rows = self.order[np.repeat(lo, counts) + within].astype(np.int64, copy=False)
        return rows, probe_idx

    def rows_of(self, values: np.ndarray) -> np.ndarray:
        """Rows whose pk is in ``values``, ascending by pk (duplicates of a value in row order)."""
        values = np.unique(values)
        rows, _ = self.pairs(values)
        return rows


def as_pk_array(values: object, like: np.ndarray) -> np.ndarray:
    """``values`` as an array comparable with the pk column ``like`` (int64 or object)."""
    arr = np.asarray(values)
    if like.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    return arr.astype(object, copy=False)


@dataclass(frozen=True)
class _MaskCache:
    version: int
    max_ts: int
    n: int
    mask: np.ndarray


class DeleteState:
    """Per-row delete timestamps of one segment plus a cached "everything applied" mask.

    ``ts`` is the array (uint64, ``MAX_TS`` = alive); a growing segment replaces it with
    a larger copy when it grows (only its single writer does that).
    """

    def __init__(self, n: int) -> None:
        self.ts = np.full(n, MAX_TS, dtype=np.uint64)
        self.count = 0  # rows with a delete_ts set (upper bound; only used as "any?")
        self.min_ts = int(MAX_TS)
        self.max_ts = 0
        self.version = 0
        self._cache: _MaskCache | None = None
        self._lock = threading.Lock()

    def apply(self, rows: np.ndarray, del_ts: np.ndarray, insert_ts: np.ndarray) -> int:
        """Set ``ts[rows] = min(ts[rows], del_ts)`` where ``insert_ts[rows] < del_ts``.

        ``rows``/``del_ts`` are aligned (a row may repeat); returns how many pairs applied.
        """
        if not len(rows):
            return 0
        del_ts = del_ts.astype(np.uint64, copy=False)
        hit = insert_ts[rows] < del_ts
        if not hit.all():
            rows, del_ts = rows[hit], del_ts[hit]
        if not len(rows):
            return 0
        with self._lock:
            np.minimum.at(self.ts, rows, del_ts)
            self.count += len(rows)
            self.min_ts = min(self.min_ts, int(del_ts.min()))
            self.max_ts = max(self.max_ts, int(del_ts.max()))
            self.version += 1
        return len(rows)

    def merge_from(self, other: DeleteState) -> None:
        """Take over ``other``'s deletes (a copy of the same rows in the same order)."""
        with self._lock:
            np.minimum(self.ts, other.ts[:len(self.ts)], out=self.ts)
            self.count += other.count
            self.min_ts = min(self.min_ts, other.min_ts)
            self.max_ts = max(self.max_ts, other.max_ts)
            self.version += 1

    def mask(self, t: int, n: int) -> np.ndarray | None:
        """Rows ``[0, n)`` not deleted at ``t`` (``ts > t``), or None when none is deleted at ``t``.

        The common case, ``t`` at or above every applied delete, reuses one cached mask
        per version, so repeated reads allocate nothing. Why the cache is safe without a
        lock: it is ``ts > max_ts`` for the ``max_ts``/``version`` read *before* computing;
        a delete racing with the computation has a timestamp above every active reader's
        ``t`` and above that ``max_ts``, so it leaves its row visible in the mask, which
        is right for those readers; later readers see a new version and recompute.
        """
        if self.count == 0 or t < self.min_ts:
            return None
        version, max_ts = self.version, self.max_ts
        if t < max_ts:
            return self.ts[:n] > np.uint64(t)
        cache = self._cache
        if cache is not None and cache.version == version and cache.n >= n:
            return cache.mask[:n]
        mask = self.ts[:n] > np.uint64(max_ts)
        self._cache = _MaskCache(version, max_ts, n, mask)
        return mask

    def deleted_rows(self, n: int) -> int:
        """Rows of ``[0, n)`` deleted at any timestamp (for statistics)."""
        if self.count == 0:
            return 0
        return int(np.count_nonzero(self.ts[:n] != MAX_TS))
