"""The write-ahead log contract: named append-only channels of opaque records.

Each shard writes its insert/delete/time-tick messages to one channel; query
and data nodes replay channels from their checkpoints. Backends: ``local``
(files on local disk, embedded mode), an object-store WAL and a broker.

Invariants every backend keeps:

* **Offsets.** Records of a channel are numbered 0, 1, 2, ... with no gaps.
  The offset is assigned when ``append_async`` is *called*, so the order of
  calls (from any threads) is the order in the channel.
* **Acknowledgement.** The future of a durable append resolves only once the
  record (and, by the prefix rule below, every earlier record of the channel)
  survives a crash of the process or the machine. A non-durable append
  resolves once the record is written; it survives a process crash but may be
  lost with the machine.
* **Prefix.** After any crash, each channel holds exactly the records
  ``[start, n)`` for some ``n`` at least one past its last acknowledged
  durable record; recovery drops only an unacknowledged tail and the next
  append continues at ``n``.
* **Visibility.** ``visible_offset`` only grows. Readers see a record only after
  it has been written (and, if durable, synced), and always in offset order,
  so a reader never observes a record that a crash could take back, unless
  it was appended with ``durable=False``.
* **Truncation.** After ``truncate(channel, t)`` reading any offset below ``t``
  raises :class:`~elanus.storage.errors.WalTruncated`; offsets at or above
  ``t`` stay readable. Storage is reclaimed in whole segments, lazily.
"""

from __future__ import annotations

import re
from concurrent.futures import Future
from typing import NamedTuple, Protocol

from elanus.storage.errors import ChannelNotFound, InvalidKey, WalCorrupt, WalTruncated

__all__ = [
    "ChannelNotFound",
    "Wal",
    "WalCorrupt",
    "WalReader",
    "WalRecord",
    "WalTruncated",
    "validate_channel_name",
]

# Channel names become directory names, object-store key segments and broker
# subjects, so they are limited to a set every backend can use verbatim.
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}")


def validate_channel_name(name: str) -> str:
    """Return ``name`` if it is a valid channel name, else raise InvalidKey."""
    if not isinstance(name, str) or not _CHANNEL_NAME.fullmatch(name):
        raise InvalidKey(
            f"channel names are 1-255 characters of [A-Za-z0-9_.-], not starting with '.' or '-': {name!r}"
        )
    return name


class WalRecord(NamedTuple):
    offset: int
    payload: bytes


def check_truncation_point(channel: str, before_offset: int, visible: int) -> None:
    """Raise ValueError if ``before_offset`` (the argument of :meth:`Wal.truncate`) lies above
    the ``visible`` records of ``channel``."""
    if before_offset > visible:
        raise ValueError(f"cannot truncate {channel!r} at {before_offset}: only {visible} records are visible")


def check_max_records(max_records: int) -> None:
    """Raise ValueError unless ``max_records`` (the argument of :meth:`WalReader.read`) is at least 1."""
    if max_records < 1:
        raise ValueError(f"max_records must be at least 1, got {max_records}")


class WalReader(Protocol):
    """A cursor over one channel. Independent of every other reader; not thread-safe."""

    @property
    def position(self) -> int:
        """The offset of the next record :meth:`read` will return."""
        ...

    def read(self, max_records: int = 1024, timeout: float | None = 0.0) -> list[WalRecord]:
        """Up to ``max_records`` consecutive records from :attr:`position` (which then
        advances past them).

        When none is visible yet, waits up to ``timeout`` seconds (None = forever)
        for one and returns ``[]`` on timeout. Raises WalTruncated if the position
        lies below the truncation point, ChannelNotFound once the channel is
        dropped, StorageClosed once the reader or the log is closed.
        """
        ...

    def close(self) -> None:
        """Release the reader's files. Idempotent."""
        ...


class Wal(Protocol):
    """A set of named channels; see the module docstring for the guarantees."""

    def create_channel(self, name: str) -> None:
        """Create an empty channel (durably). Does nothing if it exists."""
        ...

    def drop_channel(self, name: str) -> None:
        """Delete the channel and its records. Does nothing if it does not exist.
        Pending appends to it fail with ChannelNotFound."""
        ...

    def channels(self) -> list[str]:
        """Names of all channels, sorted."""
        ...

    def append_async(self, channel: str, payload: bytes, durable: bool = True) -> Future[int]:
        """Queue a record and return a future of its offset (see module docstring).

        Raises ChannelNotFound / StorageClosed at once; I/O failures arrive
        through the future. Done-callbacks added to the future may run on the
        backend's writer thread: keep them short and non-blocking.
        """
        ...

    def append(self, channel: str, payload: bytes, durable: bool = True) -> int:
        """``append_async(...).result()``."""
        ...

    def end_offset(self, channel: str) -> int:
        """The offset the next append will get."""
        ...

    def visible_offset(self, channel: str) -> int:
        """Records below this offset are readable (or truncated)."""
        ...

    def reader(self, channel: str, start_offset: int) -> WalReader:
        """A new reader at ``start_offset`` (0 <= start_offset <= end_offset, else ValueError)."""
        ...

    def truncate(self, channel: str, before_offset: int) -> None:
        """Give up the records below ``before_offset`` (which may not exceed
        ``visible_offset``, else ValueError). Never lowers the truncation point."""
        ...

    def close(self) -> None:
        """Write everything already queued, resolve its futures, stop. Idempotent.
        Later calls (also on readers) raise StorageClosed."""
        ...
