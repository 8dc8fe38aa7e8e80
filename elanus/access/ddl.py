"""DDL RPCs: databases, collections (including adding a field), partitions, aliases.
Forwarded to the root coordinator."""

from __future__ import annotations

import logging
from typing import Any

from pymilvus.grpc_gen import common_pb2, milvus_pb2, schema_pb2

from elanus.access.context import ProxyContext, db_of, kv_dict
from elanus.access.field_check import check_add_field, check_default_value
from elanus.access.names import check_collection_name, check_database_name, check_partition_name
from elanus.access.schema_check import check_create_schema
from elanus.access.status import OK
from elanus.cluster.types import DEFAULT_DB, CollectionInfo, ConsistencyLevel, QueryRequest
from elanus.core import errors
from elanus.core.tso import physical_ms

log = logging.getLogger(__name__)


def _utc_ms(ts: int) -> int:
    return physical_ms(ts)


def describe_response(info: CollectionInfo) -> milvus_pb2.DescribeCollectionResponse:
    stored = schema_pb2.CollectionSchema()
    stored.ParseFromString(info.schema_bytes)
    shown = schema_pb2.CollectionSchema()
    shown.CopyFrom(stored)
    del shown.fields[:]
    shown.fields.extend(f for f in stored.fields if not f.is_dynamic)
    resp = milvus_pb2.DescribeCollectionResponse(
        status=OK, schema=shown, collectionID=info.id, virtual_channel_names=list(info.channels),
        physical_channel_names=[ch.rsplit("_", 1)[0] for ch in info.channels],
        created_timestamp=info.created_ts, created_utc_timestamp=_utc_ms(info.created_ts),
        shards_num=info.num_shards, aliases=list(info.aliases),
        consistency_level=int(info.consistency_level), collection_name=info.name,
        db_name=info.db_name, num_partitions=len(info.partitions), db_id=info.db_id,
    )
    resp.properties.extend(common_pb2.KeyValuePair(key=k, value=v) for k, v in info.properties.items())
    return resp


