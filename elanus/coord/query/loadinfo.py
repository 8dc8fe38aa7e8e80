"""What the query coordinator persists: which collections (and partitions) are loaded.

Key ``querycoord-collection-loadinfo/{collection_id}``, JSON value::

    {"collection_id": 7, "partitions": null | [ids], "replicas": 1}

``partitions: null`` is a collection-level load (every partition, including ones
created later); a list is a partition-level load. The record is written before a load
starts and deleted when the collection is released, so after a restart the coordinator
loads again exactly what was loaded (as Milvus does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from elanus.storage.meta.base import MetaStore

PREFIX = "querycoord-collection-loadinfo/"


@dataclass(frozen=True)
class LoadInfo:
    collection_id: int
    partitions: tuple[int, ...] | None  # None = the whole collection
    replicas: int = 1

    def to_json(self) -> bytes:
        parts = None if self.partitions is None else list(self.partitions)
        return json.dumps({"collection_id": self.collection_id, "partitions": parts,
                           "replicas": self.replicas}).encode()

    @staticmethod
    def from_json(data: bytes) -> LoadInfo:
        raw = json.loads(data)
        parts = raw.get("partitions")
        return LoadInfo(int(raw["collection_id"]), None if parts is None else tuple(int(p) for p in parts),
                        int(raw.get("replicas", 1)))


def save(meta: MetaStore, info: LoadInfo) -> None:
    meta.put(PREFIX + str(info.collection_id), info.to_json())


def remove(meta: MetaStore, collection_id: int) -> None:
    meta.delete(PREFIX + str(collection_id))


def load_all(meta: MetaStore) -> list[LoadInfo]:
    return [LoadInfo.from_json(kv.value) for kv in meta.get_prefix(PREFIX)]
