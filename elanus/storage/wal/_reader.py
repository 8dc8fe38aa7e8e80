"""Reading a local WAL channel from any offset.

A reader decides *what* to read under the log's lock (its position against
``visible`` and ``start``, and which segments cover the range) and does the
file I/O after releasing it, so readers never hold up appenders or each other.
Between reads it keeps its current segment open, so sequential consumption
costs one buffered read per record; seeking to an arbitrary offset costs a
sparse-index lookup plus at most ``INDEX_EVERY`` header skips.

A segment deleted by ``truncate`` while a reader has it open stays readable
through the open descriptor (POSIX unlink semantics); one deleted before the
reader opens it is reported as WalTruncated.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from elanus.storage.errors import ChannelNotFound, StorageClosed, WalTruncated
from elanus.storage.wal import _format
from elanus.storage.wal._channel import ChannelState, floor_entry
from elanus.storage.wal._format import IndexEntry
from elanus.storage.wal.base import WalRecord, check_max_records

_READ_BUFFER = 1 << 16


class LocalWalReader:
    """:class:`~elanus.storage.wal.base.WalReader` over a local channel."""

    def __init__(self, state: ChannelState, start_offset: int) -> None:
        self._state = state
        self._pos = start_offset
        self._file: BinaryIO | None = None
        self._file_first = -1  # first offset of the segment self._file is positioned in
        self._closed = False

    @property
    def position(self) -> int:
        return self._pos

    def read(self, max_records: int = 1024, timeout: float | None = 0.0) -> list[WalRecord]:
        check_max_records(max_records)
        st = self._state
        with st.cond:
            st.cond.wait_for(lambda: self._pos < st.visible or self._stopped(), timeout)
            self._raise_if_stopped()
            if self._pos < st.start:
                raise WalTruncated(f"offset {self._pos} of channel {st.name!r} is below {st.start}")
            if self._pos >= st.visible:
                return []
            stop = min(st.visible, self._pos + max_records)
            firsts = st.segments[st.segment_of(self._pos) :]
            seek = None if self._file_first == firsts[0] else st.index_floor(firsts[0], self._pos)
        try:
            return self._read_range(firsts, stop, seek)
        except FileNotFoundError:
            self._drop_file()
            raise WalTruncated(f"offset {self._pos} of channel {st.name!r} was truncated") from None
        except BaseException:
            self._drop_file()  # the file position is no longer known to match self._pos
            raise

    def close(self) -> None:
        self._closed = True
        self._drop_file()
        with self._state.cond:
            self._state.cond.notify_all()  # wake a read() blocked in another thread

    # --------------------------------------------------------------- internal

    def _read_range(self, firsts: list[int], stop: int, seek: IndexEntry | None) -> list[WalRecord]:
        """Records [position, stop) from segments ``firsts`` (the first one holds position)."""
        records: list[WalRecord] = []
        for i, first in enumerate(firsts):
            segment_end = firsts[i + 1] if i + 1 < len(firsts) else stop
            if self._file_first != first:
                if i == 0:
                    self._open_at(first, self._pos, seek, segment_end)
                else:
                    self._open_at(first, first, (first, 0), segment_end)
            assert self._file is not None
            while self._pos < min(segment_end, stop):
                records.append(WalRecord(self._pos, _format.read_frame(self._file)))
                self._pos += 1
            if self._pos >= stop:
                break
        return records

    def _open_at(self, first: int, offset: int, seek: IndexEntry | None, segment_end: int) -> None:
        """Open segment ``first`` positioned at record ``offset``."""
        self._drop_file()
        path = self._state.path / _format.segment_name(first)
        if seek is None:
            # A segment from before the last restart has no index yet. It is complete
            # (a later segment exists), so its record count is known from the names.
            built = _format.build_index(path, first, segment_end - first)
            with self._state.cond:
                entries = self._state.index.setdefault(first, built)
            seek = floor_entry(entries, offset)
        f = open(path, "rb", buffering=_READ_BUFFER)  # noqa: SIM115 - kept open across reads
        try:
            f.seek(seek[1], io.SEEK_SET)
            _format.skip_frames(f, offset - seek[0])
        except BaseException:
            f.close()
            raise
        self._file = f
        self._file_first = first

    def _drop_file(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._file_first = -1

    def _stopped(self) -> bool:
        st = self._state
        return self._closed or st.closed or st.dropped

    def _raise_if_stopped(self) -> None:
        if self._closed:
            raise StorageClosed("WAL reader is closed")
        if self._state.closed:
            raise StorageClosed("WAL is closed")
        if self._state.dropped:
            raise ChannelNotFound(self._state.name)
