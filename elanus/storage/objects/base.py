"""The object store contract: whole objects under '/'-separated keys.

Segment files (Parquet), delta logs, statistics and index files live here.
Backends: ``local`` (a directory, embedded mode) and ``s3`` (MinIO, AWS S3).

Invariants every backend keeps:

* **Keys** are non-empty, '/'-separated, relative (no leading '/'), with no
  empty, ``.`` or ``..`` segment and no trailing '/'. Anything else raises
  :class:`~elanus.storage.errors.InvalidKey` (a ``ValueError``).
* **Atomic objects.** A reader sees either no object or a complete one, never
  a partial write; ``put`` replaces an object as a whole.
* **Durability.** ``put``, ``put_if_absent``, ``delete`` and ``delete_prefix``
  are durable when they return.
* **Create-once.** Of several concurrent ``put_if_absent`` calls on one absent
  key exactly one returns True, and the stored bytes are that caller's.
* **Listing** is by plain string prefix (``"a/b"`` matches ``"a/b/c"`` and
  ``"a/bc"``), recursive, sorted.
"""

from __future__ import annotations

from typing import Protocol

from elanus.storage.errors import InvalidKey, ObjectNotFound

__all__ = ["ObjectNotFound", "ObjectStore", "validate_key"]


def validate_key(key: str) -> str:
    """Return ``key`` if it is a valid object key, else raise InvalidKey."""
    if not isinstance(key, str) or not key:
        raise InvalidKey(f"object keys are non-empty strings, got {key!r}")
    if key.startswith("/"):
        raise InvalidKey(f"object keys are relative, got {key!r}")
    if "\x00" in key or "\\" in key:
        raise InvalidKey(f"object keys may not contain NUL or backslash: {key!r}")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidKey(f"object key has an empty, '.' or '..' segment: {key!r}")
    return key


class ObjectStore(Protocol):
    """Put/get/range-get/list/delete of immutable objects."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing any object there. Atomic and durable."""
        ...

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Store ``data`` only if no object exists under ``key``; True if this call created it."""
        ...

    def get(self, key: str) -> bytes:
        """The whole object. Raises ObjectNotFound when absent."""
        ...

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset``; shorter (possibly empty) when the range runs past
        the end. Raises ObjectNotFound when absent, ValueError for negative arguments."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """Size in bytes. Raises ObjectNotFound when absent."""
        ...

    def list(self, prefix: str = "") -> list[str]:
        """Every key starting with ``prefix``, sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; returns how many."""
        ...

    def local_path(self, key: str) -> str | None:
        """A file path holding the object's bytes (for memory-mapping), or None when the
        backend has no local files. Raises ObjectNotFound if a local backend lacks the key.
        The file must not be modified."""
        ...

    def close(self) -> None:
        """Release resources. Idempotent."""
        ...
