"""The embedded meta store: SQLite on local disk, one owner process.

Layout: ``<directory>/meta.sqlite3`` (+ its ``-wal``/``-shm`` files) and
``<directory>/LOCK``. The database holds the keys and the global revision
counter; each mutating call is one SQLite transaction committed with
``synchronous=FULL`` in WAL journal mode, which fsyncs the log before
``COMMIT`` returns — that is the durability point of every call.

Concurrency: one connection, used only under ``self._lock``; the revision is
cached in memory and only changed under that lock together with the commit.
Watch events are published while the lock is held (so their order is commit
order) and delivered later by :class:`WatchDispatcher` without it.

Leases live in memory only (id -> TTL and monotonic deadline); a background
thread sleeps until the nearest deadline and revokes what has expired. Because
they are not persisted, opening the store deletes every key still attached to
a lease: its owner cannot have kept it alive across our restart.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from elanus.storage._dirlock import DirectoryLock
from elanus.storage._fsync import fsync_dir
from elanus.storage.errors import InvalidKey, LeaseNotFound, StorageClosed
from elanus.storage.meta._watch import WatchDispatcher
from elanus.storage.meta.base import Compare, KeyValue, Op, WatchEvent, WatchHandle

_log = logging.getLogger(__name__)

_DB_NAME = "meta.sqlite3"
_COLUMNS = "key, value, create_revision, mod_revision, version, lease"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key BLOB PRIMARY KEY,
    value BLOB NOT NULL,
    create_revision INTEGER NOT NULL,
    mod_revision INTEGER NOT NULL,
    version INTEGER NOT NULL,
    lease INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_by_lease ON kv (lease) WHERE lease != 0;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES ('revision', 0);
"""
# After a failure in the expiry thread, wait this long before retrying so a
# persistent error (disk full) does not turn into a busy loop.
_EXPIRY_RETRY_SECONDS = 1.0


def _encode_key(key: str) -> bytes:
    if not isinstance(key, str) or not key:
        raise InvalidKey(f"meta keys are non-empty strings, got {key!r}")
    return key.encode()


def _prefix_bounds(prefix: str) -> tuple[bytes, bytes | None]:
    """[start, end) covering every key that starts with ``prefix``; end None = unbounded.

    Keys are stored as UTF-8 BLOBs, whose memcmp order SQLite uses, so the end
    bound is the prefix with its last byte incremented (bytes 0xFF dropped first).
    """
    start = prefix.encode()
    end = bytearray(start)
    while end and end[-1] == 0xFF:
        end.pop()
    if not end:
        return start, None
    end[-1] += 1
    return start, bytes(end)


def _row_to_kv(row: tuple[bytes, bytes, int, int, int, int]) -> KeyValue:
    key, value, create_rev, mod_rev, version, lease = row
    return KeyValue(key.decode(), bytes(value), create_rev, mod_rev, version, lease)


@dataclass
class _Lease:
    ttl: float
    deadline: float  # time.monotonic() after which the lease is dead


@dataclass
class _Write:
    """The changes of one write transaction, all stamped with one revision."""

    revision: int
    events: list[WatchEvent] = field(default_factory=list)


