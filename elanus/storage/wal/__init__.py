"""Write-ahead log: the :class:`Wal` contract and its backends.

``local`` (:mod:`.local`) is imported here; the cluster backends are imported by
:func:`elanus.storage.open_wal` when a URL asks for them: :mod:`.nats` (NATS
JetStream) and :mod:`.objectstore` (batches as objects, Woodpecker-style).
"""

from elanus.storage.errors import ChannelNotFound, WalCorrupt, WalTruncated
from elanus.storage.wal.base import Wal, WalReader, WalRecord, validate_channel_name
from elanus.storage.wal.local import LocalWal

__all__ = [
    "ChannelNotFound",
    "LocalWal",
    "Wal",
    "WalCorrupt",
    "WalReader",
    "WalRecord",
    "WalTruncated",
    "validate_channel_name",
]
