"""Syntax tree of a filter expression, as the parser produces it.

The tree is schema-independent and immutable, so one parse of an expression text can be
shared by every collection and thread (the parser caches it by text). Names are not yet
resolved, literals are decoded Python values, and nothing is type-checked: that is the
binder's job. :func:`render` turns a node back into canonical text for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Key = str | int  # a JSON path step: object key, or array index


class Node:
    """Base of all syntax nodes."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A scalar literal: ``int`` (unbounded; range is checked by the binder), ``float``,
    ``bool`` or ``str``. ``text`` is the source spelling, kept for messages (it does not
    take part in equality: ``'a'`` and ``"a"`` are the same literal)."""

    value: int | float | bool | str
    text: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class BadLiteral(Node):
    """A string token whose escapes do not decode (``"a\\%"``): an error wherever a value is
    needed, but a valid regex pattern (Milvus hands ``=~`` patterns over undecoded)."""

    text: str
    detail: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A bare identifier (a field, or a dynamic key), or ``$meta``."""

    name: str


@dataclass(frozen=True, slots=True)
class Index(Node):
    """``base[key]``: a JSON path step or an array element."""

    base: Node
    key: Key


@dataclass(frozen=True, slots=True)
class Template(Node):
    """``{name}``: a value bound from the request's expression parameters."""

    name: str


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """``+x``, ``-x`` or ``~x``."""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class BinOp(Node):
    """Arithmetic or bitwise: ``+ - * / % ** & | ^ << >>``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """``operands[0] ops[0] operands[1] ops[1] ...``; one operator, or a chained range."""

    ops: tuple[str, ...]
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class In(Node):
    operand: Node
    values: Node
    negated: bool


@dataclass(frozen=True, slots=True)
class Like(Node):
    operand: Node
    pattern: Node


@dataclass(frozen=True, slots=True)
class Regex(Node):
    """``operand =~ pattern`` (``negated``: ``!~``), a partial (substring) RE2 match."""

    operand: Node
    pattern: Node
    negated: bool


@dataclass(frozen=True, slots=True)
class BoolOp(Node):
    """``and`` / ``or`` over two or more operands (a flat chain of one operator)."""

    op: str
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class IsNull(Node):
    operand: Node
    negated: bool


@dataclass(frozen=True, slots=True)
class Exists(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """``name(args..., key=value...)``; ``name`` as written (case is checked by the binder)."""

    name: str
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...]


def _render_key(key: Key) -> str:
    return str(key) if isinstance(key, int) else render_value(key)


def render_value(value: object) -> str:
    """A Python constant in expression syntax (strings double-quoted, lists bracketed)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    return repr(value)


def render(node: Node) -> str:
    """Canonical source text of ``node`` (whitespace normalised, explicit parentheses
    around nested operators) for error messages."""
    match node:
        case Literal(value=value, text=text):
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            return text if numeric else render_value(value)
        case BadLiteral(text=text):
            return text
        case Regex(operand=operand, pattern=pattern, negated=negated):
            return f"{_wrap(operand)} {'!~' if negated else '=~'} {_wrap(pattern)}"
        case ListLit(items=items):
            return "[" + ", ".join(render(i) for i in items) + "]"
        case Name(name=name):
            return name
        case Index(base=base, key=key):
            return f"{render(base)}[{_render_key(key)}]"
        case Template(name=name):
            return "{" + name + "}"
        case Unary(op=op, operand=operand):
            return f"{op}{_wrap(operand)}"
        case Not(operand=operand):
            return f"not {_wrap(operand)}"
        case BinOp(op=op, left=left, right=right):
            return f"{_wrap(left)} {op} {_wrap(right)}"
        case Compare(ops=ops, operands=operands):
            parts = [_wrap(operands[0])]
            for op, operand in zip(ops, operands[1:], strict=True):
                parts += [op, _wrap(operand)]
            return " ".join(parts)
        case In(operand=operand, values=values, negated=negated):
            return f"{_wrap(operand)} {'not in' if negated else 'in'} {_wrap(values)}"
        case Like(operand=operand, pattern=pattern):
            return f"{_wrap(operand)} like {_wrap(pattern)}"
        case BoolOp(op=op, operands=operands):
            return f" {op} ".join(_wrap(o) for o in operands)
        case IsNull(operand=operand, negated=negated):
            return f"{_wrap(operand)} is {'not ' if negated else ''}null"
        case Exists(operand=operand):
            return f"exists {_wrap(operand)}"
        case Call(name=name, args=args, kwargs=kwargs):
            rendered = [render(a) for a in args] + [f"{k}={render(v)}" for k, v in kwargs]
            return f"{name}({', '.join(rendered)})"
    raise TypeError(f"not a syntax node: {node!r}")


def _wrap(node: Node) -> str:
    """Operands that are themselves operators are parenthesised so the text re-parses alike."""
    simple = isinstance(node, Literal | BadLiteral | ListLit | Name | Index | Template | Call)
    return render(node) if simple else f"({render(node)})"
