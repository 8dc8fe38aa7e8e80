"""Internal gRPC transport between Elanus roles (cluster mode).

- ``protos/elanus/internal/*.proto``: one service per role, one rpc per Protocol method;
  ``gen/`` is generated from them by ``python -m elanus.cluster.rpc.codegen`` (``--check``
  fails when it is stale).
- :mod:`.codec` / :mod:`.methods`: values and calls <-> messages (bulk arrays as packed
  buffers); :mod:`.errors`: how errors travel.
- :func:`add_role_services` (:mod:`.server`) serves role objects; the clients
  (:mod:`.client`) implement the role Protocols against an address.
"""

from elanus.cluster.rpc.client import (
    DataCoordClient,
    DataNodeClient,
    IndexNodeClient,
    QueryCoordClient,
    QueryNodeClient,
    RoleClient,
    RootCoordClient,
)
from elanus.cluster.rpc.errors import RoleUnavailable
from elanus.cluster.rpc.server import SERVER_OPTIONS, add_role_services, serve_roles

__all__ = [
    "SERVER_OPTIONS",
    "DataCoordClient",
    "DataNodeClient",
    "IndexNodeClient",
    "QueryCoordClient",
    "QueryNodeClient",
    "RoleClient",
    "RoleUnavailable",
    "RootCoordClient",
    "add_role_services",
    "serve_roles",
]
