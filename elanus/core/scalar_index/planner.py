"""The planner: answer leaf predicates of a compiled filter from a segment's scalar indexes.

:func:`plan` walks the bound predicate tree of a :class:`~elanus.core.expr.Filter`
(``and`` / ``or`` / ``not`` are kept, so masks combine with the filter's own three-valued
logic) and replaces each leaf it can answer exactly with an :class:`IndexedLeaf`:

============================== =====================================================
leaf (operand = the index's     index method
target: a field, or a JSON
path with the same path)
============================== =====================================================
``x op c``, ``x`` (Bool)        :meth:`~.base.ScalarIndex.compare`
``a < x <= b``                  :meth:`~.base.ScalarIndex.range`
``x [not] in [...]``            :meth:`~.base.ScalarIndex.isin` (``not``: negated mask)
``x like "p%"`` / ``"p"``       :meth:`~.base.ScalarIndex.prefix` / ``compare("==")``
other ``like`` (str keys)       :meth:`~.base.ScalarIndex.match` over distinct keys
``array_contains[_any|_all]``   ``isin`` / :meth:`~.base.ScalarIndex.contains_all` (Array
``json_contains[_any|_all]``    fields; JSON paths with an ``ARRAY_*`` cast)
``x is [not] null``             the index's ``valid`` rows (fields, not JSON paths)
============================== =====================================================

Index vs scan: a leaf uses the index only when the index can answer exactly (a constant of
the index's kind, see :mod:`.base`) and the :class:`~.base.Selection`'s estimated cost is
below the estimated cost of scanning the operand (``SCAN_NS`` per row by operand kind:
numbers are cheap to scan, strings, JSON paths and arrays are not). Leaves that stay
scans, and every predicate kind not listed, are kept as they were. The planned filter reads
only the columns its remaining scan leaves need, so an index-answered field is never
sliced or decoded. Plans are made per segment (indexes differ) and hold no row data.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from elanus.core.expr import Filter
from elanus.core.expr.compare import BoolValue, CompareConst, Range
from elanus.core.expr.logic import And, IsNull, Not, Or, not_mask
from elanus.core.expr.membership import CONTAINS_ALL, Contains, Term, cast_to_element
from elanus.core.expr.pattern import EQUAL, PREFIX, Like
from elanus.core.expr.runtime import EvalContext, Mask, Predicate, ValueExpr
from elanus.core.expr.sample import RandomSample
from elanus.core.expr.values import ColumnRef
from elanus.core.scalar_index.base import ScalarIndex, Selection
from elanus.core.schema import CollectionSchema, DataType, FieldSchema

# Planner cost units (~nanoseconds per row) of scanning an operand, by kind.
SCAN_NS = {"number": 1.0, "string": 30.0, "json": 150.0, "array": 200.0}


@dataclass(eq=False)
class IndexedLeaf(Predicate):
    """A leaf answered from an index: the selection's rows are the true rows; ``valid``
    (None = every row) the rows whose value is known; ``negate`` flips the known rows."""

    selection: Selection
    valid: np.ndarray | None
    negate: bool = False
    source: Predicate | None = None  # the predicate it replaces (for repr / debugging)

    def fields(self) -> Iterator[FieldSchema]:
        return iter(())

    def eval(self, ctx: EvalContext) -> Mask:
        value = self.selection.mask()
        if value.shape != (ctx.num_rows,):
            raise ValueError(f"index answers {value.shape} rows for {ctx.num_rows}")
        mask: Mask = (value, self.valid)
        return not_mask(mask) if self.negate else mask


@dataclass(eq=False)
class NullLeaf(Predicate):
    """``x is [not] null`` from an index's validity (never unknown)."""

    valid: np.ndarray | None
    negated: bool  # True: "is not null"

    def fields(self) -> Iterator[FieldSchema]:
        return iter(())

    def eval(self, ctx: EvalContext) -> Mask:
        if self.valid is None:
            return (ctx.ones() if self.negated else ctx.zeros()), None
        return (self.valid.copy() if self.negated else ~self.valid), None


def _scan_kind(ref: ColumnRef) -> str:
    if ref.path or ref.field.dtype == DataType.JSON:
        return "json"
    if ref.field.dtype == DataType.ARRAY:
        return "array"
    return "string" if ref.field.dtype.is_string else "number"


