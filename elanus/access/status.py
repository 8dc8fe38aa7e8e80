"""Status values on the wire.

Every RPC answers with a ``common.Status`` (bare or inside its response), never
with a raised gRPC error: pymilvus retries raised errors for minutes. An
unexpected exception becomes code 65535 with its text, and is logged.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from google.protobuf import message_factory
from pymilvus.grpc_gen import common_pb2, milvus_pb2

from elanus.core.errors import PARAMETER_INVALID, UNEXPECTED, MilvusError, legacy_code

log = logging.getLogger(__name__)

_INPUT_ERROR_CODES = {PARAMETER_INVALID, 1101, 1102, 100, 200, 800}

OK = common_pb2.Status()


def status_of(err: BaseException) -> common_pb2.Status:
    """The Status for an error: Milvus code, legacy error_code, reason."""
    if isinstance(err, MilvusError):
        st = common_pb2.Status(code=err.code, error_code=legacy_code(err.code), reason=err.message,
                               detail=err.message)
        if err.code in _INPUT_ERROR_CODES:
            st.extra_info["is_input_error"] = "true"
        return st
    log.exception("unexpected error", exc_info=err)
    text = f"{type(err).__name__}: {err}"
    return common_pb2.Status(code=UNEXPECTED, error_code=legacy_code(UNEXPECTED), reason=text, detail=text)


@cache
def response_class(method: str) -> Any:
    """The response message class of a MilvusService method."""
    desc = milvus_pb2.DESCRIPTOR.services_by_name["MilvusService"].methods_by_name[method].output_type
    return message_factory.GetMessageClass(desc)


def error_response(method: str, err: BaseException) -> Any:
    """A response of ``method``'s type carrying the error status."""
    cls = response_class(method)
    st = status_of(err)
    if cls is common_pb2.Status:
        return st
    resp = cls()
    resp.status.CopyFrom(st)
    return resp
