"""Session and housekeeping RPCs: Connect, GetVersion, CheckHealth, timestamps, resource groups,
and read-only answers for the built-in RBAC roles and user."""

from __future__ import annotations

import itertools
from typing import Any

from pymilvus.grpc_gen import common_pb2, milvus_pb2

from elanus.access.context import ProxyContext
from elanus.access.status import OK
from elanus.core import errors

# Elanus has no RBAC: these are the roles and the user every Milvus starts with, so clients
# (and test harness teardowns) listing them find the built-ins and nothing else.
BUILTIN_ROLES: tuple[str, ...] = ("admin", "public")
ROOT_USER = "root"
# The Milvus release whose behaviour Elanus follows; pymilvus gates some features on it.
SERVER_VERSION = "v2.6.0"
DEFAULT_RESOURCE_GROUP = "__default_resource_group"


class MiscHandlers:
    ctx: ProxyContext
    _client_ids = itertools.count(1)

    def Connect(self, request: Any, context: Any) -> Any:
        info = common_pb2.ServerInfo(build_tags=SERVER_VERSION, deploy_mode="STANDALONE")
        info.reserved["elanus"] = "true"
        return milvus_pb2.ConnectResponse(status=OK, server_info=info, identifier=next(self._client_ids))

    def GetVersion(self, request: Any, context: Any) -> Any:
        return milvus_pb2.GetVersionResponse(status=OK, version=SERVER_VERSION)

    def CheckHealth(self, request: Any, context: Any) -> Any:
        return milvus_pb2.CheckHealthResponse(status=OK, isHealthy=True)

    def GetComponentStates(self, request: Any, context: Any) -> Any:
        state = milvus_pb2.ComponentInfo(role="proxy", state_code=common_pb2.StateCode.Healthy)
        return milvus_pb2.ComponentStates(status=OK, state=state)

    def AllocTimestamp(self, request: Any, context: Any) -> Any:
        return milvus_pb2.AllocTimestampResponse(status=OK, timestamp=self.ctx.now())

    def ListResourceGroups(self, request: Any, context: Any) -> Any:
        return milvus_pb2.ListResourceGroupsResponse(status=OK, resource_groups=[DEFAULT_RESOURCE_GROUP])

    def DescribeResourceGroup(self, request: Any, context: Any) -> Any:
        if request.resource_group != DEFAULT_RESOURCE_GROUP:
            raise errors.MilvusError(errors.RESOURCE_GROUP_NOT_FOUND, errors.compose(
                errors.RESOURCE_GROUP_NOT_FOUND, fields={"rg": request.resource_group}))
        nodes = self.ctx.registry.query_nodes()
        group = milvus_pb2.ResourceGroup(name=DEFAULT_RESOURCE_GROUP, capacity=len(nodes),
                                         num_available_node=len(nodes))
        return milvus_pb2.DescribeResourceGroupResponse(status=OK, resource_group=group)

    def SelectRole(self, request: Any, context: Any) -> Any:
        """The built-in roles (no users bound); an unknown role name selects nothing, as in Milvus."""
        names = BUILTIN_ROLES
        if request.HasField("role") and request.role.name:
            names = tuple(n for n in BUILTIN_ROLES if n == request.role.name)
        results = [milvus_pb2.RoleResult(role=milvus_pb2.RoleEntity(name=n)) for n in names]
        return milvus_pb2.SelectRoleResponse(status=OK, results=results)

    def SelectUser(self, request: Any, context: Any) -> Any:
        """The root user (a superuser bound to no role); any other name selects nothing."""
        if request.HasField("user") and request.user.name and request.user.name != ROOT_USER:
            return milvus_pb2.SelectUserResponse(status=OK)
        result = milvus_pb2.UserResult(user=milvus_pb2.UserEntity(name=ROOT_USER))
        return milvus_pb2.SelectUserResponse(status=OK, results=[result])
