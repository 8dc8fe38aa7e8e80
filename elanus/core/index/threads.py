"""How many OpenMP threads faiss may use, per kind of work.

This module owns faiss's OpenMP thread count; nothing else in Elanus should
call ``faiss.omp_set_num_threads``.

Defaults: one thread for ordinary searches, every available core for large
query batches (``nq >= batch_min_nq``) and for index builds. One thread is
the right default for ``nq=1``: on a 2-core shared box a second OpenMP
thread made single-query HNSW searches slower (fork/join and wake-up cost
exceed the work), and a server gets its parallelism from concurrent
requests instead.

Why per-thread bookkeeping: OpenMP's thread count (the ``nthreads-var``
ICV) belongs to the *calling* OS thread. A value set once at start-up in the
main thread does not reach the gRPC/executor threads that run searches,
which would silently use every core. So :func:`use_search_threads` and
:func:`use_build_threads` (re)apply the setting in whichever thread is
about to call faiss; a thread-local cache makes that a no-op when nothing
changed (~50 ns).

Idle OpenMP workers sleep rather than spin (``OMP_WAIT_POLICY=PASSIVE``, set
by :mod:`elanus.core.index.faiss_glue` before faiss loads): spinning workers
made multi-threaded builds 3-10x slower on a busy box.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace

import faiss


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ThreadSettings:
    """faiss OpenMP threads for searches, large batches and builds (all >= 1)."""

    search: int = 1
    batch: int = _available_cores()
    batch_min_nq: int = 32
    build: int = _available_cores()


_settings = ThreadSettings()
_local = threading.local()


def set_threads(n: int, *, batch: int | None = None, batch_min_nq: int | None = None,
                build: int | None = None) -> None:
    """Set faiss threads for searches of fewer than ``batch_min_nq`` queries to ``n``;
    optionally also for large batches and builds (``None`` keeps the current value).

    Takes effect at each thread's next faiss call.
    """
    global _settings
    values = {"search": n, "batch": batch, "batch_min_nq": batch_min_nq, "build": build}
    for name, value in values.items():
        if value is not None and value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    _settings = replace(_settings, **{k: v for k, v in values.items() if v is not None})


def thread_settings() -> ThreadSettings:
    return _settings


def use_search_threads(nq: int) -> None:
    """Apply the thread count for a search of ``nq`` queries in the calling thread."""
    settings = _settings
    _apply(settings.batch if nq >= settings.batch_min_nq else settings.search)


def use_build_threads() -> None:
    """Apply the build thread count in the calling thread."""
    _apply(_settings.build)


def _apply(n: int) -> None:
    if getattr(_local, "omp_threads", 0) != n:
        faiss.omp_set_num_threads(n)
        _local.omp_threads = n
