"""The byte format of a serialized vector index.

Layout (all integers little-endian)::

    magic    4 bytes  b"EVIX"
    version  u16      FORMAT_VERSION
    reserved u16      0
    meta_len u32      length of the JSON meta that follows
    meta     JSON     {"spec": IndexSpec.to_dict(), "ntotal": int}
    payload  bytes    faiss.serialize_index output, to the end

Binary indexes (BIN_FLAT, BIN_IVF_FLAT) add ``"codes": nbytes`` to the meta; their
payload is the packed rows (``ntotal * dim / 8`` bytes), then, when the index has a
faiss part (BIN_IVF_FLAT with HAMMING), ``faiss.serialize_index_binary`` output to
the end.

The meta is what Elanus needs before touching faiss (which spec, how many
rows); faiss's own format describes the index structure. A blob is
accepted only if every length adds up and the faiss index agrees with the
meta on ``d`` and ``ntotal``: a truncated or mismatched file is rejected,
never half-loaded.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from elanus.core.errors import unexpected
from elanus.core.index.faiss_glue import faiss
from elanus.core.index.spec import IndexSpec

MAGIC = b"EVIX"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<4sHHI")


def encode(spec: IndexSpec, index: Any) -> bytes:
    """Serialize a faiss index built from ``spec``."""
    meta = json.dumps({"spec": spec.to_dict(), "ntotal": int(index.ntotal)},
                      separators=(",", ":")).encode()
    payload = faiss.serialize_index(index)
    # One copy of the (possibly large) payload: join reads the numpy buffer directly.
    return b"".join((_HEADER.pack(MAGIC, FORMAT_VERSION, 0, len(meta)), meta, memoryview(payload)))


def encode_binary(spec: IndexSpec, codes: np.ndarray, index: Any | None) -> bytes:
    """Serialize a binary index: its packed rows and its faiss part (None: none)."""
    packed = np.ascontiguousarray(codes, dtype=np.uint8)
    meta = json.dumps({"spec": spec.to_dict(), "ntotal": int(packed.shape[0]), "codes": int(packed.nbytes)},
                      separators=(",", ":")).encode()
    parts: list[Any] = [_HEADER.pack(MAGIC, FORMAT_VERSION, 0, len(meta)), meta, packed.reshape(-1).data]
    if index is not None:
        parts.append(memoryview(faiss.serialize_index_binary(index)))
    return b"".join(parts)


def peek_spec(data: bytes | bytearray | memoryview) -> IndexSpec:
    """The spec of a serialized index, without decoding its payload."""
    return _read(data)[0]


def decode_binary(data: bytes | bytearray | memoryview) -> tuple[IndexSpec, np.ndarray, Any | None]:
    """Parse a blob made by :func:`encode_binary` into (spec, codes (ntotal, dim/8), faiss part).

    Raises MilvusError (unexpected error) when the blob is not a valid binary index.
    """
    spec, ntotal, meta, view, start = _read(data)
    size = int(meta.get("codes", -1))
    width = spec.dim // 8
    if size != ntotal * width or start + size > len(view):
        raise unexpected("corrupt vector index: binary codes do not match the meta")
    codes = np.frombuffer(view, dtype=np.uint8, count=size, offset=start).reshape(ntotal, width)
    rest = start + size
    index = None
    if rest < len(view):
        try:
            index = faiss.deserialize_index_binary(np.frombuffer(view, dtype=np.uint8, offset=rest))
        except RuntimeError as exc:
            raise unexpected(f"corrupt vector index payload: {exc}") from None
        if index.d != spec.dim or index.ntotal != ntotal:
            raise unexpected(f"corrupt vector index: payload has d={index.d}, ntotal={index.ntotal}; "
                             f"meta says d={spec.dim}, ntotal={ntotal}")
    return spec, codes, index


def _read(data: bytes | bytearray | memoryview) -> tuple[IndexSpec, int, dict[str, Any], memoryview, int]:
    """(spec, ntotal, meta, whole blob, payload start) of a blob; checks the header."""
    view = memoryview(data).cast("B")
    if len(view) < _HEADER.size:
        raise unexpected("corrupt vector index: shorter than its header")
    magic, version, _, meta_len = _HEADER.unpack_from(view)
    if magic != MAGIC:
        raise unexpected("corrupt vector index: bad magic")
    if version != FORMAT_VERSION:
        raise unexpected(f"unsupported vector index format version {version}")
    start = _HEADER.size + meta_len
    if start > len(view):
        raise unexpected("corrupt vector index: truncated")
    try:
        meta = json.loads(bytes(view[_HEADER.size:start]))
        spec = IndexSpec.from_dict(meta["spec"])
        ntotal = int(meta["ntotal"])
    except (ValueError, KeyError, TypeError) as exc:
        raise unexpected(f"corrupt vector index meta: {exc}") from None
    return spec, ntotal, meta, view, start


def decode(data: bytes | bytearray | memoryview) -> tuple[IndexSpec, Any]:
    """Parse a blob made by :func:`encode` into its spec and faiss index.

    Raises MilvusError (unexpected error) when the blob is not a valid index.
    """
    spec, ntotal, _, view, start = _read(data)
    if start >= len(view):
        raise unexpected("corrupt vector index: truncated")
    try:
        index = faiss.deserialize_index(np.frombuffer(view, dtype=np.uint8, offset=start))
    except RuntimeError as exc:  # faiss raises RuntimeError on malformed input
        raise unexpected(f"corrupt vector index payload: {exc}") from None
    if index.d != spec.dim or index.ntotal != ntotal:
        raise unexpected(f"corrupt vector index: payload has d={index.d}, ntotal={index.ntotal}; "
                         f"meta says d={spec.dim}, ntotal={ntotal}")
    return spec, index


def encode_arrays(spec: IndexSpec, ntotal: int, arrays: dict[str, np.ndarray]) -> bytes:
    """Serialize an index held as plain 1-D numpy arrays (the sparse index): the meta adds
    ``"arrays": [[name, dtype, length], ...]``; the payload is their bytes in that order."""
    parts = [np.ascontiguousarray(a) for a in arrays.values()]
    layout = [[name, a.dtype.str, len(a)] for name, a in zip(arrays, parts, strict=True)]
    meta = json.dumps({"spec": spec.to_dict(), "ntotal": int(ntotal), "arrays": layout},
                      separators=(",", ":")).encode()
    return b"".join([_HEADER.pack(MAGIC, FORMAT_VERSION, 0, len(meta)), meta, *(a.data for a in parts)])


def decode_arrays(data: bytes | bytearray | memoryview) -> tuple[IndexSpec, int, dict[str, np.ndarray]]:
    """Inverse of :func:`encode_arrays`: (spec, ntotal, read-only array views of ``data``).

    Raises MilvusError (unexpected error) when the lengths do not add up.
    """
    spec, ntotal, meta, view, start = _read(data)
    out: dict[str, np.ndarray] = {}
    pos = start
    try:
        for name, dtype, length in meta["arrays"]:
            dt = np.dtype(dtype)
            out[name] = np.frombuffer(view, dtype=dt, count=int(length), offset=pos)
            pos += dt.itemsize * int(length)
    except (KeyError, TypeError, ValueError) as exc:
        raise unexpected(f"corrupt vector index: {exc}") from None
    if pos != len(view):
        raise unexpected("corrupt vector index: array payload does not match the meta")
    return spec, ntotal, out
