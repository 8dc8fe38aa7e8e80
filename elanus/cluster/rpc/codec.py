"""Role values <-> protobuf messages of ``elanus.internal`` (``protos/elanus/internal``).

The conversion is driven by tables, not written per type: a message field and the
Python value it carries share a name, and the Python *type hint* (of a dataclass field
in :mod:`elanus.cluster.types`, or of a Protocol method's parameter or result) picks
the converter (:func:`field_codec`):

=============================== =============================================
hint                            message field
=============================== =============================================
int / str / bytes / bool        scalar of the same kind (timestamps ``uint64``)
IntEnum (states, levels)        ``int32``
dict[str, str] / dict[str, int] ``map<string, ...>``
dict[str, Any]                  ``bytes``: compact JSON text (search params)
list/tuple of scalars           ``repeated`` scalar
list/tuple of dataclasses       ``repeated`` message
list[tuple[...]]                ``repeated`` message, one field per element
tuple[int, ...] | None          ``Int64List``, unset = None
X | None (X a message)          message, unset = None
np.ndarray                      ``NdArray`` (packed buffer, see below)
Columns (dict[str, ndarray])    ``Columns`` (one NdArray per column, in order)
CollectionSchema                ``bytes``: serialised ``schema_pb2.CollectionSchema``
a dataclass                     the message of the same name in ``common.proto``
=============================== =============================================

Arrays (:func:`encode_array`): non-object dtypes travel as their raw C-order buffer with
``dtype.str`` and shape (float32/float16/int8/uint8 vectors, uint16 bfloat16 bits, bool
``$valid`` masks, uint64 timestamps ... all exact); object arrays (any shape, elements
in C order) of ``str`` as UTF-8 data plus int64 offsets (Arrow's large-string layout);
any other object array (JSON, ``$meta``, Array columns, None) as the per-value compact JSON text
(:func:`elanus.core.batch.json_dumps`), which parses back to equal values. Decoded raw
arrays are read-only views of the received bytes (receivers treat role values as
immutable, see :mod:`elanus.cluster.types`).

``CollectionInfo.schema`` is not sent: it is rebuilt from ``schema_bytes`` (decoded once
per distinct schema and shared), so the receiver relies on the root coordinator's
invariant ``info.schema == from_bytes(info.schema_bytes)``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Iterable
from enum import IntEnum
from functools import cache, lru_cache
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
from pymilvus.grpc_gen import common_pb2 as milvus_common_pb2
from pymilvus.grpc_gen import schema_pb2

from elanus.cluster import types as values
from elanus.cluster.rpc.gen import common_pb2
from elanus.core import batch
from elanus.core.schema import CollectionSchema, DataType, FieldSchema, from_bytes

Message = Any  # a generated protobuf message (the generated modules are untyped for mypy)


class FieldCodec(NamedTuple):
    """How one Python value is written into / read from the field ``name`` of a message."""

    encode: Callable[[Message, str, Any], None]
    decode: Callable[[Message, str], Any]


# ---------------------------------------------------------------------------- arrays

_OFFSET_DTYPE = np.dtype("<i8")


def encode_array(msg: Message, array: np.ndarray) -> None:
    """Fill the ``NdArray`` ``msg`` with ``array`` (see the module docstring)."""
    arr = np.asarray(array)
    if arr.dtype.hasobject:
        if arr.dtype != np.dtype(object):
            raise TypeError(f"cannot send an array of dtype {arr.dtype}")
        msg.shape.extend(arr.shape)
        arr = arr.reshape(-1)  # elements in C order (an element may itself be a list)
        strings = _as_strings(arr)
        if strings is not None:
            msg.kind = common_pb2.NdArray.STRINGS
            _, offsets, data = strings.buffers()
            msg.offsets = offsets.to_pybytes() if offsets is not None else np.zeros(1, _OFFSET_DTYPE).tobytes()
            msg.data = data.to_pybytes() if data is not None else b""
            return
        msg.kind = common_pb2.NdArray.JSON
        data, offsets_arr = _pack(_json_value(v) for v in arr)
        msg.offsets = offsets_arr.tobytes()
        msg.data = bytes(data)
        return
    msg.kind = common_pb2.NdArray.RAW
    msg.dtype = arr.dtype.str
    msg.shape.extend(arr.shape)
    msg.data = np.ascontiguousarray(arr).tobytes()


def decode_array(msg: Message) -> np.ndarray:
    """The array held by the ``NdArray`` ``msg``."""
    if msg.kind == common_pb2.NdArray.RAW:
        dtype = np.dtype(msg.dtype)
        if dtype.hasobject:
            raise ValueError(f"object dtype {msg.dtype!r} cannot travel raw")
        return np.frombuffer(msg.data, dtype=dtype).reshape(tuple(msg.shape))
    shape = tuple(msg.shape)
    n = int(np.prod(shape, dtype=np.int64))
    offsets = np.frombuffer(msg.offsets, dtype=_OFFSET_DTYPE)
    if len(offsets) != n + 1:
        raise ValueError(f"{n} values need {n + 1} offsets, got {len(offsets)}")
    data = msg.data
    if msg.kind == common_pb2.NdArray.STRINGS:
        arr = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
        out: np.ndarray = arr.to_numpy(zero_copy_only=False)
        return out.reshape(shape)
    bounds = offsets.tolist()
    return batch.object_array((batch.json_loads(data[bounds[i]:bounds[i + 1]]) for i in range(n)), n).reshape(shape)


def _as_strings(arr: np.ndarray) -> pa.Array | None:
    """Arrow large-string form of an object array holding only ``str`` (None otherwise)."""
    if len(arr) and not isinstance(arr[0], str):  # JSON/Array/None values: skip Arrow's inference
        return None
    try:
        strings = pa.array(arr, from_pandas=False)  # inferred: only all-str arrays become strings
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeError):  # mixed values, lone surrogates
        return None
    if strings.null_count or strings.type not in (pa.string(), pa.large_string()):
        return None
    return strings.cast(pa.large_string())


def _json_value(value: Any) -> bytes:
    try:
        return batch.json_dumps(value)
    except TypeError:  # numpy scalars or arrays inside Array/JSON values
        return json.dumps(value, default=_numpy_default, separators=(",", ":"), ensure_ascii=False).encode()


def _numpy_default(value: Any) -> Any:
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _pack(items: Iterable[bytes]) -> tuple[bytearray, np.ndarray]:
    data = bytearray()
    lengths = [0]
    for item in items:
        data += item
        lengths.append(len(item))
    return data, np.cumsum(np.asarray(lengths, dtype=_OFFSET_DTYPE))


def encode_columns(msg: Message, columns: values.Columns) -> None:
    """Fill the ``Columns`` ``msg`` (column order kept)."""
    for name, array in columns.items():
        col = msg.columns.add()
        col.name = name
        encode_array(col.values, array)


def decode_columns(msg: Message) -> values.Columns:
    return {col.name: decode_array(col.values) for col in msg.columns}


# ---------------------------------------------------------------------------- schemas

_DEFAULT_SLOTS: dict[DataType, str] = {
    DataType.BOOL: "bool_data", DataType.INT8: "int_data", DataType.INT16: "int_data",
    DataType.INT32: "int_data", DataType.INT64: "long_data", DataType.FLOAT: "float_data",
    DataType.DOUBLE: "double_data", DataType.VARCHAR: "string_data", DataType.STRING: "string_data",
    DataType.JSON: "bytes_data",
}


def _field_to_proto(f: FieldSchema) -> schema_pb2.FieldSchema:
    fp = schema_pb2.FieldSchema(
        fieldID=f.field_id, name=f.name, data_type=int(f.dtype), is_primary_key=f.is_primary,
        autoID=f.auto_id, description=f.description, element_type=int(f.element_type),
        nullable=f.nullable, is_dynamic=f.is_dynamic, is_partition_key=f.is_partition_key,
        is_clustering_key=f.is_clustering_key,
        type_params=[milvus_common_pb2.KeyValuePair(key=k, value=v) for k, v in f.params.items()])
    if f.default_value is not None:
        slot = _DEFAULT_SLOTS.get(f.dtype)
        if slot is None:
            raise TypeError(f"field {f.name} of type {f.dtype.name} cannot have a default value")
        setattr(fp.default_value, slot, f.default_value)
    return fp


def schema_to_bytes(schema: CollectionSchema) -> bytes:
    """Serialised ``schema_pb2.CollectionSchema`` that :func:`schema_from_bytes` reads back equal."""
    sp = schema_pb2.CollectionSchema(name=schema.name, description=schema.description,
                                     enable_dynamic_field=schema.enable_dynamic_field, version=schema.version,
                                     fields=[_field_to_proto(f) for f in schema.fields])
    return sp.SerializeToString(deterministic=True)


@lru_cache(maxsize=256)
def schema_from_bytes(data: bytes) -> CollectionSchema:
    """The schema of a serialised proto; equal inputs share one (immutable) result."""
    return from_bytes(data)


# ---------------------------------------------------------------------------- field codecs

def _scalar(convert: Callable[[Any], Any], back: Callable[[Any], Any] | None = None) -> FieldCodec:
    def enc(msg: Message, name: str, value: Any) -> None:
        setattr(msg, name, convert(value))

    def dec(msg: Message, name: str) -> Any:
        raw = getattr(msg, name)
        return raw if back is None else back(raw)

    return FieldCodec(enc, dec)


def _message(encode: Callable[[Message, Any], None], decode: Callable[[Message], Any],
             optional: bool = False) -> FieldCodec:
    def enc(msg: Message, name: str, value: Any) -> None:
        if value is None and optional:
            return
        sub = getattr(msg, name)
        sub.SetInParent()  # present even when empty (an empty list is not None)
        encode(sub, value)

    def dec(msg: Message, name: str) -> Any:
        if optional and not msg.HasField(name):
            return None
        return decode(getattr(msg, name))

    return FieldCodec(enc, dec)


def _repeated(encode: Callable[[Message, Any], None] | None, decode: Callable[[Any], Any],
              container: type, convert: Callable[[Any], Any] = lambda v: v) -> FieldCodec:
    """A repeated field: of messages when ``encode`` fills an added element, else of scalars."""
    def enc(msg: Message, name: str, value: Any) -> None:
        field = getattr(msg, name)
        if encode is None:
            field.extend(convert(v) for v in value)
        else:
            for item in value:
                encode(field.add(), item)

    def dec(msg: Message, name: str) -> Any:
        return container(decode(v) for v in getattr(msg, name))

    return FieldCodec(enc, dec)


def _map(convert: Callable[[Any], Any]) -> FieldCodec:
    def enc(msg: Message, name: str, value: Any) -> None:
        field = getattr(msg, name)
        for k, v in value.items():
            field[k] = convert(v)

    return FieldCodec(enc, lambda msg, name: dict(getattr(msg, name)))


def _json_bytes(value: dict[str, Any]) -> bytes:
    return _json_value(value)


def _json_dict(raw: bytes) -> dict[str, Any]:
    return dict(batch.json_loads(raw)) if raw else {}


_SCALARS: dict[Any, Callable[[Any], Any]] = {int: int, str: str, bytes: bytes, bool: bool, float: float}


def _whole_message(hint: Any) -> tuple[Callable[[Message, Any], None], Callable[[Message], Any]] | None:
    """(fill a message with the value, read the value from a message) for a message-typed
    ``hint``, or None when values of ``hint`` are not a message of their own."""
    if hint is np.ndarray:
        return encode_array, decode_array
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return (lambda m, v: encode_into(m, v, hint)), (lambda m: decode_from(m, hint))
    if typing.get_origin(hint) is dict and typing.get_args(hint)[1] is np.ndarray:
        return encode_columns, decode_columns
    if typing.get_origin(hint) is tuple and typing.get_args(hint)[1:] == (Ellipsis,) \
            and typing.get_args(hint)[0] is int:
        return (lambda m, v: m.values.extend(int(x) for x in v)), (lambda m: tuple(m.values))  # Int64List
    if typing.get_origin(hint) is tuple:
        return (lambda m, v: _encode_tuple(m, v, hint)), (lambda m: _decode_tuple(m, hint))
    return None


@cache
def field_codec(hint: Any) -> FieldCodec:
    """The converter for values of type ``hint`` (see the table in the module docstring)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in _SCALARS:
        return _scalar(_SCALARS[hint])
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        return _scalar(int, hint)
    if hint is CollectionSchema:
        return _scalar(schema_to_bytes, schema_from_bytes)
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        inner = args[0] if args[1] is type(None) else args[1]
        whole = _whole_message(inner)
        if whole is None:
            raise TypeError(f"no wire form for values of type {hint}")
        return _message(*whole, optional=True)
    if origin is dict and args[1] is not np.ndarray:
        if args[1] is Any:
            return _scalar(_json_bytes, _json_dict)
        return _map(_SCALARS[args[1]])
    if origin in (list, tuple) and (len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis)):
        elem = args[0]
        if elem in _SCALARS:
            return _repeated(None, lambda v: v, origin, _SCALARS[elem])
        whole = _whole_message(elem)
        if whole is not None:
            return _repeated(whole[0], whole[1], origin)
    whole = _whole_message(hint)
    if whole is not None and origin is not list:
        return _message(*whole)
    raise TypeError(f"no wire form for values of type {hint}")


