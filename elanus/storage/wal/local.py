"""The embedded WAL: channels as directories of segment files, with group commit.

Layout: ``<root>/LOCK`` and ``<root>/<channel>/`` holding the segment files
(format in :mod:`._format`) and an optional ``START`` file (truncation point).

Write path. ``append_async`` encodes the frame on the caller's thread, then,
under the lock, assigns the channel's next offset and queues the record: the
order of calls is the order in the channel. One writer thread repeatedly takes
*everything* queued, writes each touched channel's records with one
``write``, fsyncs each touched channel once if any of its records in the batch
is durable, publishes the new visible offsets and only then resolves the
futures. While it waits for the disk, new appends pile up for the next batch,
so N concurrent appenders share roughly one fsync instead of paying N — the
batch size adapts to the load. The only timer is a short linger (0.5 ms by
default, and only after a batch from several threads) that lets the appenders
just acknowledged rejoin the next batch instead of forming a second cohort.

Failure. If a write or fsync fails, the durable state of the files is unknown
(after a failed fsync Linux may drop the dirty pages and report success next
time), so the log stops accepting appends and fails every pending future;
reopening it recovers from what actually reached the disk.

Locks, always taken in this order: ``_ddl_lock`` (create/drop/truncate),
``_io_lock`` (the writer's batch, or a drop closing a channel's file),
``_lock`` (shared state: the queue, every channel's offsets, and the
condition variables the writer and the readers wait on).
"""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from elanus.storage._dirlock import DirectoryLock
from elanus.storage._fsync import fsync_dir
from elanus.storage.errors import ChannelNotFound, StorageClosed, StorageError
from elanus.storage.wal import _format
from elanus.storage.wal._channel import ChannelState
from elanus.storage.wal._reader import LocalWalReader
from elanus.storage.wal.base import check_truncation_point, validate_channel_name

DEFAULT_SEGMENT_BYTES = 64 << 20
# Longest the writer waits for the previous batch's appenders to queue again
# (see _write_loop): a small fraction of an fsync, which costs milliseconds.
DEFAULT_LINGER_SECONDS = 0.0005


@dataclass(slots=True)
class _Pending:
    channel: ChannelState
    offset: int
    frame: bytes
    durable: bool
    future: Future[int]


