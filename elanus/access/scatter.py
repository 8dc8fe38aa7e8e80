"""Scatter a read to every shard's delegator and merge what comes back.

Shared by Query and by delete-by-expression (which reads the matching primary keys
before it writes deletes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from elanus.access.context import ProxyContext
from elanus.cluster.interfaces import QueryNode
from elanus.cluster.types import CollectionInfo, QueryRequest, QueryResult
from elanus.core import batch, errors

T = TypeVar("T")


def require_loaded(ctx: ProxyContext, info: CollectionInfo, parts: tuple[int, ...]) -> dict[str, int]:
    """The collection's shard leaders (channel -> node); raises not-loaded (101) or
    partition-not-loaded when the read's scope is not loaded."""
    leaders = ctx.shard_leaders(info)
    if leaders is None:
        raise errors.collection_not_loaded(info.name)
    if not parts:
        # The common case needs no partition list (which may cost a root lookup).
        return leaders
    loaded = ctx.registry.query_coord().loaded_partitions(info.id)
    if loaded is None:
        raise errors.collection_not_loaded(info.name)
    for pid in parts:
        if pid not in loaded:
            name = next((p.name for p in info.partitions if p.id == pid), str(pid))
            raise errors.MilvusError(errors.PARTITION_NOT_LOADED,
                                     errors.compose(errors.PARTITION_NOT_LOADED, fields={"partition": name}))
    return leaders


def to_leaders(ctx: ProxyContext, info: CollectionInfo, leaders: dict[str, int],
               call: Callable[[QueryNode, str], T]) -> list[T]:
    """``call(delegator, channel)`` for every channel of the collection, in channel order.

    A failed call drops the cached route (the leader may have moved) before re-raising."""
    try:
        return [call(ctx.registry.query_node(leaders[ch]), ch) for ch in info.channels]
    except Exception:
        ctx.invalidate_leaders(info.id)
        raise


def run_query(ctx: ProxyContext, info: CollectionInfo, expr: str, params: dict[str, Any],
              fields: tuple[str, ...], limit: int, offset: int, parts: tuple[int, ...],
              guarantee_ts: int, count_only: bool = False) -> QueryResult:
    """Scatter a query to every shard and merge (pk order when a window is cut)."""
    leaders = require_loaded(ctx, info, parts)
    window = -1 if limit < 0 else limit + offset
    req = QueryRequest(info.id, parts, expr, params, fields, window, 0, guarantee_ts, count_only)
    results = to_leaders(ctx, info, leaders, lambda node, ch: node.query(ch, req))
    if count_only:
        return QueryResult({}, sum(r.count for r in results))
    cols = batch.concat([r.columns for r in results]) if len(results) > 1 else results[0].columns
    n = batch.num_rows(cols)
    if window >= 0 and (len(results) > 1 or offset) and n:
        pk = info.schema.primary.name
        if len(results) > 1 and pk in cols:
            cols = batch.take(cols, np.argsort(cols[pk], kind="stable"))
        cols = batch.take(cols, np.arange(min(offset, n), min(window, n)))
    return QueryResult(cols, batch.num_rows(cols))
