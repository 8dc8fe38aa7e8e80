"""Segment listing RPCs: GetPersistentSegmentInfo (data coordinator) and GetQuerySegmentInfo
(query coordinator), shaped as Milvus's proxy shapes them."""

from __future__ import annotations

from typing import Any

from pymilvus.grpc_gen import common_pb2, milvus_pb2

from elanus.access.context import ProxyContext, db_of
from elanus.access.status import OK
from elanus.cluster.types import SegmentState

# Milvus lists Flushing, Flushed and Sealed segments as "persistent" (growing ones are not).
PERSISTENT_STATES = (SegmentState.SEALED, SegmentState.FLUSHING, SegmentState.FLUSHED)
# A flushed segment is an L1 segment in Milvus (L0 holds deletes only, L2 is clustered).
_LEVEL_L1 = common_pb2.SegmentLevel.L1


class SegmentInfoHandlers:
    ctx: ProxyContext

    def GetPersistentSegmentInfo(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(request.dbName or db_of(request, context), request.collectionName)
        # Newer clients may ask for other states; without them Milvus's legacy filter applies.
        states = tuple(int(s) for s in request.states) or PERSISTENT_STATES
        segments = self.ctx.registry.data_coord().list_segments(info.id, states)
        resp = milvus_pb2.GetPersistentSegmentInfoResponse(status=OK)
        for seg in segments:
            resp.infos.add(segmentID=seg.id, collectionID=seg.collection_id, partitionID=seg.partition_id,
                           num_rows=seg.num_rows, state=int(seg.state), level=_LEVEL_L1,
                           insert_channel=seg.channel)
        return resp

    def GetQuerySegmentInfo(self, request: Any, context: Any) -> Any:
        db = request.dbName or db_of(request, context)
        info = self.ctx.collection(db, request.collectionName)
        indexes = {i.field_name: i for i in self.ctx.indexes(info.id)}
        resp = milvus_pb2.GetQuerySegmentInfoResponse(status=OK)
        for seg, node in self.ctx.registry.query_coord().served_segments(info.id):
            index = next((indexes[f] for f in sorted(seg.index_files) if f in indexes), None)
            resp.infos.add(segmentID=seg.id, collectionID=seg.collection_id, partitionID=seg.partition_id,
                           mem_size=seg.data_size, num_rows=seg.num_rows,
                           index_name=index.index_name if index else "", indexID=index.id if index else 0,
                           nodeID=node, nodeIds=[node], state=int(SegmentState.SEALED), level=_LEVEL_L1)
        return resp
