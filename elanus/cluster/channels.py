"""Channel → data node ownership, kept by the active data coordinator.

:class:`ChannelAssigner` runs in the process of the active data coordinator. Whenever a
data node joins or is lost, and once at start, it reconciles (on one worker thread, so
passes never interleave):

* every channel of every existing collection gets a live owner
  (:meth:`ClusterRegistry.assign_channel`, a CAS on ``channel/owner/<channel>``) and that
  owner is told to ``watch_channel`` — a new owner resumes the channel from its checkpoint
  and re-seals the segments the lost owner left growing (see the data node);
* owner records of channels that no longer belong to a collection are deleted.

A channel whose owner is alive is left alone (ownership only moves when a node is lost),
so a channel has one writer at a time as long as sessions reflect liveness.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from elanus.cluster.remote_registry import OWNER_PREFIX, ClusterRegistry
from elanus.cluster.session import SessionInfo, SessionWatcher
from elanus.storage.meta.base import MetaStore

log = logging.getLogger(__name__)


class ChannelAssigner:
    """See the module docstring. ``channels()`` lists every channel of every collection."""

    def __init__(self, meta: MetaStore, registry: ClusterRegistry, channels: Callable[[], list[str]]) -> None:
        self._meta = meta
        self._registry = registry
        self._channels = channels
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lost: set[int] = set()
        self._first = True  # the first pass tells every owner to watch (idempotent on the node)
        self._lock = threading.Lock()
        self._watcher = SessionWatcher(meta, ("datanode",), on_join=self._changed, on_lost=self._on_lost)
        self._thread = threading.Thread(target=self._run, name="channel-assigner", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._watcher.start()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._watcher.stop()
        self._thread.join(timeout=10)

    def _on_lost(self, info: SessionInfo) -> None:
        log.warning("data node %d (%s) lost; reassigning its channels", info.node_id, info.address)
        with self._lock:
            self._lost.add(info.node_id)
        self._wake.set()

    def _changed(self, _info: SessionInfo) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(5.0)  # also a periodic pass, in case a notice was missed
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.reconcile()
            except Exception:
                log.exception("channel reconciliation failed; retrying")
                self._stop.wait(1.0)
                self._wake.set()

    def reconcile(self) -> None:
        """One pass (see the module docstring)."""
        if not self._registry.sessions("datanode"):
            return
        with self._lock:
            lost = frozenset(self._lost)
        wanted = set(self._channels())
        for kv in self._meta.get_prefix(OWNER_PREFIX):
            channel = kv.key[len(OWNER_PREFIX):]
            if channel not in wanted:
                self._meta.delete(kv.key)
        for channel in sorted(wanted):
            before = self._registry.channel_owner(channel)
            owner = self._registry.assign_channel(channel, exclude=lost)
            if owner != before or self._first:
                node = self._registry.data_node_by_id(owner)
                if node is not None:
                    node.watch_channel(channel)
                    log.info("data node %d now owns %s", owner, channel)
        self._first = False
