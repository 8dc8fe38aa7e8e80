"""Index builds, off the request path.

The data coordinator hands each (flushed segment, built index) pair to
:meth:`IndexBuilds.submit`; a small thread pool asks an index node to build
it and reports the outcome through the callbacks. A pair is queued at most
once at a time. A failed build is retried with backoff (the index node may
not be up yet, e.g. during start-up) and then reported as failed, so the
segment is not held back from serving forever: it is searched by brute force.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from elanus.cluster.registry import Registry
from elanus.cluster.types import SegmentInfo
from elanus.coord.data.codec import IndexRecord

log = logging.getLogger(__name__)

BUILD_WORKERS = 2
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)

# (segment, index) -> still wanted? (False once the segment or index was dropped)
Wanted = Callable[[int, int], bool]
Built = Callable[[int, IndexRecord, str], None]
Failed = Callable[[int, IndexRecord], None]


class IndexBuilds:
    """Dispatches builds to ``registry.index_node()`` (see the module docstring)."""

    def __init__(self, registry: Registry, wanted: Wanted, built: Built, failed: Failed,
                 workers: int = BUILD_WORKERS) -> None:
        self._registry = registry
        self._wanted = wanted
        self._built = built
        self._failed = failed
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="index-build")
        self._queued: set[tuple[int, int]] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def submit(self, segment: SegmentInfo, record: IndexRecord) -> None:
        key = (segment.id, record.info.id)
        with self._lock:
            if key in self._queued or self._closed.is_set():
                return
            self._queued.add(key)
        self._pool.submit(self._run, segment, record)

    def pending(self) -> int:
        with self._lock:
            return len(self._queued)

    def _run(self, segment: SegmentInfo, record: IndexRecord) -> None:
        key = (segment.id, record.info.id)
        try:
            self._attempts(segment, record)
        except Exception:
            log.exception("index build bookkeeping failed for segment %d", segment.id)
        finally:
            with self._lock:
                self._queued.discard(key)

    def _build(self, segment: SegmentInfo, record: IndexRecord) -> str:
        """One build on an index node; returns the index object key."""
        info = record.info
        spec = record.spec
        if spec is None:  # a scalar index: the node resolves the field from the schema
            schema_bytes = self._registry.root().describe_collection("", collection_id=info.collection_id).schema_bytes
            return self._registry.index_node().build_scalar_index(
                info.collection_id, segment, schema_bytes, info.field_name, info.id, dict(info.params),
                info.json_pointer)
        return self._registry.index_node().build_index(
            info.collection_id, segment, info.field_name, spec.dim, dict(info.params),
            str(spec.metric_type), int(spec.vector_type))

    def _attempts(self, segment: SegmentInfo, record: IndexRecord) -> None:
        info = record.info
        for attempt, delay in enumerate((*RETRY_DELAYS, None)):
            if self._closed.is_set() or not self._wanted(segment.id, info.id):
                return
            try:
                path = self._build(segment, record)
            except Exception as exc:
                if delay is None:
                    log.error("index %s of segment %d failed after %d attempts: %r",
                              info.index_name, segment.id, attempt + 1, exc)
                    self._failed(segment.id, record)
                    return
                log.warning("index %s of segment %d: build attempt %d failed (%r); retrying",
                            info.index_name, segment.id, attempt + 1, exc)
                self._closed.wait(delay)
                continue
            if not self._closed.is_set():  # after close the stores may be gone too
                self._built(segment.id, record, path)
            return

    def close(self) -> None:
        self._closed.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
