"""One role (or the three coordinators) per process: ``elanus run --role R``.

Lifecycle of a :class:`RoleProcess`:

1. open the stores named by the settings (meta always; objects and WAL where the role
   needs them) and start a :class:`~elanus.cluster.remote_registry.ClusterRegistry`;
2. bind the internal gRPC port (``host``:``internal_port``, 0 = any free one) — the address
   peers dial, recorded in the session, is ``dial_host:port`` (see the settings);
3. node roles (querynode, datanode, indexnode) build their role object, serve it, and only
   then register their session (so whoever learns of the node can reach it);
   coordinator roles (rootcoord, datacoord, querycoord, mixcoord = all three) register
   their session, then campaign for ``session/<role>/active``; a standby blocks there. On
   winning they build the coordinators from the meta store (the constructors reload all
   state; the TSO resumes above its persisted window), serve them, and start the
   membership duties of the active: the query coordinator reloads what was loaded and
   follows query-node joins/losses, the data coordinator keeps channel ownership
   (:class:`~elanus.cluster.channels.ChannelAssigner`);
   the proxy serves the Milvus API on ``port`` and registers under ``session/proxy/``;
4. run until :meth:`RoleProcess.request_stop` (SIGTERM/SIGINT) — or until the session's
   lease is found expired, which also stops the process (exit status 1: peers have given
   its work away);
5. stop: revoke the lease (the session and any election key vanish at once), stop serving,
   close the roles and the stores (a data node revokes last: its channels must not get a
   second writer while it may still append).
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

from elanus.cluster.config import Settings
from elanus.cluster.election import Election
from elanus.cluster.remote_registry import ClusterRegistry
from elanus.cluster.session import Session, SessionWatcher, allocate_node_id
from elanus.storage import open_meta, open_objects, open_wal
from elanus.storage.meta.base import MetaStore
from elanus.storage.objects.base import ObjectStore
from elanus.storage.wal.base import Wal

log = logging.getLogger(__name__)

COORDINATORS = {"mixcoord": ("root", "data_coord", "query_coord"), "rootcoord": ("root",),
                "datacoord": ("data_coord",), "querycoord": ("query_coord",)}
NODES = ("querynode", "datanode", "indexnode")


def open_wal_for(url: str, objects: ObjectStore, meta: MetaStore) -> Wal:
    """The WAL at ``url``; an object-store WAL (``objectstore``) lives on this process's stores."""
    return open_wal(url, objects=objects, meta=meta)


def make_server(workers: int = 32) -> grpc.Server:
    from elanus.cluster.rpc import SERVER_OPTIONS

    return grpc.server(futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="role-rpc"),
                       options=SERVER_OPTIONS)