@cache
def _tuple_fields(descriptor: Any, hint: Any) -> tuple[tuple[str, FieldCodec], ...]:
    """(field name, codec) per element of tuple type ``hint``, in field number order (once per type)."""
    names = [f.name for f in sorted(descriptor.fields, key=lambda f: f.number)]
    elems = typing.get_args(hint)
    if len(names) != len(elems):
        raise TypeError(f"{descriptor.name} has {len(names)} fields for {hint}")
    return tuple((n, field_codec(h)) for n, h in zip(names, elems, strict=True))


def _encode_tuple(msg: Message, value: tuple[Any, ...], hint: Any) -> None:
    for (name, codec), item in zip(_tuple_fields(msg.DESCRIPTOR, hint), value, strict=True):
        codec.encode(msg, name, item)


def _decode_tuple(msg: Message, hint: Any) -> tuple[Any, ...]:
    return tuple(codec.decode(msg, name) for name, codec in _tuple_fields(msg.DESCRIPTOR, hint))


# ---------------------------------------------------------------------------- dataclasses

# Dataclass fields not sent, rebuilt on decode from the fields that were.
_DERIVED: dict[type, dict[str, Callable[[dict[str, Any]], Any]]] = {
    values.CollectionInfo: {"schema": lambda kw: schema_from_bytes(kw["schema_bytes"])},
}

