"""``=~`` / ``!~``: regular-expression filters with RE2 syntax and substring semantics.

``x =~ "p"`` is true where the regex ``p`` matches somewhere in the string ``x`` (RE2
``PartialMatch``; anchor with ``^``/``$`` for whole strings), with ``.`` also matching a
newline, as segcore sets RE2's ``dot_nl``. ``x !~ "p"`` is ``not (x =~ "p")``: a null or
non-string value is *unknown* for both, so neither returns it.

The operand is a VarChar field, a JSON value (only string values take part) or one
element of an Array of VarChar; a whole Array is rejected as Milvus rejects it. The pattern
is a string literal taken *undecoded* except for an escaped quote or backslash (so
``"\\d+"`` reaches RE2 as ``\\d+``, as Milvus's ``extractRegexPattern`` hands it over), a
raw string taken verbatim, or a ``{template}`` whose value is the pattern.

Matching runs in C++: Arrow's ``match_substring_regex`` kernel, which is RE2's
``PartialMatch`` over a string array (the pattern is prefixed with ``(?s)``, RE2's inline
form of ``dot_nl``; a ``(?-s)`` in the pattern still turns it off).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from elanus.core.expr import strings
from elanus.core.expr import syntax as s
from elanus.core.expr.errors import ExprError
from elanus.core.expr.logic import Not
from elanus.core.expr.runtime import (
    EvalContext,
    Mask,
    OperandPredicate,
    Predicate,
    apply_valid,
    json_strings_only,
)
from elanus.core.expr.values import ColumnRef, Const
from elanus.core.schema import DataType

if TYPE_CHECKING:
    from elanus.core.expr.binder import Binder

# RE2 (C++) error texts → the words of Go's regexp, which Milvus validates patterns with.
_GO_WORDS = (("missing )", "missing closing )"), ("missing ]", "missing closing ]"),
             ("invalid perl operator", "invalid or unsupported Perl syntax"))
_PROBE = pa.array([""], pa.string())


def compile_pattern(pattern: str) -> str:
    """``pattern`` checked by RE2 (Arrow compiles it for a one-row probe) and returned in the
    form the kernel runs (``(?s)`` + pattern); an invalid one raises :class:`ExprError`
    ``invalid regex pattern: ...``."""
    try:
        pc.match_substring_regex(_PROBE, pattern)
    except pa.ArrowInvalid as e:
        detail = str(e).removeprefix("Invalid regular expression: ")
        for re2_words, go_words in _GO_WORDS:
            detail = detail.replace(re2_words, go_words)
        raise ExprError(f"invalid regex pattern: error parsing regexp: {detail}") from None
    return "(?s)" + pattern


@dataclass(eq=False)
class RegexMatch(OperandPredicate):
    """``operand =~ pattern`` on VarChar values or JSON strings (other JSON rows: null)."""

    pattern: str  # as written
    compiled: str  # as the kernel runs it (see compile_pattern)

    def _match(self, data: Any) -> np.ndarray:
        rows = data if strings.is_arrow(data) else pa.array(data, type=pa.string())
        return strings.arrow_mask(pc.match_substring_regex(rows, self.compiled))

    def eval(self, ctx: EvalContext) -> Mask:
        vec = json_strings_only(self.operand.eval(ctx))
        return apply_valid(vec, ctx.num_rows, self._match)


def _literal_pattern(text: str) -> str:
    """The regex of a quoted literal's source text: only ``\\<quote>`` and ``\\\\`` unescape."""
    if text[:1] in ("r", "R"):
        return text[2:-1]
    quote = text[0]
    if quote not in ("'", '"'):
        raise ExprError(f"invalid string literal: {text}")
    inner, out, i = text[1:-1], [], 0
    while i < len(inner):
        ch = inner[i]
        if ch == "\\" and i + 1 < len(inner) and inner[i + 1] in (quote, "\\"):
            out.append(inner[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _pattern(binder: Binder, node: s.Node) -> str:
    if isinstance(node, s.BadLiteral) or (isinstance(node, s.Literal) and isinstance(node.value, str)):
        return _literal_pattern(node.text)
    if isinstance(node, s.Template):
        value = binder.bind(node)
        if isinstance(value, Const) and isinstance(value.value, str):
            return value.value
    raise ExprError(f"regex pattern should be a string literal or template variable, got: {s.render(node)}")


def bind_regex(binder: Binder, node: s.Regex) -> Predicate:
    """The plan of ``operand =~ pattern`` / ``operand !~ pattern``."""
    op = "!~" if node.negated else "=~"
    operand = binder.bind(node.operand)
    if isinstance(operand, Const | Predicate):
        raise ExprError(f"the left operand of {op} is invalid")
    if not isinstance(operand, ColumnRef):
        raise ExprError("regex match on complicated expr is unsupported")
    if operand.dtype == DataType.ARRAY:
        raise ExprError("can not comparisons array fields directly")
    if not (operand.dtype.is_string or operand.dtype == DataType.JSON):
        raise ExprError("regex match on non-string or non-json field is unsupported")
    pattern = _pattern(binder, node.pattern)
    match = RegexMatch(operand, pattern, compile_pattern(pattern))
    return Not(match) if node.negated else match
