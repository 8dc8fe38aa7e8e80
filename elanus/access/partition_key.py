"""Partition-key mode: routing rows to partitions on write, pruning partitions on read.

A collection with a partition-key field has ``num_partitions`` partitions named
``_default_0 .. _default_{n-1}`` (in that order in :class:`CollectionInfo`); a row lives in
the partition its key hashes to (:func:`~elanus.core.hashing.partition_key_slot`, Milvus's
hashing). Users may not name partitions in this mode (Milvus's text).

On search and query, :func:`read_partitions` narrows the partitions to read to those the
filter's pinned key values hash to (``key == v``, ``key in [...]``, ORs of those, or any of
them ANDed with other conditions): every row that can match lives there, so results are
unchanged. Each pruning decision is logged at DEBUG on this module's logger.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from elanus.access.context import partition_ids
from elanus.cluster.types import CollectionInfo
from elanus.core import errors
from elanus.core.expr import Filter
from elanus.core.hashing import partition_key_slot

log = logging.getLogger(__name__)

MANUAL_PARTITIONS = "not support manually specifying the partition names if partition key mode is used"


def key_slots(info: CollectionInfo, values: np.ndarray) -> np.ndarray:
    """Index into ``info.partitions`` of each partition-key value."""
    return partition_key_slot(values, len(info.partitions))


def read_partitions(info: CollectionInfo, names: Sequence[str], flt: Filter | None) -> tuple[int, ...]:
    """Partition ids a search/query reads; ``()`` means every partition.

    Without a partition key: the named partitions (partition-not-found if one is unknown).
    With one: naming partitions is an error, and the already compiled filter ``flt``'s
    pinned key values select the partitions (all of them when there is no filter or it
    does not pin the key).
    """
    key = info.schema.partition_key
    if key is None:
        return partition_ids(info, names)
    if names:
        raise errors.invalid_parameter(MANUAL_PARTITIONS)
    if flt is None:
        return ()
    values = flt.pinned_values(key.name, exact=False)
    if not values:  # not pinned (None), or pinned to nothing ([]): no pruning
        return ()
    keys = np.array(values, dtype=np.int64) if key.dtype.is_integer else np.array(values, dtype=object)
    slots = np.unique(key_slots(info, keys))
    chosen = [info.partitions[int(s)] for s in slots]
    if log.isEnabledFor(logging.DEBUG):
        log.debug("partition key pruning: collection %s reads %d of %d partitions %s", info.name,
                  len(chosen), len(info.partitions), ",".join(p.name for p in chosen))
    return tuple(p.id for p in chosen)
