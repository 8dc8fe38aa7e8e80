"""The rpc table: one :class:`MethodSpec` per method of each role Protocol.

Built from the Protocols of :mod:`elanus.cluster.interfaces` and the service descriptors
of the generated modules, and checked against both when first used: every Protocol
method has the rpc ``CamelCase(name)`` in service ``elanus.internal.<Role>`` and vice
versa; the request message's fields are the method's parameters by name; the response
has one field per result (one, or one per element of a ``tuple[...]`` result, in field
number order; none for ``None``). A mismatch raises ``TypeError`` (the tests build every
table), so the protos and the Protocols cannot drift apart silently.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

from elanus.cluster import interfaces
from elanus.cluster.rpc.codec import FieldCodec, Message, field_codec
from elanus.cluster.rpc.gen import (
    data_coord_pb2,
    data_node_pb2,
    index_node_pb2,
    query_coord_pb2,
    query_node_pb2,
    root_coord_pb2,
)

PACKAGE = "elanus.internal"

# service name -> (role Protocol, generated module holding the service)
SERVICES: dict[str, tuple[type, ModuleType]] = {
    "RootCoord": (interfaces.RootCoord, root_coord_pb2),
    "DataCoord": (interfaces.DataCoord, data_coord_pb2),
    "QueryCoord": (interfaces.QueryCoord, query_coord_pb2),
    "DataNode": (interfaces.DataNode, data_node_pb2),
    "IndexNode": (interfaces.IndexNode, index_node_pb2),
    "QueryNode": (interfaces.QueryNode, query_node_pb2),
}


@dataclass(frozen=True)
class MethodSpec:
    """One rpc: how a call of Protocol method ``name`` becomes messages and back."""

    service: str
    name: str
    rpc: str
    request_cls: Any
    response_cls: Any
    params: tuple[tuple[str, FieldCodec], ...]
    results: tuple[tuple[str, FieldCodec], ...]
    returns_tuple: bool

    @property
    def path(self) -> str:
        """The gRPC method path, ``/elanus.internal.<Service>/<Rpc>``."""
        return f"/{PACKAGE}.{self.service}/{self.rpc}"

    def encode_request(self, kwargs: dict[str, Any]) -> Message:
        msg = self.request_cls()
        for name, codec in self.params:
            codec.encode(msg, name, kwargs[name])
        return msg

    def decode_request(self, msg: Message) -> dict[str, Any]:
        return {name: codec.decode(msg, name) for name, codec in self.params}

    def encode_response(self, value: Any) -> Message:
        msg = self.response_cls()
        if not self.results:
            return msg
        items = value if self.returns_tuple else (value,)
        if len(items) != len(self.results):
            raise TypeError(f"{self.service}.{self.name} returned {len(items)} values, expected {len(self.results)}")
        for (name, codec), item in zip(self.results, items, strict=True):
            codec.encode(msg, name, item)
        return msg

    def decode_response(self, msg: Message) -> Any:
        if not self.results:
            return None
        items = tuple(codec.decode(msg, name) for name, codec in self.results)
        return items if self.returns_tuple else items[0]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def protocol_methods(protocol: type) -> dict[str, Any]:
    """The methods a Protocol declares (inherited ones included), in declaration order."""
    found: dict[str, Any] = {}
    for cls in reversed(protocol.__mro__):
        if cls is object or cls.__module__ == "typing":
            continue
        for name, member in vars(cls).items():
            if inspect.isfunction(member) and not name.startswith("_"):
                found[name] = member
    return found


def _fields(msg_cls: Any) -> list[str]:
    return [f.name for f in sorted(msg_cls.DESCRIPTOR.fields, key=lambda f: f.number)]


def _spec(service: str, module: ModuleType, name: str, method: Any) -> MethodSpec:
    rpc = _camel(name)
    request_cls = getattr(module, f"{service}{rpc}Request")
    response_cls = getattr(module, f"{service}{rpc}Response")
    hints = typing.get_type_hints(method)
    params = [p for p in inspect.signature(method).parameters if p != "self"]
    if _fields(request_cls) != params:
        raise TypeError(f"{request_cls.__name__} fields {_fields(request_cls)} != parameters {params}")
    result_hint = hints["return"]
    result_names = _fields(response_cls)
    returns_tuple = False
    if result_hint is type(None):
        result_hints: tuple[Any, ...] = ()
    elif typing.get_origin(result_hint) is tuple and len(result_names) > 1:
        result_hints, returns_tuple = typing.get_args(result_hint), True
    else:
        result_hints = (result_hint,)
    if len(result_hints) != len(result_names):
        raise TypeError(f"{response_cls.__name__} fields {result_names} do not carry {result_hint}")
    return MethodSpec(
        service=service, name=name, rpc=rpc, request_cls=request_cls, response_cls=response_cls,
        params=tuple((p, field_codec(hints[p])) for p in params),
        results=tuple((n, field_codec(h)) for n, h in zip(result_names, result_hints, strict=True)),
        returns_tuple=returns_tuple)


@cache
def service_methods(service: str) -> dict[str, MethodSpec]:
    """Protocol method name -> spec, for one service (``RootCoord``, ``QueryNode``, ...)."""
    protocol, module = SERVICES[service]
    specs = {name: _spec(service, module, name, fn) for name, fn in protocol_methods(protocol).items()}
    declared = {m.name for m in module.DESCRIPTOR.services_by_name[service].methods}
    missing = declared ^ {s.rpc for s in specs.values()}
    if missing:
        raise TypeError(f"service {service} and Protocol {protocol.__name__} differ in {sorted(missing)}")
    return specs