class LocalWal:
    """:class:`~elanus.storage.wal.base.Wal` on local disk. Thread-safe; one instance per root."""

    def __init__(
        self,
        root: str | Path,
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        linger_seconds: float = DEFAULT_LINGER_SECONDS,
    ) -> None:
        if segment_bytes < 1:
            raise ValueError(f"segment_bytes must be positive, got {segment_bytes}")
        self._linger = linger_seconds
        self._root = Path(root).absolute()
        self._root.mkdir(parents=True, exist_ok=True)
        self._segment_bytes = segment_bytes
        self._dir_lock = DirectoryLock(self._root)
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # the writer waits here for records
        self._io_lock = threading.Lock()
        self._ddl_lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._queued_threads: set[int] = set()  # threads with a record in _queue
        self._channels: dict[str, ChannelState] = {}
        self._closing = False
        self._failure: BaseException | None = None
        try:
            for entry in sorted(self._root.iterdir()):
                if entry.is_dir() and _is_channel_name(entry.name):
                    self._channels[entry.name] = ChannelState.recover(entry, threading.Condition(self._lock))
        except BaseException:
            for state in self._channels.values():
                state.close_file()
            self._dir_lock.release()
            raise
        self._writer = threading.Thread(target=self._write_loop, name="elanus-wal-writer", daemon=True)
        self._writer.start()

    # --------------------------------------------------------------- channels

    def create_channel(self, name: str) -> None:
        validate_channel_name(name)
        with self._ddl_lock:
            with self._lock:
                self._check_open()
                if name in self._channels:
                    return
            state = ChannelState.create(self._root / name, threading.Condition(self._lock))
            with self._lock:
                self._channels[name] = state

    def drop_channel(self, name: str) -> None:
        with self._ddl_lock:
            with self._lock:
                self._check_open()
                state = self._channels.pop(name, None)
                if state is None:
                    return
                state.dropped = True
                state.cond.notify_all()
            # Records of this channel still queued fail with ChannelNotFound when the
            # writer reaches them; one it is writing right now finishes first.
            with self._io_lock:
                state.close_file()
            shutil.rmtree(state.path)
            fsync_dir(self._root)

    def channels(self) -> list[str]:
        with self._lock:
            self._check_open()
            return sorted(self._channels)

    # ------------------------------------------------------------------ write

    def append_async(self, channel: str, payload: bytes, durable: bool = True) -> Future[int]:
        frame = _format.encode(bytes(payload))  # CRC on the caller's thread, not the writer's
        future: Future[int] = Future()
        with self._lock:
            self._check_open()
            if self._failure is not None:
                raise StorageError("WAL stopped after an I/O failure; reopen it") from self._failure
            state = self._state(channel)
            offset = state.end
            state.end += 1
            self._queue.append(_Pending(state, offset, frame, durable, future))
            self._queued_threads.add(threading.get_ident())
            self._work.notify()
        return future

    def append(self, channel: str, payload: bytes, durable: bool = True) -> int:
        return self.append_async(channel, payload, durable).result()

    def truncate(self, channel: str, before_offset: int) -> None:
        with self._ddl_lock:
            with self._lock:
                self._check_open()
                state = self._state(channel)
                check_truncation_point(channel, before_offset, state.visible)
                if before_offset <= state.start:
                    return
            state.save_start(before_offset)  # persisted first: files below it may then go at any time
            with self._lock:
                state.start = before_offset
                # A segment can go when the next one starts at or below the cut; the
                # last segment is never deleted (the writer appends to it).
                keep = max(0, state.segment_of(before_offset))
                doomed, state.segments = state.segments[:keep], state.segments[keep:]
                for first in doomed:
                    state.index.pop(first, None)
            for first in doomed:
                (state.path / _format.segment_name(first)).unlink(missing_ok=True)
            if doomed:
                fsync_dir(state.path)

    # ------------------------------------------------------------------- read

    def end_offset(self, channel: str) -> int:
        with self._lock:
            self._check_open()
            return self._state(channel).end

    def visible_offset(self, channel: str) -> int:
        with self._lock:
            self._check_open()
            return self._state(channel).visible

    def reader(self, channel: str, start_offset: int) -> LocalWalReader:
        with self._lock:
            self._check_open()
            state = self._state(channel)
            if not 0 <= start_offset <= state.end:
                raise ValueError(f"start offset {start_offset} is outside [0, {state.end}] for {channel!r}")
            return LocalWalReader(state, start_offset)

    # -------------------------------------------------------------- lifecycle

    def close(self) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._work.notify()
        self._writer.join()  # it drains the queue before it exits
        with self._lock:
            for state in self._channels.values():
                state.closed = True
                state.cond.notify_all()
        with self._io_lock:
            for state in self._channels.values():
                state.close_file()
        self._dir_lock.release()

    # --------------------------------------------------------------- internal

    def _check_open(self) -> None:
        if self._closing:
            raise StorageClosed("WAL is closed")

    def _state(self, channel: str) -> ChannelState:
        state = self._channels.get(channel)
        if state is None:
            raise ChannelNotFound(channel)
        return state

    def _write_loop(self) -> None:
        expected: set[int] = set()  # appender threads of the last batch, if it had several
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._work.wait()
                # Threads whose appends the last batch just acknowledged come back within
                # microseconds. Without this short wait the writer would take only the
                # records queued meanwhile, and the appenders would settle into two
                # alternating cohorts, each paying its own fsync (half the batch size).
                # Only after a batch with several threads: a lone appender never waits.
                deadline = time.monotonic() + self._linger
                while not expected <= self._queued_threads and not self._closing:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._work.wait(remaining)
                if not self._queue:
                    return
                batch, self._queue = self._queue, []
                expected, self._queued_threads = self._queued_threads, set()
            if len(expected) < 2:
                expected = set()
            self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        """Write, sync and publish one batch; then resolve its futures."""
        groups: dict[ChannelState, list[_Pending]] = {}
        for item in batch:
            groups.setdefault(item.channel, []).append(item)
        failed: list[tuple[_Pending, BaseException]] = []
        with self._io_lock:
            if self._failure is not None:  # queued before the failure was known
                stopped = StorageError("WAL stopped after an I/O failure; reopen it")
                stopped.__cause__ = self._failure
                for item in batch:
                    item.future.set_exception(stopped)
                return
            try:
                for state, items in list(groups.items()):
                    if state.dropped:
                        failed.extend((item, ChannelNotFound(state.name)) for item in items)
                        del groups[state]
                        continue
                    state.write([(item.offset, item.frame) for item in items], self._segment_bytes)
                for state, items in groups.items():
                    if any(item.durable for item in items):
                        state.sync()
            except BaseException as exc:
                with self._lock:
                    self._failure = exc
                for item in batch:
                    item.future.set_exception(exc)
                return
        with self._lock:
            for state, items in groups.items():
                state.publish(items[-1].offset + 1)
        for item, error in failed:
            item.future.set_exception(error)
        for items in groups.values():
            for item in items:
                item.future.set_result(item.offset)


def _is_channel_name(name: str) -> bool:
    try:
        validate_channel_name(name)
    except ValueError:
        return False
    return True
