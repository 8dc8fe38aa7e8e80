"""Storage layer: the meta store, the object store and the WAL, each a Protocol with backends.

The factories pick a backend from a URL:

* ``local:///abs/dir`` or a bare filesystem path (absolute or relative) opens
  the embedded backend rooted at that directory (created if missing);
* any other scheme raises ``ValueError`` (etcd, s3 and broker URLs are
  recognised by the backends that implement them).

The three kinds must not share one directory: give each its own.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from elanus.storage.errors import (
    ChannelNotFound,
    InvalidKey,
    LeaseNotFound,
    ObjectNotFound,
    StorageClosed,
    StorageError,
    WalCorrupt,
    WalTruncated,
)
from elanus.storage.meta import Compare, KeyValue, LocalMetaStore, MetaStore, Op, WatchEvent, WatchHandle
from elanus.storage.objects import LocalObjectStore, ObjectStore
from elanus.storage.wal import LocalWal, Wal, WalReader, WalRecord

__all__ = [
    "ChannelNotFound",
    "Compare",
    "InvalidKey",
    "KeyValue",
    "LeaseNotFound",
    "LocalMetaStore",
    "LocalObjectStore",
    "LocalWal",
    "MetaStore",
    "ObjectNotFound",
    "ObjectStore",
    "Op",
    "StorageClosed",
    "StorageError",
    "Wal",
    "WalCorrupt",
    "WalReader",
    "WalRecord",
    "WalTruncated",
    "WatchEvent",
    "WatchHandle",
    "local_directory",
    "open_meta",
    "open_objects",
    "open_wal",
]


def local_directory(url: str) -> Path | None:
    """The directory a local-backend URL names, or None if ``url`` is not a local URL.

    ``local:///abs/dir`` and bare paths are local. ``local://host/...`` and
    ``local:relative`` are rejected, since a silently misread path would put data
    somewhere unexpected.
    """
    parts = urlsplit(url)
    if parts.scheme == "local":
        if parts.netloc or not parts.path.startswith("/"):
            raise ValueError(f"local URLs name an absolute directory, as in local:///abs/dir; got {url!r}")
        return Path(unquote(parts.path))
    # A bare path has no scheme. (A one-letter "scheme" would be a Windows drive,
    # which is not a platform this package supports.)
    if not parts.scheme and url:
        return Path(url).absolute()
    return None


def _require_local(url: str, kind: str) -> Path:
    directory = local_directory(url)
    if directory is None:
        raise ValueError(f"unsupported {kind} URL {url!r}: expected local:///abs/dir or a filesystem path")
    return directory


def open_meta(url: str) -> MetaStore:
    """Open the meta store at ``url`` (see module docstring)."""
    return LocalMetaStore(_require_local(url, "meta store"))


def open_objects(url: str) -> ObjectStore:
    """Open the object store at ``url`` (see module docstring)."""
    return LocalObjectStore(_require_local(url, "object store"))


def open_wal(url: str) -> Wal:
    """Open the WAL at ``url`` (see module docstring)."""
    return LocalWal(_require_local(url, "WAL"))
