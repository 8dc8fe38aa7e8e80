"""``random_sample(f)``: max(1, int(n * f)) of the n rows the rest of the filter keeps, only as
the whole filter or the last operand of the top-level ``and``; Milvus's error texts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from elanus.core.expr import FilterError, compile_filter
from tests.core.expr.conftest import make_columns, make_rows, make_schema


@pytest.mark.parametrize(("expr", "factor"), [
    ("random_sample(0.5)", 0.5),
    ("i8 > 0 && random_sample(0.7)", 0.7),
    ("i8 > 0 and i16 < 100 and random_sample(0.01)", 0.01),
    ("i64 == 123456789 and random_sample(0.3)", 0.3),  # nothing passes: nothing sampled
])
def test_sample_keeps_the_right_count_of_passing_rows(expr: str, factor: float) -> None:
    schema = make_schema()
    rows = make_rows()
    cols = make_columns(rows, schema)
    base = expr.rsplit("random_sample", 1)[0].rstrip("&and ").strip() or "true"
    passing = compile_filter(base, schema).evaluate(cols, len(rows))
    n = int(passing.sum())
    got = compile_filter(expr, schema).evaluate(cols, len(rows))
    assert int(got.sum()) == (max(1, int(n * factor)) if n else 0)
    assert not (got & ~passing).any()


def test_samples_differ_between_evaluations() -> None:
    schema, rows = make_schema(), make_rows()
    cols: dict[str, Any] = make_columns(rows, schema)
    flt = compile_filter("random_sample(0.5)", schema)
    draws = {tuple(np.flatnonzero(flt.evaluate(cols, len(rows)))) for _ in range(5)}
    assert len(draws) > 1


@pytest.mark.parametrize(("expr", "fragment"), [
    ("i8 > 0 && random_sample(1)", "the sample factor should be between 0 and 1 and not too close to 0 or 1"),
    ("i8 > 0 && random_sample(0)", "the sample factor should be between 0 and 1"),
    ("i8 > 0 && random_sample(-9)", "the sample factor should be between 0 and 1"),
    ("random_sample(1.0)", "the sample factor should be between 0 and 1"),
    ('random_sample("x")', '"float factor" should be a const float expression'),
    ("random_sample(0.5) and i8 > 0", "can only be the last expression in the logical and expression"),
    ("i8 > 0 or random_sample(0.5)", "cannot be used in logical or expression"),
    ("not random_sample(0.5)", "cannot be used in unary expression"),
    ("(i8 > 0 or random_sample(0.5)) and i16 > 0", "cannot be used in logical or expression"),
    ("random_sample(0.5) == true", "random sample expression can only be"),
])
def test_misplaced_or_bad_samples_are_rejected(expr: str, fragment: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(expr, make_schema())
    assert fragment in info.value.detail
