"""Search and Query RPCs: validate, scatter to shard delegators, reduce (the MPP reduce).

The nq=1 path is kept short on purpose: one cached collection lookup, one
placeholder decode with ``np.frombuffer``, one call per shard, and a reduce that
is a no-op for a single shard.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymilvus.grpc_gen import milvus_pb2, schema_pb2

from elanus.access import fielddata
from elanus.access.context import ProxyContext, db_of, kv_dict
from elanus.access.partition_key import read_partitions
from elanus.access.placeholders import decode_queries
from elanus.access.scatter import require_loaded, run_query, to_leaders
from elanus.access.status import OK
from elanus.access.templates import template_values
from elanus.cluster.types import CollectionInfo, SearchHits, SearchRequest
from elanus.core import errors
from elanus.core.expr import compile_filter
from elanus.core.index.sparse_params import drop_ratio_search
from elanus.core.index.spec import (
    BINARY_VECTOR_METRICS,
    DEFAULT_BINARY_METRIC,
    DEFAULT_METRIC,
    FLOAT_VECTOR_METRICS,
    MetricType,
)
from elanus.core.reduce import merge_hits
from elanus.core.schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType, FieldSchema

TOPK_LIMIT = 16384
MAX_RESULT_WINDOW = 16384


def check_search_window(limit: int, offset: int) -> None:
    """Reject a search's ``limit`` (topk) and ``offset`` outside Milvus's bounds."""
    if limit <= 0 or limit > TOPK_LIMIT:
        raise errors.invalid_parameter(
            f"topk [{limit}] is invalid, it should be in range [1, {TOPK_LIMIT}], but got {limit}")
    if offset < 0 or offset + limit > MAX_RESULT_WINDOW:
        raise errors.invalid_parameter(
            f"offset+topk [{offset + limit}] is invalid, (offset+limit) should be in range "
            f"[1, {MAX_RESULT_WINDOW}], but got {offset + limit}")


def _int_param(params: dict[str, str], key: str, default: int) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise errors.invalid_parameter(f"{key} [{raw}] is invalid") from exc


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_META_KEY = re.compile(r"""\$meta\[(?:"([^"]*)"|'([^']*)')\]""")


def resolve_output_fields(schema: CollectionSchema, requested: Any,
                          allow_vectors: bool = True) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(field names to fetch, dynamic keys asked for). ``*`` means every field.

    Milvus's ``translateOutputFields``: a name that is not a field is a key of the
    dynamic field (``key`` or ``$meta["key"]``) when the schema has one; ``*`` asks
    for the whole dynamic field, so no key list is returned then.
    """
    names: list[str] = []
    dynamic_keys: list[str] = []
    all_dynamic = False
    dyn = schema.dynamic_field
    for raw in requested:
        name = raw.strip()
        if name == "*":
            names.extend(f.name for f in schema.fields if f.name not in names and not f.is_dynamic)
            if dyn is not None and dyn.name not in names:
                names.append(dyn.name)
            all_dynamic = True
            continue
        f = schema.get(name)
        if f is not None:
            if f.name not in names:
                names.append(f.name)
        elif dyn is not None and name != "count(*)":
            meta_key = _META_KEY.fullmatch(name)
            if meta_key is not None:
                key = meta_key.group(1) if meta_key.group(1) is not None else meta_key.group(2)
            elif _IDENTIFIER.fullmatch(name):
                key = name
            else:
                raise errors.invalid_parameter(f"parse output field name failed: {name}")
            if key not in dynamic_keys:
                dynamic_keys.append(key)
            if dyn.name not in names:
                names.append(dyn.name)
        else:
            raise errors.invalid_parameter(f"field {name} not exist")
    return tuple(names), () if all_dynamic else tuple(dynamic_keys)


@dataclass(frozen=True)
class Searched:
    """One search's merged hits and what its response needs."""

    hits: SearchHits
    nq: int
    limit: int
    out_fields: tuple[str, ...]
    dyn_keys: tuple[str, ...]
    round_decimal: int


