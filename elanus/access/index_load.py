"""Index and load RPCs: forwarded to the data coordinator (indexes) and query coordinator (load)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from pymilvus.grpc_gen import common_pb2, milvus_pb2

from elanus.access.context import ProxyContext, db_of, partition_ids
from elanus.access.status import OK
from elanus.cluster.types import CollectionInfo, IndexInfo, LoadState
from elanus.core import errors
from elanus.core.schema import CollectionSchema

_STATE_FINISHED = common_pb2.IndexState.Finished
_STATE_IN_PROGRESS = common_pb2.IndexState.InProgress


def flatten_index_params(pairs: Any) -> dict[str, str]:
    """KV pairs with an optional JSON ``params`` entry → one flat dict.

    Milvus's ``ExpandIndexParams``: pairs apply in order (a later key overwrites an
    earlier one), a key given twice is an error, and the values inside ``params``
    become strings as Go's ``fmt.Sprintf("%v")`` prints them (JSON numbers are float64).
    """
    params: dict[str, str] = {}
    seen: set[str] = set()
    for kv in pairs:
        if kv.key in seen:
            raise errors.invalid_parameter(f"duplicated index param (key={kv.key}) (value={kv.value}) found")
        seen.add(kv.key)
        if kv.key != "params":
            params[kv.key] = kv.value
            continue
        if not kv.value:
            continue  # tolerated: raw clients send an empty ``params``
        try:
            extra = json.loads(kv.value)
        except json.JSONDecodeError as exc:
            raise errors.invalid_parameter(f"index params [{kv.value}] is not a valid json") from exc
        if not isinstance(extra, dict):
            raise errors.invalid_parameter(f"index params [{kv.value}] is not a valid json")
        params.update({k: _go_value(v) for k, v in extra.items()})
    return params


def _go_value(value: Any) -> str:
    """Go's ``%v`` of a value ``encoding/json`` decoded into ``any``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _go_float(float(value))
    if value is None:
        return "<nil>"
    return json.dumps(value)


def _go_float(x: float) -> str:
    """``%v`` of a float64 (strconv ``'g'``, shortest): exponent form when exp < -4 or exp >= 6,
    so ``16.0`` prints ``16`` and ``1000000`` prints ``1e+06``, as in Milvus."""
    if math.isnan(x) or math.isinf(x):
        return "NaN" if math.isnan(x) else ("+Inf" if x > 0 else "-Inf")
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0"
    _, digit_tuple, exponent = Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    exp = len(digits) + int(exponent) - 1  # decimal exponent of the first digit
    if exp < -4 or exp >= 6:
        head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{head}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    if exp + 1 >= len(digits):
        return sign + digits + "0" * (exp + 1 - len(digits))
    return f"{sign}{digits[:exp + 1]}.{digits[exp + 1:]}"


def _field_name(schema: CollectionSchema, index: IndexInfo) -> str:
    """The field DescribeIndex reports: for an index on a dynamic key, the key (the first
    step of its JSON pointer, unescaped), as Milvus's proxy does; else the field."""
    field = schema.get(index.field_name)
    if field is None or not field.is_dynamic or not index.json_pointer:
        return index.field_name
    head = index.json_pointer.removeprefix("/").split("/", 1)[0]
    return head.replace("~1", "/").replace("~0", "~")


def _description(ctx: ProxyContext, schema: CollectionSchema, index: IndexInfo) -> milvus_pb2.IndexDescription:
    total, indexed, pending = ctx.registry.data_coord().index_progress(index.collection_id, index.id)
    state = _STATE_FINISHED if pending == 0 else _STATE_IN_PROGRESS
    desc = milvus_pb2.IndexDescription(index_name=index.index_name, indexID=index.id,
                                       field_name=_field_name(schema, index), indexed_rows=indexed,
                                       total_rows=total,
                                       pending_index_rows=total - indexed, state=state)
    desc.params.extend(common_pb2.KeyValuePair(key=k, value=v) for k, v in index.params.items())
    return desc