class _Planner:
    def __init__(self, indexes: Sequence[ScalarIndex], num_rows: int) -> None:
        self._by_target = {(ix.field_name, tuple(ix.path), ix.elements): ix for ix in indexes if ix.exact}
        self._n = num_rows
        self.used = 0

    def _index(self, operand: ValueExpr, elements: bool = False) -> ScalarIndex | None:
        if not isinstance(operand, ColumnRef) or operand.is_element:
            return None
        return self._by_target.get((operand.field.name, tuple(operand.path), elements))

    def rewrite(self, node: Predicate) -> Predicate:
        if isinstance(node, And | Or):
            children = [self.rewrite(c) for c in node.children]
            if all(a is b for a, b in zip(children, node.children, strict=True)):
                return node
            return type(node)(children)
        if isinstance(node, Not):
            child = self.rewrite(node.child)
            return node if child is node.child else Not(child)
        if isinstance(node, RandomSample):  # `... and random_sample(f)`: sample what the index finds
            child = self.rewrite(node.child)
            return node if child is node.child else RandomSample(child, node.factor)
        leaf = self._leaf(node)
        if leaf is None:
            return node
        self.used += 1
        return leaf

    def _leaf(self, node: Predicate) -> Predicate | None:
        if isinstance(node, IsNull):
            ref = node.column
            if ref.path or ref.field.dtype == DataType.JSON:
                return None
            ix = self._index(ref) or self._index(ref, elements=True)
            return None if ix is None else NullLeaf(ix.valid, node.negated)
        if isinstance(node, Contains):
            ix = self._index(node.operand, elements=True)
            if ix is None:
                return None
            values = cast_to_element(node.operand.element_type, list(node.values))
            # CONTAINS (one value) and CONTAINS_ANY are an `in`
            found = ix.contains_all(values) if node.mode == CONTAINS_ALL else ix.isin(values)
            return self._choose(node, found, ix.valid)
        if not isinstance(node, CompareConst | Range | Term | Like | BoolValue):
            return None
        if isinstance(node, BoolValue) and node.operand.dtype != DataType.BOOL:
            return None
        ix = self._index(node.operand)
        if ix is None:
            return None
        sel: Selection | None
        valid = ix.valid
        if isinstance(node, CompareConst):
            sel = ix.compare(node.op, node.value)
        elif isinstance(node, BoolValue):
            sel = ix.compare("==", True)
        elif isinstance(node, Range):
            sel = ix.range(node.lower, node.lower_inclusive, node.upper, node.upper_inclusive)
        elif isinstance(node, Like):
            matcher = node.matcher
            if matcher.kind == PREFIX:
                sel = ix.prefix(matcher.operand)
            elif matcher.kind == EQUAL:
                sel = ix.compare("==", matcher.operand)
            else:
                sel = ix.match(matcher.match)
        else:
            values = self._term_values(node)
            if not values and node.operand.dtype == DataType.JSON:
                valid = ix.present  # JSON `in []`: known (false) wherever a value exists
            return self._choose(node, ix.isin(values), valid, negate=node.negated)
        return self._choose(node, sel, valid)

    @staticmethod
    def _term_values(node: Term) -> list[Any]:
        dtype = node.operand.dtype
        if dtype == DataType.JSON:
            return list(node.values)  # the index refuses values of another kind
        if dtype.is_string:
            return list(dict.fromkeys(node.values))
        return list(dict.fromkeys(cast_to_element(dtype, list(node.values))))

    def _choose(self, node: Predicate, sel: Selection | None, valid: np.ndarray | None,
                negate: bool = False) -> Predicate | None:
        if sel is None:
            return None
        operand = getattr(node, "operand", None)
        kind = _scan_kind(operand) if isinstance(operand, ColumnRef) else "number"
        if sel.cost >= SCAN_NS[kind] * self._n:
            return None
        return IndexedLeaf(sel, valid, negate, node)


def plan(flt: Filter, schema: CollectionSchema, indexes: Sequence[ScalarIndex], num_rows: int) -> Filter:
    """``flt`` with the leaves the ``indexes`` (all of one segment of ``num_rows`` rows)
    answer replaced (see the module docstring); ``flt`` itself when none is."""
    if not indexes:
        return flt
    planner = _Planner(indexes, num_rows)
    root = planner.rewrite(flt.root)
    if not planner.used:
        return flt
    return Filter(flt.expr, root, schema)
