"""A WAL with no local disk: batches of records as immutable objects (in the style of Woodpecker).

URL ``objectstore`` or ``objectstore://prefix``; the process's
:class:`~elanus.storage.objects.base.ObjectStore` and
:class:`~elanus.storage.meta.base.MetaStore` are passed in (and not closed by
the WAL). Keys, with ``P`` = ``prefix/`` (or nothing)::

    meta     P wal/channels/<channel>  -> {"start": truncation point, "epoch": writer epoch}
    objects  P wal/<channel>/<gen>/<first offset:020d>.batch

``gen`` is the ``create_revision`` of the channel's meta key: a dropped and
re-created channel gets a fresh key space, so a straggling batch of the old
incarnation can never appear in the new one.

Write path (group commit). ``append_async`` assigns the offset under the
channel's lock and queues the record. One flusher thread per channel this
process writes takes everything queued (up to ``max_batch_bytes``), encodes it
as one batch object (format in :mod:`._batch`) and creates it with
``put_if_absent`` under the key of its first offset; the appends are
acknowledged (and become visible) only after that put returns. While a put is
in flight new appends pile up for the next batch, so batch size follows the
load; after a batch of several records the flusher lingers ``linger_seconds``
so that the appenders just acknowledged join the next batch. Puts of one
channel are sequential: a batch is acknowledged only after every earlier one,
which is the prefix rule. ``durable=False`` is treated as durable.

Writer fencing. Batches form a chain (each starts where the previous ended),
and a put succeeds only at a key nobody has written, so two writers can never
both extend the chain from the same point. The first append of a process to a
channel takes the channel over: it bumps the epoch in the meta key (a txn
compare-and-swap) and lists the channel to find its end. An old writer finds
out either from the meta-store watch (the epoch grew) or because its next
``put_if_absent`` finds the key taken; from then on its appends fail with
:class:`WalFenced` until this process calls ``create_channel`` for the channel
again (which is how a data node that is given the channel back re-takes it).
Another failure of a put fails the batch and everything queued after it;
the next append takes the channel over again, which re-reads its end.

Recovery: nothing to do on open. A channel's end is the end of its last batch
object (found by listing, then probing the next keys), or its truncation point
when that is higher. Truncation persists the point in the meta key first, then
deletes the batches that lie wholly below it, always keeping the last batch.

Reading: see :class:`~elanus.storage.wal._batch.ObjectStoreWalReader`. A
process that does not write a channel learns its end (``end_offset``,
``visible_offset``, ``reader`` bounds) by probing the object store, and its
truncation point and drop through a watch on the meta keys.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from elanus.storage.errors import ChannelNotFound, ObjectNotFound, StorageClosed, StorageError
from elanus.storage.meta.base import Compare, KeyValue, MetaStore, Op, WatchEvent
from elanus.storage.objects.base import ObjectStore, validate_key
from elanus.storage.wal import _batch
from elanus.storage.wal._batch import ObjectStoreWalReader
from elanus.storage.wal.base import check_truncation_point, validate_channel_name

__all__ = ["ObjectStoreWal", "WalFenced"]

DEFAULT_MAX_BATCH_BYTES = 8 << 20
DEFAULT_LINGER_SECONDS = 0.001


class WalFenced(StorageError):
    """Another process took over writing this channel; this one may no longer append to it."""


@dataclass(slots=True)
class _Pending:
    offset: int
    payload: bytes
    future: Future[int]


@dataclass(eq=False)
class _Channel:
    """What this process knows about one channel incarnation. Fields guarded by ``lock``."""

    name: str
    gen: int  # create_revision of the meta key
    start: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    readers: threading.Condition = field(init=False)  # readers wait here for visible/stop
    work: threading.Condition = field(init=False)  # the flusher waits here for records
    take_lock: threading.Lock = field(default_factory=threading.Lock)  # serialises takeovers
    end: int = 0  # next offset to assign (owner), else the known end
    visible: int = 0
    tail_known: bool = False  # end/visible were found at least once
    owner: bool = False  # this process writes the channel (holds ``epoch``)
    epoch: int = 0
    fenced: WalFenced | None = None
    dropped: bool = False
    closed: bool = False
    stopping: bool = False  # the flusher drains the queue and exits
    queue: list[_Pending] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)  # first offsets (owner only)
    recent: dict[int, list[bytes]] = field(default_factory=dict)  # first offset -> payloads, oldest first
    recent_bytes: int = 0
    flusher: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.readers = threading.Condition(self.lock)
        self.work = threading.Condition(self.lock)


def _doc(kv: KeyValue) -> tuple[int, int]:
    doc = json.loads(kv.value)
    return int(doc["start"]), int(doc["epoch"])


def _encode_doc(start: int, epoch: int) -> bytes:
    return json.dumps({"start": start, "epoch": epoch}).encode()


class ObjectStoreWal:
    """:class:`~elanus.storage.wal.base.Wal` on an object store plus a meta store. Thread-safe."""

    def __init__(
        self,
        objects: ObjectStore,
        meta: MetaStore,
        prefix: str = "",
        *,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        linger_seconds: float = DEFAULT_LINGER_SECONDS,
    ) -> None:
        prefix = prefix.strip("/")
        if prefix:
            validate_key(prefix)
        root = f"{prefix}/wal/" if prefix else "wal/"
        self._objects = objects
        self._meta = meta
        self._obj_root = root
        self._meta_root = root + "channels/"
        self._max_batch_bytes = max_batch_bytes
        self._linger = linger_seconds
        self._lock = threading.Lock()  # guards _channels and _closed
        self._channels: dict[str, _Channel] = {}
        self._closed = False
        self._watch = meta.watch_prefix(self._meta_root, self._on_meta_event)

    # --------------------------------------------------------------- channels

    def create_channel(self, name: str) -> None:
        validate_channel_name(name)
        self._check_open()
        key = self._meta_root + name
        self._meta.txn([Compare(key, "version", "==", 0)], [Op.put(key, _encode_doc(0, 0))])
        state = self._state(name)
        with state.lock:
            if state.fenced is not None:  # asked for the channel again: the next append re-takes it
                state.fenced = None
                state.owner = False

    def drop_channel(self, name: str) -> None:
        self._check_open()
        kv = self._meta.get(self._meta_root + name)
        if kv is None:
            return
        with self._lock:
            state = self._channels.get(name)
        if state is not None and state.gen == kv.create_revision:
            self._mark_dropped(state)
            if state.flusher is not None and state.flusher is not threading.current_thread():
                state.flusher.join()  # a put in flight lands before the objects go
        self._meta.txn([Compare(kv.key, "create_revision", "==", kv.create_revision)], [Op.delete(kv.key)])
        self._objects.delete_prefix(f"{self._obj_root}{name}/{kv.create_revision}/")

    def channels(self) -> list[str]:
        self._check_open()
        return sorted(kv.key[len(self._meta_root) :] for kv in self._meta.get_prefix(self._meta_root))

    # ------------------------------------------------------------------ write

    def append_async(self, channel: str, payload: bytes, durable: bool = True) -> Future[int]:
        data = bytes(payload)
        state = self._state(channel)
        future: Future[int] = Future()
        if not state.owner:
            try:
                self._take_over(state)
            except (ChannelNotFound, StorageClosed):
                raise
            except Exception as exc:  # the stores failed: an I/O error, reported through the future
                future.set_exception(exc)
                return future
        with state.lock:
            self._check_open()
            if state.dropped:
                raise ChannelNotFound(channel)
            if state.fenced is not None:
                future.set_exception(state.fenced)
                return future
            if not state.owner:  # a failed put dropped the ownership meanwhile
                future.set_exception(StorageError(f"WAL channel {channel!r} is recovering from a failed write"))
                return future
            state.queue.append(_Pending(state.end, data, future))
            state.end += 1
            state.work.notify()
        return future

    def append(self, channel: str, payload: bytes, durable: bool = True) -> int:
        return self.append_async(channel, payload, durable).result()

    def truncate(self, channel: str, before_offset: int) -> None:
        state = self._state(channel)
        check_truncation_point(channel, before_offset, self.visible_offset(channel))

        def advance(start: int, epoch: int) -> tuple[int, int] | None:
            return None if before_offset <= start else (before_offset, epoch)

        if self._swap_doc(state, advance) is None:
            return  # already truncated there
        with state.lock:
            state.start = max(state.start, before_offset)
            state.readers.notify_all()
            firsts = list(state.batches) if state.owner else None
        if firsts is None:
            firsts = self._list_batches(state)
        # Batch i ends where batch i+1 starts; the last batch is always kept.
        doomed = [f for f, nxt in itertools.pairwise(firsts) if nxt <= before_offset]
        for first in doomed:
            self._objects.delete(self._batch_key(state, first))
        if doomed:
            with state.lock:
                gone = set(doomed)
                state.batches = [f for f in state.batches if f not in gone]

    # ------------------------------------------------------------------- read

    def end_offset(self, channel: str) -> int:
        state = self._state(channel)
        with state.lock:
            if state.owner:
                return state.end
        return self._discover(state)

    def visible_offset(self, channel: str) -> int:
        state = self._state(channel)
        with state.lock:
            if state.owner:
                return state.visible
        return self._discover(state)

    def reader(self, channel: str, start_offset: int) -> ObjectStoreWalReader:
        end = self.end_offset(channel)
        if not 0 <= start_offset <= end:
            raise ValueError(f"start offset {start_offset} is outside [0, {end}] for {channel!r}")
        return ObjectStoreWalReader(self, self._state(channel), start_offset)

    # -------------------------------------------------------------- lifecycle

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            states = list(self._channels.values())
        self._watch.cancel()
        for state in states:
            with state.lock:
                state.stopping = True
                state.work.notify()
                flusher = state.flusher
            if flusher is not None:
                flusher.join()  # it drains the queue first
            with state.lock:
                state.closed = True
                state.readers.notify_all()

    # --------------------------------------------------------------- internal

    def _check_open(self) -> None:
        if self._closed:
            raise StorageClosed("WAL is closed")

    def _batch_key(self, state: _Channel, first: int) -> str:
        return f"{self._obj_root}{state.name}/{state.gen}/{_batch.batch_name(first)}"

    def _list_batches(self, state: _Channel) -> list[int]:
        firsts = (_batch.parse_name(k) for k in self._objects.list(f"{self._obj_root}{state.name}/{state.gen}/"))
        return sorted(f for f in firsts if f is not None)

    def _state(self, name: str) -> _Channel:
        """This process's view of the channel's current incarnation (ChannelNotFound if none)."""
        with self._lock:
            self._check_open()
            state = self._channels.get(name)
        if state is not None and not state.dropped:
            return state
        kv = self._meta.get(self._meta_root + name)
        if kv is None:
            raise ChannelNotFound(name)
        start, _epoch = _doc(kv)
        fresh = _Channel(name, kv.create_revision, start)
        with self._lock:
            self._check_open()
            state = self._channels.get(name)
            if state is None or state.dropped or state.gen < fresh.gen:
                self._channels[name] = state = fresh
        return state

    def _discover(self, state: _Channel) -> int:
        """Bring a channel's end (written by another process) up to date; returns it."""
        with state.lock:
            known, listed = state.visible, state.tail_known
        if not listed:
            firsts = self._list_batches(state)
            if firsts:
                known = max(known, firsts[-1])
        while True:  # probe the keys after the last known batch
            key = self._batch_key(state, known)
            try:
                header = self._objects.get_range(key, 0, _batch.HEADER.size)
            except ObjectNotFound:
                break
            _epoch, _first, count, _crc = _batch.decode_header(key, header)
            if count == 0:
                break
            known += count
        with state.lock:
            if state.dropped:
                raise ChannelNotFound(state.name)
            if not state.owner:
                state.visible = max(state.visible, known, state.start)
                state.end = max(state.end, state.visible)
                state.tail_known = True
            return state.visible

    def _take_over(self, state: _Channel) -> None:
        """Become the channel's writer: bump its epoch, find its end, start its flusher."""
        with state.take_lock:
            if state.owner or state.fenced is not None:
                return
            old = state.flusher
            if old is not None and old is not threading.current_thread():
                old.join()  # a flusher of an earlier ownership: let it finish first

            def bump(start: int, epoch: int) -> tuple[int, int]:
                with state.lock:
                    state.epoch = epoch + 1  # before the txn, so the watch sees our own bump as ours
                return start, epoch + 1

            try:
                doc = self._swap_doc(state, bump)
            except ChannelNotFound:
                self._mark_dropped(state)
                raise
            assert doc is not None  # bump always changes the doc
            start = doc[0]
            with state.lock:
                state.tail_known = False
            end = self._discover(state)
            firsts = self._list_batches(state)
            with state.lock:
                self._check_open()
                if state.dropped:
                    raise ChannelNotFound(state.name)
                state.start = max(state.start, start)
                state.end = state.visible = max(end, state.visible)
                state.batches = firsts
                state.owner = True
                state.stopping = False
                state.flusher = threading.Thread(
                    target=self._flush_loop, args=(state,), name=f"elanus-wal-{state.name}", daemon=True
                )
                state.flusher.start()

    def _swap_doc(
        self, state: _Channel, change: Callable[[int, int], tuple[int, int] | None]
    ) -> tuple[int, int] | None:
        """Compare-and-swap the channel's meta doc ``(start, epoch)`` to ``change(start, epoch)``.

        Returns the doc written, or None when ``change`` left it as it was; raises
        ChannelNotFound when the channel's incarnation is gone.
        """
        key = self._meta_root + state.name
        while True:
            kv = self._meta.get(key)
            if kv is None or kv.create_revision != state.gen:
                raise ChannelNotFound(state.name)
            doc = change(*_doc(kv))
            if doc is None:
                return None
            if self._meta.txn([Compare(key, "mod_revision", "==", kv.mod_revision)], [Op.put(key, _encode_doc(*doc))]):
                return doc

    def _mark_dropped(self, state: _Channel) -> None:
        with state.lock:
            state.dropped = True
            state.stopping = True
            queued, state.queue = state.queue, []
            state.work.notify()
            state.readers.notify_all()
        for item in queued:
            item.future.set_exception(ChannelNotFound(state.name))

    def _on_meta_event(self, event: WatchEvent) -> None:
        name = event.kv.key[len(self._meta_root) :]
        with self._lock:
            state = self._channels.get(name)
        if state is None:
            return
        # Events arrive in revision order, but may be older than the incarnation cached here.
        if event.type == "delete":
            if event.kv.mod_revision > state.gen:
                self._mark_dropped(state)
            return
        if event.kv.create_revision != state.gen:
            if event.kv.create_revision > state.gen:
                self._mark_dropped(state)  # dropped and created again: this incarnation is gone
            return
        start, epoch = _doc(event.kv)
        with state.lock:
            if start > state.start:
                state.start = start
                state.readers.notify_all()
            if state.owner and epoch > state.epoch:
                state.fenced = WalFenced(f"another writer took WAL channel {name!r} over (epoch {epoch})")
                state.owner = False  # readers here now poll for the new writer's batches
                state.stopping = True  # the flusher fails what is queued, then exits
                state.work.notify()
                state.readers.notify_all()

    def _flush_loop(self, state: _Channel) -> None:
        linger = False
        while True:
            with state.lock:
                while not state.queue and not state.stopping:
                    state.work.wait()
                if not state.queue or state.flusher is not threading.current_thread():
                    return
                if linger and not state.stopping:
                    deadline = time.monotonic() + self._linger
                    while (remaining := deadline - time.monotonic()) > 0 and not state.stopping:
                        state.work.wait(remaining)
                size, take = 0, 0
                for item in state.queue:
                    if take and size + len(item.payload) > self._max_batch_bytes:
                        break
                    size += len(item.payload)
                    take += 1
                batch, state.queue = state.queue[:take], state.queue[take:]
            if not self._write(state, batch):
                return
            linger = len(batch) > 1

    def _write(self, state: _Channel, batch: list[_Pending]) -> bool:
        """Put one batch and settle its futures; False when this flusher must stop."""
        first = batch[0].offset
        payloads = [item.payload for item in batch]
        error: BaseException | None = None
        try:
            if state.fenced is not None:
                raise state.fenced
            data = _batch.encode(state.epoch, first, payloads)
            if not self._objects.put_if_absent(self._batch_key(state, first), data):
                raise WalFenced(f"batch {first} of WAL channel {state.name!r} was written by another writer")
        except BaseException as exc:
            error = exc
        with state.lock:
            if error is None and not state.dropped:
                state.batches.append(first)
                state.recent[first] = payloads
                state.recent_bytes += sum(map(len, payloads))
                while len(state.recent) > _batch.RECENT_BATCHES or state.recent_bytes > _batch.RECENT_BYTES:
                    state.recent_bytes -= sum(map(len, state.recent.pop(next(iter(state.recent)))))
                state.visible = first + len(batch)
                state.readers.notify_all()
                ok = True
            else:
                if state.dropped:
                    error = ChannelNotFound(state.name)
                elif isinstance(error, WalFenced):
                    state.fenced = error
                # Later records were numbered after this one: they cannot be written now.
                batch, state.queue = batch + state.queue, []
                state.owner = False
                state.flusher = None
                ok = False
        for item in batch:
            if error is None:
                item.future.set_result(item.offset)
            else:
                item.future.set_exception(error)
        return ok
