"""Primary key → shard routing, bit-compatible with Milvus.

int64 keys: murmur3_32 (seed 0) of the 8 little-endian bytes, masked to 31 bits;
VarChar keys: crc32 (IEEE) of the UTF-8 bytes, at most the first 100 bytes,
masked the same way. The shard is ``hash % num_shards``. The int64 path is
vectorised over numpy arrays; strings go through ``zlib.crc32`` one by one (the
stdlib C call is the fast path there).

Partition keys (:func:`partition_key_slot`) hash int64 values the same way, but VarChar
values by the crc32 *without* the 31-bit mask, as Milvus's ``HashKey2Partitions`` does.
"""

from __future__ import annotations

import zlib

import numpy as np

_C1 = np.uint32(0xCC9E2D51)
_C2 = np.uint32(0x1B873593)
_MASK31 = 0x7FFFFFFF


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def murmur3_int64(keys: np.ndarray) -> np.ndarray:
    """murmur3_32 of each int64's 8 little-endian bytes (uint32 array)."""
    words = np.ascontiguousarray(keys, dtype="<i8").view("<u4").reshape(-1, 2).astype(np.uint32)
    h = np.zeros(len(words), dtype=np.uint32)
    with np.errstate(over="ignore"):
        for i in range(2):
            k = words[:, i] * _C1
            k = _rotl(k, 15) * _C2
            h ^= k
            h = _rotl(h, 13) * np.uint32(5) + np.uint32(0xE6546B64)
        h ^= np.uint32(8)
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x85EBCA6B)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0xC2B2AE35)
        h ^= h >> np.uint32(16)
    return h


def hash_pks(pks: np.ndarray) -> np.ndarray:
    """31-bit routing hash of each primary key (int64 array or object array of str)."""
    if pks.dtype.kind in "iu":
        return (murmur3_int64(pks) & np.uint32(_MASK31)).astype(np.int64)
    return np.fromiter((zlib.crc32(str(s).encode()[:100]) & _MASK31 for s in pks),
                       dtype=np.int64, count=len(pks))


def shard_of(pks: np.ndarray, num_shards: int) -> np.ndarray:
    """Shard index of each primary key."""
    if num_shards == 1:
        return np.zeros(len(pks), dtype=np.int64)
    return hash_pks(pks) % num_shards


def partition_key_slot(keys: np.ndarray, num_partitions: int) -> np.ndarray:
    """Index (into the collection's ``_default_0 .. _default_{n-1}`` partitions) of each
    partition-key value, as Milvus's ``HashKey2Partitions``: int64 keys by the 31-bit
    murmur3 hash above, VarChar keys by the *unmasked* crc32 of their first 100 UTF-8
    bytes, each modulo ``num_partitions``."""
    if keys.dtype.kind in "iu":
        return hash_pks(keys) % num_partitions
    crc = np.fromiter((zlib.crc32(str(s).encode()[:100]) for s in keys), dtype=np.int64, count=len(keys))
    return crc % num_partitions
