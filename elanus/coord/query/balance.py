"""Placement of channels and sealed segments on query nodes.

Channels go to the node leading the fewest channels; segments to the node holding
the fewest rows (Milvus's row-count score, without the growing-row weight), ties
broken by node id so placement is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable


class Balancer:
    """Tracks what each node holds; not thread-safe (the coordinator serialises calls)."""

    def __init__(self) -> None:
        self._rows: dict[int, int] = {}
        self._channels: dict[int, int] = {}
        self._segments: dict[int, tuple[int, int]] = {}  # segment id -> (node, rows)

    def pick_channel_node(self, nodes: Iterable[int]) -> int:
        candidates = sorted(nodes)
        if not candidates:
            raise LookupError("no query node")
        node = min(candidates, key=lambda n: (self._channels.get(n, 0), n))
        self.place_channel(node)
        return node

    def place_channel(self, node: int) -> None:
        """Count a channel ``node`` already leads (taken over from a predecessor)."""
        self._channels[node] = self._channels.get(node, 0) + 1

    def release_channel(self, node: int) -> None:
        self._channels[node] = max(0, self._channels.get(node, 0) - 1)

    def pick_segment_node(self, nodes: Iterable[int]) -> int:
        candidates = sorted(nodes)
        if not candidates:
            raise LookupError("no query node")
        return min(candidates, key=lambda n: (self._rows.get(n, 0), n))

    def place_segment(self, segment_id: int, node: int, rows: int) -> None:
        self.remove_segment(segment_id)
        self._segments[segment_id] = (node, rows)
        self._rows[node] = self._rows.get(node, 0) + rows

    def remove_segment(self, segment_id: int) -> None:
        old = self._segments.pop(segment_id, None)
        if old is not None:
            self._rows[old[0]] = max(0, self._rows.get(old[0], 0) - old[1])

    def node_rows(self, node: int) -> int:
        return self._rows.get(node, 0)

    def segments_on(self, node: int) -> list[tuple[int, int]]:
        """(segment id, rows) of every segment placed on ``node``."""
        return [(sid, rows) for sid, (n, rows) in self._segments.items() if n == node]

    def forget_node(self, node: int) -> None:
        """A lost node: it leads no channel and holds no segment any more."""
        self._channels.pop(node, None)
        self._rows.pop(node, None)
        for sid in [sid for sid, (n, _) in self._segments.items() if n == node]:
            del self._segments[sid]

    def segment_node(self, segment_id: int) -> int | None:
        held = self._segments.get(segment_id)
        return None if held is None else held[0]
