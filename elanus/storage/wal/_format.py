"""On-disk format of local WAL segment files.

A channel is a directory of segment files named by the offset of their first
record (``00000000000000000042.log``, zero-padded so names sort like offsets).
A segment is a plain sequence of frames, little-endian::

    [u32 length][u32 crc][payload: length bytes]

``crc`` is CRC-32 of the 4 length bytes followed by the payload. Covering the
length matters: some filesystems expose a crashed, half-allocated tail as zero
bytes, and a zero length with a CRC of only the (empty) payload (also 0) would
read as an endless run of valid empty records.

There is no file header and no footer: a segment's record count is implied by
the next segment's name, and only the last segment of a channel can have a
torn tail, which :func:`scan` finds.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO, NamedTuple

from elanus.storage.errors import WalCorrupt

HEADER = struct.Struct("<II")
_LENGTH = struct.Struct("<I")
MAX_PAYLOAD = 2**32 - 1
SEGMENT_SUFFIX = ".log"
# A segment's sparse index starts with (first offset, 0) and has one more entry per
# this many records, which bounds a seek to that many header skips.
INDEX_EVERY = 128
_TRUSTED_LENGTH = 1 << 20

IndexEntry = tuple[int, int]  # (record offset, byte position of its frame)


def segment_name(first_offset: int) -> str:
    return f"{first_offset:020d}{SEGMENT_SUFFIX}"


def parse_segment_name(name: str) -> int | None:
    """The first offset encoded in a segment file name, or None for other files."""
    stem = name.removesuffix(SEGMENT_SUFFIX)
    if stem == name or len(stem) != 20 or not stem.isdigit():
        return None
    return int(stem)


def checksum(payload: bytes) -> int:
    return zlib.crc32(payload, zlib.crc32(_LENGTH.pack(len(payload))))


def encode(payload: bytes) -> bytes:
    """One frame holding ``payload``."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"WAL record of {len(payload)} bytes exceeds the {MAX_PAYLOAD}-byte limit")
    return HEADER.pack(len(payload), checksum(payload)) + payload


def read_frame(f: BinaryIO) -> bytes:
    """The payload of the frame at ``f``'s position, checked; raises WalCorrupt on a short or bad frame."""
    header = f.read(HEADER.size)
    if len(header) < HEADER.size:
        raise WalCorrupt("WAL segment ends inside a record header")
    length, crc = HEADER.unpack(header)
    # A corrupt length must not make read() allocate gigabytes; a cheap size check
    # for big claims only, since the file may still be growing.
    if length > _TRUSTED_LENGTH and length > os.fstat(f.fileno()).st_size - f.tell():
        raise WalCorrupt("WAL record length points past the end of its segment")
    payload = f.read(length)
    if len(payload) < length:
        raise WalCorrupt("WAL segment ends inside a record payload")
    if checksum(payload) != crc:
        raise WalCorrupt("WAL record fails its checksum")
    return payload


def skip_frames(f: BinaryIO, count: int) -> None:
    """Advance ``f`` past ``count`` frames, reading only their headers."""
    for _ in range(count):
        header = f.read(HEADER.size)
        if len(header) < HEADER.size:
            raise WalCorrupt("WAL segment ends inside a record header")
        f.seek(HEADER.unpack(header)[0], 1)


class ScanResult(NamedTuple):
    records: int  # whole, valid records from the start of the file
    valid_bytes: int  # where the last of them ends; anything after is a torn or corrupt tail
    sparse_index: list[IndexEntry]


def scan(path: Path, first_offset: int) -> ScanResult:
    """Validate a segment from its start and stop at the first short or corrupt frame.

    Used on the last segment at recovery: whatever follows the first bad frame
    was never acknowledged (a durable record is only acknowledged after
    everything before it in the file was synced), so it is cut, not repaired.
    """
    count = 0
    pos = 0
    index: list[IndexEntry] = [(first_offset, 0)]
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        while True:
            header = f.read(HEADER.size)
            if len(header) < HEADER.size:
                break
            length, crc = HEADER.unpack(header)
            if length > size - pos - HEADER.size:  # torn, or a garbage length
                break
            payload = f.read(length)
            if len(payload) < length or checksum(payload) != crc:
                break
            if count and count % INDEX_EVERY == 0:
                index.append((first_offset + count, pos))
            count += 1
            pos += HEADER.size + length
    return ScanResult(count, pos, index)


def build_index(path: Path, first_offset: int, count: int) -> list[IndexEntry]:
    """Sparse index of the first ``count`` records of a (complete) segment, from headers only."""
    index: list[IndexEntry] = [(first_offset, 0)]
    with open(path, "rb") as f:
        pos = 0
        for i in range(count):
            header = f.read(HEADER.size)
            if len(header) < HEADER.size:
                raise WalCorrupt(f"{path.name} holds fewer records than the next segment's name implies")
            if i and i % INDEX_EVERY == 0:
                index.append((first_offset + i, pos))
            length = HEADER.unpack(header)[0]
            f.seek(length, 1)
            pos += HEADER.size + length
    return index
