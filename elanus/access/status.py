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

from elanus.core.errors import PARAMETER_INVALID, UNEXPECTED, MilvusError

log = logging.getLogger(__name__)

# Codes whose Status carries ``extra_info["is_input_error"] = "true"``: merr's sentinels
# built WithErrorType(InputError), plus the not-found codes the proxy stamps as input
# errors when the user named the thing (collection, partition, database, alias).
_INPUT_ERROR_CODES = frozenset({
    102, 104, 105, 107, 108, 109, 300, 301, 302, 303, 702, 801, 802,
    PARAMETER_INVALID, 1101, 1102, 1400, 1401, 1402, 1800, 1801, 1802, 1804, 2100, 2201,
    100, 200, 800, 1600,
})

OK = common_pb2.Status()

# merr's ``oldCode``: the deprecated ``commonpb.ErrorCode`` paired with each code (the
# numbers are taken from the proto enum by name, so they cannot drift).
_LEGACY_BY_NAME = {
    "NotReadyServe": (1, 110),
    "CollectionNotExists": (100,),
    "IllegalArgument": (PARAMETER_INVALID, 1101, 1102),
    "NodeIDNotMatch": (904,),
    "MetaFailed": (200, 400, 501),
    "NoReplicaAvailable": (401, 503, 506, 905),
    "InsufficientMemoryToLoad": (3,),
    "DiskQuotaExhausted": (7,),
    "TimeTickLongDelay": (11, 505),
    "RateLimit": (8,),
    "ForceDeny": (9,),
    "IndexNotExist": (700,),
    "SegmentNotFound": (600,),
    "SchemaMismatch": (109,),
}
_LEGACY = {code: common_pb2.ErrorCode.Value(name)
           for name, codes in _LEGACY_BY_NAME.items() for code in codes}
_LEGACY_UNEXPECTED = common_pb2.ErrorCode.Value("UnexpectedError")


def legacy_code(code: int) -> int:
    """The legacy ``error_code`` old SDKs read for a Milvus ``code`` (0 for success)."""
    if code == 0:
        return 0
    return _LEGACY.get(code, _LEGACY_UNEXPECTED)


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


@cache
def _status_field(method: str) -> str:
    """Name of the Status field of ``method``'s response (``status``; a few, such as
    AlterCollectionSchemaResponse's ``alter_status``, name it otherwise)."""
    fields = response_class(method).DESCRIPTOR.fields
    named = [f.name for f in fields if f.message_type is common_pb2.Status.DESCRIPTOR]
    return "status" if "status" in named or not named else named[0]


def error_response(method: str, err: BaseException) -> Any:
    """A response of ``method``'s type carrying the error status."""
    cls = response_class(method)
    st = status_of(err)
    if cls is common_pb2.Status:
        return st
    resp = cls()
    getattr(resp, _status_field(method)).CopyFrom(st)
    return resp
