"""A channel's serviceable timestamp (tsafe) and waiting for it.

Invariant: once tsafe is ``t`` the delegator has applied every message of the channel
with a timestamp ``<= t``, so a read at MVCC timestamp ``t`` is complete. tsafe never
goes backwards. Readers wait on a condition variable (no polling); the fast path, tsafe
already high enough, takes no lock.
"""

from __future__ import annotations

import threading
import time

from elanus.core.errors import MilvusError, compose

CHANNEL_TSAFE_STALLED = 505  # merr ErrChannelTSafeStalled


class TSafe:
    """Monotonic serviceable timestamp with blocking waits."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._ts = 0
        self._cond = threading.Condition()
        self._closed = False

    @property
    def value(self) -> int:
        return self._ts

    def advance(self, ts: int) -> None:
        """Raise tsafe to ``ts`` (a lower value is ignored) and wake waiters."""
        if ts <= self._ts:
            return
        with self._cond:
            if ts > self._ts:
                self._ts = ts
                self._cond.notify_all()

    def close(self) -> None:
        """Wake every waiter; later waits that are not already satisfied fail at once."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait(self, ts: int, timeout: float) -> int:
        """Block until tsafe >= ``ts``; return tsafe. Raises MilvusError 505 on timeout."""
        current = self._ts
        if current >= ts:
            return current
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._ts < ts and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if self._ts >= ts:
                return self._ts
        reason = "channel closed" if self._closed else f"wait tsafe timeout after {timeout:g}s"
        raise MilvusError(CHANNEL_TSAFE_STALLED,
                          compose(CHANNEL_TSAFE_STALLED, base="channel tsafe stalled",
                                  fields={"channel": self.channel},
                                  detail=f"{reason}, tsafe={self._ts} guarantee={ts}"))
