"""Hybrid timestamps and the allocators built on them.

A timestamp is ``physical_ms << 18 | logical`` (Milvus's TSO layout). The oracle
persists the upper bound of a time window in the meta store *before* handing out
any timestamp inside it, so after a crash the restarted oracle starts above
everything it could have issued: time never goes backwards.

The same windowed persistence backs :class:`IdAllocator`, which hands out unique
int64 ids (collections, partitions, segments, auto-id primary keys).
"""

from __future__ import annotations

import struct
import threading
import time

from elanus.storage.meta.base import MetaStore

LOGICAL_BITS = 18
LOGICAL_MASK = (1 << LOGICAL_BITS) - 1
MAX_TIMESTAMP = (1 << 64) - 1
_WINDOW_MS = 3000  # Milvus saves now + 3 s


def compose(physical_ms: int, logical: int = 0) -> int:
    return (physical_ms << LOGICAL_BITS) | logical


def physical_ms(ts: int) -> int:
    return ts >> LOGICAL_BITS


def logical(ts: int) -> int:
    return ts & LOGICAL_MASK


def now_ms() -> int:
    return int(time.time() * 1000)


def _encode(value: int) -> bytes:
    return struct.pack(">Q", value)


def _decode(data: bytes) -> int:
    return int(struct.unpack(">Q", data)[0])


class TimestampOracle:
    """Monotonic, crash-safe timestamp allocation.

    Invariant: every timestamp returned is strictly greater than every timestamp
    returned before, in this process or any earlier one using the same key.
    """

    def __init__(self, meta: MetaStore, key: str) -> None:
        self._meta = meta
        self._key = key
        self._lock = threading.Lock()
        stored = meta.get(key)
        saved_ms = _decode(stored.value) if stored else 0
        self._physical = max(now_ms(), saved_ms + 1)
        self._logical = 0
        self._saved_ms = 0
        self._persist(self._physical + _WINDOW_MS)

    def _persist(self, bound_ms: int) -> None:
        self._meta.put(self._key, _encode(bound_ms))
        self._saved_ms = bound_ms

    def alloc(self, count: int = 1) -> int:
        """Reserve ``count`` consecutive timestamps; return the last one."""
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            wall = now_ms()
            if wall > self._physical:
                self._physical, self._logical = wall, 0
            if self._logical + count > LOGICAL_MASK:
                self._physical += 1
                self._logical = 0
            if self._physical >= self._saved_ms - 1:
                self._persist(self._physical + _WINDOW_MS)
            self._logical += count
            return compose(self._physical, self._logical)

    def peek(self) -> int:
        """The latest timestamp handed out (no allocation)."""
        with self._lock:
            return compose(self._physical, self._logical)


class IdAllocator:
    """Unique increasing int64 ids, persisted in blocks (never reused after a crash)."""

    _BLOCK = 100_000

    def __init__(self, meta: MetaStore, key: str) -> None:
        self._meta = meta
        self._key = key
        self._lock = threading.Lock()
        stored = meta.get(key)
        # Start from a TSO-shaped value, as Milvus's ids look, so ids stay unique
        # even if the meta store is reset while old data files remain.
        self._next = _decode(stored.value) if stored else compose(now_ms())
        self._bound = self._next

    def alloc(self, count: int = 1) -> int:
        """Reserve ``count`` ids; return the first."""
        with self._lock:
            if self._next + count > self._bound:
                self._bound = self._next + max(count, self._BLOCK)
                self._meta.put(self._key, _encode(self._bound))
            first = self._next
            self._next += count
            return first
