"""The MilvusService servicer: pymilvus's generated service, answered by Elanus's proxy.

Handlers live in topic mixins; this class only wraps each of them so that any
error becomes a Status in the method's own response type (see
:mod:`elanus.access.status`). RPCs without a handler answer gRPC UNIMPLEMENTED,
which pymilvus does not retry.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import grpc
from pymilvus.grpc_gen import milvus_pb2, milvus_pb2_grpc

from elanus.access.context import ProxyContext
from elanus.access.ddl import DdlHandlers
from elanus.access.dml import DmlHandlers
from elanus.access.hybrid import HybridHandlers
from elanus.access.index_load import IndexLoadHandlers
from elanus.access.misc import MiscHandlers
from elanus.access.segment_info import SegmentInfoHandlers
from elanus.access.status import error_response

_METHODS = tuple(milvus_pb2.DESCRIPTOR.services_by_name["MilvusService"].methods_by_name)


def _unimplemented(method: str) -> Callable[[Any, Any], Any]:
    def call(request: Any, context: Any) -> Any:
        # abort() ends the RPC without the error-level traceback grpc logs for a raised error.
        context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented by Elanus yet")
    return call


def _guarded(method: str, handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    @functools.wraps(handler)
    def call(request: Any, context: Any) -> Any:
        try:
            return handler(request, context)
        except Exception as exc:  # every error must become a Status, never a raised RPC error
            return error_response(method, exc)
    return call


class MilvusServicer(DdlHandlers, DmlHandlers, HybridHandlers, IndexLoadHandlers, MiscHandlers,
                     SegmentInfoHandlers, milvus_pb2_grpc.MilvusServiceServicer):
    """One proxy's gRPC face. Stateless apart from the cache in :class:`ProxyContext`."""

    def __init__(self, ctx: ProxyContext) -> None:
        self.ctx = ctx
        for method in _METHODS:
            handler = getattr(type(self), method, None)
            base = getattr(milvus_pb2_grpc.MilvusServiceServicer, method, None)
            if handler is not None and handler is not base:
                setattr(self, method, _guarded(method, getattr(self, method)))
            else:
                setattr(self, method, _unimplemented(method))
