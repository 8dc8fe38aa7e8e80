"""Text → syntax tree, with an LRU cache keyed by the expression text.

The grammar (``filter.lark``) is LALR(1); the tree is built by a transformer that runs
inside the parser, so no intermediate lark tree is materialised. The one shape with
thousands of tokens, ``pk in [ids...]``, is recognised first by :mod:`fastpath`.

Both trees and syntax errors are cached (Milvus caches both too): filters repeat across
requests, and a repeated bad filter should be as cheap to reject as a good one is to
accept. Texts longer than :data:`CACHEABLE_LENGTH` are parsed every time.

Syntax errors are reported in ANTLR's words, as Milvus reports them, with the 1-based line
and 0-based column of the offending token::

    line 1:4 mismatched input '<EOF>' expecting {'(', '+', '-', Identifier, ...}
    line 1:6 extraneous input 'inn' after a complete expression (invalid expression: int64 inn [1, 2])
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from elanus.core.expr import syntax as s
from elanus.core.expr.errors import ExprError
from elanus.core.expr.fastpath import parse_term_list
from elanus.core.expr.literals import decode_raw_string, decode_string, parse_float, parse_int

PARSE_CACHE_SIZE = 4096
# Longer texts (typically `pk in [thousands of ids]`, different on every request) are not
# cached: their trees are large and rarely reused, and 4096 of them could take gigabytes.
CACHEABLE_LENGTH = 4096

# How lark's terminal names read in a message (ANTLR shows literal tokens quoted).
_TOKEN_NAMES = {
    "$END": "<EOF>", "_OR": "'or'", "_AND": "'and'", "_NOT": "'not'", "_IN": "'in'", "_LIKE": "'like'",
    "_EXISTS": "'exists'", "_IS": "'is'", "_NULL": "'null'", "BOOL": "BooleanConstant",
    "EQ": "'=='", "NE": "'!='", "LT": "'<'", "LE": "'<='", "GT": "'>'", "GE": "'>='", "SHL": "'<<'",
    "SHR": "'>>'", "ADD": "'+'", "SUB": "'-'", "MUL": "'*'", "DIV": "'/'", "MOD": "'%'", "POW": "'**'",
    "BAND": "'&'", "BOR": "'|'", "BXOR": "'^'", "BNOT": "'~'", "FLOAT": "FloatingConstant",
    "INT": "IntegerConstant", "RAW_STRING": "RawStringLiteral", "STRING": "StringLiteral",
    "RE_MATCH": "'=~'", "RE_NOT": "'!~'", "META": "'$meta'", "NAME": "Identifier", "LPAR": "'('",
    "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": "'{'", "RBRACE": "'}'", "COMMA": "','", "EQUAL": "'='",
}


def _tok(token: Token) -> str:
    return str(token)


class _Builder(Transformer[Token, s.Node]):
    """Builds :mod:`syntax` nodes bottom-up while the LALR parser reduces."""

    def or_op(self, c: list[s.Node]) -> s.Node:
        return s.BoolOp("or", tuple(_flatten("or", c)))

    def and_op(self, c: list[s.Node]) -> s.Node:
        return s.BoolOp("and", tuple(_flatten("and", c)))

    def not_op(self, c: list[s.Node]) -> s.Node:
        return s.Not(c[0])

    def binop(self, c: list[Any]) -> s.Node:
        return s.BinOp(_tok(c[1]), c[0], c[2])

    def unary_op(self, c: list[Any]) -> s.Node:
        return s.Unary(_tok(c[0]), c[1])

    def compare(self, c: list[Any]) -> s.Node:
        return s.Compare(tuple(_tok(t) for t in c[1::2]), tuple(c[0::2]))

    def in_op(self, c: list[s.Node]) -> s.Node:
        return s.In(c[0], c[1], negated=False)

    def not_in_op(self, c: list[s.Node]) -> s.Node:
        return s.In(c[0], c[1], negated=True)

    def like_op(self, c: list[s.Node]) -> s.Node:
        return s.Like(c[0], c[1])

    def regex_op(self, c: list[Any]) -> s.Node:
        return s.Regex(c[0], c[2], negated=c[1] == "!~")

    def exists_op(self, c: list[s.Node]) -> s.Node:
        return s.Exists(c[0])

    def is_null(self, c: list[s.Node]) -> s.Node:
        return s.IsNull(c[0], negated=False)

    def is_not_null(self, c: list[s.Node]) -> s.Node:
        return s.IsNull(c[0], negated=True)

    def index(self, c: list[Any]) -> s.Node:
        return s.Index(c[0], c[1])

    def subscript(self, c: list[Token]) -> s.Key:
        token = c[0]
        if token.type == "INT":
            if token.lower().startswith(("0x", "0b")) or (len(token) > 1 and token[0] == "0"):
                raise _error_at(token, f"array index must be a decimal integer, got: {token}")
            return int(token)
        key = decode_string(str(token)) if token.type == "STRING" else decode_raw_string(str(token))
        if not key:
            raise _error_at(token, "invalid identifier: empty JSON key")
        return key

    def int_lit(self, c: list[Token]) -> s.Node:
        return _decoded_literal(c[0], parse_int)

    def float_lit(self, c: list[Token]) -> s.Node:
        return _decoded_literal(c[0], parse_float)

    def bool_lit(self, c: list[Token]) -> s.Node:
        return s.Literal(c[0].lower() == "true", str(c[0]))

    def str_lit(self, c: list[Token]) -> s.Node:
        try:
            return _decoded_literal(c[0], decode_string)
        except ExprError as e:
            # Kept, not raised: a regex pattern (`=~ "\\d+"`) takes the text undecoded;
            # anywhere else the binder raises this error.
            return s.BadLiteral(str(c[0]), e.detail, e.line, e.column)

    def raw_str_lit(self, c: list[Token]) -> s.Node:
        return s.Literal(decode_raw_string(str(c[0])), str(c[0]))

    def name(self, c: list[Token]) -> s.Node:
        return s.Name(str(c[0]))

    def template(self, c: list[Token]) -> s.Node:
        return s.Template(str(c[0]))

    def list_lit(self, c: list[s.Node]) -> s.Node:
        return s.ListLit(tuple(c))

    def kwarg(self, c: list[Any]) -> tuple[str, s.Node]:
        return (str(c[0]), c[1])

    def call(self, c: list[Any]) -> s.Node:
        args = tuple(a for a in c[1:] if not isinstance(a, tuple))
        kwargs = tuple(a for a in c[1:] if isinstance(a, tuple))
        return s.Call(str(c[0]), args, kwargs)


def _flatten(op: str, nodes: list[s.Node]) -> list[s.Node]:
    out: list[s.Node] = []
    for n in nodes:
        out.extend(n.operands if isinstance(n, s.BoolOp) and n.op == op else (n,))
    return out


def _decoded_literal(token: Token, decode: Callable[[str], int | float | str]) -> s.Literal:
    """The literal ``token`` spells, decoded by ``decode``; its ExprError is reported at the token."""
    try:
        return s.Literal(decode(str(token)), str(token))
    except ExprError as e:
        raise _error_at(token, e.detail) from None


def _error_at(token: Token, detail: str) -> ExprError:
    line, column = token.line or 1, (token.column or 1) - 1
    return ExprError(f"line {line}:{column} {detail}", line, column)


_lock = threading.Lock()
_lark: Lark | None = None


def _parser() -> Lark:
    """The shared parser, built on first use (building the LALR tables takes a while)."""
    global _lark
    with _lock:
        if _lark is None:
            grammar = resources.files("elanus.core.expr").joinpath("filter.lark").read_text()
            _lark = Lark(grammar, parser="lalr", lexer="contextual", transformer=_Builder(),
                         maybe_placeholders=False)
        return _lark


def _expected(names: set[str] | frozenset[str]) -> str:
    shown = sorted({_TOKEN_NAMES.get(n, n) for n in names if not n.startswith("__")})
    return "{" + ", ".join(shown) + "}" if len(shown) > 1 else (shown[0] if shown else "<nothing>")


def _complete_before(expr: str, pos: int) -> bool:
    """Whether ``expr[:pos]`` alone is a valid expression (so ``pos`` starts trailing junk)."""
    try:
        _parser().parse(expr[:pos])
    except (UnexpectedInput, ExprError):
        return False
    return True


def _syntax_error(expr: str, err: UnexpectedInput) -> ExprError:
    line, column = err.line if err.line > 0 else 1, max(err.column - 1, 0)
    if isinstance(err, UnexpectedCharacters):
        detail = f"token recognition error at: '{err.char}'"
    elif isinstance(err, UnexpectedEOF):
        line, column = _end_position(expr)
        detail = f"mismatched input '<EOF>' expecting {_expected(err.expected)}"
    elif isinstance(err, UnexpectedToken):
        expected = err.expected
        if err.token.type == "$END":
            line, column = _end_position(expr)
            detail = f"mismatched input '<EOF>' expecting {_expected(expected)}"
        elif "$END" in expected or _complete_before(expr, err.token.start_pos or 0):
            # A complete expression followed by junk: ANTLR stops there and Milvus then
            # reports the whole text as invalid ("invalid expression: int64 inn [1, 2]").
            detail = (f"extraneous input '{err.token}' after a complete expression "
                      f"(invalid expression: {expr})")
        else:
            detail = f"mismatched input '{err.token}' expecting {_expected(expected)}"
    else:  # pragma: no cover - lark has no other UnexpectedInput subclasses
        detail = str(err)
    return ExprError(f"line {line}:{column} {detail}", line, column)


def _end_position(expr: str) -> tuple[int, int]:
    lines = expr.split("\n")
    return len(lines), len(lines[-1])


def _parse(expr: str) -> s.Node | ExprError:
    fast = parse_term_list(expr)  # `pk in [thousands of ids]`, without the LALR cost
    if fast is not None:
        return fast
    try:
        tree = _parser().parse(expr)
    except UnexpectedInput as e:
        return _syntax_error(expr, e)
    except ExprError as e:
        return e
    if not isinstance(tree, s.Node):  # pragma: no cover - the grammar's start is an expression
        return ExprError(f"invalid expression: {expr}")
    return tree


_parse_cached = lru_cache(maxsize=PARSE_CACHE_SIZE)(_parse)


def parse(expr: str) -> s.Node:
    """Syntax tree of ``expr``; raises :class:`ExprError` on a syntax error. Cached by text
    (up to :data:`CACHEABLE_LENGTH` characters)."""
    result = _parse_cached(expr) if len(expr) <= CACHEABLE_LENGTH else _parse(expr)
    if isinstance(result, ExprError):
        raise ExprError(result.detail, result.line, result.column)
    return result
