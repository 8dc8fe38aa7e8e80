"""``like``: SQL patterns with ``%`` (any run) and ``_`` (one character).

A backslash escapes the next character, whatever it is (``\\%`` is a literal ``%``,
``\\\\`` a backslash); a trailing lone backslash is an error. This is the escape model of
Milvus's ``translatePatternMatch`` / segcore's ``RegexQuery``, including its fast paths:
a pattern whose only wildcards are leading and/or trailing ``%`` becomes an equality,
prefix, suffix or infix test; anything else a full-match regular expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from elanus.core.expr import strings
from elanus.core.expr.errors import ExprError
from elanus.core.expr.runtime import EvalContext, Mask, OperandPredicate, apply_valid, json_strings_only

EQUAL, PREFIX, SUFFIX, INFIX, REGEX = "equal", "prefix", "suffix", "infix", "regex"


@dataclass(frozen=True)
class LikeMatcher:
    """How to test one pattern: ``kind`` and its literal ``operand``, or a ``regex``."""

    kind: str
    operand: str
    pattern: str
    regex: re.Pattern[str] | None = None
    prefix: str = ""  # REGEX only: the literal text every match starts with

    def match(self, data: Any) -> np.ndarray:
        """Rows of string data (object array or pyarrow) that match."""
        if self.kind == EQUAL:
            return strings.compare(data, "==", self.operand)
        if self.kind == PREFIX:
            return strings.startswith(data, self.operand)
        if self.kind == SUFFIX:
            return strings.endswith(data, self.operand)
        if self.kind == INFIX:
            return strings.contains(data, self.operand)
        if self.prefix and not strings.is_arrow(data):
            # Run the regex only on rows with the literal prefix (cheap, vectorised), as
            # segcore does with extract_fixed_prefix_from_pattern.
            candidates = strings.startswith(data, self.prefix)
            out = np.zeros(len(data), dtype=np.bool_)
            out[candidates] = strings.fullmatch(data[candidates], self.regex)
            return out
        return strings.fullmatch(data, self.regex, self.pattern)


def _tokens(pattern: str) -> list[tuple[str, bool]]:
    """``(char, is_wildcard)`` per logical character, escapes resolved."""
    out: list[tuple[str, bool]] = []
    escaped = False
    for ch in pattern:
        if escaped:
            out.append((ch, False))
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out.append((ch, ch in "%_"))
    if escaped:
        raise ExprError(f"invalid like pattern: {pattern!r} ends with an unescaped backslash")
    return out


def translate(pattern: str) -> LikeMatcher:
    """The matcher for a LIKE pattern; raises :class:`ExprError` for a dangling escape."""
    tokens = _tokens(pattern)
    lead = 0
    while lead < len(tokens) and tokens[lead] == ("%", True):
        lead += 1
    if lead == len(tokens):  # empty pattern, or only '%'s
        return LikeMatcher(EQUAL if not tokens else PREFIX, "", pattern)
    trail = 0
    while tokens[len(tokens) - 1 - trail] == ("%", True):
        trail += 1
    core = tokens[lead:len(tokens) - trail]
    if not any(wild for _, wild in core):
        operand = "".join(ch for ch, _ in core)
        kind = (INFIX if trail else SUFFIX) if lead else (PREFIX if trail else EQUAL)
        return LikeMatcher(kind, operand, pattern)
    parts = [(".*" if ch == "%" else ".") if wild else re.escape(ch) for ch, wild in tokens]
    first_wild = next(i for i, (_, wild) in enumerate(tokens) if wild)
    prefix = "".join(ch for ch, _ in tokens[:first_wild])
    return LikeMatcher(REGEX, "", pattern, re.compile("".join(parts), re.DOTALL), prefix)


@dataclass(eq=False)
class Like(OperandPredicate):
    """``operand like pattern`` on VarChar values or JSON strings (other JSON rows: null)."""

    matcher: LikeMatcher

    def eval(self, ctx: EvalContext) -> Mask:
        vec = json_strings_only(self.operand.eval(ctx))
        return apply_valid(vec, ctx.num_rows, self.matcher.match)
