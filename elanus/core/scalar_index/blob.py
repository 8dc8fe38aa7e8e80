"""The byte format of serialised scalar indexes: a JSON header plus raw array buffers.

Layout::

    b"ELSI1\\n" | u64 header length (little endian) | header (UTF-8 JSON) | buffers

The header is ``{"meta": {...}, "arrays": [{"name", "kind", "dtype", "shape", "offset",
"nbytes", ...}]}``; buffers start 64-byte aligned (relative to the blob), so numeric arrays
load as zero-copy views of the blob (a memory-mapped file stays mapped, never copied).
Array kinds: ``numpy`` (any fixed-width dtype, C order), ``bits`` (a bool array stored
packed, 8 rows a byte) and ``strings`` (Arrow's UTF-8 layout: int64 offsets + data bytes,
read back as an object array of ``str``). No pickle anywhere: loading runs no code from
the blob.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

MAGIC = b"ELSI1\n"
_ALIGN = 64


def _pad(n: int) -> int:
    return (-n) % _ALIGN


def pack(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    """``meta`` (JSON-able) and named arrays as one blob. Object arrays must hold ``str``
    only; bool arrays are stored as bits."""
    entries: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    pos = 0
    for name, arr in arrays.items():
        entry: dict[str, Any] = {"name": name, "shape": list(arr.shape)}
        if arr.dtype == object:
            sarr = pa.array(arr.tolist(), type=pa.large_string())
            _, offsets, data = sarr.buffers()
            parts = [offsets.to_pybytes() if offsets is not None else b"",
                     data.to_pybytes() if data is not None else b""]
            entry.update(kind="strings", lengths=[len(p) for p in parts])
        elif arr.dtype == np.bool_:
            parts = [np.packbits(arr.ravel()).tobytes()]
            entry.update(kind="bits", lengths=[len(parts[0])])
        else:
            parts = [np.ascontiguousarray(arr).tobytes()]
            entry.update(kind="numpy", dtype=arr.dtype.str, lengths=[len(parts[0])])
        entry["offsets"] = []
        for part in parts:
            entry["offsets"].append(pos)
            chunks.append(part)
            pad = _pad(len(part))
            chunks.append(b"\0" * pad)
            pos += len(part) + pad
        entries.append(entry)
    header = json.dumps({"meta": dict(meta), "arrays": entries}, separators=(",", ":")).encode()
    head = MAGIC + struct.pack("<Q", len(header)) + header
    head += b"\0" * _pad(len(head))
    return head + b"".join(chunks)


def unpack(blob: bytes | memoryview) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The ``(meta, arrays)`` :func:`pack` stored. Numeric arrays are read-only views of
    ``blob``; raises ValueError if ``blob`` is not a scalar index."""
    view = memoryview(blob).cast("B")
    if bytes(view[:len(MAGIC)]) != MAGIC:
        raise ValueError("not a serialised scalar index")
    (size,) = struct.unpack_from("<Q", view, len(MAGIC))
    start = len(MAGIC) + 8
    header = json.loads(bytes(view[start:start + size]))
    base = start + size + _pad(start + size)
    arrays: dict[str, np.ndarray] = {}
    for entry in header["arrays"]:
        shape = tuple(entry["shape"])
        spans = [view[base + off: base + off + length] for off, length in zip(entry["offsets"], entry["lengths"],
                                                                              strict=True)]
        kind = entry["kind"]
        if kind == "numpy":
            arr = np.frombuffer(spans[0], dtype=np.dtype(entry["dtype"])).reshape(shape)
        elif kind == "bits":
            count = int(np.prod(shape)) if shape else 1
            arr = np.unpackbits(np.frombuffer(spans[0], dtype=np.uint8), count=count).astype(np.bool_)
            arr = arr.reshape(shape)
        elif kind == "strings":
            count = shape[0]
            sarr = pa.LargeStringArray.from_buffers(count, pa.py_buffer(spans[0]), pa.py_buffer(spans[1]))
            arr = np.asarray(sarr.to_numpy(zero_copy_only=False), dtype=object)
        else:
            raise ValueError(f"unknown array kind {kind!r} in scalar index")
        arrays[entry["name"]] = arr
    return header["meta"], arrays
