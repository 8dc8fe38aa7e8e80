"""Reading a NATS JetStream WAL channel: one ephemeral pull consumer per reader.

The consumer starts at the reader's position (``DeliverPolicy.BY_START_SEQUENCE``,
sequence = offset + 1), acknowledges nothing (``AckPolicy.NONE``: a reader is a
cursor, not a work queue), lives in memory on the server and disappears when
the reader closes or stops pulling for ``INACTIVE_SECONDS``.

Pull requests go to the consumer's ``MSG.NEXT`` subject with a reply subject
under the reader's own inbox, ``<inbox>.<consumer incarnation>.<request>``,
so every response can be matched to its request. ``read(timeout=0)`` sends a
``no_wait`` request (one round trip: what is stored now, then status 404);
a waiting read sends a long poll that expires with the read's timeout (at most
``LONG_POLL_SECONDS`` at a time), and JetStream delivers a record to it as soon
as it is stored. Records that arrive after a read returned are buffered for the
next read, so nothing the consumer delivered is lost.

Every record's stream sequence is checked against the position: duplicates are
skipped; a gap means the records in between were purged (WalTruncated), or
else the consumer is recreated at the position. A consumer the server deleted
(inactivity, restart) is recreated the same way; a missing stream is
ChannelNotFound. The work runs on the WAL's event loop; ``read`` waits for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
from collections import deque
from typing import TYPE_CHECKING

import nats.js.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import api

from elanus.storage.errors import ChannelNotFound, StorageClosed, WalTruncated
from elanus.storage.wal._nats_big import HEADER as BIG_HEADER
from elanus.storage.wal.base import WalRecord, check_max_records

if TYPE_CHECKING:
    from elanus.storage.wal.nats import NatsWal, _Channel


INACTIVE_SECONDS = 300.0
LONG_POLL_SECONDS = 5.0
NO_WAIT_SECONDS = 5.0  # how long to wait for the answer to a no_wait request
_GRACE = 1.0  # a request counts as over this long after its expiry even without a 408


class NatsWalReader:
    """:class:`~elanus.storage.wal.base.WalReader` over one NATS WAL channel."""

    def __init__(self, wal: NatsWal, state: _Channel, start_offset: int) -> None:
        self._wal = wal
        self._state = state
        self._pos = start_offset
        self._closed = False
        self._pending: concurrent.futures.Future[list[WalRecord]] | None = None
        # Used on the event loop only:
        self._event: asyncio.Event | None = None
        self._sub: Subscription | None = None
        self._inbox = ""
        self._consumer: str | None = None
        self._incarnation = 0
        self._requests: dict[str, list[float]] = {}  # token -> [records still due, expiry (loop time)]
        self._next_request = 0
        # (consumer, stream sequence, payload, reference to a big record's chunks)
        self._buffer: deque[tuple[str | None, int, bytes, str | None]] = deque()

    @property
    def position(self) -> int:
        return self._pos

    def read(self, max_records: int = 1024, timeout: float | None = 0.0) -> list[WalRecord]:
        check_max_records(max_records)
        self._check()
        future = asyncio.run_coroutine_threadsafe(self._read(max_records, timeout), self._wal.loop)
        self._pending = future
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            self._check()
            raise StorageClosed("WAL is closed") from None
        finally:
            self._pending = None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._wal._lock:
            self._state.readers.discard(self)
        self.wake()
        release = self._release()
        try:
            asyncio.run_coroutine_threadsafe(release, self._wal.loop)
        except RuntimeError:  # the loop is gone, and so is the connection with its consumers
            release.close()

    def wake(self) -> None:
        """Make a blocked read re-check the channel (called from any thread)."""
        with contextlib.suppress(RuntimeError):
            self._wal.loop.call_soon_threadsafe(self._set_event)
        if not self._wal.loop.is_running() and self._pending is not None:
            self._pending.cancel()

    # ------------------------------------------------------- on the event loop

    def _set_event(self) -> None:
        if self._event is not None:
            self._event.set()

    def _check(self) -> None:
        st = self._state
        if self._closed:
            raise StorageClosed("WAL reader is closed")
        if st.closed:
            raise StorageClosed("WAL is closed")
        if st.dropped:
            raise ChannelNotFound(st.name)
        if self._pos < st.start:
            raise WalTruncated(f"offset {self._pos} of channel {st.name!r} is below {st.start}")

    async def _read(self, max_records: int, timeout: float | None) -> list[WalRecord]:
        loop = asyncio.get_running_loop()
        if self._event is None:
            self._event = asyncio.Event()
        deadline = None if timeout is None else loop.time() + timeout
        poll: str | None = None
        while True:
            self._event.clear()
            self._check()
            records = await self._take(max_records)
            if records:
                return records
            await self._ensure_consumer()
            now = loop.time()
            remaining = None if deadline is None else deadline - now
            if remaining is not None and remaining <= 0:
                if poll is None:
                    poll = await self._request(max_records, None)
                elif poll not in self._requests:
                    return []  # the no_wait request was answered and brought nothing
                wait: float | None = max(0.0, self._requests[poll][1] - now)
                if wait == 0.0:
                    return []
            else:
                if not self._long_poll_active(now):
                    await self._request(max_records, LONG_POLL_SECONDS if remaining is None else remaining)
                wait = remaining
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._event.wait(), wait)

    def _long_poll_active(self, now: float) -> bool:
        for token, (_due, expiry) in list(self._requests.items()):
            if expiry + _GRACE < now:
                del self._requests[token]
        return bool(self._requests)

    async def _take(self, max_records: int) -> list[WalRecord]:
        """Buffered records from the position on, checked for duplicates and gaps."""
        out: list[WalRecord] = []
        while self._buffer and len(out) < max_records:
            consumer, seq, data, big = self._buffer[0]
            if consumer != self._consumer or seq <= self._pos:
                self._buffer.popleft()
            elif seq == self._pos + 1:
                if big is not None:
                    data = await self._wal.big.get(self._state.stream, self._pos, big)
                self._buffer.popleft()
                out.append(WalRecord(self._pos, data))
                self._pos += 1
            else:
                if not out:
                    await self._on_gap()
                break
        return out

    async def _on_gap(self) -> None:
        st = self._state
        try:
            info = await self._wal.js.stream_info(st.stream)
        except nats.js.errors.NotFoundError:
            st.dropped = True
            raise ChannelNotFound(st.name) from None
        if info.state.first_seq > self._pos + 1:
            with self._wal._lock:
                st.start = max(st.start, info.state.first_seq - 1)
            raise WalTruncated(f"offset {self._pos} of channel {st.name!r} was truncated")
        await self._drop_consumer()  # out of step for another reason: start afresh at the position

    async def _ensure_consumer(self) -> None:
        if self._consumer is not None:
            return
        nc = self._wal.nc
        if self._sub is None:
            self._inbox = nc.new_inbox()
            self._sub = await nc.subscribe(self._inbox + ".>", cb=self._on_message)
        self._incarnation += 1
        self._requests.clear()
        self._buffer.clear()
        config = api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self._pos + 1,
            ack_policy=api.AckPolicy.NONE,
            inactive_threshold=INACTIVE_SECONDS,
            mem_storage=True,
            num_replicas=1,
        )
        try:
            info = await self._wal.js.add_consumer(self._state.stream, config)
        except nats.js.errors.NotFoundError:
            self._state.dropped = True
            raise ChannelNotFound(self._state.name) from None
        self._consumer = info.name

    async def _request(self, batch: int, expires: float | None) -> str:
        """Send a pull request (``expires`` None = no_wait); returns its token."""
        assert self._consumer is not None
        self._next_request += 1
        token = f"{self._incarnation}.{self._next_request}"
        body: dict[str, object] = {"batch": batch}
        if expires is None:
            body["no_wait"] = True
        else:
            body["expires"] = int(max(expires, 0.01) * 1e9)
        loop = asyncio.get_running_loop()
        self._requests[token] = [batch, loop.time() + (NO_WAIT_SECONDS if expires is None else expires)]
        subject = f"{api.DEFAULT_PREFIX}.CONSUMER.MSG.NEXT.{self._state.stream}.{self._consumer}"
        await self._wal.nc.publish(subject, json.dumps(body).encode(), reply=f"{self._inbox}.{token}")
        return token

    async def _on_message(self, msg: Msg) -> None:
        status = msg.headers.get(api.Header.STATUS) if msg.headers else None
        if status is None and msg.reply:
            # A record keeps its own subject; its ack subject names the consumer that sent it.
            meta = msg.metadata
            big = msg.headers.get(BIG_HEADER) if msg.headers else None
            self._buffer.append((meta.consumer, meta.sequence.stream, msg.data, big))
            if meta.consumer == self._consumer and self._requests:
                token = next(iter(self._requests))  # JetStream serves waiting requests in order
                self._requests[token][0] -= 1
                if self._requests[token][0] <= 0:
                    del self._requests[token]
        elif status == "100":
            return  # heartbeat
        else:  # statuses come on the request's reply subject
            token = msg.subject[len(self._inbox) + 1 :]
            self._requests.pop(token, None)  # 404 / 408: the request is over
            if status not in ("404", "408") and token.split(".", 1)[0] == str(self._incarnation):
                self._consumer = None  # 409 consumer deleted, 503 no responders, ...: start afresh
        self._set_event()

    async def _drop_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await self._wal.js.delete_consumer(self._state.stream, consumer)

    async def _release(self) -> None:
        await self._drop_consumer()
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
