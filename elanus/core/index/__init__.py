"""Vector indexes for sealed segments, and exact search for growing ones.

Float vectors (and Float16/BFloat16/Int8 ones, as their float32 values) are indexed
by faiss (:mod:`~elanus.core.index.faiss_index`); binary vectors by
:mod:`~elanus.core.index.binary_index` (exact binary metrics in
:mod:`~elanus.core.index.exact`).

Typical flow::

    spec = parse_index_params(field, request_params)      # CreateIndex
    index = build(spec, vectors)                          # index node
    blob = index.serialize(); index = load(blob)          # object storage
    params = parse_search_params(index.spec, metric, search_params, k=k)
    scores, offsets = index.search(queries, k, params, valid=mask)
    scores, offsets = brute_force_search(vectors, queries, k, params.metric_type, valid=mask)
    scores, offsets = exact_search(field.dtype, column, queries, k, metric)  # any vector type

See :mod:`elanus.core.index.protocol` for the result contract shared by
indexes and brute force, and :mod:`elanus.core.index.threads` for faiss's
thread usage.
"""

from elanus.core.index.binary_index import BinaryIndex
from elanus.core.index.brute_force import brute_force_search
from elanus.core.index.build_params import parse_index_params
from elanus.core.index.builder import build, load
from elanus.core.index.exact import binary_search, exact_search
from elanus.core.index.faiss_index import FaissIndex
from elanus.core.index.protocol import VectorIndex
from elanus.core.index.search_params import SearchParams, parse_search_params
from elanus.core.index.spec import AUTOINDEX, IndexSpec, IndexType, MetricType
from elanus.core.index.threads import ThreadSettings, set_threads, thread_settings

__all__ = [
    "AUTOINDEX",
    "BinaryIndex",
    "FaissIndex",
    "IndexSpec",
    "IndexType",
    "MetricType",
    "SearchParams",
    "ThreadSettings",
    "VectorIndex",
    "binary_search",
    "brute_force_search",
    "build",
    "exact_search",
    "load",
    "parse_index_params",
    "parse_search_params",
    "set_threads",
    "thread_settings",
]
