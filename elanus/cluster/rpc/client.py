"""gRPC clients of the roles: each implements its Protocol of :mod:`elanus.cluster.interfaces`.

``RootCoordClient(address)`` ... ``QueryNodeClient(address, node_id)`` stand wherever the
role object would (a :class:`~elanus.cluster.registry.Registry` hands them out in cluster
mode): every method encodes its arguments (:mod:`.methods`, :mod:`.codec`), calls the
rpc of the same name on ``address`` (``host:port``) and decodes the result. Errors
(:mod:`.errors`): a ``MilvusError`` raised by the remote role is raised again with the
same class, code and message; an unreachable or too slow peer raises
:class:`~elanus.cluster.rpc.errors.RoleUnavailable`; anything else remote is a
``MilvusError`` with code 5 (service internal error).

Each call has a deadline: :data:`DEFAULT_TIMEOUT`, or the method's entry in the class's
``TIMEOUTS`` (loads, builds, flushes, reads that wait for tsafe ...), times the
``timeout_scale`` the client was made with. Calls fail fast when the peer is down (no
``wait_for_ready``). Clients are thread-safe; ``close()`` releases the channel, after
which calls fail with ``RoleUnavailable``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

import grpc
import numpy as np

from elanus.cluster.rpc.errors import RoleUnavailable, error_from_rpc
from elanus.cluster.rpc.methods import service_methods
from elanus.cluster.rpc.server import MESSAGE_OPTIONS, NODE_ID_KEY
from elanus.cluster.types import (
    Checkpoint,
    CollectionInfo,
    Columns,
    ConsistencyLevel,
    DatabaseInfo,
    DeltaLogInfo,
    IndexInfo,
    LoadProgress,
    QueryRequest,
    QueryResult,
    SearchHits,
    SearchRequest,
    SegmentInfo,
)
from elanus.core.schema import CollectionSchema

if TYPE_CHECKING:
    from elanus.cluster import interfaces

CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    *MESSAGE_OPTIONS,
    # Reconnect quickly to a restarted peer (the default backoff grows to 120 s).
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
]
DEFAULT_TIMEOUT = 60.0
MINUTES = 60.0
HOUR = 3600.0


class RoleClient:
    """Shared plumbing: one channel, one callable per rpc, error translation."""

    SERVICE: ClassVar[str] = ""
    TIMEOUTS: ClassVar[dict[str, float]] = {}

    def __init__(self, address: str, *, timeout_scale: float = 1.0) -> None:
        self.address = address
        self._scale = timeout_scale
        self._metadata: tuple[tuple[str, str], ...] = ()
        self._closed = False
        self._channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
        self._specs = service_methods(self.SERVICE)
        self._stubs = {name: self._channel.unary_unary(spec.path, request_serializer=spec.request_cls.SerializeToString,
                                                       response_deserializer=spec.response_cls.FromString)
                       for name, spec in self._specs.items()}

    def _call(self, method: str, **kwargs: Any) -> Any:
        spec = self._specs[method]
        if self._closed:
            raise RoleUnavailable(self.SERVICE, self.address, f"{method}: the client is closed")
        request = spec.encode_request(kwargs)
        timeout = self.TIMEOUTS.get(method, DEFAULT_TIMEOUT) * self._scale
        try:
            response = self._stubs[method](request, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as err:
            raise error_from_rpc(err, self.SERVICE, self.address, method) from None
        return spec.decode_response(response)

    def close(self) -> None:
        """Release the channel (idempotent)."""
        self._closed = True
        self._channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address!r})"


class RootCoordClient(RoleClient):
    """The root coordinator: DDL, TSO and ids.

    Implements :class:`~elanus.cluster.interfaces.RootCoord`.
    """

    SERVICE = "RootCoord"
    TIMEOUTS: ClassVar[dict[str, float]] = {
        "create_collection": 10 * MINUTES, "drop_collection": 10 * MINUTES, "truncate_collection": 10 * MINUTES,
        "add_collection_field": 10 * MINUTES, "drop_partition": 10 * MINUTES, "drop_database": 10 * MINUTES,
    }

    def alloc_timestamp(self, count: int = 1) -> int:
        return self._call("alloc_timestamp", count=count)

    def alloc_ids(self, count: int) -> int:
        return self._call("alloc_ids", count=count)

    def create_database(self, name: str, properties: dict[str, str]) -> None:
        self._call("create_database", name=name, properties=properties)

    def drop_database(self, name: str) -> None:
        self._call("drop_database", name=name)

    def list_databases(self) -> list[DatabaseInfo]:
        return self._call("list_databases")

    def describe_database(self, name: str) -> DatabaseInfo:
        return self._call("describe_database", name=name)

    def alter_database(self, name: str, properties: dict[str, str], delete_keys: list[str]) -> None:
        self._call("alter_database", name=name, properties=properties, delete_keys=delete_keys)

    def create_collection(self, db: str, name: str, schema_bytes: bytes, num_shards: int,
                          consistency_level: ConsistencyLevel, properties: dict[str, str],
                          num_partitions: int = 0) -> None:
        self._call("create_collection", db=db, name=name, schema_bytes=schema_bytes, num_shards=num_shards,
                   consistency_level=consistency_level, properties=properties, num_partitions=num_partitions)

    def drop_collection(self, db: str, name: str) -> None:
        self._call("drop_collection", db=db, name=name)

    def describe_collection(self, db: str, name: str = "", collection_id: int = 0) -> CollectionInfo:
        return self._call("describe_collection", db=db, name=name, collection_id=collection_id)

    def list_collections(self, db: str) -> list[CollectionInfo]:
        return self._call("list_collections", db=db)

    def all_collections(self) -> list[CollectionInfo]:
        return self._call("all_collections")

    def truncate_collection(self, db: str, name: str) -> None:
        self._call("truncate_collection", db=db, name=name)

    def rename_collection(self, db: str, old: str, new_db: str, new: str) -> None:
        self._call("rename_collection", db=db, old=old, new_db=new_db, new=new)

    def alter_collection(self, db: str, name: str, properties: dict[str, str], delete_keys: list[str]) -> None:
        self._call("alter_collection", db=db, name=name, properties=properties, delete_keys=delete_keys)

    def add_collection_field(self, db: str, name: str, field_bytes: bytes) -> int:
        return self._call("add_collection_field", db=db, name=name, field_bytes=field_bytes)

    def create_partition(self, db: str, collection: str, partition: str) -> None:
        self._call("create_partition", db=db, collection=collection, partition=partition)

    def drop_partition(self, db: str, collection: str, partition: str) -> None:
        self._call("drop_partition", db=db, collection=collection, partition=partition)

    def create_alias(self, db: str, alias: str, collection: str) -> None:
        self._call("create_alias", db=db, alias=alias, collection=collection)

    def drop_alias(self, db: str, alias: str) -> None:
        self._call("drop_alias", db=db, alias=alias)

    def alter_alias(self, db: str, alias: str, collection: str) -> None:
        self._call("alter_alias", db=db, alias=alias, collection=collection)

    def describe_alias(self, db: str, alias: str) -> str:
        return self._call("describe_alias", db=db, alias=alias)

    def list_aliases(self, db: str, collection: str = "") -> list[str]:
        return self._call("list_aliases", db=db, collection=collection)


class DataCoordClient(RoleClient):
    """The data coordinator (segments, checkpoints, flush, index meta).

    Implements :class:`~elanus.cluster.interfaces.DataCoord`.
    """

    SERVICE = "DataCoord"
    TIMEOUTS: ClassVar[dict[str, float]] = {
        "flush": 10 * MINUTES, "create_index": 10 * MINUTES, "segment_flushed": 10 * MINUTES,
        "drop_collection": 10 * MINUTES, "drop_partition": 10 * MINUTES, "truncate_collection": 10 * MINUTES,
        "index_built": 10 * MINUTES,
    }

    def register_segment(self, info: SegmentInfo) -> None:
        self._call("register_segment", info=info)

    def seal_segments(self, segment_ids: list[int]) -> None:
        self._call("seal_segments", segment_ids=segment_ids)

    def segment_flushed(self, info: SegmentInfo) -> None:
        self._call("segment_flushed", info=info)

    def add_delta_log(self, info: DeltaLogInfo) -> None:
        self._call("add_delta_log", info=info)

    def update_checkpoint(self, cp: Checkpoint) -> None:
        self._call("update_checkpoint", cp=cp)

    def get_checkpoint(self, channel: str) -> Checkpoint | None:
        return self._call("get_checkpoint", channel=channel)

    def list_segments(self, collection_id: int, states: tuple[int, ...] = ()) -> list[SegmentInfo]:
        return self._call("list_segments", collection_id=collection_id, states=states)

    def channel_segments(self, channel: str, states: tuple[int, ...] = ()) -> list[SegmentInfo]:
        return self._call("channel_segments", channel=channel, states=states)

    def list_delta_logs(self, collection_id: int, channel: str = "") -> list[DeltaLogInfo]:
        return self._call("list_delta_logs", collection_id=collection_id, channel=channel)

    def collection_row_count(self, collection_id: int, partition_ids: tuple[int, ...] = ()) -> int:
        return self._call("collection_row_count", collection_id=collection_id, partition_ids=partition_ids)

    def flush(self, collection: CollectionInfo) -> tuple[list[int], int]:
        return self._call("flush", collection=collection)

    def flush_done(self, segment_ids: list[int], flush_ts: int, collection_id: int) -> bool:
        return self._call("flush_done", segment_ids=segment_ids, flush_ts=flush_ts, collection_id=collection_id)

    def create_index(self, collection: CollectionInfo, field_name: str, index_name: str,
                     params: dict[str, str]) -> None:
        self._call("create_index", collection=collection, field_name=field_name, index_name=index_name,
                   params=params)

    def describe_indexes(self, collection_id: int, index_name: str = "", field_name: str = "") -> list[IndexInfo]:
        return self._call("describe_indexes", collection_id=collection_id, index_name=index_name,
                          field_name=field_name)

    def index_progress(self, collection_id: int, index_id: int) -> tuple[int, int, int]:
        return self._call("index_progress", collection_id=collection_id, index_id=index_id)

    def drop_index(self, collection_id: int, index_name: str) -> None:
        self._call("drop_index", collection_id=collection_id, index_name=index_name)

    def index_built(self, segment_id: int, field_name: str, index_path: str) -> None:
        self._call("index_built", segment_id=segment_id, field_name=field_name, index_path=index_path)

    def drop_collection(self, collection_id: int) -> None:
        self._call("drop_collection", collection_id=collection_id)

    def drop_partition(self, collection_id: int, partition_id: int) -> None:
        self._call("drop_partition", collection_id=collection_id, partition_id=partition_id)

    def truncate_collection(self, collection_id: int, fences: dict[str, int]) -> list[int]:
        return self._call("truncate_collection", collection_id=collection_id, fences=fences)


class QueryCoordClient(RoleClient):
    """The query coordinator: load state, distribution, handoff.

    Implements :class:`~elanus.cluster.interfaces.QueryCoord`.
    """

    SERVICE = "QueryCoord"
    TIMEOUTS: ClassVar[dict[str, float]] = {
        "load": 10 * MINUTES, "release": 10 * MINUTES, "segment_ready": HOUR, "drop_segments": 10 * MINUTES,
    }

    def load(self, collection: CollectionInfo, partition_ids: tuple[int, ...] = (), replicas: int = 1) -> None:
        self._call("load", collection=collection, partition_ids=partition_ids, replicas=replicas)

    def release(self, collection_id: int, partition_ids: tuple[int, ...] = ()) -> None:
        self._call("release", collection_id=collection_id, partition_ids=partition_ids)

    def load_progress(self, collection_id: int, partition_ids: tuple[int, ...] = ()) -> LoadProgress:
        return self._call("load_progress", collection_id=collection_id, partition_ids=partition_ids)

    def loaded_partitions(self, collection_id: int) -> tuple[int, ...] | None:
        return self._call("loaded_partitions", collection_id=collection_id)

    def is_loaded(self, collection_id: int) -> bool:
        return self._call("is_loaded", collection_id=collection_id)

    def shard_leaders(self, collection_id: int) -> dict[str, int]:
        return self._call("shard_leaders", collection_id=collection_id)

    def segment_ready(self, segment: SegmentInfo) -> None:
        self._call("segment_ready", segment=segment)

    def drop_segments(self, collection_id: int, segment_ids: list[int]) -> None:
        self._call("drop_segments", collection_id=collection_id, segment_ids=segment_ids)

    def served_segments(self, collection_id: int) -> list[tuple[SegmentInfo, int]]:
        return self._call("served_segments", collection_id=collection_id)


class DataNodeClient(RoleClient):
    """A data node: ordered durable writes to the channels it owns, and their flush.

    Implements :class:`~elanus.cluster.interfaces.DataNode`.
    """

    SERVICE = "DataNode"
    TIMEOUTS: ClassVar[dict[str, float]] = {
        "insert": 10 * MINUTES, "delete": 10 * MINUTES, "upsert": 10 * MINUTES, "seal_collection": 10 * MINUTES,
        "update_schema": 10 * MINUTES, "truncate_collection": 10 * MINUTES, "drop_collection": 10 * MINUTES,
        "drop_partition": 10 * MINUTES, "watch_channel": 10 * MINUTES, "unwatch_channel": 10 * MINUTES,
    }

    def insert(self, collection: CollectionInfo, channel: str, partition_id: int, columns: Columns) -> int:
        return self._call("insert", collection=collection, channel=channel, partition_id=partition_id, columns=columns)

    def delete(self, collection: CollectionInfo, channel: str, partition_id: int, pks: np.ndarray) -> int:
        return self._call("delete", collection=collection, channel=channel, partition_id=partition_id, pks=pks)

    def upsert(self, collection: CollectionInfo, channel: str, partition_id: int, columns: Columns) -> int:
        return self._call("upsert", collection=collection, channel=channel, partition_id=partition_id, columns=columns)

    def seal_collection(self, collection_id: int, channel: str) -> list[int]:
        return self._call("seal_collection", collection_id=collection_id, channel=channel)

    def last_ts(self, channel: str) -> int:
        return self._call("last_ts", channel=channel)

    def update_schema(self, collection: CollectionInfo, channel: str) -> int:
        return self._call("update_schema", collection=collection, channel=channel)

    def truncate_collection(self, collection: CollectionInfo, channel: str) -> int:
        return self._call("truncate_collection", collection=collection, channel=channel)

    def drop_collection(self, collection: CollectionInfo) -> None:
        self._call("drop_collection", collection=collection)

    def drop_partition(self, collection: CollectionInfo, partition_id: int) -> None:
        self._call("drop_partition", collection=collection, partition_id=partition_id)

    def watch_channel(self, channel: str) -> None:
        self._call("watch_channel", channel=channel)

    def unwatch_channel(self, channel: str) -> None:
        self._call("unwatch_channel", channel=channel)


class IndexNodeClient(RoleClient):
    """An index node: builds one segment index per call.

    Implements :class:`~elanus.cluster.interfaces.IndexNode`.
    """

    SERVICE = "IndexNode"
    TIMEOUTS: ClassVar[dict[str, float]] = {"build_index": 6 * HOUR, "build_scalar_index": HOUR}

    def build_index(self, collection_id: int, segment: SegmentInfo, field_name: str, dim: int,
                    params: dict[str, str], metric: str, vector_type: int = 101) -> str:
        return self._call("build_index", collection_id=collection_id, segment=segment, field_name=field_name,
                          dim=dim, params=params, metric=metric, vector_type=vector_type)

    def build_scalar_index(self, collection_id: int, segment: SegmentInfo, schema_bytes: bytes,
                           field_name: str, index_id: int, params: dict[str, str], json_pointer: str = "") -> str:
        return self._call("build_scalar_index", collection_id=collection_id, segment=segment,
                          schema_bytes=schema_bytes, field_name=field_name, index_id=index_id, params=params,
                          json_pointer=json_pointer)


class QueryNodeClient(RoleClient):
    """A query node: delegator of its channels and worker of its sealed segments.

    Implements :class:`~elanus.cluster.interfaces.QueryNode`.
    """

    SERVICE = "QueryNode"
    TIMEOUTS: ClassVar[dict[str, float]] = {
        "watch_channel": HOUR, "load_segment": HOUR, "handoff": 10 * MINUTES, "unwatch_channel": 10 * MINUTES,
        "release_segment": 10 * MINUTES, "drop_sealed": 10 * MINUTES, "apply_deletes": 10 * MINUTES,
        "update_schema": 10 * MINUTES, "search": 10 * MINUTES, "query": 10 * MINUTES,
        "search_segments": 10 * MINUTES, "query_segments": 10 * MINUTES,
    }

    def __init__(self, address: str, node_id: int, *, timeout_scale: float = 1.0) -> None:
        super().__init__(address, timeout_scale=timeout_scale)
        self.node_id = node_id
        self._metadata = ((NODE_ID_KEY, str(node_id)),)

    def __repr__(self) -> str:
        return f"QueryNodeClient({self.address!r}, {self.node_id})"

    def watch_channel(self, collection: CollectionInfo, channel: str, seek_offset: int,
                      excluded_segments: list[int], partition_ids: tuple[int, ...]) -> None:
        self._call("watch_channel", collection=collection, channel=channel, seek_offset=seek_offset,
                   excluded_segments=excluded_segments, partition_ids=partition_ids)

    def unwatch_channel(self, collection_id: int, channel: str) -> None:
        self._call("unwatch_channel", collection_id=collection_id, channel=channel)

    def channel_caught_up(self, channel: str) -> bool:
        return self._call("channel_caught_up", channel=channel)

    def load_segment(self, collection: CollectionInfo, segment: SegmentInfo, deltas: list[DeltaLogInfo]) -> None:
        self._call("load_segment", collection=collection, segment=segment, deltas=deltas)

    def release_segment(self, segment_id: int) -> None:
        self._call("release_segment", segment_id=segment_id)

    def handoff(self, channel: str, segment: SegmentInfo, node_id: int) -> None:
        self._call("handoff", channel=channel, segment=segment, node_id=node_id)

    def drop_sealed(self, channel: str, segment_id: int) -> None:
        self._call("drop_sealed", channel=channel, segment_id=segment_id)

    def search(self, channel: str, request: SearchRequest) -> SearchHits:
        return self._call("search", channel=channel, request=request)

    def query(self, channel: str, request: QueryRequest) -> QueryResult:
        return self._call("query", channel=channel, request=request)

    def search_segments(self, segment_ids: list[int], request: SearchRequest) -> SearchHits:
        return self._call("search_segments", segment_ids=segment_ids, request=request)

    def query_segments(self, segment_ids: list[int], request: QueryRequest) -> QueryResult:
        return self._call("query_segments", segment_ids=segment_ids, request=request)

    def apply_deletes(self, segment_ids: list[int], pks: np.ndarray, ts: np.ndarray) -> None:
        self._call("apply_deletes", segment_ids=segment_ids, pks=pks, ts=ts)

    def update_schema(self, segment_ids: list[int], schema: CollectionSchema) -> None:
        self._call("update_schema", segment_ids=segment_ids, schema=schema)


if TYPE_CHECKING:
    def _conforms(root: RootCoordClient, dc: DataCoordClient, qc: QueryCoordClient, dn: DataNodeClient,
                  ix: IndexNodeClient, qn: QueryNodeClient) -> None:
        """Never called: makes mypy check that each client implements its Protocol exactly."""
        _root: interfaces.RootCoord = root
        _dc: interfaces.DataCoord = dc
        _qc: interfaces.QueryCoord = qc
        _dn: interfaces.DataNode = dn
        _ix: interfaces.IndexNode = ix
        _qn: interfaces.QueryNode = qn
