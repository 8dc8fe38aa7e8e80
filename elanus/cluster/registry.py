"""How a role finds the others.

A :class:`Registry` answers "who is the root coordinator", "which data node owns
channel C", "give me query node N". The embedded registry returns the role
objects living in this process; the cluster registry (later) returns gRPC clients
found through sessions in the meta store. Roles receive a registry at start and
look peers up on every call (cheap), so a peer can be replaced underneath them.
"""

from __future__ import annotations

import threading
from typing import Protocol

from elanus.cluster.interfaces import DataCoord, DataNode, IndexNode, QueryCoord, QueryNode, RootCoord


class Registry(Protocol):
    def root(self) -> RootCoord: ...
    def data_coord(self) -> DataCoord: ...
    def query_coord(self) -> QueryCoord: ...
    def data_node_for(self, channel: str) -> DataNode: ...
    def data_nodes(self) -> list[DataNode]: ...
    def index_node(self) -> IndexNode: ...
    def query_node(self, node_id: int) -> QueryNode: ...
    def query_nodes(self) -> list[QueryNode]: ...


class LocalRegistry:
    """Every role in this process; filled in by :mod:`elanus.cluster.standalone`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._root: RootCoord | None = None
        self._data_coord: DataCoord | None = None
        self._query_coord: QueryCoord | None = None
        self._data_nodes: list[DataNode] = []
        self._index_nodes: list[IndexNode] = []
        self._query_nodes: dict[int, QueryNode] = {}
        self._next_index_node = 0

    def set_root(self, role: RootCoord) -> None:
        self._root = role

    def set_data_coord(self, role: DataCoord) -> None:
        self._data_coord = role

    def set_query_coord(self, role: QueryCoord) -> None:
        self._query_coord = role

    def add_data_node(self, role: DataNode) -> None:
        self._data_nodes.append(role)

    def add_index_node(self, role: IndexNode) -> None:
        self._index_nodes.append(role)

    def add_query_node(self, role: QueryNode) -> None:
        self._query_nodes[role.node_id] = role

    def root(self) -> RootCoord:
        assert self._root is not None, "root coordinator not started"
        return self._root

    def data_coord(self) -> DataCoord:
        assert self._data_coord is not None, "data coordinator not started"
        return self._data_coord

    def query_coord(self) -> QueryCoord:
        assert self._query_coord is not None, "query coordinator not started"
        return self._query_coord

    def data_node_for(self, channel: str) -> DataNode:
        # Channels are spread over data nodes by a stable hash of their name.
        nodes = self._data_nodes
        assert nodes, "no data node"
        return nodes[sum(channel.encode()) % len(nodes)]

    def data_nodes(self) -> list[DataNode]:
        return list(self._data_nodes)

    def index_node(self) -> IndexNode:
        with self._lock:
            assert self._index_nodes, "no index node"
            node = self._index_nodes[self._next_index_node % len(self._index_nodes)]
            self._next_index_node += 1
            return node

    def query_node(self, node_id: int) -> QueryNode:
        return self._query_nodes[node_id]

    def query_nodes(self) -> list[QueryNode]:
        return list(self._query_nodes.values())
