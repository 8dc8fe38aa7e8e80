"""Standalone (embedded) mode: every role in this process, on local storage.

The roles are the same classes cluster mode runs one per process; here they
are wired through a :class:`LocalRegistry` and share one set of local storage
backends under ``data_dir`` (``meta/``, ``objects/``, ``wal/``; ``cache/`` holds the
query node's memory-mapped raw vectors, see :mod:`elanus.core.segment.spill`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from elanus.access.context import ProxyContext
from elanus.access.server import ProxyServer
from elanus.cluster.registry import LocalRegistry
from elanus.cluster.types import SealPolicy
from elanus.coord.data import DataCoordImpl
from elanus.coord.query import QueryCoordImpl
from elanus.coord.root import RootCoordImpl
from elanus.storage import open_meta, open_objects, open_wal
from elanus.worker.data_node import DataNodeImpl
from elanus.worker.index_node import IndexNodeImpl
from elanus.worker.query_node import QueryNodeImpl

log = logging.getLogger(__name__)


@dataclass
class StandaloneConfig:
    data_dir: str = "./elanus-data"
    host: str = "127.0.0.1"
    port: int = 19530
    seal_policy: SealPolicy = field(default_factory=SealPolicy)
    grpc_workers: int = 16


class Standalone:
    """All seven roles and the gRPC proxy over one data directory."""

    def __init__(self, config: StandaloneConfig) -> None:
        self.config = config
        root_dir = Path(config.data_dir).resolve()
        root_dir.mkdir(parents=True, exist_ok=True)
        self.meta = open_meta(str(root_dir / "meta"))
        self.objects = open_objects(str(root_dir / "objects"))
        self.wal = open_wal(str(root_dir / "wal"))
        reg = LocalRegistry()
        self.registry = reg
        self.root = RootCoordImpl(reg, self.meta)
        reg.set_root(self.root)
        self.data_coord = DataCoordImpl(reg, self.meta, self.objects)
        reg.set_data_coord(self.data_coord)
        self.query_coord = QueryCoordImpl(reg, self.meta)
        reg.set_query_coord(self.query_coord)
        self.data_node = DataNodeImpl(reg, self.meta, self.objects, self.wal, config.seal_policy)
        reg.add_data_node(self.data_node)
        self.index_node = IndexNodeImpl(self.objects)
        reg.add_index_node(self.index_node)
        self.query_node = QueryNodeImpl(1, reg, self.meta, self.objects, self.wal,
                                        spill_dir=str(root_dir / "cache" / "querynode-1"))
        reg.add_query_node(self.query_node)
        self.proxy = ProxyServer(ProxyContext(reg, self.meta), config.host, config.port, config.grpc_workers)

    def start(self) -> None:
        """Recover: data nodes resume their channels, loaded collections reload, then serve."""
        for info in self.root.all_collections():
            for channel in info.channels:
                self.registry.data_node_for(channel).watch_channel(channel)
        self.query_coord.start()
        self.proxy.start()
        log.info("elanus standalone ready on %s (data in %s, pid %d)", self.proxy.address,
                 self.config.data_dir, os.getpid())

    def stop(self) -> None:
        self.proxy.stop()
        for role in (self.query_coord, self.query_node, self.data_node, self.data_coord):
            close = getattr(role, "close", None)
            if close is not None:
                close()
        self.wal.close()
        self.meta.close()
