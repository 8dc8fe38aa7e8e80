"""Index and load RPCs: forwarded to the data coordinator (indexes) and query coordinator (load)."""

from __future__ import annotations

import json
from typing import Any

from pymilvus.grpc_gen import common_pb2, milvus_pb2

from elanus.access.context import ProxyContext, db_of, kv_dict, partition_ids
from elanus.access.status import OK
from elanus.cluster.types import CollectionInfo, IndexInfo, LoadState
from elanus.core import errors

_STATE_FINISHED = common_pb2.IndexState.Finished
_STATE_IN_PROGRESS = common_pb2.IndexState.InProgress


def flatten_index_params(pairs: Any) -> dict[str, str]:
    """KV pairs with an optional JSON ``params`` entry → one flat dict (Milvus does the same)."""
    params = kv_dict(pairs)
    nested = params.pop("params", "")
    if nested:
        try:
            extra = json.loads(nested)
        except json.JSONDecodeError as exc:
            raise errors.invalid_parameter(f"index params [{nested}] is not a valid json") from exc
        if isinstance(extra, dict):
            params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in extra.items()})
    return params


def _description(ctx: ProxyContext, index: IndexInfo) -> milvus_pb2.IndexDescription:
    total, indexed, pending = ctx.registry.data_coord().index_progress(index.collection_id, index.id)
    state = _STATE_FINISHED if pending == 0 else _STATE_IN_PROGRESS
    desc = milvus_pb2.IndexDescription(index_name=index.index_name, indexID=index.id,
                                       field_name=index.field_name, indexed_rows=indexed, total_rows=total,
                                       pending_index_rows=total - indexed, state=state)
    desc.params.extend(common_pb2.KeyValuePair(key=k, value=v) for k, v in index.params.items())
    return desc


class IndexLoadHandlers:
    ctx: ProxyContext

    # --- indexes
    def CreateIndex(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request), request.collection_name)
        field = info.schema.get(request.field_name)
        if field is None:
            raise errors.invalid_parameter(f"cannot create index on non-exist field: {request.field_name}")
        params = flatten_index_params(request.extra_params)
        self.ctx.registry.data_coord().create_index(info, field.name, request.index_name or field.name, params)
        self.ctx.invalidate_indexes()
        return OK

    def DescribeIndex(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request), request.collection_name)
        found = self.ctx.registry.data_coord().describe_indexes(info.id, request.index_name, request.field_name)
        if not found:
            raise errors.index_not_found(f"index not found, collection: {info.name}, index: {request.index_name}"
                                         if request.index_name else f"collection: {info.name}")
        return milvus_pb2.DescribeIndexResponse(status=OK,
                                                index_descriptions=[_description(self.ctx, i) for i in found])

    def GetIndexState(self, request: Any, context: Any) -> Any:
        resp = self.DescribeIndex(request, context)
        desc = resp.index_descriptions[0]
        return milvus_pb2.GetIndexStateResponse(status=OK, state=desc.state)

    def GetIndexBuildProgress(self, request: Any, context: Any) -> Any:
        resp = self.DescribeIndex(request, context)
        desc = resp.index_descriptions[0]
        return milvus_pb2.GetIndexBuildProgressResponse(status=OK, indexed_rows=desc.indexed_rows,
                                                        total_rows=desc.total_rows)

    def DropIndex(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request), request.collection_name)
        if self.ctx.registry.query_coord().loaded_partitions(info.id) is not None:
            raise errors.invalid_parameter("index cannot be dropped, collection is loaded, please release it first")
        self.ctx.registry.data_coord().drop_index(info.id, request.index_name)
        self.ctx.invalidate_indexes()
        return OK

    # --- load
    def _check_vector_indexes(self, info: CollectionInfo) -> None:
        indexed = {i.field_name for i in self.ctx.indexes(info.id)}
        for f in info.schema.vector_fields:
            if f.name not in indexed:
                raise errors.MilvusError(errors.INDEX_NOT_FOUND, errors.compose(
                    errors.INDEX_NOT_FOUND, fields={"collection": info.name},
                    detail=f"there is no vector index on field: [{f.name}], please create index firstly"))

    def LoadCollection(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request), request.collection_name)
        self._check_vector_indexes(info)
        self.ctx.registry.query_coord().load(info, (), max(request.replica_number, 1))
        return OK

    def LoadPartitions(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request), request.collection_name)
        parts = partition_ids(info, request.partition_names)
        self._check_vector_indexes(info)
        self.ctx.registry.query_coord().load(info, parts, max(request.replica_number, 1))
        return OK

    def ReleaseCollection(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request), request.collection_name)
        self.ctx.registry.query_coord().release(info.id)
        return OK

    def ReleasePartitions(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request), request.collection_name)
        parts = partition_ids(info, request.partition_names)
        self.ctx.registry.query_coord().release(info.id, parts)
        return OK

    def GetLoadingProgress(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request), request.collection_name)
        parts = partition_ids(info, request.partition_names)
        progress = self.ctx.registry.query_coord().load_progress(info.id, parts)
        if progress.state == LoadState.NOT_LOAD:
            raise errors.collection_not_loaded(info.name)
        return milvus_pb2.GetLoadingProgressResponse(status=OK, progress=progress.percent,
                                                     refresh_progress=progress.percent)

    def GetLoadState(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request), request.collection_name)
        parts = partition_ids(info, request.partition_names)
        progress = self.ctx.registry.query_coord().load_progress(info.id, parts)
        return milvus_pb2.GetLoadStateResponse(status=OK, state=int(progress.state))
