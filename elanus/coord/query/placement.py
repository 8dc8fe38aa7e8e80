"""Where the query coordinator placed channels and sealed segments, persisted for a successor.

Keys::

    querycoord-dist/{collection_id}/channel/{channel}   the node leading the channel (id as text)
    querycoord-dist/{collection_id}/segment/{segment}   {"node": id, "index": {field: index file}}

A record is written only after the placement took effect (the delegator watches, the
segment is loaded and handed off) and removed when the coordinator releases it. A
coordinator taking over (another process) reads them when it reloads a collection and
keeps every placement whose node is still alive, so it neither starts a second delegator
for a channel nor loads a second copy of a segment (unless the segment's index files changed
since); node ids are never reused, so a record naming a live node is true.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from elanus.storage.meta.base import MetaStore

PREFIX = "querycoord-dist/"


@dataclass
class Placement:
    channels: dict[str, int] = field(default_factory=dict)
    segments: dict[int, tuple[int, dict[str, str]]] = field(default_factory=dict)  # id -> (node, index files)


def _key(collection_id: int, kind: str, name: str | int) -> str:
    return f"{PREFIX}{collection_id}/{kind}/{name}"


def save_leader(meta: MetaStore, collection_id: int, channel: str, node: int) -> None:
    meta.put(_key(collection_id, "channel", channel), str(node).encode())


def save_segment(meta: MetaStore, collection_id: int, segment_id: int, node: int,
                 index_files: dict[str, str]) -> None:
    value = json.dumps({"node": node, "index": index_files}, sort_keys=True).encode()
    meta.put(_key(collection_id, "segment", segment_id), value)


def remove_segment(meta: MetaStore, collection_id: int, segment_id: int) -> None:
    meta.delete(_key(collection_id, "segment", segment_id))


def remove_collection(meta: MetaStore, collection_id: int) -> None:
    meta.delete_prefix(f"{PREFIX}{collection_id}/")


def load(meta: MetaStore, collection_id: int) -> Placement:
    out = Placement()
    for kv in meta.get_prefix(f"{PREFIX}{collection_id}/"):
        kind, _, name = kv.key[len(PREFIX):].split("/", 1)[1].partition("/")
        if kind == "channel":
            out.channels[name] = int(kv.value)
        elif kind == "segment":
            raw = json.loads(kv.value)
            out.segments[int(name)] = (int(raw["node"]), dict(raw.get("index") or {}))
    return out
