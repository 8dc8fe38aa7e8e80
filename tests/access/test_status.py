"""Status values: merr.Status's fields (code, legacy error_code, reason/detail, is_input_error)."""

from __future__ import annotations

import logging

import pytest
from pymilvus.grpc_gen import common_pb2, milvus_pb2

from elanus.access.status import OK, error_response, response_class, status_of
from elanus.core import errors
from elanus.core.errors import MilvusError

Legacy = common_pb2.ErrorCode


def test_ok_is_success() -> None:
    assert OK.code == 0 and OK.error_code == Legacy.Success and OK.reason == ""


@pytest.mark.parametrize(("err", "legacy"), [
    (errors.invalid_parameter("bad"), Legacy.IllegalArgument),
    (MilvusError(errors.PARAMETER_MISSING, "x: missing parameter"), Legacy.IllegalArgument),
    (errors.collection_not_found("c"), Legacy.CollectionNotExists),
    (errors.partition_not_found("p"), Legacy.MetaFailed),
    (errors.index_not_found(), Legacy.IndexNotExist),
    (errors.database_not_found("d"), Legacy.UnexpectedError),
    (MilvusError(errors.SERVICE_NOT_READY, "x"), Legacy.NotReadyServe),
    (MilvusError(errors.SEGMENT_NOT_FOUND, "x"), Legacy.SegmentNotFound),
    (MilvusError(errors.COLLECTION_SCHEMA_MISMATCH, "x"), Legacy.SchemaMismatch),
    (MilvusError(errors.COLLECTION_NOT_LOADED, "x"), Legacy.UnexpectedError),
])
def test_milvus_error_fields(err: MilvusError, legacy: int) -> None:
    st = status_of(err)
    assert st.code == err.code
    assert st.error_code == legacy
    assert st.reason == err.message and st.detail == err.message


@pytest.mark.parametrize("code", [100, 200, 800, 802, 801, 702, 1100, 1101, 1102, 1600, 2201, 105, 109])
def test_input_errors_are_flagged(code: int) -> None:
    st = status_of(MilvusError(code, "x"))
    assert st.extra_info["is_input_error"] == "true"
    assert not st.retriable


@pytest.mark.parametrize("code", [1, 5, 101, 201, 700, 1601, 1602, 65535])
def test_system_errors_are_not_flagged(code: int) -> None:
    assert "is_input_error" not in status_of(MilvusError(code, "x")).extra_info


def test_unexpected_exception_becomes_65535(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="elanus.access.status"):
        st = status_of(KeyError("boom"))
    assert st.code == errors.UNEXPECTED and st.error_code == Legacy.UnexpectedError
    assert st.reason == "KeyError: 'boom'" == st.detail
    assert "is_input_error" not in st.extra_info
    assert any("unexpected error" in r.getMessage() for r in caplog.records)


def test_error_response_shapes() -> None:
    err = errors.collection_not_found("c")
    bare = error_response("DropCollection", err)  # the RPC answers a bare Status
    assert isinstance(bare, common_pb2.Status) and bare.code == 100
    wrapped = error_response("DescribeCollection", err)
    assert isinstance(wrapped, milvus_pb2.DescribeCollectionResponse)
    assert wrapped.status.code == 100 and wrapped.status.reason == err.message
    search = error_response("Search", errors.invalid_parameter("topk"))
    assert isinstance(search, milvus_pb2.SearchResults) and search.status.error_code == Legacy.IllegalArgument
    assert response_class("Query") is milvus_pb2.QueryResults
    assert response_class("HasCollection") is milvus_pb2.BoolResponse
