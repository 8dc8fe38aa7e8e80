"""How errors cross the internal transport.

A role method that raises :class:`~elanus.core.errors.MilvusError` (or a subclass) ends
the rpc with gRPC status ``UNKNOWN`` and the trailing metadata entry ``elanus-error-bin``:
JSON ``{"code", "message", "class", "attrs"}``. The client raises an instance of the
same class with the same ``code`` and ``message`` (texts beyond 16 Ki characters are cut,
so the metadata stays within the 1 MiB the server and client options allow); ``class`` is honoured only for
``MilvusError`` subclasses defined in ``elanus`` modules (others, or unknown names,
become a plain ``MilvusError``), and ``attrs`` restores the instance's own JSON-able
attributes (e.g. ``FilterError.expr``), so nothing but data is ever rebuilt.

Any other exception ends the rpc with ``INTERNAL`` and the text ``Type: message``; the
client raises ``MilvusError(SERVICE_INTERNAL, "service internal error: <role>.<method>:
Type: message")``. ``UNAVAILABLE`` (peer down, connection refused or reset) and
``DEADLINE_EXCEEDED`` raise :class:`RoleUnavailable` (code 2, Milvus's "service
unavailable" text), so a caller may retry another node; after a deadline the call may
still have been applied.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import grpc

from elanus.core import errors
from elanus.core.errors import MilvusError

ERROR_KEY = "elanus-error-bin"  # "-bin": gRPC carries the value as raw bytes
MAX_TEXT = 16 * 1024  # longer messages and attributes are cut (metadata must stay small)


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """``text``, cut to ``limit`` characters with a marker when longer."""
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} characters cut]"


class RoleUnavailable(MilvusError):
    """The remote role could not be reached (down, restarting, or too slow to answer)."""

    def __init__(self, role: str, address: str, detail: str) -> None:
        super().__init__(errors.SERVICE_UNAVAILABLE, errors.compose(
            errors.SERVICE_UNAVAILABLE, fields={"role": role, "address": address}, detail=detail))
        self.role = role
        self.address = address


def error_metadata(exc: MilvusError) -> tuple[tuple[str, bytes], ...]:
    """Trailing metadata describing ``exc`` (see the module docstring)."""
    cls = type(exc)
    attrs = {k: clip(v) if isinstance(v, str) else v for k, v in vars(exc).items()
             if k not in ("code", "message") and isinstance(v, str | int | float | bool | type(None))}
    payload = {"code": exc.code, "message": clip(exc.message), "class": f"{cls.__module__}:{cls.__qualname__}",
               "attrs": attrs}
    return ((ERROR_KEY, json.dumps(payload).encode()),)


def _error_class(name: str) -> type[MilvusError]:
    module, _, qualname = name.partition(":")
    if not (module == "elanus" or module.startswith("elanus.")):
        return MilvusError
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return MilvusError
    if isinstance(obj, type) and issubclass(obj, MilvusError):
        return obj
    return MilvusError


def milvus_error_from(payload: bytes) -> MilvusError:
    """The error described by an ``elanus-error-bin`` value."""
    data = json.loads(payload)
    cls = _error_class(str(data.get("class", "")))
    exc = cls.__new__(cls)
    MilvusError.__init__(exc, int(data["code"]), str(data["message"]))
    for key, value in dict(data.get("attrs", {})).items():
        setattr(exc, key, value)
    return exc


def error_from_rpc(err: grpc.RpcError, role: str, address: str, method: str) -> MilvusError:
    """The exception a client raises for a failed rpc."""
    code = err.code() if hasattr(err, "code") else None
    details = (err.details() if hasattr(err, "details") else None) or str(err)
    trailing = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    for key, value in trailing or ():
        if key == ERROR_KEY:
            return milvus_error_from(value if isinstance(value, bytes) else str(value).encode())
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return RoleUnavailable(role, address, f"{method}: {details}")
    name = code.name if code is not None else "UNKNOWN"
    return errors.error(errors.SERVICE_INTERNAL, f"{role}.{method}: {details}" if name in ("INTERNAL", "UNKNOWN")
                        else f"{role}.{method}: {name}: {details}")
