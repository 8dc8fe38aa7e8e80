"""The segments one delegator serves, as an immutable snapshot.

A read pins the current :class:`Distribution` once and uses only it, so a concurrent
handoff (growing copy out, sealed copy in, as one new snapshot) can never make a read
see a segment twice or not at all. Writers build a new snapshot and swap the
reference under the delegator's lock; the swap is a single assignment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from elanus.core.segment import GrowingSegment


@dataclass(frozen=True)
class SealedCopy:
    """A sealed segment served from query node ``node_id``."""

    segment_id: int
    node_id: int
    partition_id: int


@dataclass(frozen=True)
class Distribution:
    growing: tuple[GrowingSegment, ...] = ()
    sealed: tuple[SealedCopy, ...] = ()
    version: int = 0

    def _next(self, growing: tuple[GrowingSegment, ...] | None = None,
              sealed: tuple[SealedCopy, ...] | None = None) -> Distribution:
        return replace(self, growing=self.growing if growing is None else growing,
                       sealed=self.sealed if sealed is None else sealed, version=self.version + 1)

    def with_growing(self, segment: GrowingSegment) -> Distribution:
        return self._next(growing=(*self.growing, segment))

    def handoff(self, copy: SealedCopy) -> Distribution:
        """Serve ``copy`` instead of the growing segment (and any older sealed copy) of its id."""
        sid = copy.segment_id
        return self._next(growing=tuple(g for g in self.growing if g.segment_id != sid),
                          sealed=(*(s for s in self.sealed if s.segment_id != sid), copy))

    def without_segment(self, segment_id: int) -> Distribution:
        return self._next(growing=tuple(g for g in self.growing if g.segment_id != segment_id),
                          sealed=tuple(s for s in self.sealed if s.segment_id != segment_id))

    def without_partition(self, partition_id: int) -> Distribution:
        return self._next(growing=tuple(g for g in self.growing if g.partition_id != partition_id),
                          sealed=tuple(s for s in self.sealed if s.partition_id != partition_id))

    def sealed_copy(self, segment_id: int) -> SealedCopy | None:
        for s in self.sealed:
            if s.segment_id == segment_id:
                return s
        return None

    @cached_property
    def sealed_by_node(self) -> dict[int, list[int]]:
        """node id -> sealed segment ids (all partitions), computed once per snapshot."""
        return self.group_sealed(None)

    def group_sealed(self, partitions: frozenset[int] | None) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for s in self.sealed:
            if partitions is None or s.partition_id in partitions:
                out.setdefault(s.node_id, []).append(s.segment_id)
        return out