class RoleProcess:
    """See the module docstring."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings.validate()
        self.role = settings.role
        if self.role == "standalone" or not settings.cluster:
            raise ValueError("RoleProcess runs cluster roles; standalone is elanus.cluster.standalone")
        self.stopping = threading.Event()
        self.lost = False
        self.node_id = 0
        self.address = ""
        self.meta = open_meta(settings.meta)
        self.objects: ObjectStore | None = None
        self.wal: Wal | None = None
        self.registry = ClusterRegistry(self.meta).start()
        self.session: Session | None = None
        self.election: Election | None = None
        self._server: grpc.Server | None = None
        self._closers: list[Any] = []
        self._watchers: list[Any] = []

    # ------------------------------------------------------------------ stores
    def _objects(self) -> ObjectStore:
        if self.objects is None:
            self.objects = open_objects(self.settings.objects)
        return self.objects

    def _wal(self) -> Wal:
        if self.wal is None:
            self.wal = open_wal_for(self.settings.wal, self._objects(), self.meta)
        return self.wal

    def _session(self, address: str, node_id: int | None = None) -> Session:
        s = self.settings
        session = Session(self.meta, self.role, address, node_id=node_id, ttl=s.session_ttl,
                          keepalive=s.session_keepalive, on_lost=self._lease_lost)
        self.node_id = session.node_id
        self.session = session
        return session

    def _lease_lost(self) -> None:
        log.error("%s node %d: session lease lost; stopping", self.role, self.node_id)
        self.lost = True
        self.stopping.set()

    def request_stop(self) -> None:
        self.stopping.set()

    # ------------------------------------------------------------------ start
    def start(self) -> None:
        """Start serving (coordinators: return once active, or once a stop was requested)."""
        if self.role == "proxy":
            self._start_proxy()
            return
        self._server = make_server()
        port = self._server.add_insecure_port(f"{self.settings.host}:{self.settings.internal_port}")
        if port == 0:
            raise OSError(f"cannot bind {self.settings.host}:{self.settings.internal_port}")
        self.address = f"{self.settings.dial_host}:{port}"
        if self.role in NODES:
            self._start_node()
        else:
            self._start_coordinator()

    def _start_proxy(self) -> None:
        from elanus.access.context import ProxyContext
        from elanus.access.server import ProxyServer

        proxy = ProxyServer(ProxyContext(self.registry, self.meta), self.settings.host, self.settings.port)
        proxy.start()
        self._closers.append(proxy)
        self.address = f"{self.settings.dial_host}:{proxy.port}"
        self._session(self.address).register()

    def _serve(self, **roles: Any) -> None:
        from elanus.cluster.rpc import add_role_services

        assert self._server is not None
        add_role_services(self._server, **roles)
        self._server.start()

    def _start_node(self) -> None:
        node_id = allocate_node_id(self.meta)
        role: Any
        if self.role == "querynode":
            from elanus.worker.query_node import QueryNodeImpl

            spill = Path(self.settings.data_dir).resolve() / "cache" / f"querynode-{node_id}"
            role = QueryNodeImpl(node_id, self.registry, self.meta, self._objects(), self._wal(),
                                 spill_dir=str(spill))
            self.registry.set_local(node_id=node_id, query_node=role)
            self._serve(query_node=role)
        elif self.role == "datanode":
            from elanus.worker.data_node import DataNodeImpl

            role = DataNodeImpl(self.registry, self.meta, self._objects(), self._wal(), self.settings.seal_policy)
            self.registry.set_local(node_id=node_id, data_node=role)
            self._serve(data_node=role)
        else:
            from elanus.worker.index_node import IndexNodeImpl

            role = IndexNodeImpl(self._objects())
            self.registry.set_local(node_id=node_id, index_node=role)
            self._serve(index_node=role)
        self._closers.append(role)
        self._session(self.address, node_id).register()

    def _start_coordinator(self) -> None:
        session = self._session(self.address)
        session.register()
        self.election = Election(self.meta, self.role, session.info, session.lease)
        if not self.election.campaign(self.stopping):
            return
        kinds = COORDINATORS[self.role]
        roles: dict[str, Any] = {}
        if "root" in kinds:
            from elanus.coord.root import RootCoordImpl

            roles["root"] = RootCoordImpl(self.registry, self.meta)
            self.registry.set_local(root=roles["root"])
        if "data_coord" in kinds:
            from elanus.coord.data import DataCoordImpl

            roles["data_coord"] = DataCoordImpl(self.registry, self.meta, self._objects())
            self.registry.set_local(data_coord=roles["data_coord"])
        if "query_coord" in kinds:
            from elanus.coord.query import QueryCoordImpl

            roles["query_coord"] = QueryCoordImpl(self.registry, self.meta, adopt_placements=True)
            self.registry.set_local(query_coord=roles["query_coord"])
        self._closers.extend(roles.values())
        self._serve(**roles)
        if "data_coord" in kinds:
            self._start_channel_assigner()
        if "query_coord" in kinds:
            qc = roles["query_coord"]
            watcher = SessionWatcher(self.meta, ("querynode",), on_join=lambda s: qc.node_joined(s.node_id),
                                     on_lost=lambda s: qc.node_lost(s.node_id))
            watcher.start()
            self._watchers.append(watcher)
            qc.start()
        log.info("%s node %d active on %s", self.role, self.node_id, self.address)

    def _start_channel_assigner(self) -> None:
        from elanus.cluster.channels import ChannelAssigner

        def channels() -> list[str]:
            return [ch for info in self.registry.root().all_collections() for ch in info.channels]

        assigner = ChannelAssigner(self.meta, self.registry, channels)
        assigner.start()
        self._watchers.append(assigner)

    # ------------------------------------------------------------------ run / stop
    def run(self) -> int:
        """Start, serve until a stop is requested, stop. Returns the process exit status."""
        try:
            self.start()
            if not self.stopping.is_set():
                log.info("elanus %s ready: node %d, address %s (pid %d)", self.role, self.node_id,
                         self.address, os.getpid())
            self.stopping.wait()
        finally:
            self.stop()
        return 1 if self.lost else 0

    def stop(self) -> None:
        """Deregister first (peers stop sending work here), then stop serving and close; a data
        node the other way round, so its channels get a new writer only once it wrote its
        last record. Idempotent."""
        self.stopping.set()
        deregister_last = self.role == "datanode"
        if self.session is not None and not deregister_last:
            self.session.stop()
        for watcher in self._watchers:
            watcher.stop()
        self._watchers.clear()
        if self._server is not None:
            self._server.stop(2.0).wait()
            self._server = None
        for role in reversed(self._closers):
            for name in ("stop", "close"):
                method = getattr(role, name, None)
                if method is not None:
                    try:
                        method()
                    except Exception:
                        log.exception("stopping %s failed", type(role).__name__)
                    break
        self._closers.clear()
        if self.session is not None and deregister_last:
            self.session.stop()
        self.registry.close()
        if self.wal is not None:
            self.wal.close()
        self.meta.close()
