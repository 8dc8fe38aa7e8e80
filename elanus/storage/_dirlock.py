"""An exclusive, process-wide claim on a storage directory.

The local meta store and the local WAL keep state in memory (the revision
counter, live leases, next offsets) that is only correct if a single open
instance owns the directory. A second opener, in this or another process, would
silently fork that state, so it is refused instead. ``flock`` is used because
the kernel drops it when the owner dies, even by SIGKILL: a crashed process
never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from elanus.storage.errors import StorageError

_LOCK_NAME = "LOCK"


class DirectoryLock:
    """Holds ``flock(LOCK_EX)`` on ``<directory>/LOCK`` until :meth:`release`."""

    def __init__(self, directory: Path) -> None:
        self._fd: int | None = os.open(directory / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise StorageError(f"{directory} is already open (in this or another process)") from None

    def release(self) -> None:
        """Give the directory up. Idempotent."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
