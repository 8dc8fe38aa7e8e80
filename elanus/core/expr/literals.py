"""Decoding of literal tokens, with Milvus's (that is, Go's) rules.

- Integers: decimal, ``0x`` hex, ``0b`` binary, and C-style octal with a leading ``0``
  (``010 == 8``, as Go's ``strconv.ParseInt(s, 0, 64)`` reads it). The value is returned
  unbounded; int64 range is checked by the binder, which alone knows whether a unary minus
  applies (``-9223372036854775808`` is valid).
- Floats: decimal and C99 hex floats (``0x1.8p3``); a value beyond float64 is an error.
- Strings: ``"..."`` or ``'...'`` with an optional ``u8``/``u``/``U``/``L`` prefix and Go
  escapes (``\\n``, ``\\t``, ``\\\\``, ``\\'``, ``\\"``, ``\\xhh``, ``\\ooo``, ``\\uhhhh``,
  ``\\Uhhhhhhhh``...). An unknown escape is an error, as Go's ``strconv.Unquote`` makes it.
- Raw strings: ``r"..."`` / ``R'...'`` taken verbatim (a backslash only keeps a quote from
  ending the literal, and stays in the value).
"""

from __future__ import annotations

import math
import re

from elanus.core.expr.errors import ExprError

_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "?": "?",
}
_ESCAPE = re.compile(r"\\(?:([abfnrtv\\'\"?])|x([0-9a-fA-F]{2})|([0-7]{3})|u([0-9a-fA-F]{4})"
                     r"|U([0-9a-fA-F]{8})|([\s\S]))")
_PREFIX = re.compile(r"^(?:u8|u|U|L)")


def parse_int(text: str) -> int:
    """Value of an INT token (any size; sign is never part of the token)."""
    lower = text.lower()
    if lower.startswith("0x"):
        return int(text[2:], 16)
    if lower.startswith("0b"):
        return int(text[2:], 2)
    if len(text) > 1 and text[0] == "0":
        try:
            return int(text[1:], 8)
        except ValueError:
            raise ExprError(f"invalid integer literal: {text} (a leading 0 means octal)") from None
    return int(text)


def parse_float(text: str) -> float:
    """Value of a FLOAT token, decimal or hexadecimal; beyond float64 is an error (Go's
    ``ParseFloat`` range error, which Milvus reports)."""
    try:
        value = float.fromhex(text) if text[:2].lower() == "0x" else float(text)
    except OverflowError:
        value = math.inf
    if math.isinf(value):
        raise ExprError(f'strconv.ParseFloat: parsing "{text}": value out of range')
    return value


def decode_string(text: str) -> str:
    """Value of a STRING token (quotes, prefix and escapes removed)."""
    body = _PREFIX.sub("", text, count=1)[1:-1]
    if "\\" not in body:
        return body

    def unescape(m: re.Match[str]) -> str:
        simple, hex2, octal, u4, u8, other = m.groups()
        if simple is not None:
            return _SIMPLE_ESCAPES[simple]
        if other is not None:
            raise ExprError(f"invalid string literal: {text} (unknown escape sequence \\{other})")
        code = int(hex2 or octal or u4 or u8, 8 if octal else 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise ExprError(f"invalid string literal: {text} (invalid code point in {m.group(0)})")
        return chr(code)

    return _ESCAPE.sub(unescape, body)


def decode_raw_string(text: str) -> str:
    """Value of a RAW_STRING token: the characters between the quotes, verbatim."""
    return text[2:-1]
