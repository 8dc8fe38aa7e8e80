"""Batch objects of the object-store WAL: format and the reader that tails them.

A batch object holds the consecutive records ``[first, first + count)`` of one
channel, written once by one writer (``put_if_absent``) and never modified::

    header  magic "EWB1" | version u8 | 3 pad | epoch u64 | first u64 | count u32 | crc32 u32
    body    count x u32 record length | the payloads, concatenated

All integers little-endian; the CRC covers the body. Objects are atomic, so a
torn write cannot happen; the CRC guards against media or transfer corruption.

Reading (:class:`ObjectStoreWalReader`). Batches are named by their first
offset, and each batch starts where the previous one ended, so a reader at a
batch boundary knows the key of the next batch without listing: it is the
reader's own position. Only a seek into the middle of a batch (a new reader at
an arbitrary offset) lists the channel once to find the batch that covers it.
After that the hot path is one ``get`` per batch. Batches this process wrote
lately are served from memory (``RECENT_BATCHES``), so a reader in the writer's
process (a data node's flusher) costs no ``get`` at all. A reader waits for new
batches on the channel's condition variable, woken by the writer when this
process writes the channel; otherwise it polls with ``get`` and exponential
backoff (``POLL_MIN`` doubling up to ``POLL_MAX``), since a missing key is
exactly "not written yet".
"""

from __future__ import annotations

import bisect
import struct
import time
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from elanus.storage.errors import ChannelNotFound, ObjectNotFound, StorageClosed, WalCorrupt, WalTruncated
from elanus.storage.wal.base import WalRecord, check_max_records

if TYPE_CHECKING:
    from elanus.storage.wal.objectstore import ObjectStoreWal, _Channel

MAGIC = b"EWB1"
VERSION = 1
HEADER = struct.Struct("<4sBxxxQQII")
SUFFIX = ".batch"
POLL_MIN = 0.005
POLL_MAX = 0.1
RECENT_BATCHES = 32  # per channel, kept by the writer for readers in its process
RECENT_BYTES = 32 << 20


def batch_name(first: int) -> str:
    return f"{first:020d}{SUFFIX}"


def parse_name(key: str) -> int | None:
    """The first offset a batch key names, or None for a key that is not a batch."""
    name = key.rsplit("/", 1)[-1]
    if len(name) != 20 + len(SUFFIX) or not name.endswith(SUFFIX) or not name[:20].isdigit():
        return None
    return int(name[:20])


def encode(epoch: int, first: int, payloads: Sequence[bytes]) -> bytes:
    body = struct.pack(f"<{len(payloads)}I", *(len(p) for p in payloads)) + b"".join(payloads)
    return HEADER.pack(MAGIC, VERSION, epoch, first, len(payloads), zlib.crc32(body)) + body


def decode_header(key: str, data: bytes) -> tuple[int, int, int, int]:
    """(epoch, first, count, crc) of a batch object (or of its first HEADER.size bytes)."""
    if len(data) < HEADER.size:
        raise WalCorrupt(f"batch object {key!r} is shorter than its header")
    magic, version, epoch, first, count, crc = HEADER.unpack_from(data)
    if magic != MAGIC or version != VERSION:
        raise WalCorrupt(f"{key!r} is not a WAL batch object (magic {magic!r}, version {version})")
    return epoch, first, count, crc


def decode(key: str, data: bytes, expected_first: int) -> list[bytes]:
    """The payloads of a batch object, checked against its CRC and its name."""
    _epoch, first, count, crc = decode_header(key, data)
    body = memoryview(data)[HEADER.size :]
    if first != expected_first or zlib.crc32(body) != crc or len(body) < 4 * count:
        raise WalCorrupt(f"batch object {key!r} fails its checksum or names the wrong offset")
    lengths = struct.unpack_from(f"<{count}I", body)
    payloads: list[bytes] = []
    at = 4 * count
    for length in lengths:
        payloads.append(bytes(body[at : at + length]))
        at += length
    if at != len(body):
        raise WalCorrupt(f"batch object {key!r} has a body of the wrong size")
    return payloads


