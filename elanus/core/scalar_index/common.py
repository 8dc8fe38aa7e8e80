"""What the index kinds share: the target description, the validity masks, the generic
query methods over :class:`~elanus.core.scalar_index.base.SortedKeys`, and serialisation.

A kind subclasses :class:`KeyedIndex` and says how positions of its sorted keys turn into
rows: :meth:`KeyedIndex.rows_cost` (how many rows / how much work) and
:meth:`KeyedIndex.select` (the bool row mask of a set of key spans or a key mask).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from elanus.core.expr.syntax import Key
from elanus.core.scalar_index import blob
from elanus.core.scalar_index.base import Selection, SortedKeys, Spans

SCATTER_NS = 3.0  # planner cost units: ~nanoseconds to set one row of a mask by row id
ALLOC_NS = 0.05  # ~nanoseconds per row to allocate and clear a mask


def scatter_cost(count: int, n: int) -> float:
    """Cost of a mask with ``count`` rows set by row id, out of ``n``."""
    return count * SCATTER_NS + n * ALLOC_NS


@dataclass(frozen=True)
class Target:
    """What an index covers: ``field_name``; for JSON the ``path`` (keys as the filter
    binder spells them: str for members, int for array positions) and ``cast`` (``DOUBLE``,
    ``VARCHAR``, ``BOOL``); ``elements`` for the elements of an Array field."""

    field_name: str
    path: tuple[Key, ...] = ()
    cast: str = ""
    elements: bool = False

    def to_meta(self) -> dict[str, Any]:
        return {"field": self.field_name, "path": list(self.path), "cast": self.cast, "elements": self.elements}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Target:
        return cls(meta["field"], tuple(meta["path"]), meta["cast"], bool(meta["elements"]))


class _Lazy:
    """A :class:`Selection` whose mask is computed on demand."""

    __slots__ = ("_make", "cost", "count")

    def __init__(self, count: int, cost: float, make: Callable[[], np.ndarray]) -> None:
        self.count = count
        self.cost = cost
        self._make = make

    def mask(self) -> np.ndarray:
        return self._make()


class KeyedIndex:
    """Base of the index kinds (implements :class:`~elanus.core.scalar_index.base.ScalarIndex`
    given :meth:`rows_cost` and :meth:`select`)."""

    kind: ClassVar[str] = ""

    def __init__(self, target: Target, keys: np.ndarray, domain: str, num_rows: int,
                 valid: np.ndarray | None, present: np.ndarray | None = None, exact: bool = True) -> None:
        self.target = target
        self.field_name = target.field_name
        self.path = target.path
        self.elements = target.elements
        self.domain = domain
        self.num_rows = num_rows
        self.valid = None if valid is None or valid.all() else np.asarray(valid, dtype=np.bool_)
        self.present = present
        self.exact = exact
        self.sorted = SortedKeys(keys, domain, json=bool(target.path) or target.cast != "")

    # ------------------------------------------------------------------ kind hooks
    def rows_cost(self, spans: Spans) -> tuple[int, float]:
        """(rows named by the key spans, at most; work to materialise them)."""
        raise NotImplementedError

    def select(self, spans: Spans | None, key_mask: np.ndarray | None = None) -> np.ndarray:
        """Bool row mask of the rows with a key in ``spans`` (or where ``key_mask`` is True)."""
        raise NotImplementedError

    def key_mask_cost(self, key_mask: np.ndarray) -> tuple[int, float]:
        """Like :meth:`rows_cost` for a key mask; by default one span per selected key."""
        picked = np.flatnonzero(key_mask)
        return self.rows_cost([(int(p), int(p) + 1) for p in picked])

    def arrays(self) -> dict[str, np.ndarray]:
        """The kind's own arrays (besides keys and masks) for :meth:`serialize`."""
        raise NotImplementedError

    # ------------------------------------------------------------------ queries
    @property
    def distinct(self) -> int:
        return len(self.sorted.keys)

    def _of(self, spans: Spans | None) -> Selection | None:
        if spans is None:
            return None
        spans = [(lo, hi) for lo, hi in spans if lo < hi]
        count, cost = self.rows_cost(spans)
        return _Lazy(count, cost, lambda: self.select(spans))

    def compare(self, op: str, value: Any) -> Selection | None:
        return self._of(self.sorted.spans(op, value))

    def range(self, lower: Any, lower_inclusive: bool, upper: Any, upper_inclusive: bool) -> Selection | None:
        return self._of(self.sorted.range_span(lower, lower_inclusive, upper, upper_inclusive))

    def isin(self, values: Sequence[Any]) -> Selection | None:
        return self._of(self.sorted.equal_spans(values))

    def prefix(self, prefix: str) -> Selection | None:
        return self._of(self.sorted.prefix_span(prefix))

    def match(self, kernel: Callable[[np.ndarray], np.ndarray]) -> Selection | None:
        if self.domain != "str":
            return None
        keys = self.sorted.keys
        key_mask = np.asarray(kernel(keys), dtype=np.bool_) if len(keys) else np.zeros(0, dtype=np.bool_)
        count, cost = self.key_mask_cost(key_mask)
        return _Lazy(count, cost + len(keys), lambda: self.select(None, key_mask))

    def contains_all(self, values: Sequence[Any]) -> Selection | None:
        if not self.elements:
            return None
        parts = [self.sorted.spans("==", v) for v in values]  # no dedup: 1 == True, yet only one may fit
        if any(p is None for p in parts):
            return None
        if not parts:  # every (valid) row contains all of nothing
            n = self.num_rows
            return _Lazy(n, n, lambda: np.ones(n, dtype=np.bool_) if self.valid is None else self.valid.copy())
        costs = [self.rows_cost(p) for p in parts if p is not None]
        count = min(c for c, _ in costs)
        cost = sum(c for _, c in costs) + self.num_rows * (len(parts) - 1)

        def make() -> np.ndarray:
            out = self.select(parts[0])
            for p in parts[1:]:
                out &= self.select(p)
            return out

        return _Lazy(count, cost, make)

    # ------------------------------------------------------------------ bytes
    def serialize(self) -> bytes:
        meta = {"kind": self.kind, "domain": self.domain, "num_rows": self.num_rows, "exact": self.exact,
                **self.target.to_meta()}
        arrays = {"keys": self.sorted.keys, **self.arrays()}
        if self.valid is not None:
            arrays["valid"] = self.valid
        if self.present is not None:
            arrays["present"] = self.present
        return blob.pack(meta, arrays)

    @property
    def memory_bytes(self) -> int:
        total = sum(a.nbytes for a in self.arrays().values())
        keys = self.sorted.keys
        total += keys.nbytes + (56 * len(keys) if keys.dtype == object else 0)
        for mask in (self.valid, self.present):
            total += 0 if mask is None else mask.nbytes
        return total

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.field_name}{list(self.path) if self.path else ''}, "
                f"{self.domain}, {self.distinct} keys, {self.num_rows} rows)")
