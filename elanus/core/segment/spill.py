"""Columns kept in a memory-mapped file instead of the heap.

A sealed segment keeps the raw vectors of a field whose index cannot give them
back exactly (COSINE indexes hold normalised vectors; SQ/PQ indexes hold codes;
Float16/BFloat16/Int8 rows are indexed as float32). Those rows are only read
for output fields, a few rows per request, so they need not be resident:
:func:`spill` writes such a column to a file in a local directory, maps it
read-only and unlinks the file at once. The mapping keeps the data reachable
until the array is freed, then the kernel reclaims the space; nothing is left
to clean up, not even after a crash between the write and the unlink (apart
from that one file: :func:`clear_spill_dir` at start-up removes such leftovers).

Mapped pages count towards the process's RSS only once touched, as
file-backed pages the kernel can drop under memory pressure.
"""

from __future__ import annotations

import logging
import mmap
import os
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_SUFFIX = ".spill"
_WRITE_CHUNK = 64 * 1024


def spill(column: np.ndarray, directory: str | os.PathLike[str]) -> np.ndarray:
    """A read-only array equal to ``column``, backed by an unlinked file in ``directory``.

    ``column`` must have a fixed-width dtype (not object). Empty columns are returned as
    they are. On an I/O error (say, a full disk) the column stays on the heap.
    """
    if column.dtype == object:
        raise ValueError("only fixed-width columns can be spilled")
    if column.size == 0:
        return column
    data = np.ascontiguousarray(column)
    raw = memoryview(data.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
    try:
        fd, path = tempfile.mkstemp(suffix=_SUFFIX, dir=directory)
        try:
            with os.fdopen(fd, "r+b") as f:
                # Small writes: the page cache then holds small folios, and a fault on one
                # row maps ~64 KiB around it. One big write makes large folios, and reading
                # a row would map up to megabytes into this process (measured: 50 random
                # rows of 60k x 384 mapped 63 MiB with one write, 3 MiB with 64 KiB writes).
                for start in range(0, len(raw), _WRITE_CHUNK):
                    f.write(raw[start:start + _WRITE_CHUNK])
                f.flush()
                mapped = mmap.mmap(f.fileno(), len(raw), access=mmap.ACCESS_READ)
        finally:
            os.unlink(path)
    except OSError:
        log.warning("could not spill a %d-byte column to %s; keeping it in memory", data.nbytes,
                    directory, exc_info=True)
        return column
    if hasattr(mapped, "madvise") and hasattr(mmap, "MADV_RANDOM"):
        mapped.madvise(mmap.MADV_RANDOM)  # rows are read a few at a time: no read-ahead
    return np.frombuffer(mapped, dtype=data.dtype).reshape(data.shape)


def is_spilled(column: np.ndarray) -> bool:
    """Whether ``column`` came from :func:`spill` (is backed by a mapped file)."""
    base = column.base
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):  # np.frombuffer keeps a view of the exporter
        base = base.obj
    return isinstance(base, mmap.mmap)


def clear_spill_dir(directory: str | os.PathLike[str]) -> None:
    """Create ``directory`` if needed and remove spill files a crashed process left there."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for leftover in path.glob("*" + _SUFFIX):
        leftover.unlink(missing_ok=True)
