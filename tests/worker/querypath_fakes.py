"""A small read-path stack for unit tests: real local storage, a local registry and two query nodes.

:class:`QueryStack` opens the local meta store, object store and WAL in a directory,
creates the WAL channels it is given and registers query nodes 1 and 2 with a
``LocalRegistry``. The query node tests and the query coordinator tests build on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from elanus.cluster.registry import LocalRegistry
from elanus.storage import open_meta, open_objects, open_wal
from elanus.storage.objects.base import ObjectStore
from elanus.storage.wal.base import Wal
from elanus.worker.query_node import QueryNodeImpl


class QueryStack:
    """Local stores in ``root``, ``channels`` created in the WAL, query nodes 1 and 2 registered."""

    def __init__(self, root: Path, channels: Iterable[str], *, wait_timeout: float, ts: int) -> None:
        self.meta = open_meta(str(root / "meta"))
        self.objects: ObjectStore = open_objects(str(root / "objects"))
        self.wal: Wal = open_wal(str(root / "wal"))
        for ch in channels:
            self.wal.create_channel(ch)
        self.registry = LocalRegistry()
        self.nodes = [QueryNodeImpl(i, self.registry, self.meta, self.objects, self.wal, wait_timeout=wait_timeout)
                      for i in (1, 2)]
        for n in self.nodes:
            self.registry.add_query_node(n)
        self.ts = ts

    def next_ts(self) -> int:
        """A new timestamp, 10 above the last one."""
        self.ts += 10
        return self.ts

    def close(self) -> None:
        for n in self.nodes:
            n.close()
        self.wal.close()
        self.meta.close()
