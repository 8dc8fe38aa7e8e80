"""Query node: shard delegators (growing data, tsafe, reduce) and sealed-segment workers."""

from elanus.core.reduce import merge_hits, merge_query_results
from elanus.worker.query_node.delegator import Delegator
from elanus.worker.query_node.node import QueryNodeImpl

__all__ = ["Delegator", "QueryNodeImpl", "merge_hits", "merge_query_results"]