class DdlHandlers:
    ctx: ProxyContext

    # --- databases
    def CreateDatabase(self, request: Any, context: Any) -> Any:
        check_database_name(request.db_name)
        self.ctx.registry.root().create_database(request.db_name, kv_dict(request.properties))
        return OK

    def DropDatabase(self, request: Any, context: Any) -> Any:
        check_database_name(request.db_name)
        self.ctx.registry.root().drop_database(request.db_name)
        self.ctx.invalidate()
        return OK

    def ListDatabases(self, request: Any, context: Any) -> Any:
        dbs = self.ctx.registry.root().list_databases()
        return milvus_pb2.ListDatabasesResponse(
            status=OK, db_names=[d.name for d in dbs], created_timestamp=[d.created_ts for d in dbs],
            db_ids=[d.id for d in dbs])

    def DescribeDatabase(self, request: Any, context: Any) -> Any:
        db = self.ctx.registry.root().describe_database(request.db_name or DEFAULT_DB)
        resp = milvus_pb2.DescribeDatabaseResponse(status=OK, db_name=db.name, dbID=db.id,
                                                   created_timestamp=db.created_ts)
        resp.properties.extend(common_pb2.KeyValuePair(key=k, value=v) for k, v in db.properties.items())
        return resp

    def AlterDatabase(self, request: Any, context: Any) -> Any:
        self.ctx.registry.root().alter_database(request.db_name or DEFAULT_DB, kv_dict(request.properties),
                                                list(request.delete_keys))
        return OK

    # --- collections
    def CreateCollection(self, request: Any, context: Any) -> Any:
        sp = schema_pb2.CollectionSchema()
        sp.ParseFromString(request.schema)
        shards = request.shards_num or 1
        check_create_schema(sp, request.collection_name, shards, request.num_partitions)
        for f in sp.fields:
            check_default_value(f)
        level = request.consistency_level
        self.ctx.registry.root().create_collection(
            db_of(request, context), request.collection_name, request.schema, shards, ConsistencyLevel(level),
            kv_dict(request.properties), request.num_partitions)
        self.ctx.invalidate()
        return OK

    def DropCollection(self, request: Any, context: Any) -> Any:
        check_collection_name(request.collection_name)
        self.ctx.registry.root().drop_collection(db_of(request, context), request.collection_name)
        self.ctx.invalidate()
        return OK

    def HasCollection(self, request: Any, context: Any) -> Any:
        try:
            self.ctx.registry.root().describe_collection(db_of(request, context), request.collection_name)
            found = True
        except errors.MilvusError as exc:
            if exc.code != errors.COLLECTION_NOT_FOUND:
                raise
            found = False
        return milvus_pb2.BoolResponse(status=OK, value=found)

    def DescribeCollection(self, request: Any, context: Any) -> Any:
        root = self.ctx.registry.root()
        db = db_of(request, context)
        try:
            if request.collectionID and not request.collection_name:
                info = root.describe_collection(db, collection_id=request.collectionID)
            else:
                info = root.describe_collection(db, request.collection_name)
        except errors.MilvusError as exc:
            if exc.code != errors.COLLECTION_NOT_FOUND:
                raise
            raise errors.describe_collection_not_found(
                request.collection_name or str(request.collectionID), db) from None
        return describe_response(info)

    def TruncateCollection(self, request: Any, context: Any) -> Any:
        check_collection_name(request.collection_name)
        self.ctx.registry.root().truncate_collection(db_of(request, context), request.collection_name)
        return milvus_pb2.TruncateCollectionResponse(status=OK)

    def ShowCollections(self, request: Any, context: Any) -> Any:
        infos = self.ctx.registry.root().list_collections(db_of(request, context))
        names = set(request.collection_names)
        if names:
            infos = [i for i in infos if i.name in names]
        qc = self.ctx.registry.query_coord()
        loaded = [100 if qc.loaded_partitions(i.id) is not None else 0 for i in infos]
        return milvus_pb2.ShowCollectionsResponse(
            status=OK, collection_names=[i.name for i in infos], collection_ids=[i.id for i in infos],
            created_timestamps=[i.created_ts for i in infos],
            created_utc_timestamps=[_utc_ms(i.created_ts) for i in infos],
            inMemory_percentages=loaded, query_service_available=[p == 100 for p in loaded],
            shards_num=[i.num_shards for i in infos])

    def RenameCollection(self, request: Any, context: Any) -> Any:
        check_collection_name(request.newName)
        self.ctx.registry.root().rename_collection(db_of(request, context), request.oldName, request.newDBName,
                                                   request.newName)
        self.ctx.invalidate()
        return OK

    def AlterCollection(self, request: Any, context: Any) -> Any:
        self.ctx.registry.root().alter_collection(db_of(request, context), request.collection_name,
                                                  kv_dict(request.properties), list(request.delete_keys))
        self.ctx.invalidate()
        return OK

    # --- schema evolution
    def AddCollectionField(self, request: Any, context: Any) -> Any:
        field = schema_pb2.FieldSchema()
        field.ParseFromString(request.schema)
        self._add_field(request, context, field, legacy=True)
        return OK

    def AlterCollectionSchema(self, request: Any, context: Any) -> Any:
        """pymilvus 3's ``add_collection_field``: one ``add_request`` with one field. Functions
        and dropping fields are not supported yet."""
        op = request.action.WhichOneof("op")
        if op == "drop_request":
            raise errors.MilvusError(errors.OPERATION_NOT_SUPPORTED,
                                     "dropping a field is not supported yet by Elanus")
        if op != "add_request":
            raise errors.invalid_parameter("unknown action type in alter collection schema request")
        add = request.action.add_request
        if len(add.func_schema) > 1:
            raise errors.invalid_parameter("For now, at most one function schema is supported")
        if len(add.field_infos) > 1:
            raise errors.invalid_parameter("For now, only one field info is supported")
        if add.func_schema:
            raise errors.MilvusError(errors.OPERATION_NOT_SUPPORTED,
                                     "adding a function is not supported yet by Elanus")
        if not add.field_infos:
            raise errors.invalid_parameter("fieldInfos and function schema are both empty")
        if not add.field_infos[0].HasField("field_schema"):
            raise errors.invalid_parameter("fieldSchema is nil in fieldInfos")
        self._add_field(request, context, add.field_infos[0].field_schema, legacy=False)
        return milvus_pb2.AlterCollectionSchemaResponse(alter_status=OK)

    def _add_field(self, request: Any, context: Any, field: schema_pb2.FieldSchema, legacy: bool) -> None:
        """Validate, add through the root coordinator, then wait until the delegators of a
        loaded collection serve the new schema, so every read after this RPC sees the field."""
        db = db_of(request, context)
        info = self.ctx.collection(db, request.collection_name)
        stored = schema_pb2.CollectionSchema()
        stored.ParseFromString(info.schema_bytes)
        check_add_field(stored, field, info.name, legacy=legacy)
        ts = self.ctx.registry.root().add_collection_field(db, request.collection_name, field.SerializeToString())
        self.ctx.invalidate()
        leaders = self.ctx.registry.query_coord().shard_leaders(info.id)
        probe = QueryRequest(info.id, (), "", {}, (), -1, 0, ts, count_only=True)
        for ch in info.channels:
            if ch in leaders:
                try:
                    self.ctx.registry.query_node(leaders[ch]).query(ch, probe)
                except errors.MilvusError as exc:  # the field is added; only the wait failed
                    log.warning("add field to %s: delegator of %s not caught up: %s", info.name, ch, exc)

    def GetCollectionStatistics(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        rows = self.ctx.registry.data_coord().collection_row_count(info.id)
        return milvus_pb2.GetCollectionStatisticsResponse(
            status=OK, stats=[common_pb2.KeyValuePair(key="row_count", value=str(rows))])

    # --- partitions
    def CreatePartition(self, request: Any, context: Any) -> Any:
        check_partition_name(request.partition_name)
        self.ctx.registry.root().create_partition(db_of(request, context), request.collection_name,
                                                  request.partition_name)
        self.ctx.invalidate()
        return OK

    def DropPartition(self, request: Any, context: Any) -> Any:
        check_partition_name(request.partition_name)
        self.ctx.registry.root().drop_partition(db_of(request, context), request.collection_name,
                                                request.partition_name)
        self.ctx.invalidate()
        return OK

    def HasPartition(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        return milvus_pb2.BoolResponse(status=OK, value=info.partition(request.partition_name) is not None)

    def ShowPartitions(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        parts = list(info.partitions)
        if request.partition_names:
            wanted = set(request.partition_names)
            missing = wanted - {p.name for p in parts}
            if missing:
                raise errors.partition_not_found(sorted(missing)[0])
            parts = [p for p in parts if p.name in wanted]
        loaded = self.ctx.registry.query_coord().loaded_partitions(info.id) or ()
        return milvus_pb2.ShowPartitionsResponse(
            status=OK, partition_names=[p.name for p in parts], partitionIDs=[p.id for p in parts],
            created_timestamps=[p.created_ts for p in parts],
            created_utc_timestamps=[_utc_ms(p.created_ts) for p in parts],
            inMemory_percentages=[100 if p.id in loaded else 0 for p in parts])

    def GetPartitionStatistics(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        part = info.partition(request.partition_name)
        if part is None:
            raise errors.partition_not_found(request.partition_name)
        rows = self.ctx.registry.data_coord().collection_row_count(info.id, (part.id,))
        return milvus_pb2.GetPartitionStatisticsResponse(
            status=OK, stats=[common_pb2.KeyValuePair(key="row_count", value=str(rows))])

    # --- aliases
    def CreateAlias(self, request: Any, context: Any) -> Any:
        check_collection_name(request.alias, "alias")
        self.ctx.registry.root().create_alias(db_of(request, context), request.alias, request.collection_name)
        self.ctx.invalidate()
        return OK

    def DropAlias(self, request: Any, context: Any) -> Any:
        check_collection_name(request.alias, "alias")
        self.ctx.registry.root().drop_alias(db_of(request, context), request.alias)
        self.ctx.invalidate()
        return OK

    def AlterAlias(self, request: Any, context: Any) -> Any:
        check_collection_name(request.alias, "alias")
        self.ctx.registry.root().alter_alias(db_of(request, context), request.alias, request.collection_name)
        self.ctx.invalidate()
        return OK

    def DescribeAlias(self, request: Any, context: Any) -> Any:
        check_collection_name(request.alias, "alias")
        target = self.ctx.registry.root().describe_alias(db_of(request, context), request.alias)
        return milvus_pb2.DescribeAliasResponse(status=OK, db_name=db_of(request, context), alias=request.alias,
                                                collection=target)

    def ListAliases(self, request: Any, context: Any) -> Any:
        aliases = self.ctx.registry.root().list_aliases(db_of(request, context), request.collection_name)
        return milvus_pb2.ListAliasesResponse(status=OK, db_name=db_of(request, context),
                                              collection_name=request.collection_name, aliases=aliases)
