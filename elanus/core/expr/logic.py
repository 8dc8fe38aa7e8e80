"""Boolean connectives (three-valued), constants, and the null / existence tests.

With ``(value, valid)`` masks (value False wherever invalid):

- ``a and b``: true iff both true; known iff both known or either is known false;
- ``a or b``: true iff either true; known iff both known or either is true;
- ``not a``: true iff a is known false; known iff a is known.

``is null`` / ``is not null`` and ``exists`` are never unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from elanus.core.expr import jsonvalues as jv
from elanus.core.expr.runtime import EvalContext, Mask, Predicate, json_codes
from elanus.core.expr.values import ColumnRef
from elanus.core.schema import FieldSchema


@dataclass(eq=False)
class ConstPred(Predicate):
    """``true`` / ``false`` (also the result of constant folding)."""

    value: bool

    def eval(self, ctx: EvalContext) -> Mask:
        return (ctx.ones() if self.value else ctx.zeros()), None


def and_masks(a: Mask, b: Mask) -> Mask:
    av, ak = a
    bv, bk = b
    value = av & bv
    if ak is None and bk is None:
        return value, None
    ak_ = ak if ak is not None else True
    bk_ = bk if bk is not None else True
    known = (ak_ & bk_) | (ak_ & ~av) | (bk_ & ~bv)
    return value, np.asarray(known, dtype=np.bool_)


def or_masks(a: Mask, b: Mask) -> Mask:
    av, ak = a
    bv, bk = b
    value = av | bv
    if ak is None and bk is None:
        return value, None
    ak_ = ak if ak is not None else True
    bk_ = bk if bk is not None else True
    return value, np.asarray((ak_ & bk_) | value, dtype=np.bool_)


def not_mask(a: Mask) -> Mask:
    value, known = a
    return (~value if known is None else ~value & known), known


@dataclass(eq=False)
class _Chain(Predicate):
    """``children`` joined by one connective (:class:`And`, :class:`Or`)."""

    children: list[Predicate]

    def fields(self) -> Iterator[FieldSchema]:
        for c in self.children:
            yield from c.fields()

    def _fold(self, ctx: EvalContext, combine: Callable[[Mask, Mask], Mask],
              settled: Callable[[Mask], bool]) -> Mask:
        """The children's masks combined left to right, returned as soon as ``settled``
        says the rest cannot change the result (the rest are then not evaluated)."""
        result = self.children[0].eval(ctx)
        for child in self.children[1:]:
            if settled(result):
                return result
            result = combine(result, child.eval(ctx))
        return result


def _known_false(m: Mask) -> bool:
    """Known false everywhere: and-ing more children cannot change that."""
    return m[1] is None and not m[0].any()


def _all_true(m: Mask) -> bool:
    """True everywhere (hence known): or-ing more children cannot change that."""
    return bool(m[0].all())


@dataclass(eq=False)
class And(_Chain):
    def eval(self, ctx: EvalContext) -> Mask:
        return self._fold(ctx, and_masks, _known_false)


@dataclass(eq=False)
class Or(_Chain):
    def eval(self, ctx: EvalContext) -> Mask:
        return self._fold(ctx, or_masks, _all_true)


@dataclass(eq=False)
class Not(Predicate):
    child: Predicate

    def fields(self) -> Iterator[FieldSchema]:
        return self.child.fields()

    def eval(self, ctx: EvalContext) -> Mask:
        return not_mask(self.child.eval(ctx))


@dataclass(eq=False)
class IsNull(Predicate):
    """``field is [not] null`` on a field's own validity (JSON paths use :class:`Exists`)."""

    column: ColumnRef
    negated: bool

    def fields(self) -> Iterator[FieldSchema]:
        return self.column.fields()

    def eval(self, ctx: EvalContext) -> Mask:
        valid = self.column.eval(ctx).valid
        if valid is None:
            return (ctx.ones() if self.negated else ctx.zeros()), None
        return (valid.copy() if self.negated else ~valid), None


@dataclass(eq=False)
class Exists(Predicate):
    """``exists json["path"]`` (and ``json["path"] is not null``)."""

    column: ColumnRef

    def fields(self) -> Iterator[FieldSchema]:
        return self.column.fields()

    def eval(self, ctx: EvalContext) -> Mask:
        vec = self.column.eval(ctx)
        present = jv.exists_mask(vec.data, json_codes(vec))
        return (present if vec.valid is None else present & vec.valid), None
