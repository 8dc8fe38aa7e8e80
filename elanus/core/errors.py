"""Milvus-compatible errors.

Every error that can reach a client is a :class:`MilvusError` carrying Milvus's
numeric ``code`` (``pkg/util/merr``); the access layer adds the legacy
``error_code`` old SDKs read. The text follows merr's composition: the base message, then ``[key=value]``
fields, then ``: detail``; an outer context is prefixed as ``context: inner``.

Roles raise these; only the access layer turns them into a ``Status``.
"""

from __future__ import annotations

from typing import Any

# merr codes (pkg/util/merr/errors.go)
SUCCESS = 0
SERVICE_NOT_READY = 1
SERVICE_UNAVAILABLE = 2
SERVICE_INTERNAL = 5
SERVICE_UNIMPLEMENTED = 10
COLLECTION_NOT_FOUND = 100
COLLECTION_NOT_LOADED = 101
COLLECTION_NUM_LIMIT = 102
COLLECTION_ILLEGAL_SCHEMA = 105
COLLECTION_SCHEMA_MISMATCH = 109
PARTITION_NOT_FOUND = 200
PARTITION_NOT_LOADED = 201
RESOURCE_GROUP_NOT_FOUND = 300
CHANNEL_NOT_FOUND = 500
SEGMENT_NOT_FOUND = 600
INDEX_NOT_FOUND = 700
INDEX_NOT_SUPPORTED = 701
INDEX_DUPLICATE = 702
DATABASE_NOT_FOUND = 800
DATABASE_NUM_LIMIT = 801
DATABASE_INVALID_NAME = 802
PARAMETER_INVALID = 1100
PARAMETER_MISSING = 1101
PARAMETER_TOO_LARGE = 1102
METRIC_NOT_FOUND = 1200
ALIAS_NOT_FOUND = 1600
ALIAS_COLLECTION_NAME_CONFLICT = 1601
ALIAS_ALREADY_EXIST = 1602
FIELD_NOT_FOUND = 1700
FIELD_INVALID_NAME = 1701
QUERY_PLAN = 2201
OPERATION_NOT_SUPPORTED = 3000
UNEXPECTED = 65535

_BASE_MESSAGES: dict[int, str] = {
    SERVICE_NOT_READY: "service not ready",
    SERVICE_UNAVAILABLE: "service unavailable",
    SERVICE_INTERNAL: "service internal error",
    SERVICE_UNIMPLEMENTED: "service unimplemented",
    COLLECTION_NOT_FOUND: "collection not found",
    COLLECTION_NOT_LOADED: "collection not loaded",
    COLLECTION_NUM_LIMIT: "exceeded the limit number of collections",
    COLLECTION_ILLEGAL_SCHEMA: "illegal collection schema",
    COLLECTION_SCHEMA_MISMATCH: "collection schema mismatch",
    PARTITION_NOT_FOUND: "partition not found",
    PARTITION_NOT_LOADED: "partition not loaded",
    RESOURCE_GROUP_NOT_FOUND: "resource group not found",
    CHANNEL_NOT_FOUND: "channel not found",
    SEGMENT_NOT_FOUND: "segment not found",
    INDEX_NOT_FOUND: "index not found",
    INDEX_NOT_SUPPORTED: "index type not supported",
    INDEX_DUPLICATE: "index duplicates",
    DATABASE_NOT_FOUND: "database not found",
    DATABASE_NUM_LIMIT: "exceeded the limit number of database",
    DATABASE_INVALID_NAME: "invalid database name",
    PARAMETER_INVALID: "invalid parameter",
    PARAMETER_MISSING: "missing parameter",
    PARAMETER_TOO_LARGE: "parameter too large",
    METRIC_NOT_FOUND: "metric not found",
    ALIAS_NOT_FOUND: "alias not found",
    ALIAS_COLLECTION_NAME_CONFLICT: "alias and collection name conflict",
    ALIAS_ALREADY_EXIST: "alias already exist",
    FIELD_NOT_FOUND: "field not found",
    FIELD_INVALID_NAME: "field name invalid",
    QUERY_PLAN: "query plan failed",
    OPERATION_NOT_SUPPORTED: "unsupported operation",
    UNEXPECTED: "unexpected error",
}


class MilvusError(Exception):
    """An error with a Milvus status code; ``str(err)`` is the client-visible reason."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def wrap(self, context: str) -> MilvusError:
        """Prefix outer context, as Go's ``errors.Wrap`` does: ``context: inner``."""
        return MilvusError(self.code, f"{context}: {self.message}")

    def __repr__(self) -> str:
        return f"MilvusError({self.code}, {self.message!r})"


def compose(code: int, *, fields: dict[str, Any] | None = None, detail: str | None = None,
            base: str | None = None) -> str:
    """Compose merr text: ``base[k=v]...: detail``."""
    msg = base if base is not None else _BASE_MESSAGES.get(code, "unexpected error")
    for key, value in (fields or {}).items():
        msg += f"[{key}={value}]"
    if detail:
        msg += f": {detail}"
    return msg


def error(code: int, detail: str | None = None, **fields: Any) -> MilvusError:
    """``MilvusError`` with merr's text for ``code``, ``[k=v]`` fields and an optional detail."""
    return MilvusError(code, compose(code, fields=fields, detail=detail))


def invalid_parameter(detail: str) -> MilvusError:
    """merr ``WrapErrParameterInvalidMsg``: Go's ``errors.Wrap`` puts the message in front of
    the sentinel, so the text is ``detail: invalid parameter``."""
    return MilvusError(PARAMETER_INVALID, f"{detail}: invalid parameter")


def collection_not_found(name: str, db: str = "default") -> MilvusError:
    """merr ``WrapErrCollectionNotFoundWithDB``: ``collection not found[database=..][collection=..]``.

    Only DescribeCollection words it differently (see :func:`describe_collection_not_found`)."""
    return MilvusError(COLLECTION_NOT_FOUND, compose(COLLECTION_NOT_FOUND,
                                                     fields={"database": db, "collection": name}))


def describe_collection_not_found(name: str, db: str = "default") -> MilvusError:
    """The proxy's DescribeCollection miss (``describeCollectionErrorStatus``): SDKs match
    ``can't find collection[database=..][collection=..]``."""
    return MilvusError(COLLECTION_NOT_FOUND, f"can't find collection[database={db}][collection={name}]")


def collection_not_loaded(name: str) -> MilvusError:
    return MilvusError(COLLECTION_NOT_LOADED, compose(COLLECTION_NOT_LOADED, fields={"collection": name}))


def partition_not_found(name: str, detail: str | None = None) -> MilvusError:
    return MilvusError(PARTITION_NOT_FOUND, compose(PARTITION_NOT_FOUND, fields={"partition": name},
                                                    detail=detail))


def database_not_found(name: str) -> MilvusError:
    return MilvusError(DATABASE_NOT_FOUND, compose(DATABASE_NOT_FOUND, fields={"database": name}))


def index_not_found(detail: str | None = None, **fields: Any) -> MilvusError:
    return MilvusError(INDEX_NOT_FOUND, compose(INDEX_NOT_FOUND, fields=fields, detail=detail))


def unexpected(detail: str) -> MilvusError:
    return MilvusError(UNEXPECTED, detail)
