"""The WAL on NATS JetStream (nats-py): ``nats://host:port[,host:port][/namespace][?replicas=N]``.

Layout. One stream per channel, holding one subject
``elanus.wal.<namespace>.<stream>``; the stream's ``description`` is the
channel name. Why a stream per channel and not one per namespace: a channel's
offsets are then exactly its stream sequence numbers minus one, with no gaps
and no index to keep, and an append can carry the header
``Nats-Expected-Last-Sequence: <offset>``. JetStream stores the message only if
the stream's last sequence is still ``offset``, i.e. only directly after record
``offset - 1``. That is what lets several appends be in flight at once (they
are sent in call order on one connection, but even a lost or reordered one can
never leave a gap or a misnumbered record), and it fences a second writer out:
whoever's view of the end is stale gets "wrong last sequence". In a shared
stream per-subject sequences would be unknown until the PubAck returned, which
forces one round trip per append. Truncation purges the stream below
``offset + 1`` (the stream keeps its sequence numbers), and dropping a channel
deletes its stream.

Write path. ``append_async`` numbers the record under the lock and queues it;
one task on the private event-loop thread (nats-py is asyncio) publishes the
queued records in order, each with a reply subject under this WAL's inbox, and
resolves each future from its PubAck, which JetStream sends once the record is
stored (and replicated, for ``replicas`` > 1); no PubAck within
``ack_timeout`` fails the append. Appends are pipelined: a burst of calls costs
about one round trip. (Not nats-py's ``publish_async``: in 2.16 an error
answer, such as "wrong last sequence", leaves its future pending forever.)
Records larger than a NATS message are stored as in :mod:`._nats_big`.
``durable=False`` is treated as durable. Durability is the server's: a
single server with the default settings syncs its files every two minutes, so
for the machine-crash guarantee of the contract run a replicated stream
(``?replicas=3`` on a NATS cluster) or ``jetstream { sync_interval: always }``.
A failed append (timeout, wrong last sequence, server gone) fails that append
and every later one already numbered; once those settle the channel's end is
re-read from the stream and appends continue from there.

Reading (:mod:`._nats_reader`): one ephemeral pull consumer per reader,
starting at the reader's position, with pull requests on the reader's own inbox.

Another process's appends, truncations and drops become visible to
``end_offset`` / ``visible_offset`` / ``reader`` through the stream's state,
which those calls fetch whenever this process has no append of the channel in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import api

from elanus.storage.errors import ChannelNotFound, StorageClosed, StorageError
from elanus.storage.wal._nats_big import HEADER as BIG_HEADER
from elanus.storage.wal._nats_big import BigRecords
from elanus.storage.wal._nats_reader import NatsWalReader
from elanus.storage.wal.base import check_truncation_point, validate_channel_name

__all__ = ["NatsWal"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_NAMESPACE = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEFAULT_NAMESPACE = "elanus"
API_TIMEOUT = 10.0
CONNECT_TIMEOUT = 10.0
ACK_TIMEOUT = 10.0
_WRONG_LAST_SEQUENCE = 10071
_STREAM_NOT_FOUND = 10059
_HEADER_ROOM = 64 << 10  # of max_payload, left for headers


class _AppendRejected(Exception):
    """JetStream answered an append with an error."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('description')} (code {error.get('code')}, err_code {error.get('err_code')})")
        self.err_code = error.get("err_code")


@dataclass(eq=False)
class _Channel:
    """This process's view of one channel (one stream). Guarded by the WAL's lock."""

    name: str
    stream: str
    subject: str
    start: int = 0
    end: int = 0
    visible: int = 0
    inflight: int = 0  # appends numbered but not yet settled
    generation: int = 0  # bumped when the end is re-read after a failure
    broken: BaseException | None = None
    dropped: bool = False
    closed: bool = False
    readers: set[NatsWalReader] = field(default_factory=set)
    created: datetime.datetime | None = None  # the stream's creation time: tells incarnations apart


@dataclass(slots=True)
class _Pending:
    state: _Channel
    offset: int
    generation: int
    payload: bytes
    future: Future[int]


