"""In-memory segments served by query nodes.

- :class:`GrowingSegment`: append-only rows a delegator builds from its WAL channel.
- :class:`SealedSegment`: a flushed segment loaded from object storage with its indexes.

Both answer ``visible_mask(mvcc_ts)``, ``search(request, mask)``, ``query(request)``,
``apply_delete(pks, ts)`` and ``memory_bytes`` (see :mod:`elanus.core.segment.base`), and
``update_schema(schema)`` when a field is added (see :mod:`elanus.core.segment.evolve`).
"""

from elanus.core.segment.base import SegmentBase
from elanus.core.segment.deletes import MAX_TS, PkIndex
from elanus.core.segment.growing import GrowingSegment
from elanus.core.segment.sealed import SealedSegment, read_deltas, read_parquet

__all__ = ["MAX_TS", "GrowingSegment", "PkIndex", "SealedSegment", "SegmentBase", "read_deltas",
           "read_parquet"]
