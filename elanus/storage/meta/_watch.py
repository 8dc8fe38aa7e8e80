"""Prefix-watch delivery on one dispatcher thread.

A store publishes events while holding its own lock (so their order is the
commit order) and this class hands them to callbacks later, on its own thread,
without that lock. Publishing is an O(1) append and never blocks on a slow
callback; the backlog is unbounded on purpose, because dropping or reordering
meta events would break the watchers' view of the store.

Registration and publication must be ordered by the store's lock: a watcher
registered at revision ``r`` receives exactly the events with ``mod_revision >
r``, which is what makes "every change after watch_prefix returned" exact.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Sequence

from elanus.storage.meta.base import WatchEvent

_log = logging.getLogger(__name__)


class _Watch:
    """A registered watcher; also the ``WatchHandle`` returned to the caller."""

    __slots__ = ("_dispatcher", "callback", "cancelled", "prefix", "start_revision")

    def __init__(
        self,
        dispatcher: WatchDispatcher,
        prefix: str,
        callback: Callable[[WatchEvent], None],
        start_revision: int,
    ) -> None:
        self._dispatcher = dispatcher
        self.prefix = prefix
        self.callback = callback
        self.start_revision = start_revision
        self.cancelled = False

    def cancel(self) -> None:
        self._dispatcher.remove(self)


class WatchDispatcher:
    """Queues published events and runs watcher callbacks on a daemon thread."""

    def __init__(self, thread_name: str) -> None:
        self._cv = threading.Condition()
        self._pending: collections.deque[WatchEvent] = collections.deque()
        self._watches: list[_Watch] = []
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._thread.start()

    def add(self, prefix: str, callback: Callable[[WatchEvent], None], start_revision: int) -> _Watch:
        """Register a watcher for events with ``mod_revision > start_revision``.

        Call with the store's lock held, so no event of a later revision can be
        published before the watcher is in the list.
        """
        watch = _Watch(self, prefix, callback, start_revision)
        with self._cv:
            self._watches.append(watch)
        return watch

    def remove(self, watch: _Watch) -> None:
        with self._cv:
            watch.cancelled = True
            if watch in self._watches:
                self._watches.remove(watch)

    def publish(self, events: Sequence[WatchEvent]) -> None:
        """Queue events for delivery, in the given order. Never calls a callback."""
        if not events:
            return
        with self._cv:
            if self._watches:  # nobody listening: nothing to keep
                self._pending.extend(events)
                self._cv.notify()

    def close(self) -> None:
        """Deliver what is already queued, then stop the thread.

        Safe to call from a callback (it then does not wait for itself).
        """
        with self._cv:
            self._closing = True
            self._cv.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._pending and not self._closing:
                    self._cv.wait()
                if not self._pending:
                    return
                batch = list(self._pending)
                self._pending.clear()
            for event in batch:
                self._deliver(event)

    def _deliver(self, event: WatchEvent) -> None:
        with self._cv:
            targets = [
                w
                for w in self._watches
                if event.kv.mod_revision > w.start_revision and event.kv.key.startswith(w.prefix)
            ]
        for watch in targets:
            # Re-checked per call so a cancel() made by an earlier callback in this
            # same batch takes effect immediately.
            if watch.cancelled:
                continue
            try:
                watch.callback(event)
            except Exception:
                # A broken watcher must not starve the others (or itself) of later events.
                _log.exception("meta watch callback for prefix %r failed", watch.prefix)