class IndexLoadHandlers:
    ctx: ProxyContext

    # --- indexes
    def CreateIndex(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        schema = info.schema
        if schema.get(request.field_name) is None and not (schema.enable_dynamic_field and schema.dynamic_field):
            # Milvus: a name that is no field is a dynamic key when the collection has dynamic fields
            raise errors.invalid_parameter(f"cannot create index on non-exist field: {request.field_name}")
        params = flatten_index_params(request.extra_params)
        # The data coordinator resolves the field (or dynamic key), the default name and the JSON path.
        self.ctx.registry.data_coord().create_index(info, request.field_name, request.index_name, params)
        self.ctx.invalidate_indexes()
        return OK

    def DescribeIndex(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        dc = self.ctx.registry.data_coord()
        found = dc.describe_indexes(info.id, request.index_name, request.field_name)
        if not found:
            detail = (f"index not found, collection: {info.name}, index: {request.index_name}"
                      if request.index_name else f"collection: {info.name}")
            raise errors.index_not_found(detail)
        return milvus_pb2.DescribeIndexResponse(status=OK,
                                                index_descriptions=[_description(self.ctx, info.schema, i)
                                                                    for i in found])

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
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        if self.ctx.registry.query_coord().loaded_partitions(info.id) is not None:
            # Milvus's DataCoord.DropIndex: only a vector index is pinned by a load.
            for index in self.ctx.registry.data_coord().describe_indexes(info.id, request.index_name):
                field = info.schema.get(index.field_name)
                if field is not None and field.dtype.is_vector:
                    raise errors.invalid_parameter(
                        f"vector index cannot be dropped on loaded collection: {info.id}")
        self.ctx.registry.data_coord().drop_index(info.id, request.index_name)
        self.ctx.invalidate_indexes()
        return OK

    # --- load
    def _check_vector_indexes(self, info: CollectionInfo) -> None:
        indexed = {i.field_name for i in self.ctx.indexes(info.id)}
        missing = [f.name for f in info.schema.vector_fields if f.name not in indexed]
        if missing:  # Go prints the []string as [a b]
            raise errors.invalid_parameter(
                f"there is no vector index on field: [{' '.join(missing)}], please create index firstly")

    def LoadCollection(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        self._check_vector_indexes(info)
        self.ctx.registry.query_coord().load(info, (), max(request.replica_number, 1))
        return OK

    def LoadPartitions(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        if info.schema.partition_key is not None:
            raise errors.invalid_parameter("disable load partitions if partition key mode is used")
        parts = partition_ids(info, request.partition_names)
        self._check_vector_indexes(info)
        self.ctx.registry.query_coord().load(info, parts, max(request.replica_number, 1))
        return OK

    def ReleaseCollection(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        self.ctx.registry.query_coord().release(info.id)
        self.ctx.invalidate_leaders(info.id)
        return OK

    def ReleasePartitions(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        if info.schema.partition_key is not None:
            raise errors.invalid_parameter("disable release partitions if partition key mode is used")
        parts = partition_ids(info, request.partition_names)
        self.ctx.registry.query_coord().release(info.id, parts)
        self.ctx.invalidate_leaders(info.id)
        return OK

    def GetLoadingProgress(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        parts = partition_ids(info, request.partition_names)
        progress = self.ctx.registry.query_coord().load_progress(info.id, parts)
        if progress.state == LoadState.NOT_LOAD:
            raise errors.collection_not_loaded(info.name)
        return milvus_pb2.GetLoadingProgressResponse(status=OK, progress=progress.percent,
                                                     refresh_progress=progress.percent)

    def GetLoadState(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        parts = partition_ids(info, request.partition_names)
        progress = self.ctx.registry.query_coord().load_progress(info.id, parts)
        return milvus_pb2.GetLoadStateResponse(status=OK, state=int(progress.state))
