"""The cluster :class:`~elanus.cluster.registry.Registry`: peers found through sessions in the meta store.

* ``root()``/``data_coord()``/``query_coord()`` — the active coordinator of that role
  (``session/rootcoord/active`` …, else ``session/mixcoord/active``), resolved at each call;
  while none is active the call waits up to ``wait`` seconds for one, then raises *service
  unavailable*; a call that finds the active one dead is sent again to its successor once
  one takes over within ``wait`` (see :class:`_Failover`).
* ``data_node_for(channel)`` — the owner recorded under ``channel/owner/<channel>`` (a node
  id). A channel without a live owner is assigned here, with a compare-and-swap on that key,
  to the live data node owning the fewest channels; every process racing on it ends with the
  one winner. (The data coordinator's :class:`~elanus.cluster.channels.ChannelAssigner`
  does the same eagerly when a data node is lost, and has the new owner ``watch_channel``.)
* ``query_node(id)``/``query_nodes()`` — live query-node sessions; ``index_node()``
  round-robin over live index nodes.

Roles living in this process are registered with :meth:`ClusterRegistry.set_local` and
returned directly (no loopback gRPC). Clients are cached per address and closed when the
session behind them goes. The live view is a mirror of ``session/`` and ``channel/owner/``
kept by watches (plus a re-list when a lookup misses), so lookups cost no round trip.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from elanus.cluster.election import active_key
from elanus.cluster.interfaces import DataCoord, DataNode, IndexNode, QueryCoord, QueryNode, RootCoord
from elanus.cluster.session import PREFIX, Mirror, SessionInfo, decode, parse_key
from elanus.core.errors import SERVICE_UNAVAILABLE, MilvusError, error
from elanus.storage.meta.base import Compare, KeyValue, MetaStore, Op

log = logging.getLogger(__name__)

OWNER_PREFIX = "channel/owner/"
COORD_ROLES = {"root": "rootcoord", "data_coord": "datacoord", "query_coord": "querycoord"}


def owner_key(channel: str) -> str:
    return OWNER_PREFIX + channel


class ClientFactory(Protocol):
    """Makes a client for a role served at an address (gRPC in production, stand-ins in tests)."""

    def make(self, kind: str, address: str, node_id: int) -> Any:
        """``kind`` is one of root, data_coord, query_coord, data_node, index_node, query_node."""
        ...


class RpcClients:
    """The gRPC clients of :mod:`elanus.cluster.rpc`."""

    def make(self, kind: str, address: str, node_id: int) -> Any:
        from elanus.cluster import rpc  # imported late: the generated code is heavy

        classes: dict[str, Callable[[str], Any]] = {
            "root": rpc.RootCoordClient, "data_coord": rpc.DataCoordClient,
            "query_coord": rpc.QueryCoordClient, "data_node": rpc.DataNodeClient,
            "index_node": rpc.IndexNodeClient,
        }
        if kind == "query_node":
            return rpc.QueryNodeClient(address, node_id)
        return classes[kind](address)


class ClusterRegistry:
    """Implements :class:`elanus.cluster.registry.Registry` from sessions (see the module docstring)."""

    def __init__(self, meta: MetaStore, *, clients: ClientFactory | None = None, wait: float = 15.0) -> None:
        self._meta = meta
        self._factory: ClientFactory = clients or RpcClients()
        self._wait = wait
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str, int], Any] = {}
        self._local: dict[str, Any] = {}
        self._local_nodes: dict[tuple[str, int], Any] = {}
        self._rr = itertools.count()
        self._sessions = Mirror(meta, PREFIX, self._session_changed)
        self._parsed: tuple[int, dict[str, list[SessionInfo]]] = (-1, {})  # (mirror version, role -> sessions)
        self._owners = Mirror(meta, OWNER_PREFIX)
        self._started = False

    def start(self) -> ClusterRegistry:
        if not self._started:
            self._sessions.start()
            self._owners.start()
            self._started = True
        return self

    def close(self) -> None:
        self._sessions.stop()
        self._owners.stop()
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for c in clients:
            _close(c)

    # ------------------------------------------------------------------ local roles
    def set_local(self, *, root: RootCoord | None = None, data_coord: DataCoord | None = None,
                  query_coord: QueryCoord | None = None, node_id: int = 0, data_node: DataNode | None = None,
                  query_node: QueryNode | None = None, index_node: IndexNode | None = None) -> None:
        """Serve these roles of this process without gRPC (node roles under ``node_id``)."""
        for kind, role in (("root", root), ("data_coord", data_coord), ("query_coord", query_coord)):
            if role is not None:
                self._local[kind] = role
        for kind, node in (("data_node", data_node), ("query_node", query_node), ("index_node", index_node)):
            if node is not None:
                self._local_nodes[(kind, node_id)] = node

    # ------------------------------------------------------------------ sessions
    def _session_changed(self, key: str, kv: KeyValue | None) -> None:
        if kv is not None:
            return
        # A session (or an active key) went: its clients are useless now.
        with self._lock:
            stale = [k for k in self._clients if k[1] not in self._live_addresses()]
            dropped = [self._clients.pop(k) for k in stale]
        for c in dropped:
            _close(c)

    def _live_addresses(self) -> set[str]:
        out = set()
        for kv in self._sessions.items():
            if parse_key(kv.key) is None:
                continue  # session/next_id
            info = decode(kv)
            if info is not None:
                out.add(info.address)
        return out

    def sessions(self, role: str) -> list[SessionInfo]:
        """Live sessions of ``role`` by node id (parsed once per change of the mirror)."""
        version, by_role = self._parsed
        if version != self._sessions.version:
            version = self._sessions.version
            by_role = {}
            for kv in self._sessions.items():
                parsed = parse_key(kv.key)
                if parsed is None or not parsed[1].isdigit():
                    continue
                info = decode(kv)
                if info is not None:
                    by_role.setdefault(parsed[0], []).append(info)
            for infos in by_role.values():
                infos.sort(key=lambda s: s.node_id)
            self._parsed = (version, by_role)
        return list(by_role.get(role, ()))

    def active(self, role: str) -> SessionInfo | None:
        kv = self._sessions.get(active_key(role))
        return None if kv is None else decode(kv)

    def _client(self, kind: str, address: str, node_id: int = 0) -> Any:
        key = (kind, address, node_id)
        with self._lock:
            c = self._clients.get(key)
            if c is None:
                c = self._factory.make(kind, address, node_id)
                self._clients[key] = c
            return c

    def _await(self, find: Callable[[], Any], what: str) -> Any:
        """``find()`` until it returns something, re-listing the sessions between tries."""
        deadline = time.monotonic() + self._wait
        while True:
            found = find()
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise error(SERVICE_UNAVAILABLE, detail=f"no {what} is available")
            time.sleep(0.2)
            self._sessions.resync()

    # ------------------------------------------------------------------ coordinators
    def _coordinator(self, kind: str) -> Any:
        local = self._local.get(kind)
        if local is not None:
            return local
        return _Failover(self, kind)

    def active_client(self, kind: str) -> tuple[Any, str]:
        """(client, address) of the active coordinator serving ``kind``; waits for one."""
        def find() -> SessionInfo | None:
            return self.active(COORD_ROLES[kind]) or self.active("mixcoord")

        info: SessionInfo = self._await(find, COORD_ROLES[kind].replace("coord", " coordinator"))
        return self._client(kind, info.address), info.address

    def await_new_active(self, kind: str, old_address: str) -> bool:
        """Wait (up to ``wait`` seconds) until another process than ``old_address`` is active."""
        deadline = time.monotonic() + self._wait
        while time.monotonic() < deadline:
            self._sessions.resync()
            info = self.active(COORD_ROLES[kind]) or self.active("mixcoord")
            if info is not None and info.address != old_address:
                return True
            time.sleep(0.2)
        return False

    def root(self) -> RootCoord:
        return self._coordinator("root")  # type: ignore[no-any-return]

    def data_coord(self) -> DataCoord:
        return self._coordinator("data_coord")  # type: ignore[no-any-return]

    def query_coord(self) -> QueryCoord:
        return self._coordinator("query_coord")  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ nodes
    def _node(self, kind: str, info: SessionInfo) -> Any:
        local = self._local_nodes.get((kind, info.node_id))
        return local if local is not None else self._client(kind, info.address, info.node_id)

    def _live(self, role: str) -> dict[int, SessionInfo]:
        return {s.node_id: s for s in self.sessions(role)}

    def data_node_by_id(self, node_id: int) -> DataNode | None:
        info = self._live("datanode").get(node_id)
        return None if info is None else self._node("data_node", info)  # type: ignore[no-any-return]

    def channel_owner(self, channel: str) -> int | None:
        """The node id recorded as the channel's owner (alive or not), None when unassigned."""
        kv = self._owners.get(owner_key(channel))
        return None if kv is None else int(kv.value)

    def data_node_for(self, channel: str) -> DataNode:
        owner = self.channel_owner(channel)
        if owner is not None:
            node = self.data_node_by_id(owner)
            if node is not None:
                return node
        node_id = self.assign_channel(channel)
        node = self.data_node_by_id(node_id)
        if node is None:
            raise error(SERVICE_UNAVAILABLE, detail=f"data node {node_id} of {channel} is gone")
        return node

    def assign_channel(self, channel: str, *, exclude: frozenset[int] = frozenset()) -> int:
        """Make a live data node own ``channel`` unless one already does; return the owner.

        The write is a CAS on ``channel/owner/<channel>`` against the value read, so concurrent
        assigners agree on one owner. ``exclude`` names nodes known to be dead already."""
        key = owner_key(channel)
        while True:
            kv = self._meta.get(key)
            live = {n: s for n, s in self._live("datanode").items() if n not in exclude}
            if kv is not None and int(kv.value) in live:
                return int(kv.value)
            if not live:
                self._await(lambda: [n for n in self._live("datanode") if n not in exclude] or None,
                            "data node")
                continue
            counts = dict.fromkeys(live, 0)
            for other in self._meta.get_prefix(OWNER_PREFIX):
                n = int(other.value)
                if n in counts:
                    counts[n] += 1
            pick = min(counts, key=lambda n: (counts[n], n))
            guard = (Compare(key, "mod_revision", "==", kv.mod_revision) if kv is not None
                     else Compare(key, "version", "==", 0))
            if self._meta.txn([guard], [Op.put(key, str(pick).encode())]):
                log.info("channel %s assigned to data node %d (was %s)", channel, pick,
                         kv.value.decode() if kv is not None else "unassigned")
                self._owners.resync()
                return pick

    def data_nodes(self) -> list[DataNode]:
        return [self._node("data_node", s) for s in self.sessions("datanode")]

    def index_node(self) -> IndexNode:
        nodes: list[SessionInfo] = self._await(lambda: self.sessions("indexnode") or None, "index node")
        return self._node("index_node", nodes[next(self._rr) % len(nodes)])  # type: ignore[no-any-return]

    def query_node(self, node_id: int) -> QueryNode:
        local = self._local_nodes.get(("query_node", node_id))
        if local is not None:
            return local  # type: ignore[no-any-return]
        info = self._live("querynode").get(node_id)
        if info is None:
            self._sessions.resync()
            info = self._live("querynode").get(node_id)
        if info is None:
            raise MilvusError(SERVICE_UNAVAILABLE, f"service unavailable: query node {node_id} is not alive")
        return self._node("query_node", info)  # type: ignore[no-any-return]

    def query_nodes(self) -> list[QueryNode]:
        return [self._node("query_node", s) for s in self.sessions("querynode")]


