"""Errors raised by the storage layer.

Every backend (local, etcd, S3, broker) raises these and only these for the
conditions below, so callers never depend on a backend's native exceptions::

    StorageError                      base of everything here
    ├── StorageClosed                 the store/log/reader was closed
    ├── InvalidKey (ValueError)       a key or channel name the store cannot hold
    ├── ObjectNotFound (KeyError)     object store: no object under that key
    ├── LeaseNotFound (KeyError)      meta store: lease unknown, expired or revoked
    ├── ChannelNotFound (KeyError)    WAL: channel does not exist (or was dropped)
    ├── WalTruncated                  WAL: the requested offset was truncated away
    └── WalCorrupt                    WAL: a record inside the readable range fails its checksum

I/O failures that are not one of these (disk full, permission denied) surface as
the ``OSError`` the backend met; they are not wrapped because callers cannot act
on them more specifically than on ``OSError`` itself.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every storage-layer error."""


class StorageClosed(StorageError):
    """The store, log or reader was used after ``close()``."""


class InvalidKey(StorageError, ValueError):
    """A key (or channel name) is malformed for this kind of store."""


class ObjectNotFound(StorageError, KeyError):
    """No object is stored under the key."""


class LeaseNotFound(StorageError, KeyError):
    """The lease id is unknown, expired or revoked."""


class ChannelNotFound(StorageError, KeyError):
    """The WAL channel does not exist."""


class WalTruncated(StorageError):
    """The requested WAL offset lies below the channel's truncation point."""


class WalCorrupt(StorageError):
    """A WAL record that should be readable failed its checksum (media corruption)."""