@cache
def _plan(cls: type) -> tuple[type, tuple[tuple[str, FieldCodec], ...]]:
    """(message class, codec per sent field) of dataclass ``cls``; checks both sides agree."""
    msg_cls = getattr(common_pb2, cls.__name__)
    hints = typing.get_type_hints(cls)
    derived = _DERIVED.get(cls, {})
    sent = [f.name for f in dataclasses.fields(cls) if f.name not in derived]
    wire = {f.name for f in msg_cls.DESCRIPTOR.fields}
    if set(sent) != wire:
        raise TypeError(f"{cls.__name__} fields {sorted(sent)} do not match its message fields {sorted(wire)}")
    return msg_cls, tuple((name, field_codec(hints[name])) for name in sent)


def encode_into(msg: Message, value: Any, cls: type) -> None:
    """Write dataclass ``value`` (of ``cls``) into its message ``msg``."""
    for name, codec in _plan(cls)[1]:
        codec.encode(msg, name, getattr(value, name))


def decode_from(msg: Message, cls: type) -> Any:
    """The ``cls`` instance held by ``msg``."""
    kwargs = {name: codec.decode(msg, name) for name, codec in _plan(cls)[1]}
    for name, rebuild in _DERIVED.get(cls, {}).items():
        kwargs[name] = rebuild(kwargs)
    return cls(**kwargs)


def to_message(value: Any) -> Message:
    """The ``common.proto`` message of a dataclass value of :mod:`elanus.cluster.types`."""
    cls: type = type(value)
    msg = _plan(cls)[0]()
    encode_into(msg, value, cls)
    return msg


def from_message(msg: Message, cls: type) -> Any:
    """Inverse of :func:`to_message`."""
    return decode_from(msg, cls)

