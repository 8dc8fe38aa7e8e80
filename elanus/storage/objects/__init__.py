"""Object store: the :class:`ObjectStore` contract and its backends (``local`` today)."""

from elanus.storage.errors import InvalidKey, ObjectNotFound
from elanus.storage.objects.base import ObjectStore, validate_key
from elanus.storage.objects.local import LocalObjectStore

__all__ = ["InvalidKey", "LocalObjectStore", "ObjectNotFound", "ObjectStore", "validate_key"]
