"""``random_sample(factor)``: a uniform random subset of the rows that pass the rest of the filter.

Milvus accepts it only as the whole filter (``random_sample(0.1)``) or as the *last* operand of
the top-level ``and`` (``color == "red" and random_sample(0.1)``); ``factor`` is a float
constant strictly between 0 and 1 (an integer literal reads as 0 and is rejected). Of the
``n`` rows the rest of the filter keeps in a segment, ``max(1, int(n * factor))`` are
chosen uniformly at random (none when ``n`` is 0), per segment, as segcore samples.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeGuard

import numpy as np

from elanus.core.expr import syntax as s
from elanus.core.expr.errors import ExprError
from elanus.core.expr.runtime import EvalContext, Mask, Predicate
from elanus.core.expr.values import Const
from elanus.core.schema import FieldSchema

if TYPE_CHECKING:
    from elanus.core.expr.binder import Binder

NAME = "random_sample"
_EPSILON = 1e-10


def is_sample(node: s.Node) -> TypeGuard[s.Call]:
    return isinstance(node, s.Call) and node.name.lower() == NAME


@dataclass(eq=False)
class RandomSample(Predicate):
    """``child and random_sample(factor)``."""

    child: Predicate
    factor: float

    def fields(self) -> Iterator[FieldSchema]:
        return self.child.fields()

    def eval(self, ctx: EvalContext) -> Mask:
        value, _ = self.child.eval(ctx)
        rows = np.flatnonzero(value)
        if not len(rows):
            return value, None
        keep = max(1, int(len(rows) * self.factor))
        out = np.zeros(ctx.num_rows, dtype=np.bool_)
        out[np.random.default_rng().choice(rows, size=keep, replace=False)] = True
        return out, None


def sample_factor(binder: Binder, node: s.Call) -> float:
    """The checked factor of a ``random_sample(...)`` call."""
    text = s.render(node)
    if len(node.args) != 1 or node.kwargs:
        raise ExprError(f"sample factor missed: {text}")
    arg = node.args[0]
    bound = binder.bind(arg)
    if not isinstance(bound, Const) or isinstance(bound.value, bool | str | list):
        raise ExprError(f'"float factor" should be a const float expression: "float factor" passed: '
                        f"{s.render(arg)}")
    factor = bound.value if isinstance(bound.value, float) else 0.0  # Milvus reads an int as 0
    if factor <= _EPSILON or factor >= 1 - _EPSILON:
        raise ExprError("the sample factor should be between 0 and 1 and not too close to 0 or 1(the "
                        f"difference should be larger than 1e-10), but got {s.render(arg)}")
    return factor


def misplaced(context: str) -> ExprError:
    """The error for a ``random_sample`` anywhere but its two allowed places."""
    if context == "and":
        return ExprError("random sample expression can only be the last expression in the logical and "
                         "expression")
    return ExprError(f"random sample expression cannot be used in {context} expression")