class _Failover:
    """The active coordinator of one kind, whoever it is at call time.

    Every call resolves the active coordinator afresh. A call that finds it unreachable
    (:class:`~elanus.cluster.rpc.RoleUnavailable`: its process died) waits until the election
    names another process and is sent there once; if none takes over within the registry's
    ``wait`` the error is raised. (A call that reached the dead coordinator may have been applied
    before it died; the retry then answers as for a repeated request, e.g. "already exists".)
    """

    def __init__(self, registry: ClusterRegistry, kind: str) -> None:
        self._registry = registry
        self._kind = kind

    def __getattr__(self, name: str) -> Callable[..., Any]:
        from elanus.cluster.rpc import RoleUnavailable

        def call(*args: Any, **kwargs: Any) -> Any:
            client, address = self._registry.active_client(self._kind)
            try:
                return getattr(client, name)(*args, **kwargs)
            except RoleUnavailable:
                if not self._registry.await_new_active(self._kind, address):
                    raise
                log.info("%s moved away from %s; sending %s to the new active", self._kind, address, name)
                client, _ = self._registry.active_client(self._kind)
                return getattr(client, name)(*args, **kwargs)

        return call


def _close(client: Any) -> None:
    close = getattr(client, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            log.debug("closing a client failed", exc_info=True)
