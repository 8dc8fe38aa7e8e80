"""Active/standby coordinators through an election key in the meta store.

``session/<role>/active`` (role ``mixcoord``, or ``rootcoord``/``datacoord``/``querycoord``
when those run apart) holds the :class:`~elanus.cluster.session.SessionInfo` of the active
coordinator and is attached to that process's session lease, so it disappears when the
process dies (within the lease TTL) or stops (at once, the lease is revoked).

Contract of :meth:`Election.campaign`: it returns True only once this process holds the key
(put-if-absent in one transaction, so at most one process holds it at any time); a standby
blocks until the key is gone and then competes again. Only after winning may a process
build coordinator state: the constructors rebuild everything from the meta store (catalog,
segment and index tables, load info) and the TSO restarts above its persisted window, so a
new active never hands out a timestamp the old one may have issued.
"""

from __future__ import annotations

import logging
import threading

from elanus.cluster.session import ACTIVE, PREFIX, SessionInfo, decode
from elanus.storage.meta.base import Compare, MetaStore, Op, WatchEvent

log = logging.getLogger(__name__)


def active_key(role: str) -> str:
    return f"{PREFIX}{role}/{ACTIVE}"


def active(meta: MetaStore, role: str) -> SessionInfo | None:
    """The active coordinator of ``role``, or None while there is none."""
    kv = meta.get(active_key(role))
    return None if kv is None else decode(kv)


class Election:
    """Campaign for ``session/<role>/active`` with ``info`` on ``lease`` (the caller's session lease)."""

    def __init__(self, meta: MetaStore, role: str, info: SessionInfo, lease: int, *,
                 poll_interval: float = 1.0) -> None:
        self._meta = meta
        self.key = active_key(role)
        self._info = info
        self._lease = lease
        self._poll = poll_interval
        self._changed = threading.Event()
        self.leader = False

    def try_acquire(self) -> bool:
        """One attempt: take the key if nobody holds it."""
        won = self._meta.txn([Compare(self.key, "version", "==", 0)],
                             [Op.put(self.key, self._info.to_json(), lease=self._lease)])
        if won:
            self.leader = True
            log.info("%s: node %d is now active", self.key, self._info.node_id)
        return won

    def campaign(self, stop: threading.Event) -> bool:
        """Block until this process is active (True) or ``stop`` is set (False)."""
        def wake(event: WatchEvent) -> None:
            if event.type == "delete":
                self._changed.set()

        handle = self._meta.watch_prefix(self.key, wake)
        try:
            announced = False
            while not stop.is_set():
                self._changed.clear()
                if self.try_acquire():
                    return True
                if not announced:
                    holder = active(self._meta, self.key[len(PREFIX):].split("/")[0])
                    log.info("%s: standby (active is node %s)", self.key,
                             holder.node_id if holder else "?")
                    announced = True
                # The watch wakes us at once; the poll covers a missed event.
                self._changed.wait(self._poll)
            return False
        finally:
            handle.cancel()

    def resign(self) -> None:
        """Give the key up if this process holds it (a clean stop; revoking the lease also does)."""
        if self.leader:
            self._meta.txn([Compare(self.key, "value", "==", self._info.to_json())], [Op.delete(self.key)])
            self.leader = False