class ObjectStoreWalReader:
    """:class:`~elanus.storage.wal.base.WalReader` over one object-store WAL channel."""

    def __init__(self, wal: ObjectStoreWal, state: _Channel, start_offset: int) -> None:
        self._wal = wal
        self._state = state
        self._pos = start_offset
        self._aligned = False  # True when self._pos is known to be a batch's first offset
        self._batch: list[bytes] = []  # the batch holding self._pos, once fetched
        self._batch_first = 0
        self._closed = False

    @property
    def position(self) -> int:
        return self._pos

    def read(self, max_records: int = 1024, timeout: float | None = 0.0) -> list[WalRecord]:
        check_max_records(max_records)
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = POLL_MIN
        st = self._state
        while True:
            self._check()
            records = self._collect(max_records)
            if records:
                return records
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return []
            with st.lock:
                if st.owner:  # this process writes the channel: the writer wakes us
                    st.readers.wait_for(lambda: st.visible > self._pos or self._stopped(), remaining)
                else:
                    wait = delay if remaining is None else min(delay, remaining)
                    st.readers.wait_for(self._stopped, wait)
                    delay = min(delay * 2, POLL_MAX)

    def close(self) -> None:
        self._closed = True
        self._batch = []
        with self._state.lock:
            self._state.readers.notify_all()

    # --------------------------------------------------------------- internal

    def _stopped(self) -> bool:
        return self._closed or self._state.closed or self._state.dropped

    def _check(self) -> None:
        if self._closed:
            raise StorageClosed("WAL reader is closed")
        if self._state.closed:
            raise StorageClosed("WAL is closed")
        if self._state.dropped:
            raise ChannelNotFound(self._state.name)
        if self._pos < self._state.start:
            raise WalTruncated(f"offset {self._pos} of channel {self._state.name!r} is below {self._state.start}")

    def _collect(self, max_records: int) -> list[WalRecord]:
        """Records from the position on, as far as batches are available, without waiting."""
        out: list[WalRecord] = []
        while len(out) < max_records:
            end = self._batch_first + len(self._batch)
            if self._batch_first <= self._pos < end:
                take = min(end - self._pos, max_records - len(out))
                at = self._pos - self._batch_first
                out.extend(WalRecord(self._pos + i, self._batch[at + i]) for i in range(take))
                self._pos += take
                if self._pos == end:
                    self._batch, self._aligned = [], True
                continue
            if not self._fetch():
                break
        return out

    def _fetch(self) -> bool:
        """Load the batch holding the position; False if it is not written yet."""
        st = self._state
        with st.lock:
            if st.owner and self._pos >= st.visible:
                return False  # this process writes the channel: nothing more exists yet
            visible = st.visible
            for first, payloads in st.recent.items():  # batches this process wrote lately
                if first <= self._pos < first + len(payloads):
                    self._batch, self._batch_first, self._aligned = payloads, first, True
                    return True
        if not self._aligned:
            return self._seek()
        key = self._wal._batch_key(st, self._pos)
        try:
            data = self._wal._objects.get(key)
        except ObjectNotFound:
            if self._pos < visible:  # it existed: truncation deleted it
                raise WalTruncated(f"offset {self._pos} of channel {st.name!r} was truncated") from None
            return False
        self._batch, self._batch_first = decode(key, data, self._pos), self._pos
        return bool(self._batch)

    def _seek(self) -> bool:
        """Find the batch covering the position by listing the channel (once per reader)."""
        st = self._state
        firsts = self._wal._list_batches(st)
        i = bisect.bisect_right(firsts, self._pos) - 1
        if i < 0:
            if firsts:  # batches above but none at or below: the position was truncated away
                raise WalTruncated(f"offset {self._pos} of channel {st.name!r} was truncated")
            self._aligned = True  # an empty channel: its first batch starts at the position
            return False
        key = self._wal._batch_key(st, firsts[i])
        try:
            data = self._wal._objects.get(key)
        except ObjectNotFound:
            raise WalTruncated(f"offset {self._pos} of channel {st.name!r} was truncated") from None
        payloads = decode(key, data, firsts[i])
        if firsts[i] + len(payloads) <= self._pos:
            self._aligned = True  # the position is the end of the last batch
            return False
        self._batch, self._batch_first, self._aligned = payloads, firsts[i], True
        return True
