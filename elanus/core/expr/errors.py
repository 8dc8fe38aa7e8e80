"""Errors of the filter-expression engine.

Inside the engine a problem is raised as :class:`ExprError` carrying only Milvus's detail
text (``field x not exist``), because the parser and binder do not know the whole
expression's text at the point of failure. The public entry points catch it and raise
:class:`FilterError`, a :class:`~elanus.core.errors.MilvusError` with code 1100
(``PARAMETER_INVALID``) whose message has the shape Milvus clients see::

    cannot parse expression: <expr>, error: <detail>: invalid parameter

(the proxy prefixes ``failed to create query plan: `` / ``failed to create delete plan: ``).
"""

from __future__ import annotations

from elanus.core.errors import PARAMETER_INVALID, MilvusError


class ExprError(Exception):
    """A compile-time problem; ``detail`` is Milvus's text. Syntax errors also carry the
    1-based ``line`` and 0-based ``column`` (ANTLR's convention, used in Milvus's text)."""

    def __init__(self, detail: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.line = line
        self.column = column


class FilterError(MilvusError):
    """A rejected filter expression (code 1100). ``expr`` is the expression text, ``detail``
    the inner reason; ``line``/``column`` locate syntax errors (``None`` otherwise)."""

    def __init__(self, expr: str, detail: str, line: int | None = None, column: int | None = None) -> None:
        message = f"cannot parse expression: {expr}, error: {detail}: invalid parameter"
        super().__init__(PARAMETER_INVALID, message)
        self.expr = expr
        self.detail = detail
        self.line = line
        self.column = column

    @classmethod
    def from_expr_error(cls, expr: str, err: ExprError) -> FilterError:
        return cls(expr, err.detail, err.line, err.column)
