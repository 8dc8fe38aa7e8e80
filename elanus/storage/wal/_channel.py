"""State of one local WAL channel: its directory, segments, offsets and sparse index.

Two kinds of fields, with different owners:

* shared fields (``end``, ``visible``, ``start``, ``segments``, ``index``,
  ``dropped``, ``closed``) are read and written only under the log's lock,
  which is also the lock of ``cond``;
* writer fields (the open descriptor of the active segment, its size, the
  dirty flags, and the ``pending_*`` lists) belong to the writer thread, or to
  whoever holds the log's I/O lock.

The writer publishes new segments and index entries (``pending_*``) together
with the new ``visible`` offset, so a reader, which only looks at offsets
below ``visible``, always finds a consistent picture.

``start`` (the truncation point) is persisted in a small ``START`` file so
that "reads below a truncation raise WalTruncated" also holds after a restart.
"""

from __future__ import annotations

import bisect
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from elanus.storage._fsync import fsync_dir
from elanus.storage.wal import _format
from elanus.storage.wal._format import INDEX_EVERY, IndexEntry

_START_FILE = "START"


def floor_entry(entries: list[IndexEntry], offset: int) -> IndexEntry:
    """The last entry at or before ``offset`` (entries start at the segment's first offset)."""
    return entries[bisect.bisect_right(entries, offset, key=lambda e: e[0]) - 1]


@dataclass(eq=False)
class ChannelState:
    name: str
    path: Path
    cond: threading.Condition
    # -- shared, under the log's lock
    end: int  # next offset to assign
    visible: int  # offsets below are readable
    start: int  # truncation point: offsets below raise WalTruncated
    segments: list[int]  # first offsets of the segment files, ascending; the last one is active
    index: dict[int, list[IndexEntry]]  # per segment, ascending; absent = not built yet
    dropped: bool = False
    closed: bool = False
    # -- writer side
    fd: int = -1
    active_first: int = 0
    active_bytes: int = 0
    file_dirty: bool = False  # bytes written to the active segment since its last fsync
    dir_dirty: bool = False  # a segment created since the directory's last fsync
    pending_segments: list[int] = field(default_factory=list)
    pending_index: list[tuple[int, IndexEntry]] = field(default_factory=list)

    # ------------------------------------------------------------ open/create

    @classmethod
    def create(cls, path: Path, cond: threading.Condition) -> ChannelState:
        """Make a new, empty channel directory durable and open it."""
        path.mkdir()
        (path / _format.segment_name(0)).touch()
        fsync_dir(path)
        fsync_dir(path.parent)
        return cls.recover(path, cond)

    @classmethod
    def recover(cls, path: Path, cond: threading.Condition) -> ChannelState:
        """Open an existing channel, cutting a torn tail off its last segment."""
        firsts = sorted(
            first for name in os.listdir(path) if (first := _format.parse_segment_name(name)) is not None
        )
        start_file = path / _START_FILE
        start = int(start_file.read_text()) if start_file.exists() else (firsts[0] if firsts else 0)
        if not firsts:  # crashed between mkdir and the first segment's creation
            firsts = [start]
            (path / _format.segment_name(start)).touch()
            fsync_dir(path)
        last = firsts[-1]
        last_path = path / _format.segment_name(last)
        found = _format.scan(last_path, last)
        if found.valid_bytes < last_path.stat().st_size:
            os.truncate(last_path, found.valid_bytes)
            fd = os.open(last_path, os.O_WRONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        end = last + found.records
        state = cls(
            name=path.name,
            path=path,
            cond=cond,
            end=end,
            visible=end,
            start=start,
            segments=firsts,
            index={last: found.sparse_index},
            active_first=last,
            active_bytes=found.valid_bytes,
        )
        state.fd = os.open(last_path, os.O_WRONLY | os.O_APPEND)
        if end < start:
            # Records at or above a truncation point were lost with a machine crash
            # (possible only for durable=False ones). Continue numbering at the
            # truncation point, in a fresh segment, so no new record hides below it.
            state.roll(start)
            state.sync()
            with cond:
                state.publish(start)
            state.end = start
        return state

    # ----------------------------------------------------------- writer side

    def write(self, records: list[tuple[int, bytes]], segment_bytes: int) -> None:
        """Append encoded frames (with their offsets, consecutive) to the active segment,
        rolling to a new segment when one would grow past ``segment_bytes``."""
        buf = bytearray()
        for offset, frame in records:
            size = self.active_bytes + len(buf)
            if size > 0 and size + len(frame) > segment_bytes:
                self._write_out(buf)
                buf.clear()
                self.roll(offset)
            if offset != self.active_first and (offset - self.active_first) % INDEX_EVERY == 0:
                self.pending_index.append((self.active_first, (offset, self.active_bytes + len(buf))))
            buf += frame
        self._write_out(buf)

    def roll(self, first_offset: int) -> None:
        """Close the active segment and start a new one whose first record is ``first_offset``."""
        # The finished segment is synced even if it holds only non-durable records:
        # otherwise a crash could keep the next segment but lose this one's tail,
        # punching a hole in the middle of the channel.
        self.sync_file()
        os.close(self.fd)
        self.fd = -1
        path = self.path / _format.segment_name(first_offset)
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        self.active_first = first_offset
        self.active_bytes = 0
        self.dir_dirty = True
        self.pending_segments.append(first_offset)
        self.pending_index.append((first_offset, (first_offset, 0)))

    def sync_file(self) -> None:
        if self.file_dirty:
            os.fsync(self.fd)
            self.file_dirty = False

    def sync(self) -> None:
        """Make everything written so far durable: the active segment, then new directory entries."""
        self.sync_file()
        if self.dir_dirty:
            fsync_dir(self.path)
            self.dir_dirty = False

    def close_file(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _write_out(self, buf: bytearray) -> None:
        view = memoryview(buf)
        while view:
            written = os.write(self.fd, view)
            self.active_bytes += written
            view = view[written:]
        if buf:
            self.file_dirty = True

    # ------------------------------------------------------ shared, under lock

    def publish(self, visible: int) -> None:
        """Make offsets below ``visible`` readable, with the segments and index entries
        written for them, and wake readers. Caller holds the log's lock."""
        self.segments.extend(self.pending_segments)
        # Index entries of older segments are extended by the writer only, never rebuilt:
        # a segment's list is created here (at its roll) or by index_for().
        for first, entry in self.pending_index:
            self.index.setdefault(first, []).append(entry)
        self.pending_segments.clear()
        self.pending_index.clear()
        self.visible = visible
        self.cond.notify_all()

    def segment_of(self, offset: int) -> int:
        """Position in ``segments`` of the segment holding ``offset`` (which is >= segments[0])."""
        return bisect.bisect_right(self.segments, offset) - 1

    def index_floor(self, first: int, offset: int) -> IndexEntry | None:
        """The last indexed (offset, position) at or before ``offset`` in segment ``first``;
        None if that segment's index has not been built."""
        entries = self.index.get(first)
        return None if entries is None else floor_entry(entries, offset)

    # ------------------------------------------------------------- truncation

    def save_start(self, start: int) -> None:
        """Persist the truncation point (write-new-then-rename, so it is never half-written)."""
        tmp = self.path / f"{_START_FILE}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, str(start).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path / _START_FILE)
        fsync_dir(self.path)
