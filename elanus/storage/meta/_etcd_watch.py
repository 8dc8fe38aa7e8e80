"""One etcd watch stream over a key range, feeding a :class:`WatchDispatcher`.

:class:`~elanus.storage.meta.etcd.EtcdMetaStore` opens a single stream over its
whole key prefix when the first ``watch_prefix`` is made, and publishes every
event it reads to the store's dispatcher, which filters by prefix and start
revision and runs the callbacks in revision order on its own thread — exactly
as the embedded store does. The reader thread never runs a callback, so a slow
callback cannot stall the gRPC stream.

The stream survives etcd restarts and member failovers: when it breaks, the
reader reopens it from the revision after the last one it published. If etcd
has compacted those revisions away meanwhile, the lost range is logged as an
error and reading resumes at the oldest revision etcd still has.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import grpc
from aetcd.rpc import rpc_pb2

from elanus.storage.meta.base import WatchEvent

_log = logging.getLogger(__name__)

_RETRY_FIRST = 0.05
_RETRY_MAX = 2.0
_STOP = object()


class EtcdWatchStream:
    """Reads etcd watch events of ``[start, end)`` and hands them, in order, to ``publish``.

    ``convert`` turns an etcd ``Event`` into a :class:`WatchEvent`; ``translate``
    turns the gRPC error that prevented the first stream into the exception
    :meth:`start` raises.
    """

    def __init__(
        self,
        stub: Any,
        start: bytes,
        end: bytes,
        convert: Callable[[Any], WatchEvent],
        publish: Callable[[Sequence[WatchEvent]], None],
        translate: Callable[[grpc.RpcError], BaseException],
        name: str,
    ) -> None:
        self._stub = stub
        self._start = start
        self._end = end
        self._convert = convert
        self._publish = publish
        self._translate = translate
        self._name = name
        self._stopped = threading.Event()
        self._created = threading.Event()
        self._failure: BaseException | None = None
        self._next_revision = 0  # 0 = from now; set once etcd confirms the first stream
        self._lock = threading.Lock()
        self._call: Any = None
        self._requests: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"elanus-etcd-watch:{name}", daemon=True)

    def start(self, timeout: float) -> None:
        """Open the stream; returns once etcd confirmed it (later changes will all be read).

        Raises ConnectionError (or the translated gRPC error) when it cannot be opened.
        """
        self._thread.start()
        if not self._created.wait(timeout):
            self.stop()
            raise ConnectionError(f"etcd did not confirm the watch {self._name!r} within {timeout}s")
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        """Close the stream and end the reader thread (without waiting for it). Idempotent."""
        with self._lock:
            self._stopped.set()
            self._requests.put(_STOP)
            if self._call is not None:
                self._call.cancel()

    def _request_stream(self, requests: queue.SimpleQueue[object], create: Any) -> Iterator[Any]:
        yield rpc_pb2.WatchRequest(create_request=create)
        while requests.get() is not _STOP:  # keep the request side open until told to stop
            pass

    def _run(self) -> None:
        delay = _RETRY_FIRST
        while not self._stopped.is_set():
            create = rpc_pb2.WatchCreateRequest(
                key=self._start, range_end=self._end, start_revision=self._next_revision
            )
            with self._lock:
                if self._stopped.is_set():
                    return
                requests: queue.SimpleQueue[object] = queue.SimpleQueue()
                self._requests = requests
                self._call = self._stub.Watch(self._request_stream(requests, create), wait_for_ready=True)
            try:
                for response in self._call:
                    delay = _RETRY_FIRST
                    if not self._handle(response):
                        break
            except grpc.RpcError as error:
                if self._stopped.is_set():
                    return
                if not self._created.is_set():
                    self._failure = self._translate(error)
                    self._created.set()
                    return
                _log.warning("etcd watch %r broke (%s); reconnecting", self._name, error)
            finally:
                requests.put(_STOP)
            if self._stopped.wait(delay):
                return
            delay = min(delay * 2, _RETRY_MAX)

    def _handle(self, response: Any) -> bool:
        """Process one watch response; False when the stream must be reopened."""
        if response.created and not self._created.is_set():
            self._next_revision = int(response.header.revision) + 1
            self._created.set()
        if response.canceled:
            if response.compact_revision:
                _log.error(
                    "etcd watch %r lost revisions %d..%d to compaction",
                    self._name,
                    self._next_revision,
                    response.compact_revision - 1,
                )
                self._next_revision = int(response.compact_revision)
            else:
                _log.warning("etcd cancelled the watch %r: %s", self._name, response.cancel_reason)
            return False
        if response.events:
            events = [self._convert(event) for event in response.events]
            self._next_revision = events[-1].kv.mod_revision + 1
            self._publish(events)
        return True
