"""INVERTED: distinct keys, each with its posting list of row ids (CSR layout).

``keys`` are sorted and distinct; the rows of ``keys[i]`` are ``rows[offsets[i]:offsets[i+1]]``
(ascending). Serves scalar fields, Array fields (a row is posted under each distinct element,
so ``array_contains*`` are unions / intersections of postings) and JSON paths. A predicate
is binary searches over ``keys`` plus one scatter of the selected postings; ``like`` patterns
other than a prefix test each *distinct* key once (:meth:`match`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from elanus.core.scalar_index.base import INVERTED, Spans, check_exact
from elanus.core.scalar_index.common import KeyedIndex, Target, scatter_cost


def group(values: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct sorted keys, offsets, rows grouped by key) of (value, row) pairs; a pair
    repeated (an element twice in one array) is posted once."""
    if not len(values):
        return values[:0], np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32)
    keys, inverse = np.unique(values, return_inverse=True)
    order = np.lexsort((rows, inverse))
    inv, rws = inverse[order], np.asarray(rows[order], dtype=np.int32)
    keep = np.ones(len(inv), dtype=np.bool_)
    keep[1:] = (inv[1:] != inv[:-1]) | (rws[1:] != rws[:-1])
    inv, rws = inv[keep], rws[keep]
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(np.bincount(inv, minlength=len(keys)), out=offsets[1:])
    return keys, offsets, rws


class InvertedIndex(KeyedIndex):
    """Distinct sorted ``keys``, ``offsets`` (len(keys) + 1) and grouped ``rows``."""

    kind: ClassVar[str] = INVERTED

    def __init__(self, target: Target, keys: np.ndarray, offsets: np.ndarray, rows: np.ndarray, domain: str,
                 num_rows: int, valid: np.ndarray | None, present: np.ndarray | None = None,
                 exact: bool = True) -> None:
        super().__init__(target, keys, domain, num_rows, valid, present, exact)
        self.offsets = offsets
        self.rows = rows

    @classmethod
    def build(cls, target: Target, values: np.ndarray, rows: np.ndarray, domain: str, num_rows: int,
              valid: np.ndarray | None, present: np.ndarray | None = None) -> InvertedIndex:
        """From (value, row) pairs in any order (several per row for array elements)."""
        keys, offsets, grouped = group(values, rows)
        return cls(target, keys, offsets, grouped, domain, num_rows, valid, present, check_exact(keys, domain))

    @classmethod
    def from_arrays(cls, target: Target, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> InvertedIndex:
        return cls(target, arrays["keys"], arrays["offsets"], arrays["rows"], meta["domain"], meta["num_rows"],
                   arrays.get("valid"), arrays.get("present"), meta["exact"])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"offsets": self.offsets, "rows": self.rows}

    def rows_cost(self, spans: Spans) -> tuple[int, float]:
        off = self.offsets
        count = int(sum(off[hi] - off[lo] for lo, hi in spans))
        return count, scatter_cost(count, self.num_rows)

    def key_mask_cost(self, key_mask: np.ndarray) -> tuple[int, float]:
        count = int(np.diff(self.offsets)[key_mask].sum())
        return count, scatter_cost(count, self.num_rows)

    def select(self, spans: Spans | None, key_mask: np.ndarray | None = None) -> np.ndarray:
        out = np.zeros(self.num_rows, dtype=np.bool_)
        if spans is None:
            assert key_mask is not None
            out[self.rows[np.repeat(key_mask, np.diff(self.offsets))]] = True
            return out
        off = self.offsets
        for lo, hi in spans:
            out[self.rows[off[lo]:off[hi]]] = True
        return out
