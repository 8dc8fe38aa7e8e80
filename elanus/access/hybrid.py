"""The HybridSearch RPC: several ANN searches (one per ``AnnSearchRequest``, usually on
different vector fields) fused by a ranker (RRF or weighted, :mod:`elanus.core.rerank`).

Each sub-request is validated and scattered exactly like a Search (its own anns field,
metric, params, filter and limit) at one guarantee timestamp taken from the outer
request; the outer ``partition_names`` and ``output_fields`` apply to every sub-request.
``rank_params`` carry pymilvus's JSON-encoded ``strategy``, ``params``, ``limit``,
``offset`` and ``round_decimal``; a ``Function`` ranker (``function_score``) with
``reranker`` rrf or weighted is read into the same form. Checks and texts are Milvus's
rerank builder's. Model and decay rerankers are not supported yet.
"""

from __future__ import annotations

import json
from typing import Any

from pymilvus.grpc_gen import milvus_pb2

from elanus.access.context import ProxyContext, db_of, kv_dict
from elanus.access.dql import DqlHandlers, check_search_window
from elanus.access.partition_key import read_partitions
from elanus.access.status import OK
from elanus.cluster.types import SearchHits
from elanus.core import errors
from elanus.core.rerank import fuse, rrf_scores, weighted_scores

RRF_K_DEFAULT = 60.0
RRF_K_LIMIT = 16384


def _json_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _rank_params(request: Any) -> dict[str, Any]:
    return {kv.key: _json_value(kv.value) for kv in request.rank_params}


def _int_value(params: dict[str, Any], key: str, default: int) -> int:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise errors.invalid_parameter(f"{key} [{value}] is invalid")
    try:
        return int(value)
    except ValueError as exc:
        raise errors.invalid_parameter(f"{key} [{value}] is invalid") from exc


def _function_ranker(functions: Any) -> dict[str, Any]:
    """``strategy``/``params`` of a pymilvus ``Function`` ranker (``reranker`` = rrf or
    weighted; its params arrive as strings, lists as JSON). Model and decay rerankers are
    not supported yet."""
    if len(functions) != 1:
        raise errors.invalid_parameter("rerank_builder: currently only supports one rerank function")
    raw = {kv.key: kv.value for kv in functions[0].params}
    reranker = raw.pop("reranker", "")
    if reranker not in ("rrf", "weighted"):
        raise errors.MilvusError(errors.OPERATION_NOT_SUPPORTED,
                                 f"unsupported operation: reranker {reranker or '(none)'} is not supported "
                                 "yet by Elanus")
    params: dict[str, Any] = {}
    if "k" in raw:
        try:
            params["k"] = float(raw["k"])
        except ValueError:
            raise errors.invalid_parameter(f"{raw['k']} is not a number") from None
    if "weights" in raw:
        params["weights"] = _json_value(raw["weights"])
    if "norm_score" in raw:
        params["norm_score"] = {"true": True, "false": False}.get(raw["norm_score"].lower(), raw["norm_score"])
    return {"strategy": reranker, "params": params}


class HybridHandlers(DqlHandlers):
    ctx: ProxyContext

    def HybridSearch(self, request: Any, context: Any) -> Any:
        info = self.ctx.collection(db_of(request, context), request.collection_name)
        if not request.requests:
            raise errors.invalid_parameter("no search requests in the hybrid search")
        rank = _rank_params(request)
        if request.HasField("function_score") and len(request.function_score.functions):
            rank.update(_function_ranker(request.function_score.functions))
        limit = _int_value(rank, "limit", 10)
        offset = _int_value(rank, "offset", 0)
        round_decimal = _int_value(rank, "round_decimal", -1)
        check_search_window(limit, offset)
        for part in request.partition_names:  # unknown names fail first, with the hybrid path's text
            if info.partition(part) is None:
                raise errors.MilvusError(errors.UNEXPECTED, f"partition name {part} not found")
        read_partitions(info, request.partition_names, None)
        for sub in request.requests:
            anns = kv_dict(sub.search_params).get("anns_field", "")
            target = info.schema.get(anns) if anns else None
            if anns and (target is None or not target.dtype.is_vector):
                raise errors.invalid_parameter("failed to create query plan: failed to get field schema by "
                                               f"name: fieldName({anns}) not found")
        gts = self.ctx.guarantee_ts(info, request.consistency_level, request.use_default_consistency,
                                    request.guarantee_timestamp)
        results = []
        for sub in request.requests:
            sub_request = milvus_pb2.SearchRequest()
            sub_request.CopyFrom(sub)
            del sub_request.output_fields[:]
            sub_request.output_fields.extend(request.output_fields)
            results.append(self._search_hits(info, sub_request, gts, request.partition_names))
        nq = results[0].nq
        if any(r.nq != nq for r in results):
            raise errors.invalid_parameter("the nq of all search requests in a hybrid search must be equal")
        hits = self._fuse(rank, [r.hits for r in results], limit, offset)
        first = results[0]
        return milvus_pb2.SearchResults(
            status=OK, collection_name=info.name,
            results=self._result_data(info.schema, hits, nq, limit, first.out_fields, first.dyn_keys,
                                      round_decimal))

    @staticmethod
    def _fuse(rank: dict[str, Any], parts: list[SearchHits], limit: int, offset: int) -> SearchHits:
        strategy = str(rank.get("strategy", "rrf")).lower()
        params = rank.get("params", {})
        if not isinstance(params, dict):
            raise errors.invalid_parameter(f"parse rerank params failed: {params}")
        if strategy == "rrf":
            k = params.get("k", RRF_K_DEFAULT)
            if isinstance(k, bool) or not isinstance(k, int | float):
                raise errors.invalid_parameter("the type of rank param k should be float")
            if not 0 < k < RRF_K_LIMIT:
                raise errors.invalid_parameter(f"The rank params k should be in range (0, {RRF_K_LIMIT})")
            return fuse(parts, rrf_scores(parts, float(k)), True, limit, offset)
        if strategy == "weighted":
            weights = params.get("weights")
            if not isinstance(weights, list):
                raise errors.invalid_parameter("the weights param should be an array")
            if any(isinstance(w, bool) or not isinstance(w, int | float) or not 0 <= w <= 1 for w in weights):
                raise errors.invalid_parameter("rank param weight should be in range [0, 1]")
            if len(weights) != len(parts):
                raise errors.MilvusError(
                    errors.PARAMETER_INVALID, f"the length of weights param mismatch with ann search requests: "
                    f"invalid parameter[expected={len(parts)}][actual={len(weights)}]")
            norm = params.get("norm_score", True)
            if not isinstance(norm, bool):
                raise errors.invalid_parameter("the type of rank param norm_score should be bool")
            contributions, larger_better = weighted_scores(parts, [float(w) for w in weights], norm)
            return fuse(parts, contributions, larger_better, limit, offset)
        raise errors.invalid_parameter(f"unsupported rank type {strategy}")
