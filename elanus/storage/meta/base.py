"""The meta store contract: a small, strongly consistent key-value store with etcd semantics.

Holds everything the cluster must agree on (collection metadata, segment
states, checkpoints, TSO windows, node sessions). Backends: ``local`` (SQLite,
embedded mode) and ``etcd`` (cluster mode).

Invariants every backend keeps:

* **Revisions.** The store has one global revision counter. Every call that
  changes at least one key (a ``put``, a ``delete`` that removed something, a
  ``txn`` whose chosen branch wrote, a lease expiry that deleted keys)
  increases it by exactly one, and every key it touches gets that revision as
  ``mod_revision``. Calls that change nothing leave it alone. The counter never
  goes backwards, also across restarts.
* **Per-key metadata** follows etcd: ``create_revision`` is the revision that
  created the key's current incarnation, ``version`` counts puts since then
  (1 after creation) and an absent key behaves as ``version == create_revision
  == mod_revision == 0``.
* **Durability.** A mutating call is durable when it returns.
* **Atomicity.** ``txn`` evaluates all compares and applies the chosen branch
  as one step: no other writer interleaves, and watchers see its events with
  one revision.
* **Ordering of keys.** Prefix reads return keys sorted by their UTF-8 bytes
  (which is also Python's ``str`` order).
* **Watches.** Callbacks receive every change under the prefix made after
  ``watch_prefix`` returned, in revision order, on a dispatcher thread, never
  while the store's internal lock is held (so a callback may call the store).
  A callback that raises is logged; delivery goes on.
* **Leases.** A key put with a lease is deleted when the lease expires (no
  ``keepalive`` within its TTL) or is revoked; watchers see those deletes.
  Leases do not survive a restart of the store: on open, every key that was
  attached to a lease is deleted. (That is the embedded store, whose leases
  live in its process. A server-side store keeps them in the server: closing
  and reopening an etcd client is no restart, its leases run out by TTL; see
  :mod:`elanus.storage.meta.etcd`.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

CompareTarget = Literal["version", "mod_revision", "create_revision", "value"]
CompareOp = Literal["==", "!=", "<", ">"]
OpKind = Literal["put", "delete", "delete_prefix"]
EventType = Literal["put", "delete"]

_TARGETS = ("version", "mod_revision", "create_revision", "value")
_OPS = ("==", "!=", "<", ">")


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One key's current state. ``lease`` is 0 when the key is not attached to a lease."""

    key: str
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int


@dataclass(frozen=True, slots=True)
class Compare:
    """A condition of a transaction, evaluated against the key's state at commit time.

    ``value`` is ``bytes`` for target ``"value"`` and ``int`` otherwise. An absent
    key has version/create_revision/mod_revision 0, so ``Compare(k, "version",
    "==", 0)`` means "k does not exist". As in etcd, any compare on the *value*
    of an absent key is false.
    """

    key: str
    target: CompareTarget
    op: CompareOp
    value: int | bytes

    def __post_init__(self) -> None:
        if self.target not in _TARGETS:
            raise ValueError(f"compare target must be one of {_TARGETS}, got {self.target!r}")
        if self.op not in _OPS:
            raise ValueError(f"compare op must be one of {_OPS}, got {self.op!r}")
        if self.target == "value":
            if not isinstance(self.value, bytes):
                raise TypeError("a value compare needs a bytes operand")
        elif isinstance(self.value, bool) or not isinstance(self.value, int):
            raise TypeError(f"a {self.target} compare needs an int operand")

    def evaluate(self, kv: KeyValue | None) -> bool:
        """True when ``kv`` (None = absent key) satisfies this condition."""
        actual: int | bytes
        if self.target == "value":
            if kv is None:
                return False
            actual = kv.value
        elif kv is None:
            actual = 0
        else:
            actual = getattr(kv, self.target)
        expected = self.value
        if self.op == "==":
            return actual == expected
        if self.op == "!=":
            return actual != expected
        # Operands have the same type here: __post_init__ pinned it to the target's type.
        if self.op == "<":
            return actual < expected  # type: ignore[operator]
        return actual > expected  # type: ignore[operator]


@dataclass(frozen=True, slots=True)
class Op:
    """A write inside a transaction. Build with :meth:`put`, :meth:`delete`, :meth:`delete_prefix`.

    Ops of one branch apply in order; a key written twice ends with the later write.
    """

    kind: OpKind
    key: str
    value: bytes = b""
    lease: int = 0

    @classmethod
    def put(cls, key: str, value: bytes, lease: int = 0) -> Op:
        return cls("put", key, bytes(value), lease)

    @classmethod
    def delete(cls, key: str) -> Op:
        return cls("delete", key)

    @classmethod
    def delete_prefix(cls, prefix: str) -> Op:
        return cls("delete_prefix", prefix)


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """A change seen by a watcher.

    For ``"put"`` ``kv`` is the key's new state. For ``"delete"`` it is a
    tombstone: the key, ``value=b""``, ``mod_revision`` = the deleting revision,
    and zero create_revision/version/lease (as etcd reports deletes).
    """

    type: EventType
    kv: KeyValue


class WatchHandle(Protocol):
    def cancel(self) -> None:
        """Stop delivery. Idempotent. Once it returns no new callback starts; a
        callback already running on the dispatcher thread may finish."""
        ...


class MetaStore(Protocol):
    """Key-value meta store with revisions, transactions, prefix watches and leases."""

    def get(self, key: str) -> KeyValue | None:
        """The key's current state, or None when absent."""
        ...

    def get_prefix(self, prefix: str) -> list[KeyValue]:
        """Every key starting with ``prefix`` (``""`` = all), sorted by key."""
        ...

    def put(self, key: str, value: bytes, lease: int = 0) -> int:
        """Create or replace ``key``; returns the new revision. Raises LeaseNotFound
        when ``lease`` is not 0 and not a live lease."""
        ...

    def delete(self, key: str) -> bool:
        """Delete ``key``; True if it existed."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix`` in one revision; returns how many."""
        ...

    def txn(self, compares: Sequence[Compare], success: Sequence[Op], failure: Sequence[Op] = ()) -> bool:
        """Atomically: if every compare holds apply ``success`` and return True, else
        apply ``failure`` and return False. Raises LeaseNotFound (and applies nothing)
        if an op of the chosen branch names a dead lease."""
        ...

    def watch_prefix(self, prefix: str, callback: Callable[[WatchEvent], None]) -> WatchHandle:
        """Deliver every later change under ``prefix`` to ``callback`` (see module docstring)."""
        ...

    def grant_lease(self, ttl_seconds: float) -> int:
        """Create a lease that expires ``ttl_seconds`` from now unless kept alive; returns its id (> 0)."""
        ...

    def keepalive(self, lease: int) -> bool:
        """Restart the lease's TTL; False if it is unknown or already expired."""
        ...

    def revoke_lease(self, lease: int) -> None:
        """Expire the lease now, deleting its keys. Unknown leases are ignored."""
        ...

    def revision(self) -> int:
        """The store's current revision."""
        ...

    def close(self) -> None:
        """Stop background threads and release resources. Idempotent; later calls raise StorageClosed."""
        ...
