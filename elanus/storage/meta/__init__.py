"""Meta store: the :class:`MetaStore` contract and its backends (``local`` today)."""

from elanus.storage.errors import LeaseNotFound
from elanus.storage.meta.base import Compare, KeyValue, MetaStore, Op, WatchEvent, WatchHandle
from elanus.storage.meta.local import LocalMetaStore

__all__ = [
    "Compare",
    "KeyValue",
    "LeaseNotFound",
    "LocalMetaStore",
    "MetaStore",
    "Op",
    "WatchEvent",
    "WatchHandle",
]