class LocalMetaStore:
    """:class:`~elanus.storage.meta.base.MetaStore` on SQLite. Thread-safe."""

    def __init__(self, directory: str | Path) -> None:
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._dir_lock = DirectoryLock(self._dir)
        try:
            db_path = self._dir / _DB_NAME
            created = not db_path.exists()
            self._conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
            if created:
                fsync_dir(self._dir)  # SQLite syncs file contents, not the new directory entry
            (self._revision,) = self._conn.execute(
                "SELECT value FROM counters WHERE name = 'revision'"
            ).fetchone()
        except BaseException:
            self._dir_lock.release()
            raise
        self._lock = threading.Lock()
        self._lease_cv = threading.Condition(self._lock)
        self._leases: dict[int, _Lease] = {}
        self._closed = False
        self._dispatcher = WatchDispatcher(f"elanus-meta-watch:{self._dir.name}")
        with self._lock, self._writing() as write:
            for (key,) in self._conn.execute("SELECT key FROM kv WHERE lease != 0").fetchall():
                self._delete_locked(write, key)
        self._lease_thread = threading.Thread(
            target=self._expire_loop, name=f"elanus-meta-leases:{self._dir.name}", daemon=True
        )
        self._lease_thread.start()

    # ------------------------------------------------------------------ reads

    def get(self, key: str) -> KeyValue | None:
        raw = _encode_key(key)
        with self._lock:
            self._check_open()
            return self._get_locked(raw)

    def get_prefix(self, prefix: str) -> list[KeyValue]:
        start, end = _prefix_bounds(prefix)
        with self._lock:
            self._check_open()
            if end is None:
                rows = self._conn.execute(
                    f"SELECT {_COLUMNS} FROM kv WHERE key >= ? ORDER BY key", (start,)
                ).fetchall()
            else:
                rows = self._conn.execute(
                    f"SELECT {_COLUMNS} FROM kv WHERE key >= ? AND key < ? ORDER BY key", (start, end)
                ).fetchall()
        return [_row_to_kv(row) for row in rows]

    def revision(self) -> int:
        with self._lock:
            self._check_open()
            return self._revision

    # ----------------------------------------------------------------- writes

    def put(self, key: str, value: bytes, lease: int = 0) -> int:
        raw = _encode_key(key)
        with self._lock:
            self._check_open()
            self._require_lease_locked(lease)
            with self._writing() as write:
                self._put_locked(write, raw, bytes(value), lease)
            return self._revision

    def delete(self, key: str) -> bool:
        raw = _encode_key(key)
        with self._lock:
            self._check_open()
            with self._writing() as write:
                return self._delete_locked(write, raw)

    def delete_prefix(self, prefix: str) -> int:
        with self._lock:
            self._check_open()
            with self._writing() as write:
                return self._delete_prefix_locked(write, prefix)

    def txn(self, compares: Sequence[Compare], success: Sequence[Op], failure: Sequence[Op] = ()) -> bool:
        compare_keys = [_encode_key(c.key) for c in compares]
        for op in (*success, *failure):
            if op.kind != "delete_prefix":
                _encode_key(op.key)
        with self._lock:
            self._check_open()
            ok = all(c.evaluate(self._get_locked(k)) for c, k in zip(compares, compare_keys, strict=True))
            ops = success if ok else failure
            # Checked before anything is written so a dead lease aborts the whole branch.
            for op in ops:
                if op.kind == "put":
                    self._require_lease_locked(op.lease)
            with self._writing() as write:
                for op in ops:
                    if op.kind == "put":
                        self._put_locked(write, op.key.encode(), op.value, op.lease)
                    elif op.kind == "delete":
                        self._delete_locked(write, op.key.encode())
                    else:
                        self._delete_prefix_locked(write, op.key)
            return ok

    # ---------------------------------------------------------------- watches

    def watch_prefix(self, prefix: str, callback: Callable[[WatchEvent], None]) -> WatchHandle:
        with self._lock:
            self._check_open()
            # Registered under the lock: every commit after this one is delivered, none before.
            return self._dispatcher.add(prefix, callback, self._revision)

    # ----------------------------------------------------------------- leases

    def grant_lease(self, ttl_seconds: float) -> int:
        if not ttl_seconds > 0:
            raise ValueError(f"lease TTL must be positive, got {ttl_seconds}")
        with self._lock:
            self._check_open()
            # Random ids, not a counter: ids of a previous run must never be reissued,
            # or a stale holder could keep a new owner's keys alive.
            lease = 0
            while lease == 0 or lease in self._leases:
                lease = secrets.randbits(63)
            self._leases[lease] = _Lease(ttl_seconds, time.monotonic() + ttl_seconds)
            self._lease_cv.notify()  # the new deadline may be the nearest one
            return lease

    def keepalive(self, lease: int) -> bool:
        with self._lock:
            self._check_open()
            now = time.monotonic()
            self._expire_locked(now)
            state = self._leases.get(lease)
            if state is None:
                return False
            state.deadline = now + state.ttl
            return True

    def revoke_lease(self, lease: int) -> None:
        with self._lock:
            self._check_open()
            if lease in self._leases:
                # Keys first: if that fails the lease stays known and expiry retries it.
                self._drop_lease_keys_locked(lease)
                del self._leases[lease]

    # -------------------------------------------------------------- lifecycle

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._lease_cv.notify_all()
        self._lease_thread.join()
        self._dispatcher.close()
        with self._lock:
            self._conn.close()
            self._dir_lock.release()

    # --------------------------------------------------------------- internal

    def _check_open(self) -> None:
        if self._closed:
            raise StorageClosed("meta store is closed")

    @contextmanager
    def _writing(self) -> Iterator[_Write]:
        """One SQLite write transaction; commits, bumps the revision and publishes
        events only if something changed. Caller holds ``self._lock``."""
        self._conn.execute("BEGIN IMMEDIATE")
        write = _Write(self._revision + 1)
        try:
            yield write
            if write.events:
                self._conn.execute("UPDATE counters SET value = ? WHERE name = 'revision'", (write.revision,))
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        if write.events:
            self._revision = write.revision
            self._dispatcher.publish(write.events)

    def _get_locked(self, key: bytes) -> KeyValue | None:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else _row_to_kv(row)

    def _put_locked(self, write: _Write, key: bytes, value: bytes, lease: int) -> None:
        row = self._conn.execute("SELECT create_revision, version FROM kv WHERE key = ?", (key,)).fetchone()
        create_rev, version = (write.revision, 1) if row is None else (row[0], row[1] + 1)
        kv = KeyValue(key.decode(), value, create_rev, write.revision, version, lease)
        self._conn.execute(
            f"INSERT OR REPLACE INTO kv ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (key, value, create_rev, write.revision, version, lease),
        )
        write.events.append(WatchEvent("put", kv))

    def _delete_locked(self, write: _Write, key: bytes) -> bool:
        if self._conn.execute("DELETE FROM kv WHERE key = ?", (key,)).rowcount == 0:
            return False
        write.events.append(WatchEvent("delete", KeyValue(key.decode(), b"", 0, write.revision, 0, 0)))
        return True

    def _delete_prefix_locked(self, write: _Write, prefix: str) -> int:
        start, end = _prefix_bounds(prefix)
        where, args = ("key >= ?", (start,)) if end is None else ("key >= ? AND key < ?", (start, end))
        keys = self._conn.execute(f"SELECT key FROM kv WHERE {where} ORDER BY key", args).fetchall()
        self._conn.execute(f"DELETE FROM kv WHERE {where}", args)
        for (key,) in keys:
            write.events.append(WatchEvent("delete", KeyValue(key.decode(), b"", 0, write.revision, 0, 0)))
        return len(keys)

    def _require_lease_locked(self, lease: int) -> None:
        if lease == 0:
            return
        self._expire_locked(time.monotonic())
        if lease not in self._leases:
            raise LeaseNotFound(lease)

    def _drop_lease_keys_locked(self, lease: int) -> None:
        """Delete every key attached to ``lease``, all in one revision."""
        with self._writing() as write:
            for (key,) in self._conn.execute(
                "SELECT key FROM kv WHERE lease = ? ORDER BY key", (lease,)
            ).fetchall():
                self._delete_locked(write, key)

    def _expire_locked(self, now: float) -> None:
        # Also called on the request path so a lease whose deadline passed is dead
        # at once, whether or not the expiry thread has woken up yet.
        for lease in [lease for lease, state in self._leases.items() if state.deadline <= now]:
            self._drop_lease_keys_locked(lease)
            del self._leases[lease]

    def _expire_loop(self) -> None:
        with self._lock:
            while not self._closed:
                timeout: float | None
                try:
                    now = time.monotonic()
                    self._expire_locked(now)
                    nearest = min((s.deadline for s in self._leases.values()), default=None)
                    timeout = None if nearest is None else max(0.0, nearest - now)
                except Exception:
                    _log.exception("meta lease expiry failed; retrying")
                    timeout = _EXPIRY_RETRY_SECONDS
                self._lease_cv.wait(timeout)
