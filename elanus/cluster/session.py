"""Sessions: how a process announces itself in the meta store and learns who else is alive.

Keys (values JSON :class:`SessionInfo`)::

    session/next_id               the last node id handed out (decimal text), compare-and-swap incremented
    session/<role>/<node_id>      one live process of ``role``, attached to its lease
    session/<role>/active         the elected active coordinator of ``role`` (see :mod:`.election`)

Contracts:

* a :class:`Session` key lives exactly as long as its lease: a keepalive thread renews it
  every ``keepalive`` seconds; :meth:`Session.stop` revokes it (the key disappears at once);
  a process that dies loses it within ``ttl`` seconds. If a keepalive finds the lease gone
  (the store thought the process dead), ``on_lost`` is called once and the keepalive stops:
  the peers have already given the node's work away, so the process must not carry on as
  if nothing happened (the role processes exit).
* node ids are unique over the life of the meta store (never reused, also not after a
  restart of the process: a restarted process is a new node).
* :class:`SessionWatcher` reports every session of the watched roles that exists when it
  starts and every later one through ``on_join``, and every session whose key goes away
  through ``on_lost`` — each exactly once per node id, in the order the store applied them.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from elanus.storage.meta.base import Compare, KeyValue, MetaStore, Op, WatchEvent, WatchHandle

log = logging.getLogger(__name__)

PREFIX = "session/"
NEXT_ID_KEY = "session/next_id"
ACTIVE = "active"


@dataclass(frozen=True)
class SessionInfo:
    """One live process: its role, node id and the ``host:port`` its roles are served on."""

    role: str
    node_id: int
    address: str
    pid: int = 0

    def to_json(self) -> bytes:
        return json.dumps({"role": self.role, "node_id": self.node_id, "address": self.address,
                           "pid": self.pid}).encode()

    @staticmethod
    def from_json(data: bytes) -> SessionInfo:
        raw = json.loads(data)
        return SessionInfo(str(raw["role"]), int(raw["node_id"]), str(raw["address"]), int(raw.get("pid", 0)))


def session_key(role: str, node_id: int) -> str:
    return f"{PREFIX}{role}/{node_id}"


def parse_key(key: str) -> tuple[str, str] | None:
    """``session/<role>/<name>`` -> (role, name); None for any other key (e.g. next_id)."""
    if not key.startswith(PREFIX):
        return None
    parts = key[len(PREFIX):].split("/")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def decode(kv: KeyValue) -> SessionInfo | None:
    """The session a key holds, or None when the value is not a session (logged)."""
    try:
        return SessionInfo.from_json(kv.value)
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring malformed session key %s", kv.key)
        return None


def allocate_node_id(meta: MetaStore) -> int:
    """A node id no other process ever got from this meta store (compare-and-swap on the counter)."""
    while True:
        kv = meta.get(NEXT_ID_KEY)
        current = int(kv.value) if kv is not None else 0
        guard = (Compare(NEXT_ID_KEY, "mod_revision", "==", kv.mod_revision) if kv is not None
                 else Compare(NEXT_ID_KEY, "version", "==", 0))
        if meta.txn([guard], [Op.put(NEXT_ID_KEY, str(current + 1).encode())]):
            return current + 1


def live_sessions(meta: MetaStore, role: str) -> list[SessionInfo]:
    """Every live session of ``role``, by node id (the ``active`` election key excluded)."""
    out = []
    for kv in meta.get_prefix(f"{PREFIX}{role}/"):
        parsed = parse_key(kv.key)
        if parsed is None or not parsed[1].isdigit():
            continue
        info = decode(kv)
        if info is not None:
            out.append(info)
    return sorted(out, key=lambda s: s.node_id)


class Session:
    """This process's registration under ``session/<role>/<node_id>`` (see the module docstring)."""

    def __init__(self, meta: MetaStore, role: str, address: str, *, node_id: int | None = None,
                 ttl: float = 10.0, keepalive: float = 2.0,
                 on_lost: Callable[[], None] | None = None) -> None:
        if keepalive >= ttl:
            raise ValueError("keepalive interval must be shorter than the ttl")
        self.meta = meta
        self.node_id = node_id if node_id is not None else allocate_node_id(meta)
        self.info = SessionInfo(role, self.node_id, address, os.getpid())
        self.ttl = ttl
        self._interval = keepalive
        self._on_lost = on_lost
        self.lease = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def key(self) -> str:
        return session_key(self.info.role, self.node_id)

    def register(self) -> None:
        """Grant the lease, put the key and start keeping it alive."""
        self.lease = self.meta.grant_lease(self.ttl)
        self.meta.put(self.key, self.info.to_json(), lease=self.lease)
        self._thread = threading.Thread(target=self._keepalive, name=f"session-{self.info.role}", daemon=True)
        self._thread.start()
        log.info("session %s registered (address %s, lease %d)", self.key, self.info.address, self.lease)

    def _keepalive(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                alive = self.meta.keepalive(self.lease)
            except Exception as exc:  # a store hiccup: try again until the ttl runs out
                log.warning("session %s: keepalive failed: %r", self.key, exc)
                continue
            if not alive:
                log.error("session %s: lease %d expired", self.key, self.lease)
                if self._on_lost is not None and not self._stop.is_set():
                    self._on_lost()
                return

    def stop(self) -> None:
        """Stop the keepalive and revoke the lease (the key goes at once). Idempotent."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if self.lease:
            try:
                self.meta.revoke_lease(self.lease)
            except Exception as exc:
                log.warning("session %s: revoking lease failed: %r", self.key, exc)
            self.lease = 0


class Mirror:
    """A watched copy of every key under a prefix (revision-guarded, so a listing older than an
    applied event never overwrites it). ``on_change(key, kv_or_None)`` runs after each change,
    one change at a time, in the order the changes were applied."""

    def __init__(self, meta: MetaStore, prefix: str,
                 on_change: Callable[[str, KeyValue | None], None] | None = None) -> None:
        self._meta = meta
        self._prefix = prefix
        self._on_change = on_change
        self._lock = threading.Lock()
        self._notify = threading.RLock()  # held over an apply and its callback (watch thread vs resync)
        self._values: dict[str, KeyValue] = {}
        self._revisions: dict[str, int] = {}
        self._handle: WatchHandle | None = None
        self.version = 0  # bumped on every change (lets readers cache what they derive)

    def start(self) -> None:
        self._handle = self._meta.watch_prefix(self._prefix, self._event)
        self.resync()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def resync(self) -> None:
        listed = {kv.key: kv for kv in self._meta.get_prefix(self._prefix)}
        rev = self._meta.revision()
        for kv in listed.values():
            self._apply(kv.key, kv, kv.mod_revision)
        with self._lock:
            gone = [k for k in self._values if k not in listed]
        for key in gone:
            self._apply(key, None, rev)

    def _event(self, event: WatchEvent) -> None:
        self._apply(event.kv.key, event.kv if event.type == "put" else None, event.kv.mod_revision)

    def _apply(self, key: str, kv: KeyValue | None, revision: int) -> None:
        with self._notify:
            with self._lock:
                if revision < self._revisions.get(key, 0):
                    return
                self._revisions[key] = revision
                before = self._values.get(key)
                if kv is None:
                    if before is None:
                        return
                    del self._values[key]
                else:
                    if before is not None and before.value == kv.value:
                        self._values[key] = kv
                        return
                    self._values[key] = kv
                self.version += 1
            if self._on_change is not None:
                try:
                    self._on_change(key, kv)
                except Exception:
                    log.exception("mirror callback failed for %s", key)

    def get(self, key: str) -> KeyValue | None:
        with self._lock:
            return self._values.get(key)

    def items(self) -> list[KeyValue]:
        with self._lock:
            return sorted(self._values.values(), key=lambda kv: kv.key)


Callback = Callable[[SessionInfo], None]


class SessionWatcher:
    """Join/loss notices for the sessions of some roles (see the module docstring), from one
    :class:`Mirror` of each role's prefix.

    Callbacks run on the store's watch thread (or the caller's thread for the sessions
    found at :meth:`start`); they must not block for long.
    """

    def __init__(self, meta: MetaStore, roles: Iterable[str], on_join: Callback | None = None,
                 on_lost: Callback | None = None) -> None:
        self._on_join = on_join
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._known: dict[str, SessionInfo] = {}
        self._mirrors = [Mirror(meta, f"{PREFIX}{role}/", self._changed) for role in roles]

    def start(self) -> None:
        for mirror in self._mirrors:
            mirror.start()

    def resync(self) -> None:
        """Compare with a fresh listing (recovers from missed watch events)."""
        for mirror in self._mirrors:
            mirror.resync()

    def _changed(self, key: str, kv: KeyValue | None) -> None:
        parsed = parse_key(key)
        if parsed is None or not parsed[1].isdigit():
            return
        joined = lost = None
        with self._lock:
            if kv is None:
                lost = self._known.pop(key, None)
            elif key not in self._known:
                joined = decode(kv)
                if joined is not None:
                    self._known[key] = joined
        if joined is not None and self._on_join is not None:
            self._call(self._on_join, joined)
        if lost is not None and self._on_lost is not None:
            self._call(self._on_lost, lost)

    @staticmethod
    def _call(callback: Callback, info: SessionInfo) -> None:
        try:
            callback(info)
        except Exception:
            log.exception("session callback failed for %s/%d", info.role, info.node_id)

    def live(self) -> list[SessionInfo]:
        with self._lock:
            return sorted(self._known.values(), key=lambda s: (s.role, s.node_id))

    def stop(self) -> None:
        for mirror in self._mirrors:
            mirror.stop()
