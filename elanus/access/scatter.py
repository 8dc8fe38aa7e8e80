"""Scatter a read to every shard's delegator and merge what comes back.

Shared by Query and by delete-by-expression (which reads the matching primary keys
before it writes deletes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from elanus.access.context import ProxyContext
from elanus.cluster.types import CollectionInfo, QueryRequest, QueryResult
from elanus.core import batch, errors


def require_loaded(ctx: ProxyContext, info: CollectionInfo, parts: tuple[int, ...]) -> None:
    qc = ctx.registry.query_coord()
    if not parts:
        # The common case needs no partition list (which may cost a root lookup).
        if not qc.is_loaded(info.id):
            raise errors.collection_not_loaded(info.name)
        return
    loaded = qc.loaded_partitions(info.id)
    if loaded is None:
        raise errors.collection_not_loaded(info.name)
    for pid in parts:
        if pid not in loaded:
            name = next((p.name for p in info.partitions if p.id == pid), str(pid))
            raise errors.MilvusError(errors.PARTITION_NOT_LOADED,
                                     errors.compose(errors.PARTITION_NOT_LOADED, fields={"partition": name}))


def run_query(ctx: ProxyContext, info: CollectionInfo, expr: str, params: dict[str, Any],
              fields: tuple[str, ...], limit: int, offset: int, parts: tuple[int, ...],
              guarantee_ts: int, count_only: bool = False) -> QueryResult:
    """Scatter a query to every shard and merge (pk order when a window is cut)."""
    require_loaded(ctx, info, parts)
    window = -1 if limit < 0 else limit + offset
    req = QueryRequest(info.id, parts, expr, params, fields, window, 0, guarantee_ts, count_only)
    leaders = ctx.registry.query_coord().shard_leaders(info.id)
    results = [ctx.registry.query_node(leaders[ch]).query(ch, req) for ch in info.channels]
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
