"""Storage layer: the meta store, the object store and the WAL, each a Protocol with backends.

The factories pick a backend from a URL:

* ``local:///abs/dir`` or a bare filesystem path (absolute or relative) opens
  the embedded backend rooted at that directory (created if missing);
* ``etcd://host:port[,host:port...][/key/prefix]`` opens the meta store on
  etcd (:class:`~elanus.storage.meta.etcd.EtcdMetaStore`);
* ``s3://bucket[/prefix]?endpoint=http://host:port[&region=...]`` opens the
  object store on S3 (:class:`~elanus.storage.objects.s3.S3ObjectStore`;
  credentials from the ``AWS_*`` environment);
* any other scheme raises ``ValueError``.

The cluster backends are imported on first use, so embedded mode never loads
their client libraries.

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
    if urlsplit(url).scheme == "etcd":
        from elanus.storage.meta.etcd import EtcdMetaStore

        return EtcdMetaStore(url)
    return LocalMetaStore(_require_local(url, "meta store"))


def open_objects(url: str) -> ObjectStore:
    """Open the object store at ``url`` (see module docstring)."""
    if urlsplit(url).scheme == "s3":
        from elanus.storage.objects.s3 import S3ObjectStore

        return S3ObjectStore(url)
    return LocalObjectStore(_require_local(url, "object store"))


def open_wal(url: str, objects: ObjectStore | None = None, meta: MetaStore | None = None) -> Wal:
    """Open the WAL at ``url`` (see module docstring).

    ``nats://host:port[,host:port][/namespace][?replicas=N]`` opens the NATS JetStream
    WAL; ``objectstore`` or ``objectstore://prefix`` the WAL kept in ``objects``, with
    its metadata and writer fencing in ``meta`` (both required then, owned by the caller).
    """
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "nats":
        from elanus.storage.wal.nats import NatsWal

        return NatsWal(url)
    if scheme == "objectstore" or url == "objectstore":
        if objects is None or meta is None:
            raise ValueError(f"the WAL {url!r} needs the process's object store and meta store")
        from elanus.storage.wal.objectstore import ObjectStoreWal

        prefix = unquote(parts.netloc + parts.path) if scheme == "objectstore" else ""
        return ObjectStoreWal(objects, meta, prefix)
    return LocalWal(_require_local(url, "WAL"))
