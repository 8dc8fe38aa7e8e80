"""Data coordinator: segment metadata, checkpoints, flush, index meta and builds, GC."""

from elanus.coord.data.coord import DataCoordImpl

__all__ = ["DataCoordImpl"]
