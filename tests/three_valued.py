"""Reference semantics shared by the filter tests: SQL three-valued logic (True / False /
None = unknown) and the LIKE pattern language, written in plain Python independently of the
engine."""

from __future__ import annotations

import re


def and3(*xs: bool | None) -> bool | None:
    if any(x is False for x in xs):
        return False
    return None if any(x is None for x in xs) else True


def or3(*xs: bool | None) -> bool | None:
    if any(x is True for x in xs):
        return True
    return None if any(x is None for x in xs) else False


def not3(x: bool | None) -> bool | None:
    return None if x is None else not x


def like_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression a whole string must match to be LIKE ``pattern`` (``%`` any run,
    ``_`` any one character, ``\\`` escapes the next character)."""
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        out += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        i += 1
    return re.compile(out, re.DOTALL)
