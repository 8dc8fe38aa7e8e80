"""DML RPCs: insert, upsert, delete, flush.

Rows are validated and converted to columns once, hashed to shards by primary
key (and to partitions by partition key), and handed to each shard channel's
writer. A write is acknowledged only after every shard's append is durable; the
response carries the write timestamp for Session consistency.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pymilvus.grpc_gen import milvus_pb2, schema_pb2

from elanus.access import fielddata
from elanus.access.context import ProxyContext, db_of, partition_ids
from elanus.access.partition_key import MANUAL_PARTITIONS, key_slots, read_partitions
from elanus.access.scatter import run_query
from elanus.access.status import OK
from elanus.access.templates import template_values
from elanus.cluster.types import ALL_PARTITIONS, DEFAULT_PARTITION, CollectionInfo, Columns
from elanus.core import batch, errors
from elanus.core.expr import Filter, compile_filter
from elanus.core.hashing import shard_of
from elanus.core.tso import physical_ms


def _partition_groups(info: CollectionInfo, columns: Columns,
                      partition_name: str) -> list[tuple[int, np.ndarray]]:
    """(partition id, row indices) groups: the named partition, `_default`, or partition-key routing."""
    n = batch.num_rows(columns)
    key = info.schema.partition_key
    if key is not None:
        if partition_name:
            raise errors.invalid_parameter(MANUAL_PARTITIONS)
        slots = key_slots(info, columns[key.name])
        return [(info.partitions[int(s)].id, np.flatnonzero(slots == s)) for s in np.unique(slots)]
    name = partition_name or DEFAULT_PARTITION
    part = info.partition(name)
    if part is None:
        raise errors.partition_not_found(name)
    return [(part.id, np.arange(n))]


def _route(info: CollectionInfo, columns: Columns, partition_name: str) -> list[tuple[str, int, Columns]]:
    """Split rows into (channel, partition id, columns) groups."""
    pks = columns[info.schema.primary.name]
    shards = shard_of(pks, info.num_shards)
    groups = []
    for part_id, rows in _partition_groups(info, columns, partition_name):
        row_shards = shards[rows]
        for s in np.unique(row_shards):
            sel = rows[row_shards == s]
            part_cols = columns if len(sel) == len(pks) else batch.take(columns, sel)
            groups.append((info.channels[int(s)], part_id, part_cols))
    return groups


def _mutation(pks: np.ndarray, ts: int, **counts: int) -> milvus_pb2.MutationResult:
    n = len(pks)
    return milvus_pb2.MutationResult(status=OK, IDs=fielddata.ids_from_columns(pks), succ_index=range(n),
                                     timestamp=ts, **counts)


def _dedup_last(columns: Columns, pk_name: str) -> Columns:
    """Keep the last row of each duplicated primary key (Milvus upsert semantics)."""
    pks = columns[pk_name]
    _, first_in_reversed = np.unique(pks[::-1], return_index=True)
    if len(first_in_reversed) == len(pks):
        return columns
    keep = np.sort(len(pks) - 1 - first_in_reversed)
    return batch.take(columns, keep)


class DmlHandlers:
    ctx: ProxyContext

    def _columns(self, info: CollectionInfo, request: Any, is_upsert: bool) -> Columns:
        columns = fielddata.columns_from_insert(request.fields_data, request.num_rows, info.schema,
                                                is_upsert=is_upsert)
        pk = info.schema.primary
        if pk.auto_id and pk.name not in columns:
            n = request.num_rows
            first = self.ctx.registry.root().alloc_ids(n)
            ids = np.arange(first, first + n, dtype=np.int64)
            columns = fielddata.with_auto_ids(columns, info.schema, ids)
        return columns

    def Insert(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        columns = self._columns(info, request, is_upsert=False)
        ts = 0
        for channel, part_id, cols in _route(info, columns, request.partition_name):
            ts = max(ts, self.ctx.registry.data_node_for(channel).insert(info, channel, part_id, cols))
        pks = columns[info.schema.primary.name]
        return _mutation(pks, ts, insert_cnt=len(pks))

    def Upsert(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        columns = _dedup_last(self._columns(info, request, is_upsert=True), info.schema.primary.name)
        if info.schema.primary.auto_id:
            return self._upsert_auto_id(info, columns, request.partition_name)
        ts = 0
        for channel, part_id, cols in _route(info, columns, request.partition_name):
            ts = max(ts, self.ctx.registry.data_node_for(channel).upsert(info, channel, part_id, cols))
        pks = columns[info.schema.primary.name]
        return _mutation(pks, ts, upsert_cnt=len(pks))

    def _upsert_auto_id(self, info: CollectionInfo, columns: Columns, partition_name: str) -> Any:
        """Milvus's upsert into an auto-id collection: the pks sent are deleted and the rows are
        inserted under newly allocated ids, which the response returns (``checkUpsertPrimaryFieldData``).
        The delete applies to the target partition, or to all partitions in partition-key mode."""
        pk = info.schema.primary
        old_pks = columns[pk.name]
        n = len(old_pks)
        first = self.ctx.registry.root().alloc_ids(n)
        columns = fielddata.with_auto_ids(columns, info.schema, np.arange(first, first + n, dtype=np.int64))
        routes = _route(info, columns, partition_name)  # before any write: it rejects a bad partition
        if info.schema.partition_key is not None:
            part = ALL_PARTITIONS
        else:
            part = partition_ids(info, [partition_name or DEFAULT_PARTITION])[0]
        ts = self._delete_pks(info, part, old_pks)
        for channel, part_id, cols in routes:
            ts = max(ts, self.ctx.registry.data_node_for(channel).insert(info, channel, part_id, cols))
        return _mutation(columns[pk.name], ts, upsert_cnt=n)

    def _delete_pks(self, info: CollectionInfo, part: int, pks: np.ndarray) -> int:
        """Append deletes of ``pks`` to their shards; the latest write ts (0 if none)."""
        ts = 0
        shards = shard_of(pks, info.num_shards) if len(pks) else np.zeros(0, dtype=np.int64)
        for s in np.unique(shards):
            channel = info.channels[int(s)]
            node = self.ctx.registry.data_node_for(channel)
            ts = max(ts, node.delete(info, channel, part, pks[shards == s]))
        return ts

    def Delete(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        params = template_values(request.expr_template_values)
        if not request.expr.strip():
            raise errors.invalid_parameter("expr cannot be empty")
        flt = compile_filter(request.expr, info.schema, params)
        part = ALL_PARTITIONS
        if request.partition_name:
            if info.schema.partition_key is not None:
                raise errors.invalid_parameter(MANUAL_PARTITIONS)
            part = partition_ids(info, [request.partition_name])[0]
        values = flt.pk_values()
        if values is not None:
            pk_dtype = np.int64 if info.schema.primary.dtype.is_integer else object
            pks = np.asarray(values, dtype=pk_dtype)
        else:
            pks = self._matching_pks(info, request, params, part, flt)
        ts = self._delete_pks(info, part, pks)
        return _mutation(pks, ts or self.ctx.now(), delete_cnt=len(pks))

    def _matching_pks(self, info: CollectionInfo, request: Any, params: dict[str, Any],
                      part: int, flt: Filter) -> np.ndarray:
        """Complex delete: read the matching primary keys at Strong consistency (in the
        partitions ``flt`` pins the partition key to, when it does)."""
        parts = read_partitions(info, (), flt) if part == ALL_PARTITIONS else (part,)
        result = run_query(self.ctx, info, request.expr, params, (info.schema.primary.name,), -1, 0,
                           parts, self.ctx.guarantee_ts(info, 0, False, 0))
        return result.columns[info.schema.primary.name]

    def Flush(self, request: Any, context: Any) -> Any:
        resp = milvus_pb2.FlushResponse(status=OK, db_name=db_of(request, context))
        dc = self.ctx.registry.data_coord()
        for name in request.collection_names:
            info = self.ctx.collection(db_of(request, context), name)
            segs, flush_ts = dc.flush(info)
            resp.coll_segIDs[name].CopyFrom(schema_pb2.LongArray(data=segs))
            resp.flush_coll_segIDs[name].CopyFrom(schema_pb2.LongArray(data=segs))
            resp.coll_flush_ts[name] = flush_ts
            resp.coll_seal_times[name] = physical_ms(flush_ts) // 1000
        return resp

    def GetFlushState(self, request: Any, context: Any) -> Any:
        collection_id = 0
        if request.collection_name:
            collection_id = self.ctx.collection(db_of(request, context), request.collection_name).id
        done = self.ctx.registry.data_coord().flush_done(list(request.segmentIDs), request.flush_ts,
                                                         collection_id)
        return milvus_pb2.GetFlushStateResponse(status=OK, flushed=done)