class NatsWal:
    """:class:`~elanus.storage.wal.base.Wal` on NATS JetStream. Thread-safe."""

    def __init__(self, url: str, *, ack_timeout: float = ACK_TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        parts = urlsplit(url)
        if parts.scheme != "nats" or not parts.netloc:
            raise ValueError(f"expected nats://host:port[/namespace], got {url!r}")
        self.namespace = parts.path.strip("/") or DEFAULT_NAMESPACE
        if not _NAMESPACE.fullmatch(self.namespace):
            raise ValueError(f"a NATS WAL namespace is 1-64 characters of [A-Za-z0-9_-], got {self.namespace!r}")
        query = parse_qs(parts.query)
        self._replicas = int(query.get("replicas", ["1"])[0])
        servers = [f"nats://{host}" for host in parts.netloc.split(",")]
        self._ack_timeout = ack_timeout
        self._lock = threading.Lock()
        self._channels: dict[str, _Channel] = {}
        self._queue: list[_Pending] = []
        self._draining = False
        self._closing = False
        self._settled = threading.Condition(self._lock)  # close() waits here for in-flight appends
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="elanus-wal-nats", daemon=True)
        self._thread.start()
        try:
            self.nc: NatsClient = self.run(self._connect(servers, connect_timeout))
        except BaseException:
            self._stop_loop()
            raise
        self.js = self.nc.jetstream(timeout=API_TIMEOUT)
        self._inline_limit = max(1024, self.nc.max_payload - _HEADER_ROOM)
        self.big = BigRecords(self.nc, self.js, self.namespace, self._replicas)
        self._acks: dict[str, Callable[[Msg | None], None]] = {}  # reply token -> PubAck handler
        self._ack_prefix = self.nc.new_inbox() + "."
        self._next_token = 0
        self.run(self.nc.subscribe(self._ack_prefix + "*", cb=self._on_ack_message))

    async def _connect(self, servers: list[str], timeout: float) -> NatsClient:
        async def on_error(exc: Exception) -> None:
            log.debug("NATS connection error: %s", exc)

        # Once connected it reconnects forever; the first connection must succeed within ``timeout``.
        connecting = nats.connect(
            servers=servers,
            name="elanus-wal",
            connect_timeout=2,
            reconnect_time_wait=0.5,
            max_reconnect_attempts=-1,
            error_cb=on_error,
        )
        try:
            return await asyncio.wait_for(connecting, timeout)
        except TimeoutError:
            raise ConnectionError(f"no NATS server answered at {', '.join(servers)}") from None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the WAL's event loop and wait for its result (never call from that loop)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # --------------------------------------------------------------- channels

    def create_channel(self, name: str) -> None:
        validate_channel_name(name)
        self._check_open()
        stream, subject = self._names(name)
        config = api.StreamConfig(
            name=stream,
            description=name,
            subjects=[subject],
            storage=api.StorageType.FILE,
            retention=api.RetentionPolicy.LIMITS,
            num_replicas=self._replicas,
            allow_direct=True,
        )
        try:
            info = self.run(self.js.add_stream(config))
        except nats.js.errors.BadRequestError:  # exists with another configuration: keep it as it is
            info = self.run(self.js.stream_info(stream))
        self._adopt(name, info)

    def drop_channel(self, name: str) -> None:
        self._check_open()
        stream, _subject = self._names(name)
        with self._lock:
            state = self._channels.pop(name, None)
            if state is not None:
                state.dropped = True  # queued appends fail with ChannelNotFound; blocked reads too
        for reader in list(state.readers) if state is not None else []:
            reader.wake()
        try:
            self.run(self.js.delete_stream(stream))
        except nats.js.errors.NotFoundError:
            pass
        self.run(self.big.delete(stream, None))

    def channels(self) -> list[str]:
        self._check_open()
        return sorted(self.run(self._list_channels()))

    async def _list_channels(self) -> list[str]:
        prefix = f"elanus.wal.{self.namespace}."
        names: list[str] = []
        offset = 0
        while True:
            page = await self.js.streams_info(offset)
            for info in page:
                subjects = info.config.subjects or []
                if info.config.description and subjects and subjects[0].startswith(prefix):
                    names.append(info.config.description)
            if not page:
                return names
            offset += len(page)

    # ------------------------------------------------------------------ write

    def append_async(self, channel: str, payload: bytes, durable: bool = True) -> Future[int]:
        data = bytes(payload)
        state = self._state(channel)
        future: Future[int] = Future()
        with self._lock:
            self._check_open()
            if state.dropped:
                raise ChannelNotFound(channel)
            item = _Pending(state, state.end, state.generation, data, future)
            state.end += 1
            state.inflight += 1
            self._queue.append(item)
            if not self._draining:
                self._draining = True
                self.loop.call_soon_threadsafe(lambda: self.loop.create_task(self._drain()))
        return future

    def append(self, channel: str, payload: bytes, durable: bool = True) -> int:
        return self.append_async(channel, payload, durable).result()

    def truncate(self, channel: str, before_offset: int) -> None:
        state = self._state(channel)
        check_truncation_point(channel, before_offset, self.visible_offset(channel))
        with self._lock:
            if before_offset <= state.start:
                return
        try:
            self.run(self.js.purge_stream(state.stream, seq=before_offset + 1))
        except nats.js.errors.NotFoundError:
            raise ChannelNotFound(channel) from None
        with self._lock:
            state.start = max(state.start, before_offset)
        self.run(self.big.delete(state.stream, before_offset))

    # ------------------------------------------------------------------- read

    def end_offset(self, channel: str) -> int:
        state = self._refresh(self._state(channel))
        with self._lock:
            return state.end

    def visible_offset(self, channel: str) -> int:
        state = self._refresh(self._state(channel))
        with self._lock:
            return state.visible

    def reader(self, channel: str, start_offset: int) -> NatsWalReader:
        end = self.end_offset(channel)
        if not 0 <= start_offset <= end:
            raise ValueError(f"start offset {start_offset} is outside [0, {end}] for {channel!r}")
        reader = NatsWalReader(self, self._state(channel), start_offset)
        with self._lock:
            reader._state.readers.add(reader)
        return reader

    # -------------------------------------------------------------- lifecycle

    def close(self) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True
            # Everything queued is sent by the drain task; wait for the PubAcks (or their timeout).
            self._settled.wait_for(
                lambda: all(s.inflight == 0 for s in self._channels.values()), self._ack_timeout + 5.0
            )
            states = list(self._channels.values())
            for state in states:
                state.closed = True
            readers = [r for s in states for r in s.readers]
        for reader in readers:
            reader.wake()
        try:
            self.run(self.nc.drain() if self.nc.is_connected else self.nc.close(), timeout=10.0)
        except Exception as exc:  # the connection may already be gone
            log.debug("closing the NATS connection: %s", exc)
        self._stop_loop()
        for reader in readers:
            reader.wake()  # a read still waiting on the stopped loop fails with StorageClosed

    def _stop_loop(self) -> None:
        async def cancel_the_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(cancel_the_rest(), timeout=5.0)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()

    # --------------------------------------------------------------- internal

    def _check_open(self) -> None:
        if self._closing:
            raise StorageClosed("WAL is closed")

    def _names(self, channel: str) -> tuple[str, str]:
        """(stream name, subject) of a channel: readable, unique, and within NATS's limits."""
        digest = hashlib.blake2b(channel.encode(), digest_size=6).hexdigest()
        readable = channel.replace(".", "_")[:120]
        stream = f"elanus-wal-{self.namespace}-{readable}-{digest}"
        return stream, f"elanus.wal.{self.namespace}.{stream}"

    def _adopt(self, name: str, info: api.StreamInfo) -> _Channel:
        stream, subject = self._names(name)
        with self._lock:
            state = self._channels.get(name)
            if state is None or state.dropped:
                state = self._channels[name] = _Channel(name, stream, subject)
            self._apply_info(state, info)
            return state

    @staticmethod
    def _apply_info(state: _Channel, info: api.StreamInfo) -> None:
        """Merge the stream's state into the channel's (WAL lock held)."""
        last = info.state.last_seq
        start = info.state.first_seq - 1 if info.state.messages else last
        if info.created is not None and state.created not in (None, info.created):
            # Dropped and created again by another process: a new channel under the old name.
            state.generation += 1  # appends numbered for the old one fail
            state.start = state.visible = 0
            state.end = last
        state.created = info.created
        state.start = max(state.start, start)
        state.visible = max(state.visible, last)
        if state.inflight == 0:
            state.end = max(state.end, state.visible)

    def _state(self, name: str) -> _Channel:
        with self._lock:
            self._check_open()
            state = self._channels.get(name)
        if state is not None and not state.dropped:  # a reader may have found it dropped
            return state
        try:
            info = self.run(self.js.stream_info(self._names(name)[0]))
        except nats.js.errors.NotFoundError:
            raise ChannelNotFound(name) from None
        return self._adopt(name, info)

    def _refresh(self, state: _Channel) -> _Channel:
        """Re-read the stream's state unless this process has appends of it in flight."""
        with self._lock:
            if state.inflight or state.broken is not None:
                return state
        try:
            info = self.run(self.js.stream_info(state.stream))
        except nats.js.errors.NotFoundError:
            with self._lock:
                state.dropped = True
                if self._channels.get(state.name) is state:
                    del self._channels[state.name]
            raise ChannelNotFound(state.name) from None
        with self._lock:
            self._apply_info(state, info)
        return state

    async def _drain(self) -> None:
        """Send queued records in call order (the only task that publishes)."""
        while True:
            with self._lock:
                batch, self._queue = self._queue, []
                if not batch:
                    self._draining = False
                    return
            for item in batch:
                state = item.state
                if state.dropped:
                    self._settle(item, None, ChannelNotFound(state.name))
                    continue
                if state.broken is not None or item.generation != state.generation:
                    self._settle(item, None, StorageError(f"an earlier append to {state.name!r} failed"))
                    continue
                headers: dict[str, str] = {api.Header.EXPECTED_LAST_SEQUENCE.value: str(item.offset)}
                payload = item.payload
                self._next_token += 1
                token = str(self._next_token)
                try:
                    if len(payload) > self._inline_limit:
                        # Too big for one message: chunks go to the companion stream first and the
                        # channel gets a reference (this stalls the appends queued behind it).
                        ref = await self.big.put(state.stream, item.offset, payload, self._inline_limit)
                        headers[BIG_HEADER] = ref
                        payload = b""
                    timer = self.loop.call_later(self._ack_timeout, self._ack_timed_out, token)
                    self._acks[token] = functools.partial(self._on_ack, item, timer)
                    await self.nc.publish(state.subject, payload, reply=self._ack_prefix + token, headers=headers)
                except Exception as exc:
                    if self._acks.pop(token, None) is not None:
                        timer.cancel()
                    self._settle(item, None, exc)

    async def _on_ack_message(self, msg: Msg) -> None:
        handler = self._acks.pop(msg.subject[len(self._ack_prefix) :], None)
        if handler is not None:
            handler(msg)

    def _ack_timed_out(self, token: str) -> None:
        handler = self._acks.pop(token, None)
        if handler is not None:
            handler(None)

    def _on_ack(self, item: _Pending, timer: asyncio.TimerHandle, msg: Msg | None) -> None:
        """Settle an append from its PubAck (None: none came in time)."""
        timer.cancel()
        if msg is None:
            self._settle(item, None, TimeoutError(f"no PubAck within {self._ack_timeout}s"))
        elif msg.headers and msg.headers.get(api.Header.STATUS) == "503":
            self._settle(item, None, ChannelNotFound(item.state.name))  # no stream listens: dropped
        else:
            try:
                reply = json.loads(msg.data)
                error = reply.get("error")
                seq = int(reply["seq"]) if error is None else None
            except (ValueError, KeyError, AttributeError) as exc:
                self._settle(item, None, StorageError(f"unreadable PubAck {msg.data[:200]!r}: {exc}"))
                return
            if error is not None:
                self._settle(item, None, _AppendRejected(error))
            else:
                self._settle(item, seq, None)

    def _settle(self, item: _Pending, seq: int | None, exc: BaseException | None) -> None:
        """Resolve one append (on the loop thread) and re-read the end after a failure."""
        state = item.state
        if seq is not None and seq != item.offset + 1:
            exc = StorageError(f"JetStream stored record {item.offset} of {state.name!r} as sequence {seq}")
        if exc is not None:
            exc = self._map_error(state, exc)
        resync = False
        with self._lock:
            if exc is None:
                state.visible = max(state.visible, item.offset + 1)  # readers' consumers get it by themselves
            elif state.broken is None and not state.dropped and item.generation == state.generation:
                state.broken = exc
            state.inflight -= 1
            if state.inflight == 0:
                resync = state.broken is not None and not self._closing
                self._settled.notify_all()
        if exc is None:
            item.future.set_result(item.offset)
        else:
            item.future.set_exception(exc)
        if resync:
            self.loop.create_task(self._resync(state))

    async def _resync(self, state: _Channel) -> None:
        """After a failed append: take the channel's end from the stream, then accept appends again."""
        try:
            info = await self.js.stream_info(state.stream)
        except Exception as exc:
            log.warning("WAL channel %s: cannot re-read its end after a failed append: %s", state.name, exc)
            info = None
        with self._lock:
            if info is not None:
                state.generation += 1
                state.end = state.visible = max(state.visible, info.state.last_seq)
            # On failure the next append is numbered from the old end; JetStream rejects it if
            # that is wrong, and the next settle tries again.
            state.broken = None

    def _map_error(self, state: _Channel, exc: BaseException) -> BaseException:
        if isinstance(exc, StorageError):
            return exc
        if isinstance(exc, nats.errors.NoRespondersError) or (
            isinstance(exc, _AppendRejected) and exc.err_code == _STREAM_NOT_FOUND
        ):
            return ChannelNotFound(state.name)
        if isinstance(exc, _AppendRejected) and exc.err_code == _WRONG_LAST_SEQUENCE:
            error = StorageError(f"WAL channel {state.name!r} was appended to by another writer")
        else:
            error = StorageError(f"append to WAL channel {state.name!r} failed: {exc!r}")
        error.__cause__ = exc
        return error
