"""Data node: channel writer (ordered durable appends) and flusher (WAL -> object storage)."""

from elanus.worker.data_node.node import DataNodeImpl

__all__ = ["DataNodeImpl"]
