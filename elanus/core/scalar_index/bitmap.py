"""BITMAP: for each distinct key, a bitmap of the rows holding it (packed, 8 rows a byte).

Meant for low-cardinality fields (bool, small int sets, categories): ``in`` and ranges are
a bitwise OR over a few bitmaps, then one unpack into a row mask — no scatter by row id.
Memory is ``distinct keys * rows / 8`` bytes, so :func:`build` refuses more than
:data:`MAX_BITMAP_KEYS` keys (the builder then uses postings, see
:mod:`elanus.core.scalar_index.build`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from elanus.core.scalar_index.base import BITMAP, Spans, check_exact, rows_mask
from elanus.core.scalar_index.common import ALLOC_NS, KeyedIndex, Target
from elanus.core.scalar_index.inverted import group

MAX_BITMAP_KEYS = 1024
_OR_NS_PER_BYTE = 0.1  # planner cost units (see common.SCATTER_NS)
_UNPACK_NS_PER_ROW = 0.5


class BitmapIndex(KeyedIndex):
    """Distinct sorted ``keys``, ``bits`` (keys x ceil(rows / 8) uint8) and per-key ``counts``."""

    kind: ClassVar[str] = BITMAP

    def __init__(self, target: Target, keys: np.ndarray, bits: np.ndarray, counts: np.ndarray, domain: str,
                 num_rows: int, valid: np.ndarray | None, present: np.ndarray | None = None,
                 exact: bool = True) -> None:
        super().__init__(target, keys, domain, num_rows, valid, present, exact)
        self.bits = bits
        self.counts = counts

    @classmethod
    def build(cls, target: Target, values: np.ndarray, rows: np.ndarray, domain: str, num_rows: int,
              valid: np.ndarray | None, present: np.ndarray | None = None) -> BitmapIndex | None:
        """From (value, row) pairs; None when there are more than :data:`MAX_BITMAP_KEYS` keys."""
        keys, offsets, grouped = group(values, rows)
        if len(keys) > MAX_BITMAP_KEYS:
            return None
        width = (num_rows + 7) // 8
        bits = np.zeros((len(keys), width), dtype=np.uint8)
        for i in range(len(keys)):
            bits[i] = np.packbits(rows_mask(grouped[offsets[i]:offsets[i + 1]], width * 8))
        counts = np.diff(offsets).astype(np.int64)
        return cls(target, keys, bits, counts, domain, num_rows, valid, present, check_exact(keys, domain))

    @classmethod
    def from_arrays(cls, target: Target, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> BitmapIndex:
        return cls(target, arrays["keys"], arrays["bits"], arrays["counts"], meta["domain"], meta["num_rows"],
                   arrays.get("valid"), arrays.get("present"), meta["exact"])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"bits": self.bits, "counts": self.counts}

    def _cost(self, nkeys: int) -> float:
        n = self.num_rows
        return nkeys * self.bits.shape[1] * _OR_NS_PER_BYTE + n * (_UNPACK_NS_PER_ROW + ALLOC_NS)

    def rows_cost(self, spans: Spans) -> tuple[int, float]:
        count = int(sum(int(self.counts[lo:hi].sum()) for lo, hi in spans))
        return count, self._cost(sum(hi - lo for lo, hi in spans))

    def key_mask_cost(self, key_mask: np.ndarray) -> tuple[int, float]:
        return int(self.counts[key_mask].sum()), self._cost(int(np.count_nonzero(key_mask)))

    def select(self, spans: Spans | None, key_mask: np.ndarray | None = None) -> np.ndarray:
        if spans is None:
            assert key_mask is not None
            picked = [self.bits[key_mask]]
        else:
            picked = [self.bits[lo:hi] for lo, hi in spans]
        acc = np.zeros(self.bits.shape[1], dtype=np.uint8)
        for block in picked:
            if len(block):
                acc |= np.bitwise_or.reduce(block, axis=0)
        return np.unpackbits(acc, count=self.num_rows).view(np.bool_)