class DqlHandlers:
    ctx: ProxyContext

    # --- search
    def Search(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        gts = self.ctx.guarantee_ts(info, request.consistency_level, request.use_default_consistency,
                                    request.guarantee_timestamp)
        done = self._search_hits(info, request, gts)
        return milvus_pb2.SearchResults(
            status=OK, collection_name=info.name,
            results=self._result_data(info.schema, done.hits, done.nq, done.limit, done.out_fields,
                                      done.dyn_keys, done.round_decimal))

    def _search_hits(self, info: CollectionInfo, request: Any, gts: int,
                     partition_names: Any = None) -> Searched:
        """Validate one search request (a ``SearchRequest`` proto, also a hybrid search's
        sub-request), scatter it to every shard at guarantee ts ``gts`` and merge: the final
        hits (``offset`` applied) and what the response needs. ``partition_names`` overrides
        the request's own (a hybrid search's outer list)."""
        schema = info.schema
        sp = kv_dict(request.search_params)
        limit = _int_param(sp, "topk", 10)
        offset = _int_param(sp, "offset", 0)
        check_search_window(limit, offset)
        anns = sp.get("anns_field", "")
        vectors = schema.vector_fields
        if not anns:
            if len(vectors) > 1:
                raise errors.invalid_parameter(
                    "multiple anns_fields exist, please specify a anns_field in search_params")
            anns = vectors[0].name
        field = schema.get(anns)
        if field is None or not field.dtype.is_vector:
            raise errors.invalid_parameter(f"failed to get field schema by name: fieldName({anns}) not found")
        queries = decode_queries(request.placeholder_group, field)
        filter_params = template_values(request.expr_template_values)
        flt = compile_filter(request.dsl, schema, filter_params) if request.dsl else None
        names = request.partition_names if partition_names is None else partition_names
        parts = read_partitions(info, names, flt)
        leaders = require_loaded(self.ctx, info, parts)
        metric, params = self._search_params(info, field, sp)
        out_fields, dyn_keys = resolve_output_fields(schema, request.output_fields)
        req = SearchRequest(info.id, parts, field.name, queries, limit + offset, metric, params, request.dsl,
                            filter_params, out_fields, gts)
        parts_hits = to_leaders(self.ctx, info, leaders, lambda node, ch: node.search(ch, req))
        hits = merge_hits(parts_hits, limit, offset) if len(parts_hits) > 1 or offset else parts_hits[0]
        return Searched(hits, len(queries), limit, out_fields, dyn_keys, _int_param(sp, "round_decimal", -1))

    def _search_params(self, info: CollectionInfo, field: FieldSchema,
                       sp: dict[str, str]) -> tuple[str, dict[str, Any]]:
        raw = sp.get("params", "") or "{}"
        try:
            params = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise errors.invalid_parameter(f"search params [{raw}] is not a valid json") from exc
        if not isinstance(params, dict):
            params = {}
        index = next((i for i in self.ctx.indexes(info.id) if i.field_name == field.name), None)
        index_metric = (index.params.get("metric_type", "") if index else "").upper()
        # Milvus's default metric per vector type (an index built without one has it too).
        binary = field.dtype is DataType.BINARY_VECTOR
        default = DEFAULT_BINARY_METRIC if binary else \
            MetricType.IP if field.dtype is DataType.SPARSE_FLOAT_VECTOR else DEFAULT_METRIC
        metric = (sp.get("metric_type", "") or params.pop("metric_type", "") or index_metric
                  or default).upper()
        if field.dtype is DataType.SPARSE_FLOAT_VECTOR:
            drop_ratio_search(params)  # range checks for every segment, indexed or growing
            if not index_metric and metric != "IP":
                index_metric = "IP"  # sparse vectors have one metric, with or without an index
        elif index is None:
            supported = BINARY_VECTOR_METRICS if binary else FLOAT_VECTOR_METRICS
            if metric not in supported:
                raise errors.invalid_parameter(f"metric type {metric} not found or not supported, "
                                               f"supported: [{' '.join(supported)}]")
        if index_metric and metric != index_metric:
            raise errors.MilvusError(errors.PARAMETER_INVALID,
                                     f"metric type not match: invalid parameter[expected={index_metric}]"
                                     f"[actual={metric}]")
        return metric, params

    def _result_data(self, schema: CollectionSchema, hits: SearchHits, nq: int, limit: int,
                     out_fields: tuple[str, ...], dyn_keys: tuple[str, ...],
                     round_decimal: int) -> schema_pb2.SearchResultData:
        valid = hits.valid
        topks = valid.sum(axis=1)
        flat = valid.ravel()
        scores = hits.scores.ravel()[flat]
        if round_decimal >= 0:
            scores = np.round(scores, round_decimal)
        pks = hits.pks.ravel()[flat]
        data = schema_pb2.SearchResultData(num_queries=nq, top_k=limit, topks=topks.tolist(),
                                           primary_field_name=schema.primary.name)
        data.scores.extend(scores.astype(np.float32))
        data.ids.CopyFrom(fielddata.ids_from_columns(pks))
        if out_fields:
            cols = {name: col[flat] if len(col) == len(flat) else col for name, col in hits.fields.items()}
            data.fields_data.extend(fielddata.field_data_from_columns(cols, schema, out_fields,
                                                                      dyn_keys or None))
            data.output_fields.extend(_output_names(out_fields, dyn_keys))
        return data

    # --- query
    def Query(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        schema = info.schema
        limit, offset = _query_window(kv_dict(request.query_params))
        expr = request.expr.strip()
        params = template_values(request.expr_template_values)
        requested = [f.strip() for f in request.output_fields]
        count_only = any(f.lower() == "count(*)" for f in requested)
        if count_only and len(requested) > 1:
            raise errors.invalid_parameter("count entities with pagination is not allowed")
        if not expr and limit < 0 and not count_only:
            raise errors.invalid_parameter("empty expression should be used with limit")
        flt = compile_filter(expr, schema, params) if expr else None
        parts = read_partitions(info, request.partition_names, flt)
        gts = self.ctx.guarantee_ts(info, request.consistency_level, request.use_default_consistency,
                                    request.guarantee_timestamp)
        if count_only:
            result = run_query(self.ctx, info, expr, params, (), -1, 0, parts, gts, count_only=True)
            fd = schema_pb2.FieldData(type=DataType.INT64, field_name="count(*)")
            fd.scalars.long_data.data.append(result.count)
            return milvus_pb2.QueryResults(status=OK, collection_name=info.name, fields_data=[fd],
                                           output_fields=["count(*)"], primary_field_name=schema.primary.name)
        out_fields, dyn_keys = resolve_output_fields(schema, requested)
        pk = schema.primary.name
        fetch = out_fields if pk in out_fields else (pk, *out_fields)
        result = run_query(self.ctx, info, expr, params, fetch, limit, offset, parts, gts)
        resp = milvus_pb2.QueryResults(status=OK, collection_name=info.name, primary_field_name=pk)
        resp.fields_data.extend(fielddata.field_data_from_columns(result.columns, schema, fetch,
                                                                  dyn_keys or None))
        resp.output_fields.extend(_output_names(fetch, dyn_keys))
        return resp


def _query_window(qp: dict[str, str]) -> tuple[int, int]:
    """(limit, offset) of a query; limit -1 when none was given (offset is then ignored).

    Milvus's ``parseQueryParams`` + ``validateMaxQueryResultWindow``: with a limit,
    offset < 0, then limit <= 0, then offset+limit outside [1, 16384] are rejected,
    each wrapped twice as an invalid parameter.
    """
    if qp.get("limit") is None:
        return -1, 0
    limit = _int_param(qp, "limit", -1)
    offset = _int_param(qp, "offset", 0)
    if offset < 0:
        inner = f"offset [{offset}] is invalid, should be gte than 0"
    elif limit <= 0:
        inner = f"limit [{limit}] is invalid, should be greater than 0"
    elif offset + limit > MAX_RESULT_WINDOW:
        inner = f"(offset+limit) should be in range [1, {MAX_RESULT_WINDOW}], but got {offset + limit}"
    else:
        return limit, offset
    raise errors.invalid_parameter(f"invalid max query result window, {inner}: invalid parameter")


def _output_names(fields: tuple[str, ...], dyn_keys: tuple[str, ...]) -> list[str]:
    names = [f for f in fields if f != DYNAMIC_FIELD_NAME]
    if dyn_keys:
        return names + list(dyn_keys)
    return names + ([DYNAMIC_FIELD_NAME] if DYNAMIC_FIELD_NAME in fields else [])
