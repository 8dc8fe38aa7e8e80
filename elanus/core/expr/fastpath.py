"""A shortcut parser for the one shape that carries thousands of tokens:
``field [not] in [literal, literal, ...]``.

pymilvus turns ``get(ids=...)`` and ``delete(ids=...)`` into exactly this, often with tens
of thousands of ids. Through the LALR parser every list item walks the whole precedence
chain (~17 reductions a token), which costs tens of microseconds per id; here a single
regular expression scans the list.

The contract is strict: :func:`parse_term_list` returns the *same* syntax tree the grammar
would build (same literal decoding, unary minus as :class:`syntax.Unary`), or None when the
text is anything else or anything unusual (then the grammar parses it and reports any
error with its position). The token patterns mirror ``filter.lark``.
"""

from __future__ import annotations

import re

from elanus.core.expr import syntax as s
from elanus.core.expr.errors import ExprError
from elanus.core.expr.literals import decode_raw_string, decode_string, parse_float, parse_int

_WS = r"[ \t\f\r\n]"  # what the grammar ignores (narrower than \s)
_RESERVED = r"(?:and|AND|or|OR|not|NOT|in|IN|like|LIKE|exists|EXISTS|true|True|TRUE|false|False|FALSE)\b"
_HEAD = re.compile(rf"{_WS}*(?P<name>(?!{_RESERVED})[^\W\d]\w*|\$meta){_WS}*"
                   rf"(?P<not>(?:not|NOT){_WS}+)?(?:in|IN){_WS}*\[")
_FLOAT = (r"(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+"
          r"|0[xX](?:[0-9a-fA-F]*\.[0-9a-fA-F]+|[0-9a-fA-F]+\.?)[pP][+-]?[0-9]+")
_INT = r"0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+"
_RAW = r"""[rR](?:"(?:[^"\\\r\n]|\\[^\r\n])*"|'(?:[^'\\\r\n]|\\[^\r\n])*')"""
_STR = r"""(?:u8|u|U|L)?(?:"(?:[^"\\\r\n]|\\[\s\S])*"|'(?:[^'\\\r\n]|\\[\s\S])*')"""
_ITEM = re.compile(rf"{_WS}*(?P<neg>-{_WS}*)?"
                   rf"(?:(?P<float>{_FLOAT})|(?P<int>{_INT})|(?P<raw>{_RAW})|(?P<str>{_STR}))"
                   rf"{_WS}*(?P<sep>[,\]])")
_CLOSE = re.compile(rf"{_WS}*\]")
_END = re.compile(rf"{_WS}*\Z")


def _literal(m: re.Match[str]) -> s.Node:
    float_text, int_text, raw_text, str_text = m.group("float", "int", "raw", "str")
    node: s.Node
    if int_text is not None:
        node = s.Literal(int(int_text) if int_text[0] != "0" else parse_int(int_text), int_text)
    elif float_text is not None:
        node = s.Literal(parse_float(float_text), float_text)
    elif str_text is not None:
        node = s.Literal(decode_string(str_text), str_text)
    else:
        node = s.Literal(decode_raw_string(raw_text), raw_text)
    return s.Unary("-", node) if m.group("neg") is not None else node


def parse_term_list(expr: str) -> s.Node | None:
    """The tree of ``expr`` if it is exactly ``name [not] in [literals...]``, else None."""
    head = _HEAD.match(expr)
    if head is None:
        return None
    pos = head.end()
    items: list[s.Node] = []
    close = _CLOSE.match(expr, pos)
    if close is not None:
        pos = close.end()
    else:
        while True:
            m = _ITEM.match(expr, pos)
            if m is None:
                return None
            try:
                items.append(_literal(m))
            except ExprError:
                return None  # let the grammar report it, with its position
            pos = m.end()
            if m.group("sep") == "]":
                break
            close = _CLOSE.match(expr, pos)  # a trailing comma
            if close is not None:
                pos = close.end()
                break
    if _END.match(expr, pos) is None:
        return None
    return s.In(s.Name(head.group("name")), s.ListLit(tuple(items)), negated=head.group("not") is not None)
