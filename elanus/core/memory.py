"""Giving freed memory back to the operating system.

Loading a segment, building an index or flushing a segment allocates large
temporaries (decoded Parquet columns, serialized index blobs, faiss build
buffers) and frees them a moment later. The allocators keep freed memory for
reuse instead of returning it: Arrow's default pool (mimalloc) keeps the pages
of threads that no longer allocate, and glibc keeps free space at the top and in
the middle of its per-thread arenas. Measured on 100k x 128 (insert, flush,
HNSW build, load; ``bench/mem_steps.py``): the server held ~525 MiB after load,
~245 MiB with the calls and the set-up below (~160 MiB of it is the idle process).

- :func:`release_free_memory` hands every allocator's free memory back. Roles
  call it after such a step, on their own background threads, never on a
  request path (``malloc_trim`` walks the heaps and briefly takes each
  arena's lock).
- :func:`configure_process` is for a process Elanus owns (``elanus run``):
  Arrow allocates through the system allocator, so one ``malloc_trim``
  reaches every freed byte, and glibc keeps at most a few arenas instead of
  eight per core (the gRPC pool alone runs 16 threads).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # glibc's mallopt parameter number
DEFAULT_ARENA_MAX = 2
DEFAULT_ARROW_POOL = "system"

_lock = threading.Lock()
_libc_loaded = False
_malloc_trim: Callable[[int], int] | None = None
_mallopt: Callable[[int, int], int] | None = None


def _load_libc() -> None:
    global _libc_loaded, _malloc_trim, _mallopt
    with _lock:
        if _libc_loaded:
            return
        _libc_loaded = True
        if not sys.platform.startswith("linux"):
            return
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            trim = libc.malloc_trim  # glibc only: musl and others lack it
            opt = libc.mallopt
        except (OSError, AttributeError):
            return
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
        opt.argtypes, opt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        _malloc_trim, _mallopt = trim, opt


def release_free_memory() -> None:
    """Return the free memory of Arrow's pool and of glibc's heaps to the OS.

    Costs ~3 ms when there is little to give back, ~25 ms for a 400 MiB heap with
    thousands of holes (glibc holds each arena's lock meanwhile): call it after a
    large temporary was freed, off the request path. A no-op where unsupported.
    """
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        try:
            arrow.default_memory_pool().release_unused()
        except Exception:  # pragma: no cover - best effort, never fail the caller
            log.debug("arrow release_unused failed", exc_info=True)
    _load_libc()
    if _malloc_trim is not None:
        _malloc_trim(0)


def configure_process(arena_max: int | None = None) -> None:
    """Process-wide allocator settings for a process Elanus owns (``elanus run``).

    Arrow allocates through the system allocator (unless ``ARROW_DEFAULT_MEMORY_POOL``
    names another pool), and glibc keeps at most ``arena_max`` malloc arenas (default
    ``DEFAULT_ARENA_MAX``; ``MALLOC_ARENA_MAX`` in the environment wins). Call it
    before pyarrow is imported (Arrow reads its pool choice once, on import; later,
    only the pools pyarrow's own calls use could be changed, not those of Arrow's C++
    readers) and before starting threads. A library embedding Elanus leaves both alone.
    """
    if "pyarrow" in sys.modules:
        log.warning("configure_process after pyarrow was imported: Arrow's pool stays as it is")
    else:
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", DEFAULT_ARROW_POOL)
    _load_libc()
    if _mallopt is not None and not os.environ.get("MALLOC_ARENA_MAX"):
        _mallopt(_M_ARENA_MAX, arena_max or DEFAULT_ARENA_MAX)
