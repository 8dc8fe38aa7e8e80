"""Session and housekeeping RPCs: Connect, GetVersion, CheckHealth, timestamps, resource groups."""

from __future__ import annotations

import itertools
from typing import Any

from pymilvus.grpc_gen import common_pb2, milvus_pb2

from elanus.access.context import ProxyContext
from elanus.access.status import OK
from elanus.core import errors

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
