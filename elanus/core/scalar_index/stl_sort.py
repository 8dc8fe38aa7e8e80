"""STL_SORT: every key with its row id, sorted by key (ties by row id).

Answers comparisons, ranges and ``in`` by binary search: a predicate's rows are one or two
contiguous runs of the sorted row ids, scattered into a row mask. Keys repeat (one per
non-null row), so :meth:`match` on a str field tests every row's key once — no cheaper than
a scan, and the planner's cost rule says so.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from elanus.core.scalar_index.base import STL_SORT, Spans, check_exact
from elanus.core.scalar_index.common import KeyedIndex, Target, scatter_cost


class StlSortIndex(KeyedIndex):
    """Sorted ``keys`` (one per non-null row) and aligned ``rows`` (int32 row ids)."""

    kind: ClassVar[str] = STL_SORT

    def __init__(self, target: Target, keys: np.ndarray, rows: np.ndarray, domain: str, num_rows: int,
                 valid: np.ndarray | None, present: np.ndarray | None = None, exact: bool = True) -> None:
        super().__init__(target, keys, domain, num_rows, valid, present, exact)
        self.rows = rows

    @classmethod
    def build(cls, target: Target, values: np.ndarray, rows: np.ndarray, domain: str, num_rows: int,
              valid: np.ndarray | None, present: np.ndarray | None = None) -> StlSortIndex:
        """From the non-null ``values`` and their ``rows`` (any order)."""
        order = np.argsort(values, kind="stable")
        keys = values[order]
        return cls(target, keys, np.asarray(rows[order], dtype=np.int32), domain, num_rows, valid, present,
                   check_exact(keys, domain))

    @classmethod
    def from_arrays(cls, target: Target, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> StlSortIndex:
        return cls(target, arrays["keys"], arrays["rows"], meta["domain"], meta["num_rows"],
                   arrays.get("valid"), arrays.get("present"), meta["exact"])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"rows": self.rows}

    def rows_cost(self, spans: Spans) -> tuple[int, float]:
        count = sum(hi - lo for lo, hi in spans)
        return count, scatter_cost(count, self.num_rows)

    def key_mask_cost(self, key_mask: np.ndarray) -> tuple[int, float]:
        count = int(np.count_nonzero(key_mask))
        return count, scatter_cost(count, self.num_rows)

    def select(self, spans: Spans | None, key_mask: np.ndarray | None = None) -> np.ndarray:
        out = np.zeros(self.num_rows, dtype=np.bool_)
        if spans is None:
            assert key_mask is not None
            out[self.rows[key_mask]] = True
            return out
        for lo, hi in spans:
            out[self.rows[lo:hi]] = True
        return out
